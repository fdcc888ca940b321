"""Optimizers: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

import functools
import types
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

Array = Any


def drive(transform: Any, params: Array, gradients: Array) -> np.ndarray:
    """An optax optimizer as it is used: ``init``, then per step ``update`` and
    ``apply_updates``; the parameters after each step. The loop's own bookkeeping (one
    gradient per step in, the trajectory out) is NumPy's, through :func:`steps_of` and
    :func:`stacked`: only optax's calls run in JAX."""
    import optax

    state = transform.init(params)
    theta, trajectory = params, []
    for g in steps_of(gradients):
        updates, state = transform.update(g, state, theta)
        theta = optax.apply_updates(theta, updates)
        trajectory.append(theta)
    return stacked(trajectory)


def steps_of(values: Array) -> Iterator[Array]:
    """The rows of ``values``, one JAX array per step, each moved to the device as it is
    (``jax.device_put``): indexing or iterating a JAX array, or ``jnp.asarray`` of a NumPy one,
    would compile a program per shape, and none of them is a concept under test."""
    import jax

    for row in np.asarray(values):
        yield jax.device_put(row)


def stacked(values: Sequence[Array]) -> np.ndarray:
    """One step's values per row, stacked by NumPy (a ``jnp.stack`` compiles once per count)."""
    return np.stack([np.asarray(v) for v in values])


@functools.cache
def compiled(make: Callable[..., Any], *settings: Any) -> Any:
    """The optax transformation ``make(*settings)``, built once per settings, with its
    ``update`` under ``jax.jit``. For the transformations that branch with ``lax.cond``
    (``MultiSteps``, ``contrib.reduce_on_plateau``): run eagerly, a ``cond`` traces and compiles
    its branches again at every step; jitted, once per settings and shape."""
    import jax

    transform = make(*settings)
    return types.SimpleNamespace(init=transform.init, update=jax.jit(transform.update))


def sgd_transform(
    lr: float, momentum: float, dampening: float, nesterov: bool, weight_decay: float
) -> Any:
    import optax

    # optax.sgd has no dampening; scaling the gradient by (1 - dampening) before its trace
    # (which starts at zero) is the dampened-buffer convention.
    parts = [optax.add_decayed_weights(weight_decay)] if weight_decay else []
    if momentum and dampening:
        parts.append(optax.scale(1 - dampening))
    parts.append(optax.sgd(lr, momentum=momentum or None, nesterov=nesterov))
    return optax.chain(*parts)


def sgd(
    params: Array,
    gradients: Array,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> Array:
    return drive(sgd_transform(lr, momentum, dampening, nesterov, weight_decay), params, gradients)


def adam_transform(
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    amsgrad: bool,
    coupled_decay: float = 0.0,
    decoupled_decay: float = 0.0,
) -> Any:
    import optax

    scale_by = optax.scale_by_amsgrad if amsgrad else optax.scale_by_adam
    return optax.chain(
        *([optax.add_decayed_weights(coupled_decay)] if coupled_decay else []),
        scale_by(b1=beta1, b2=beta2, eps=eps),
        *([optax.add_decayed_weights(decoupled_decay)] if decoupled_decay else []),
        optax.scale_by_learning_rate(lr),
    )


def adam(
    params: Array,
    gradients: Array,
    *,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
) -> Array:
    import optax

    if not (weight_decay or amsgrad):
        transform = optax.adam(lr, b1=beta1, b2=beta2, eps=eps)
    else:  # optax.adam has neither: its own transformations, chained as optax.adam is
        transform = adam_transform(lr, beta1, beta2, eps, amsgrad, coupled_decay=weight_decay)
    return drive(transform, params, gradients)


def adamw(
    params: Array,
    gradients: Array,
    *,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
) -> Array:
    import optax

    if not amsgrad:
        transform = optax.adamw(lr, b1=beta1, b2=beta2, eps=eps, weight_decay=weight_decay)
    else:
        transform = adam_transform(lr, beta1, beta2, eps, True, decoupled_decay=weight_decay)
    return drive(transform, params, gradients)


def multi_steps_sgd(lr: float, every: int) -> Any:
    import optax

    return optax.MultiSteps(optax.sgd(lr), every_k_schedule=every)


def gradient_accumulation(
    params: Array, micro_gradients: Array, *, lr: float, accumulation_steps: int
) -> Array:
    # optax.MultiSteps averages k micro-batch gradients, then applies the inner optimizer;
    # between those steps its updates are zero. Only the k-th parameters are the trajectory.
    every = compiled(multi_steps_sgd, lr, accumulation_steps)
    trajectory = drive(every, params, micro_gradients)
    return trajectory[accumulation_steps - 1 :: accumulation_steps]


def clip_grad_norm(gradients: Array, *, max_norm: float) -> Array:
    import optax

    updates, _ = optax.clip_by_global_norm(max_norm).update(gradients, optax.EmptyState())
    return updates


def frozen_parameters(
    params: Array,
    gradients: Array,
    *,
    frozen: Sequence[bool],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> Array:
    import jax
    import optax

    # Fine-tuning in optax: label the frozen leaf and give it set_to_zero.
    mask, initial = np.asarray(frozen, dtype=bool), np.asarray(params)
    tree = {
        "trainable": jax.device_put(initial[~mask]),
        "frozen": jax.device_put(initial[mask]),
    }
    transform = optax.multi_transform(
        {
            "train": sgd_transform(lr, momentum, 0.0, False, weight_decay),
            "freeze": optax.set_to_zero(),
        },
        {"trainable": "train", "frozen": "freeze"},
    )
    state = transform.init(tree)
    trajectory = []
    for g in np.asarray(gradients):
        grads = {"trainable": jax.device_put(g[~mask]), "frozen": jax.device_put(g[mask])}
        updates, state = transform.update(grads, state, tree)
        tree = optax.apply_updates(tree, updates)
        row = np.empty(params.shape, dtype=params.dtype)
        row[~mask], row[mask] = np.asarray(tree["trainable"]), np.asarray(tree["frozen"])
        trajectory.append(row)
    return np.stack(trajectory)


def table(*_: Any) -> dict[str, Callable[..., Any]]:
    """The group's entries; each imports optax (and jax) when it is called."""
    return {
        "sgd": sgd,
        "adam": adam,
        "adamw": adamw,
        "gradient_accumulation": gradient_accumulation,
        "clip_grad_norm": clip_grad_norm,
        "frozen_parameters": frozen_parameters,
    }
