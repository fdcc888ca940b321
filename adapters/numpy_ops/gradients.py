"""Hand-written vector-Jacobian products: NumPy has no autodiff, so each derivative is written out
(spec: the concept's page, section "Gradient"), under PyTorch's conventions at the kinks, in the
arrangement a backward kernel uses (from the rounded forward result where that is what it saves).
Arguments: the concept's, then the cotangent."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import activations, losses

__all__ = [
    "batch_norm_grad",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits_grad",
    "cross_entropy_grad",
    "elu_grad",
    "entropy_grad",
    "gelu_grad",
    "huber_loss_grad",
    "kl_divergence_grad",
    "l1_penalty_grad",
    "l2_penalty_grad",
    "layer_norm_grad",
    "leaky_relu_grad",
    "log_softmax_grad",
    "mae_loss_grad",
    "mse_loss_grad",
    "multi_target_loss_grad",
    "relu_grad",
    "sigmoid_grad",
    "silu_grad",
    "softmax_cross_entropy_grad",
    "softmax_grad",
    "softplus_grad",
    "standardize_grad",
    "tanh_grad",
]  # the concepts; the adapter's table

BCE_DENOMINATOR_CLAMP = np.float32(1e-12)  # PyTorch's constexpr float EPSILON


def _per_term(cotangent: np.ndarray, shape: tuple[int, ...], reduction: str) -> np.ndarray:
    """The cotangent each term of a reduced loss receives."""
    if reduction == "none":
        return cotangent
    n = int(np.prod(shape))
    scale = cotangent / cotangent.dtype.type(n) if reduction == "mean" else cotangent
    return np.broadcast_to(scale, shape)


def _in_base(gradient: np.ndarray, base: float | None) -> np.ndarray:
    return gradient if base is None else gradient / gradient.dtype.type(np.log(base))


# ---------------------------------------------------------------- information


def entropy_grad(
    p: np.ndarray, cotangent: np.ndarray, *, base: float | None = None, axis: int = -1
) -> np.ndarray:
    g = np.expand_dims(cotangent, axis % p.ndim)
    return _in_base(-g * (np.log(p) + 1), base)


def cross_entropy_grad(
    p: np.ndarray,
    q: np.ndarray,
    cotangent: np.ndarray,
    *,
    base: float | None = None,
    axis: int = -1,
) -> np.ndarray:
    g = np.expand_dims(cotangent, axis % p.ndim)
    return _in_base(-g * (p / q), base)


kl_divergence_grad = cross_entropy_grad


# ---------------------------------------------------------------- activations


def relu_grad(x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    return np.where(x > 0, cotangent, 0).astype(x.dtype)


def leaky_relu_grad(
    x: np.ndarray, cotangent: np.ndarray, *, negative_slope: float = 0.01
) -> np.ndarray:
    return np.where(x > 0, cotangent, cotangent * x.dtype.type(negative_slope))


def sigmoid_grad(x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    y = activations.sigmoid(x)
    return cotangent * (1 - y) * y


def tanh_grad(x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return cotangent * (1 - t * t)


def softplus_grad(
    x: np.ndarray, cotangent: np.ndarray, *, beta: float = 1.0, threshold: float = 20.0
) -> np.ndarray:
    z = x * x.dtype.type(beta)
    return np.where(z > threshold, cotangent, cotangent * activations.sigmoid(z))


def gelu_grad(
    x: np.ndarray, cotangent: np.ndarray, *, approximate: str | None = None
) -> np.ndarray:
    if approximate == "tanh":
        k, c = np.sqrt(2 / np.pi), 0.044715
        t = np.tanh(k * (x + c * x**3))
        derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x)
    else:
        cdf = 0.5 * activations._erfc(-x / np.sqrt(2)).astype(np.float64)
        derivative = cdf + x * np.exp(-0.5 * x.astype(np.float64) ** 2) / np.sqrt(2 * np.pi)
    return (cotangent * derivative).astype(x.dtype)


def silu_grad(x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    s = activations.sigmoid(x)
    return cotangent * s * (1 + x * (1 - s))


def elu_grad(x: np.ndarray, cotangent: np.ndarray, *, alpha: float = 1.0) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.where(
            x > 0, cotangent, cotangent * x.dtype.type(alpha) * np.exp(np.minimum(x, 0))
        )


def softmax_grad(x: np.ndarray, cotangent: np.ndarray, *, axis: int = -1) -> np.ndarray:
    y = activations.softmax(x, axis=axis)
    return y * (cotangent - np.sum(cotangent * y, axis=axis, keepdims=True))


def log_softmax_grad(x: np.ndarray, cotangent: np.ndarray, *, axis: int = -1) -> np.ndarray:
    y = np.exp(activations.log_softmax(x, axis=axis))
    return cotangent - y * np.sum(cotangent, axis=axis, keepdims=True)


# ---------------------------------------------------------------- losses


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
    return _per_term(cotangent, d.shape, reduction) * np.clip(d, -delta_, delta_)


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
    s = activations.sigmoid(logits)
    w = logits.dtype.type(pos_weight)
    derivative = (1 - target) * s - w * target * activations.sigmoid(-logits)
    return _per_term(cotangent, logits.shape, reduction) * derivative


def softmax_cross_entropy_grad(
    logits: np.ndarray,
    target: np.ndarray,
    cotangent: np.ndarray,
    *,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> np.ndarray:
    smoothed = losses.smoothed_targets(logits, target, label_smoothing)
    upstream = _per_term(cotangent, logits.shape[:-1], reduction)[..., None]
    return upstream * (activations.softmax(logits, axis=-1) - smoothed)


SINGLE_TARGET: dict[str, Callable[..., np.ndarray]] = {
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
        SINGLE_TARGET[name](
            prediction[:, t],
            target[:, t],
            prediction.dtype.type(w) * cotangent[0] + cotangent[t + 1],
        )
        for t, (name, w) in enumerate(zip(losses, weights, strict=True))
    ]
    return np.stack(columns, axis=-1)


# ---------------------------------------------------------------- regularization


def l1_penalty_grad(weights: np.ndarray, cotangent: np.ndarray, *, strength: float) -> np.ndarray:
    return cotangent * weights.dtype.type(strength) * np.sign(weights)


def l2_penalty_grad(weights: np.ndarray, cotangent: np.ndarray, *, strength: float) -> np.ndarray:
    return cotangent * weights.dtype.type(strength) * weights


# ---------------------------------------------------------------- normalization


def _standardized_vjp(
    x: np.ndarray, g: np.ndarray, axis: int, ddof: int, epsilon: float
) -> np.ndarray:
    """(g - mean(g) - z <g, z> / (n - ddof)) / sd along ``axis``."""
    n = x.shape[axis]
    mean = np.mean(x, axis=axis, keepdims=True)
    variance = np.sum((x - mean) ** 2, axis=axis, keepdims=True) / x.dtype.type(n - ddof)
    sd = np.sqrt(variance + x.dtype.type(epsilon))
    z = (x - mean) / sd
    projection = np.sum(g * z, axis=axis, keepdims=True) / x.dtype.type(n - ddof)
    return (g - np.mean(g, axis=axis, keepdims=True) - z * projection) / sd


def standardize_grad(
    x: np.ndarray, cotangent: np.ndarray, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0
) -> np.ndarray:
    return _standardized_vjp(x, cotangent, axis, ddof, epsilon)


def layer_norm_grad(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, cotangent: np.ndarray, *, eps: float = 1e-5
) -> np.ndarray:
    return _standardized_vjp(x, cotangent * weight, -1, 0, eps)


def batch_norm_grad(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, cotangent: np.ndarray, *, eps: float = 1e-5
) -> np.ndarray:
    return _standardized_vjp(x, cotangent * weight, 0, 0, eps)
