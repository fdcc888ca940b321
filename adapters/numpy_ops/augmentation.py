"""Flips, quarter turns and resizing of (..., height, width) images. NumPy has no resize: composed
as separable weight matrices, ``out = W x V^T``, following PyTorch's conventions (bicubic
``a = -3/4`` with the edge pixel repeated, no antialiasing unless asked)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "horizontal_flip",
    "resize",
    "resize_grad",
    "rot90",
    "vertical_flip",
]  # the concepts; the adapter's table


def horizontal_flip(image: np.ndarray) -> np.ndarray:
    return np.flip(image, axis=-1).copy()


def vertical_flip(image: np.ndarray) -> np.ndarray:
    return np.flip(image, axis=-2).copy()


def rot90(image: np.ndarray, *, k: int = 1) -> np.ndarray:
    return np.rot90(image, k=k, axes=(-2, -1)).copy()


def _cubic(t: np.ndarray, a: float) -> np.ndarray:
    t = np.abs(t)
    near = ((a + 2) * t - (a + 3)) * t * t + 1
    far = ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return np.where(t < 1, near, np.where(t < 2, far, 0))


def _weights(
    n_in: int,
    n_out: int,
    method: str,
    align_corners: bool,
    antialias: bool,
    dtype: np.dtype,
    cubic_a: float | None = None,
) -> np.ndarray:
    """The ``(n_out, n_in)`` matrix of one axis's weights, in ``dtype`` (bicubic: Keys'
    ``cubic_a``, by default -3/4 with the edges repeated, -1/2 when antialiasing)."""
    i = np.arange(n_out)
    if method == "nearest":
        chosen = np.minimum((2 * i + 1) * n_in // (2 * n_out), n_in - 1)
        return (np.arange(n_in)[None, :] == chosen[:, None]).astype(dtype)
    i = i.astype(dtype)
    if align_corners:
        scale = dtype.type((n_in - 1) / (n_out - 1)) if n_out > 1 else dtype.type(0)
        centre = i * scale
    else:
        centre = (i + dtype.type(0.5)) * dtype.type(n_in / n_out) - dtype.type(0.5)
    stretch = dtype.type(max(1.0, n_in / n_out) if antialias else 1.0)
    replicate = method == "bicubic" and not antialias
    j = np.arange(-2, n_in + 2) if replicate else np.arange(n_in)
    t = (j.astype(dtype)[None, :] - centre[:, None]) / stretch
    if method == "bilinear":
        w = np.maximum(0, 1 - np.abs(t))
    else:
        a = cubic_a if cubic_a is not None else -0.75 if replicate else -0.5
        w = _cubic(t, dtype.type(a))
    if replicate:  # the taps off the image read the edge pixel
        folded = np.zeros((n_out, n_in), dtype)
        for column, source in enumerate(np.clip(j, 0, n_in - 1)):
            folded[:, source] += w[:, column]
        return folded
    return w / np.sum(w, axis=1, keepdims=True)


def _matrices(
    image: np.ndarray, size: Sequence[int], method: str, align_corners: bool, antialias: bool
) -> tuple[np.ndarray, np.ndarray]:
    antialias = antialias and method != "nearest"
    height, width = size
    rows = _weights(image.shape[-2], height, method, align_corners, antialias, image.dtype)
    columns = _weights(image.shape[-1], width, method, align_corners, antialias, image.dtype)
    return rows, columns


def resize(
    image: np.ndarray,
    *,
    size: Sequence[int],
    method: str = "bilinear",
    align_corners: bool = False,
    antialias: bool = False,
) -> np.ndarray:
    rows, columns = _matrices(image, size, method, align_corners, antialias)
    return np.einsum("ip,...pq,jq->...ij", rows, image, columns)


def resize_grad(
    image: np.ndarray,
    cotangent: np.ndarray,
    *,
    size: Sequence[int],
    method: str = "bilinear",
    align_corners: bool = False,
    antialias: bool = False,
) -> np.ndarray:
    rows, columns = _matrices(image, size, method, align_corners, antialias)
    return np.einsum("ip,...ij,jq->...pq", rows, cotangent, columns)
