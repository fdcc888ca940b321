"""Losses: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..base import multi_target

Array = Any


def reduce(terms: Array, reduction: str) -> Array:
    import jax.numpy as jnp

    if reduction == "none":
        return terms
    return jnp.sum(terms) if reduction == "sum" else jnp.mean(terms)


def mse_loss(prediction: Array, target: Array, *, reduction: str = "mean") -> Array:
    import optax

    return reduce(optax.losses.squared_error(prediction, target), reduction)


def mae_loss(prediction: Array, target: Array, *, reduction: str = "mean") -> Array:
    import jax.numpy as jnp

    return reduce(jnp.abs(prediction - target), reduction)


def huber_loss(
    prediction: Array, target: Array, *, delta: float = 1.0, reduction: str = "mean"
) -> Array:
    import optax

    return reduce(optax.losses.huber_loss(prediction, target, delta=delta), reduction)


def binary_cross_entropy(probability: Array, target: Array, *, reduction: str = "mean") -> Array:
    from jax.scipy.special import xlog1py, xlogy

    # optax has BCE on logits only; on probabilities it is xlogy and xlog1py, unguarded.
    terms = -(xlogy(target, probability) + xlog1py(1 - target, -probability))
    return reduce(terms, reduction)


def binary_cross_entropy_with_logits(
    logits: Array, target: Array, *, pos_weight: float = 1.0, reduction: str = "mean"
) -> Array:
    import jax
    import optax

    if pos_weight == 1.0:
        return reduce(optax.losses.sigmoid_binary_cross_entropy(logits, target), reduction)
    # optax has no positive-class weight: the same terms with the weight on the first
    terms = -(
        pos_weight * target * jax.nn.log_sigmoid(logits)
        + (1 - target) * jax.nn.log_sigmoid(-logits)
    )
    return reduce(terms, reduction)


def softmax_cross_entropy(
    logits: Array, target: Array, *, label_smoothing: float = 0.0, reduction: str = "mean"
) -> Array:
    import jax
    import optax

    classes = logits.shape[-1]
    if target.shape != logits.shape:  # class indices
        if label_smoothing == 0.0:
            return reduce(
                optax.losses.softmax_cross_entropy_with_integer_labels(logits, target), reduction
            )
        target = jax.nn.one_hot(target, classes, dtype=logits.dtype)
    if label_smoothing:
        target = optax.smooth_labels(target, label_smoothing)
    return reduce(optax.losses.softmax_cross_entropy(logits, target), reduction)


single_target: dict[str, Callable[..., Array]] = {
    "mse": mse_loss,
    "mae": mae_loss,
    "huber": huber_loss,
    "bce_with_logits": binary_cross_entropy_with_logits,
}


def _stack(values: list[Array]) -> Array:
    import jax.numpy as jnp

    return jnp.stack(values)


multi_target_loss = multi_target(single_target, _stack)


def table(*_: Any) -> dict[str, Callable[..., Any]]:
    """The group's entries; each imports jax and optax when it is traced."""
    return {
        "mse_loss": mse_loss,
        "mae_loss": mae_loss,
        "huber_loss": huber_loss,
        "binary_cross_entropy": binary_cross_entropy,
        "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
        "softmax_cross_entropy": softmax_cross_entropy,
        "multi_target_loss": multi_target_loss,
    }
