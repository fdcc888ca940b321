"""Weight penalties."""

from __future__ import annotations

import numpy as np

__all__ = [
    "l1_penalty",
    "l1_penalty_grad",
    "l2_penalty",
    "l2_penalty_grad",
]  # the concepts; the adapter's table


def l1_penalty(weights: np.ndarray, *, strength: float) -> np.ndarray:
    return weights.dtype.type(strength) * np.sum(np.abs(weights))


def l2_penalty(weights: np.ndarray, *, strength: float) -> np.ndarray:
    # The "half" convention: (lambda / 2) ||w||^2, the penalty whose gradient is weight_decay.
    return weights.dtype.type(strength) / 2 * np.sum(weights * weights)


# ---------------------------------------------------------------- gradients


def l1_penalty_grad(weights: np.ndarray, cotangent: np.ndarray, *, strength: float) -> np.ndarray:
    return cotangent * weights.dtype.type(strength) * np.sign(weights)


def l2_penalty_grad(weights: np.ndarray, cotangent: np.ndarray, *, strength: float) -> np.ndarray:
    return cotangent * weights.dtype.type(strength) * weights
