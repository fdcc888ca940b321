"""Losses: per-element terms, then PyTorch's reductions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .activations import log_softmax, sigmoid, softmax

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
    "huber_loss",
    "huber_loss_grad",
    "mae_loss",
    "mae_loss_grad",
    "mse_loss",
    "mse_loss_grad",
    "multi_target_loss",
    "multi_target_loss_grad",
    "softmax_cross_entropy",
    "softmax_cross_entropy_grad",
]  # the concepts; the adapter's table


def reduce(terms: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return terms
    return np.sum(terms) if reduction == "sum" else np.mean(terms)


def mse_loss(prediction: np.ndarray, target: np.ndarray, *, reduction: str = "mean") -> np.ndarray:
    return reduce((prediction - target) ** 2, reduction)


def mae_loss(prediction: np.ndarray, target: np.ndarray, *, reduction: str = "mean") -> np.ndarray:
    return reduce(np.abs(prediction - target), reduction)


def huber_loss(
    prediction: np.ndarray, target: np.ndarray, *, delta: float = 1.0, reduction: str = "mean"
) -> np.ndarray:
    z = np.abs(prediction - target)
    d = z.dtype.type(delta)
    return reduce(np.where(z <= d, z * z / 2, d * (z - d / 2)), reduction)


def binary_cross_entropy(
    probability: np.ndarray, target: np.ndarray, *, reduction: str = "mean"
) -> np.ndarray:
    # PyTorch's guard: each log clamped below at -100 before it is weighted.
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(probability), -100)
        log_not_p = np.maximum(np.log1p(-probability), -100)
    return reduce(-(target * log_p + (1 - target) * log_not_p), reduction)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def binary_cross_entropy_with_logits(
    logits: np.ndarray, target: np.ndarray, *, pos_weight: float = 1.0, reduction: str = "mean"
) -> np.ndarray:
    w = logits.dtype.type(pos_weight)
    terms = w * target * _softplus(-logits) + (1 - target) * _softplus(logits)
    return reduce(terms, reduction)


def smoothed_targets(logits: np.ndarray, target: np.ndarray, label_smoothing: float) -> np.ndarray:
    """Per-sample class distributions (class indices one-hot), label-smoothed."""
    classes = logits.shape[-1]
    if target.shape != logits.shape:  # class indices
        target = np.eye(classes, dtype=logits.dtype)[target.astype(np.int64)]
    eps = logits.dtype.type(label_smoothing)
    return (1 - eps) * target + eps / classes


def softmax_cross_entropy(
    logits: np.ndarray, target: np.ndarray, *, label_smoothing: float = 0.0, reduction: str = "mean"
) -> np.ndarray:
    smoothed = smoothed_targets(logits, target, label_smoothing)
    log_p = log_softmax(logits, axis=-1)
    terms = -np.sum(np.where(smoothed == 0, 0, smoothed * log_p), axis=-1)
    return reduce(terms, reduction)


SINGLE_TARGET: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mse": mse_loss,
    "mae": mae_loss,
    "huber": huber_loss,
    "bce_with_logits": binary_cross_entropy_with_logits,
}


def multi_target_loss(
    prediction: np.ndarray,
    target: np.ndarray,
    *,
    losses: Sequence[str],
    weights: Sequence[float],
) -> np.ndarray:
    per_target = [
        SINGLE_TARGET[name](prediction[:, t], target[:, t]) for t, name in enumerate(losses)
    ]
    total = sum(
        prediction.dtype.type(w) * loss for w, loss in zip(weights, per_target, strict=True)
    )
    return np.array([total, *per_target], dtype=prediction.dtype)


# ---------------------------------------------------------------- gradients


BCE_DENOMINATOR_CLAMP = np.float32(1e-12)  # PyTorch's constexpr float EPSILON


def _per_term(cotangent: np.ndarray, shape: tuple[int, ...], reduction: str) -> np.ndarray:
    """The cotangent each term of a reduced loss receives."""
    if reduction == "none":
        return cotangent
    n = int(np.prod(shape))
    scale = cotangent / cotangent.dtype.type(n) if reduction == "mean" else cotangent
    return np.broadcast_to(scale, shape)


def _loss(
    derivative: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> Callable[..., np.ndarray]:
    def gradient(
        a: np.ndarray, target: np.ndarray, cotangent: np.ndarray, *, reduction: str = "mean"
    ) -> np.ndarray:
        return _per_term(cotangent, a.shape, reduction) * derivative(a, target)

    return gradient


mse_loss_grad = _loss(lambda p, t: 2 * (p - t))


mae_loss_grad = _loss(lambda p, t: np.sign(p - t))


def huber_loss_grad(
    prediction: np.ndarray,
    target: np.ndarray,
    cotangent: np.ndarray,
    *,
    delta: float = 1.0,
    reduction: str = "mean",
) -> np.ndarray:
    d = prediction - target
    delta_ = prediction.dtype.type(delta)
    clipped = np.minimum(np.maximum(d, -delta_), delta_)  # np.clip makes bfloat16 float32
    return _per_term(cotangent, d.shape, reduction) * clipped


def binary_cross_entropy_grad(
    probability: np.ndarray, target: np.ndarray, cotangent: np.ndarray, *, reduction: str = "mean"
) -> np.ndarray:
    p = probability
    clamp = p.dtype.type(BCE_DENOMINATOR_CLAMP)
    derivative = (p - target) / np.maximum((1 - p) * p, clamp)
    return _per_term(cotangent, p.shape, reduction) * derivative


def binary_cross_entropy_with_logits_grad(
    logits: np.ndarray,
    target: np.ndarray,
    cotangent: np.ndarray,
    *,
    pos_weight: float = 1.0,
    reduction: str = "mean",
) -> np.ndarray:
    s = sigmoid(logits)
    w = logits.dtype.type(pos_weight)
    derivative = (1 - target) * s - w * target * sigmoid(-logits)
    return _per_term(cotangent, logits.shape, reduction) * derivative


def softmax_cross_entropy_grad(
    logits: np.ndarray,
    target: np.ndarray,
    cotangent: np.ndarray,
    *,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> np.ndarray:
    smoothed = smoothed_targets(logits, target, label_smoothing)
    upstream = _per_term(cotangent, logits.shape[:-1], reduction)[..., None]
    return upstream * (softmax(logits, axis=-1) - smoothed)


SINGLE_TARGET_GRADIENT: dict[str, Callable[..., np.ndarray]] = {
    "mse": mse_loss_grad,
    "mae": mae_loss_grad,
    "huber": huber_loss_grad,
    "bce_with_logits": binary_cross_entropy_with_logits_grad,
}


def multi_target_loss_grad(
    prediction: np.ndarray,
    target: np.ndarray,
    cotangent: np.ndarray,
    *,
    losses: Sequence[str],
    weights: Sequence[float],
) -> np.ndarray:
    columns = [
        SINGLE_TARGET_GRADIENT[name](
            prediction[:, t],
            target[:, t],
            prediction.dtype.type(w) * cotangent[0] + cotangent[t + 1],
        )
        for t, (name, w) in enumerate(zip(losses, weights, strict=True))
    ]
    return np.stack(columns, axis=-1)
