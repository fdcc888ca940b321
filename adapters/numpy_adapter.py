"""The NumPy backend, and the template to copy for a new framework.

NumPy has no deep-learning functions, so every concept here is composed from NumPy operations,
vectorized and dtype-preserving (NumPy >= 2 keeps float32 with Python scalars, NEP 50). Where the
spec names a variant, this backend follows PyTorch's convention and says so in ``conventions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from .base import Adapter


def _reduce(terms: np.ndarray, reduction: str) -> np.ndarray:
    if reduction == "none":
        return terms
    return np.sum(terms) if reduction == "sum" else np.mean(terms)


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x * log(y)`` with 0 where ``x == 0`` (so ``0 log 0 = 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, x * np.log(np.where(x == 0, 1, y)))


def _in_base(nats: np.ndarray, base: float | None) -> np.ndarray:
    return nats if base is None else nats / np.log(nats.dtype.type(base))


def entropy(p: np.ndarray, *, base: float | None = None, axis: int = -1) -> np.ndarray:
    return _in_base(-np.sum(_xlogy(p, p), axis=axis), base)


def cross_entropy(
    p: np.ndarray, q: np.ndarray, *, base: float | None = None, axis: int = -1
) -> np.ndarray:
    return _in_base(-np.sum(_xlogy(p, q), axis=axis), base)


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(x, 0)


def sigmoid(x: np.ndarray) -> np.ndarray:
    # exp of a non-positive argument only, so neither branch overflows.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def softmax(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x: np.ndarray, *, axis: int = -1) -> np.ndarray:
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def mse_loss(prediction: np.ndarray, target: np.ndarray, *, reduction: str = "mean") -> np.ndarray:
    return _reduce((prediction - target) ** 2, reduction)


def binary_cross_entropy(
    probability: np.ndarray, target: np.ndarray, *, reduction: str = "mean"
) -> np.ndarray:
    # PyTorch's guard: each log clamped below at -100 before it is weighted.
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(probability), -100)
        log_not_p = np.maximum(np.log1p(-probability), -100)
    return _reduce(-(target * log_p + (1 - target) * log_not_p), reduction)


class NumpyAdapter(Adapter):
    name = "numpy"
    conventions: ClassVar[Mapping[str, str]] = {
        "binary_cross_entropy.guard": "log_clamp_-100",
    }

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        return {
            "entropy": entropy,
            "cross_entropy": cross_entropy,
            "relu": relu,
            "sigmoid": sigmoid,
            "softmax": softmax,
            "log_softmax": log_softmax,
            "mse_loss": mse_loss,
            "binary_cross_entropy": binary_cross_entropy,
        }

    def is_native(self, concept: str) -> bool:
        return False
