"""Entropy, cross entropy and KL divergence along an axis."""

from __future__ import annotations

import numpy as np

__all__ = [
    "cross_entropy",
    "cross_entropy_grad",
    "entropy",
    "entropy_grad",
    "kl_divergence",
    "kl_divergence_grad",
]  # the concepts; the adapter's table


def xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``x * log(y)`` with 0 where ``x == 0`` (so ``0 log 0 = 0``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0, x * np.log(np.where(x == 0, 1, y)))


def in_base(nats: np.ndarray, base: float | None) -> np.ndarray:
    return nats if base is None else nats / np.log(nats.dtype.type(base))


def entropy(p: np.ndarray, *, base: float | None = None, axis: int = -1) -> np.ndarray:
    return in_base(-np.sum(xlogy(p, p), axis=axis), base)


def cross_entropy(
    p: np.ndarray, q: np.ndarray, *, base: float | None = None, axis: int = -1
) -> np.ndarray:
    return in_base(-np.sum(xlogy(p, q), axis=axis), base)


def kl_divergence(
    p: np.ndarray, q: np.ndarray, *, base: float | None = None, axis: int = -1
) -> np.ndarray:
    # Termwise p log(p / q) (scipy's rel_entr): no cancellation between two large sums near P = Q.
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(p == 0, 1, p / np.where(q == 0, 1, q))
        infinity = p.dtype.type(np.inf)  # a Python inf makes ml_dtypes' bfloat16 float32
        terms = np.where(p == 0, 0, np.where(q == 0, infinity, p * np.log(ratio)))
    return in_base(np.sum(terms, axis=axis), base)


# ---------------------------------------------------------------- gradients


def _in_base(gradient: np.ndarray, base: float | None) -> np.ndarray:
    return gradient if base is None else gradient / gradient.dtype.type(np.log(base))


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
