"""Feature scaling and normalization layers."""

from __future__ import annotations

import numpy as np

__all__ = [
    "batch_norm",
    "batch_norm_grad",
    "layer_norm",
    "layer_norm_grad",
    "min_max_scale",
    "standardize",
    "standardize_grad",
]  # the concepts; the adapter's table


def min_max_scale(
    x: np.ndarray, *, axis: int = 0, feature_min: float = 0.0, feature_max: float = 1.0
) -> np.ndarray:
    low, high = np.min(x, axis=axis, keepdims=True), np.max(x, axis=axis, keepdims=True)
    span = high - low
    a, b = x.dtype.type(feature_min), x.dtype.type(feature_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled = a + (b - a) * ((x - low) / span)
    return np.where(span == 0, a, scaled)  # a constant feature maps to feature_min


def _normalized(x: np.ndarray, axis: int, ddof: int, epsilon: float) -> np.ndarray:
    mean = np.mean(x, axis=axis, keepdims=True)
    centred = x - mean
    variance = np.sum(centred * centred, axis=axis, keepdims=True) / x.dtype.type(
        x.shape[axis] - ddof
    )
    denominator = np.sqrt(variance + x.dtype.type(epsilon))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = centred / denominator
    # A constant lane maps to 0 (its rounded mean may differ from its values by an ulp).
    constant = np.max(x, axis=axis, keepdims=True) == np.min(x, axis=axis, keepdims=True)
    return np.where(constant & (epsilon == 0), 0, z).astype(x.dtype)


def standardize(x: np.ndarray, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0) -> np.ndarray:
    return _normalized(x, axis, ddof, epsilon)


def batch_norm(
    x: np.ndarray,
    running_mean: np.ndarray,
    running_variance: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray,
    *,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> np.ndarray:
    # PyTorch's conventions: momentum weights the batch, the running variance is unbiased.
    if training:
        n = x.shape[0]
        mean = np.mean(x, axis=0)
        variance = np.mean((x - mean) ** 2, axis=0)
        out = (x - mean) / np.sqrt(variance + x.dtype.type(eps))
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_variance = (1 - momentum) * running_variance + momentum * (variance * n / (n - 1))
    else:
        out = (x - running_mean) / np.sqrt(running_variance + x.dtype.type(eps))
        new_mean, new_variance = running_mean, running_variance
    return np.vstack([out * weight + bias, new_mean, new_variance]).astype(x.dtype)


def layer_norm(
    x: np.ndarray, weight: np.ndarray, bias: np.ndarray, *, eps: float = 1e-5
) -> np.ndarray:
    return _normalized(x, -1, 0, eps) * weight + bias


# ---------------------------------------------------------------- gradients


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
