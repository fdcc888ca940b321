"""Elementwise activations and the softmax family."""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "log_softmax",
    "log_softmax_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "silu",
    "silu_grad",
    "softmax",
    "softmax_grad",
    "softplus",
    "softplus_grad",
    "tanh",
    "tanh_grad",
]  # the concepts; the adapter's table


_erfc = np.frompyfunc(math.erfc, 1, 1)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def leaky_relu(x: np.ndarray, *, negative_slope: float = 0.01) -> np.ndarray:
    return np.where(x >= 0, x, x * x.dtype.type(negative_slope))


def sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive argument only, so neither branch overflows.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def tanh(x: np.ndarray) -> np.ndarray:
    return np.tanh(x)


def softplus(x: np.ndarray, *, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    # PyTorch's convention: linear where beta * x > threshold.
    scaled = x * x.dtype.type(beta)
    smooth = (np.maximum(scaled, 0) + np.log1p(np.exp(-np.abs(scaled)))) / x.dtype.type(beta)
    return np.where(scaled > threshold, x, smooth)


def gelu(x: np.ndarray, *, approximate: str = "none") -> np.ndarray:
    if approximate == "tanh":
        inner = np.sqrt(2 / np.pi).astype(x.dtype) * (x + x.dtype.type(0.044715) * x**3)
        # x/2 (1 + tanh(y)) = x sigmoid(2y): no cancellation in the negative tail.
        return x * sigmoid(2 * inner)
    # x Phi(x) = x/2 erfc(-x / sqrt 2); math.erfc is libm's, evaluated in float64.
    tail = _erfc(-x.astype(np.float64) / np.sqrt(2.0)).astype(np.float64)
    return (0.5 * x.astype(np.float64) * tail).astype(x.dtype)


def silu(x: np.ndarray) -> np.ndarray:
    return x * sigmoid(x)


def elu(x: np.ndarray, *, alpha: float = 1.0) -> np.ndarray:
    return np.where(x > 0, x, x.dtype.type(alpha) * np.expm1(np.minimum(x, 0)))


def softmax(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


# ---------------------------------------------------------------- gradients


def relu_grad(x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    return np.where(x > 0, cotangent, 0).astype(x.dtype)


def leaky_relu_grad(
    x: np.ndarray, cotangent: np.ndarray, *, negative_slope: float = 0.01
) -> np.ndarray:
    return np.where(x > 0, cotangent, cotangent * x.dtype.type(negative_slope))


def sigmoid_grad(x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    y = sigmoid(x)
    return cotangent * (1 - y) * y


def tanh_grad(x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    t = np.tanh(x)
    return cotangent * (1 - t * t)


def softplus_grad(
    x: np.ndarray, cotangent: np.ndarray, *, beta: float = 1.0, threshold: float = 20.0
) -> np.ndarray:
    z = x * x.dtype.type(beta)
    return np.where(z > threshold, cotangent, cotangent * sigmoid(z))


def gelu_grad(
    x: np.ndarray, cotangent: np.ndarray, *, approximate: str | None = None
) -> np.ndarray:
    if approximate == "tanh":
        k, c = np.sqrt(2 / np.pi), 0.044715
        t = np.tanh(k * (x + c * x**3))
        derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x)
    else:
        cdf = 0.5 * _erfc(-x / np.sqrt(2)).astype(np.float64)
        derivative = cdf + x * np.exp(-0.5 * x.astype(np.float64) ** 2) / np.sqrt(2 * np.pi)
    return (cotangent * derivative).astype(x.dtype)


def silu_grad(x: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    s = sigmoid(x)
    return cotangent * s * (1 + x * (1 - s))


def elu_grad(x: np.ndarray, cotangent: np.ndarray, *, alpha: float = 1.0) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.where(
            x > 0, cotangent, cotangent * x.dtype.type(alpha) * np.exp(np.minimum(x, 0))
        )


def softmax_grad(x: np.ndarray, cotangent: np.ndarray, *, axis: int = -1) -> np.ndarray:
    y = softmax(x, axis=axis)
    return y * (cotangent - np.sum(cotangent * y, axis=axis, keepdims=True))


def log_softmax_grad(x: np.ndarray, cotangent: np.ndarray, *, axis: int = -1) -> np.ndarray:
    y = np.exp(log_softmax(x, axis=axis))
    return cotangent - y * np.sum(cotangent, axis=axis, keepdims=True)
