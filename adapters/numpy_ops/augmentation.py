"""Flips and quarter turns of (..., height, width) images."""

from __future__ import annotations

import numpy as np

__all__ = ["horizontal_flip", "rot90", "vertical_flip"]  # the concepts; the adapter's table


def horizontal_flip(image: np.ndarray) -> np.ndarray:
    return np.flip(image, axis=-1).copy()


def vertical_flip(image: np.ndarray) -> np.ndarray:
    return np.flip(image, axis=-2).copy()


def rot90(image: np.ndarray, *, k: int = 1) -> np.ndarray:
    return np.rot90(image, k=k, axes=(-2, -1)).copy()
