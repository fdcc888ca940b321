"""Flips, quarter turns, resizing and rotation of (..., height, width) images. NumPy has no
resize: composed as separable weight matrices, ``out = W x V^T``, following PyTorch's
conventions (bicubic ``a = -3/4`` with the edge pixel repeated, no antialiasing unless asked).
Nor a rotation or a shear: composed as the sampling matrix of the source points (the spec's
formula, in the image's dtype), nearest rounding ties up, bilinear reading the fill per tap off
the image; sampling at given points likewise, per image, its derivative in the points written
out (the cell ``floor``'s, as autodiff of ``floor`` takes it). An integer image is resampled in
float32 and rounded once (:func:`_in_levels`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "adjust_brightness",
    "adjust_brightness_grad",
    "adjust_contrast",
    "adjust_contrast_grad",
    "grayscale",
    "grayscale_grad",
    "grid_sample",
    "grid_sample_grad",
    "horizontal_flip",
    "normalize_channels",
    "normalize_channels_grad",
    "resize",
    "resize_grad",
    "rot90",
    "rotate",
    "rotate_grad",
    "shear",
    "shear_grad",
    "vertical_flip",
]  # the concepts; the adapter's table


def _in_levels(resample: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """``resample`` of an integer image: computed in float32 (the image's levels and any float
    argument), then rounded to the nearest level (ties to even, ``np.rint``) and saturated to
    the dtype's range."""

    @functools.wraps(resample)
    def in_levels(image: np.ndarray, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        if np.issubdtype(image.dtype, np.floating):
            return resample(image, *arrays, **params)
        levels = np.iinfo(image.dtype)
        out = resample(image.astype(np.float32), *(a.astype(np.float32) for a in arrays), **params)
        return np.clip(np.rint(out), levels.min, levels.max).astype(image.dtype)

    return in_levels


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


@_in_levels
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


def _offsets(
    shape: tuple[int, ...], dtype: np.dtype, centre: tuple[float, float] | None = None
) -> tuple[np.ndarray, ...]:
    """The centre (the image's by default) and every pixel's row and column offsets from it,
    in ``dtype``."""
    height, width = shape[-2:]
    i, j = np.meshgrid(np.arange(height, dtype=dtype), np.arange(width, dtype=dtype), indexing="ij")
    centre_row, centre_column = (
        dtype.type(c) for c in (centre or ((height - 1) / 2, (width - 1) / 2))
    )
    return centre_row, centre_column, i - centre_row, j - centre_column


def _sampling(
    shape: tuple[int, ...],
    angle: float,
    method: str,
    dtype: np.dtype,
    centre: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The rotation's ``(H W, H W)`` sampling matrix and the weight each output gives the fill,
    from source points computed in ``dtype``, about ``centre`` (the image's by default)."""
    theta = np.deg2rad(np.asarray(angle, dtype))
    cos, sin = np.cos(theta), np.sin(theta)
    centre_row, centre_column, d_row, d_column = _offsets(shape, dtype, centre)
    rows = centre_row + cos * d_row + sin * d_column
    columns = centre_column - sin * d_row + cos * d_column
    return _sampling_at(shape, rows.ravel(), columns.ravel(), method, dtype)


def _shearing(
    shape: tuple[int, ...],
    shear_x: float,
    shear_y: float,
    method: str,
    dtype: np.dtype,
    centre: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The shear's sampling matrix and fill weights: the spec's source points
    ``(i + s_y (j - c_c), j + s_x (i - c_r))``, the factors in ``dtype``."""
    centre_row, centre_column, d_row, d_column = _offsets(shape, dtype, centre)
    rows = centre_row + d_row + dtype.type(shear_y) * d_column
    columns = centre_column + d_column + dtype.type(shear_x) * d_row
    return _sampling_at(shape, rows.ravel(), columns.ravel(), method, dtype)


def _sampling_at(
    shape: tuple[int, ...], rows: np.ndarray, columns: np.ndarray, method: str, dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """The ``(H W, H W)`` sampling matrix of the source points ``(rows, columns)`` (row-major,
    one per output pixel) and the weight each output gives the fill: nearest rounds ties up,
    bilinear reads the fill per tap off the image."""
    height, width = shape[-2:]
    if method == "nearest":
        ones = np.ones_like(rows)
        taps = [(np.floor(rows + dtype.type(0.5)), np.floor(columns + dtype.type(0.5)), ones)]
    else:
        low_r, low_c = np.floor(rows), np.floor(columns)
        f_r, f_c = rows - low_r, columns - low_c
        taps = [
            (low_r + dr, low_c + dc, (f_r if dr else 1 - f_r) * (f_c if dc else 1 - f_c))
            for dr in (0, 1)
            for dc in (0, 1)
        ]
    matrix = np.zeros((height * width, height * width), dtype)
    fill = np.zeros(height * width, dtype)
    outputs = np.arange(height * width)
    for p, q, weight in taps:
        inside = (p >= 0) & (p < height) & (q >= 0) & (q < width)
        sources = (p * width + q)[inside].astype(np.intp)
        np.add.at(matrix, (outputs[inside], sources), weight[inside])
        fill += np.where(inside, 0, weight)
    return matrix, fill


def _resampled(
    image: np.ndarray, sampling: tuple[np.ndarray, np.ndarray], fill: float
) -> np.ndarray:
    """Each image read through a sampling matrix and its fill weights (:func:`_sampling_at`)."""
    matrix, fill_weights = sampling
    flat = image.reshape(*image.shape[:-2], -1)
    out = flat @ matrix.T + fill_weights * image.dtype.type(fill)
    return out.reshape(image.shape)


def _spread(
    image: np.ndarray, cotangent: np.ndarray, sampling: tuple[np.ndarray, np.ndarray]
) -> np.ndarray:
    """The transposed sampling: each output's cotangent back to the pixels it read."""
    matrix, _ = sampling
    return (cotangent.reshape(*image.shape[:-2], -1) @ matrix).reshape(image.shape)


@_in_levels
def rotate(
    image: np.ndarray, *, angle: float, method: str = "bilinear", fill: float = 0.0
) -> np.ndarray:
    return _resampled(image, _sampling(image.shape, angle, method, image.dtype), fill)


def rotate_grad(
    image: np.ndarray,
    cotangent: np.ndarray,
    *,
    angle: float,
    method: str = "bilinear",
    fill: float = 0.0,
) -> np.ndarray:
    return _spread(image, cotangent, _sampling(image.shape, angle, method, image.dtype))


@_in_levels
def shear(
    image: np.ndarray,
    *,
    shear_x: float = 0.0,
    shear_y: float = 0.0,
    method: str = "bilinear",
    fill: float = 0.0,
) -> np.ndarray:
    return _resampled(image, _shearing(image.shape, shear_x, shear_y, method, image.dtype), fill)


def shear_grad(
    image: np.ndarray,
    cotangent: np.ndarray,
    *,
    shear_x: float = 0.0,
    shear_y: float = 0.0,
    method: str = "bilinear",
    fill: float = 0.0,
) -> np.ndarray:
    sampling = _shearing(image.shape, shear_x, shear_y, method, image.dtype)
    return _spread(image, cotangent, sampling)


def _point_cells(
    image: np.ndarray, points: np.ndarray, fill: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point's 2 x 2 cell of pixels ``(..., P, 2, 2)`` (the fill off the image) and its
    fractions along the rows and the columns ``(..., P)``, in the image's dtype."""
    height, width = image.shape[-2:]
    low = np.floor(points)
    fractions = points - low
    rows = low[..., 0, None, None] + np.arange(2)[:, None]
    columns = low[..., 1, None, None] + np.arange(2)[None, :]
    inside = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
    flat = image.reshape(*image.shape[:-2], 1, height * width)
    index = (np.clip(rows, 0, height - 1) * width + np.clip(columns, 0, width - 1)).astype(np.intp)
    read = np.take_along_axis(flat, index.reshape(*index.shape[:-2], -1), axis=-1)
    pixels = np.where(inside, read.reshape(index.shape), image.dtype.type(fill))
    return pixels, fractions[..., 0], fractions[..., 1]


@_in_levels
def grid_sample(image: np.ndarray, points: np.ndarray, *, fill: float = 0.0) -> np.ndarray:
    pixels, f_row, f_column = _point_cells(image, points, fill)
    one = image.dtype.type(1)
    top = (one - f_column) * pixels[..., 0, 0] + f_column * pixels[..., 0, 1]
    bottom = (one - f_column) * pixels[..., 1, 0] + f_column * pixels[..., 1, 1]
    return (one - f_row) * top + f_row * bottom


def grid_sample_grad(
    image: np.ndarray, points: np.ndarray, cotangent: np.ndarray, *, fill: float = 0.0
) -> np.ndarray:
    pixels, f_row, f_column = _point_cells(image, points, fill)
    one = image.dtype.type(1)
    down = pixels[..., 1, :] - pixels[..., 0, :]  # (..., P, 2): the step down each column
    across = pixels[..., :, 1] - pixels[..., :, 0]  # (..., P, 2): the step across each row
    d_row = (one - f_column) * down[..., 0] + f_column * down[..., 1]
    d_column = (one - f_row) * across[..., 0] + f_row * across[..., 1]
    return np.stack([cotangent * d_row, cotangent * d_column], axis=-1)


LUMA = (0.2989, 0.587, 0.114)
"""MATLAB's rgb2gray weights, torchvision's (the declared ``luma_weights``)."""


def grayscale(image: np.ndarray) -> np.ndarray:
    weights = np.array(LUMA, image.dtype)[:, None, None]
    return np.sum(weights * image, axis=-3, keepdims=True)


def grayscale_grad(image: np.ndarray, cotangent: np.ndarray) -> np.ndarray:
    weights = np.array(LUMA, image.dtype)[:, None, None]
    return np.broadcast_to(weights * cotangent, image.shape).copy()


def _channels(values: Sequence[float], dtype: np.dtype) -> np.ndarray:
    """Per-channel numbers in the image's dtype, ``(C, 1, 1)``."""
    return np.array(values, dtype)[:, None, None]


def normalize_channels(
    image: np.ndarray, *, mean: Sequence[float], std: Sequence[float]
) -> np.ndarray:
    # torchvision's normalize: the mean and std in the image's dtype, subtracted, divided
    return (image - _channels(mean, image.dtype)) / _channels(std, image.dtype)


def normalize_channels_grad(
    image: np.ndarray, cotangent: np.ndarray, *, mean: Sequence[float], std: Sequence[float]
) -> np.ndarray:
    return cotangent / _channels(std, image.dtype)


def _contrast_blend(image: np.ndarray, factor: float) -> np.ndarray:
    """torchvision's adjust_contrast before its clamp: ``f x + (1 - f) mu``, ``mu`` the mean luma
    of each image (a one-channel image is its own luma), both factors in the image's dtype."""
    luma = grayscale(image) if image.shape[-3] == 3 else image
    mean = luma.mean(axis=(-3, -2, -1), keepdims=True)
    return np.asarray(factor, image.dtype) * image + np.asarray(1.0 - factor, image.dtype) * mean


def adjust_contrast(
    image: np.ndarray, *, factor: float, value_range: Sequence[float] | None = None
) -> np.ndarray:
    return _clipped(_contrast_blend(image, factor), value_range, image.dtype)


def adjust_contrast_grad(
    image: np.ndarray,
    cotangent: np.ndarray,
    *,
    factor: float,
    value_range: Sequence[float] | None = None,
) -> np.ndarray:
    # the level's share, (1 - f) times the sum over the image, reaches each channel times its
    # luma weight / (H W)
    if value_range is not None:
        cotangent = _clamp_passes(_contrast_blend(image, factor), cotangent, value_range)
    channels, height, width = image.shape[-3:]
    weights = np.array(LUMA if channels == 3 else (1.0,), image.dtype)[:, None, None]
    total = cotangent.sum(axis=(-3, -2, -1), keepdims=True)
    share = np.asarray(1.0 - factor, image.dtype) * total / (height * width)
    return np.asarray(factor, image.dtype) * cotangent + share * weights


def adjust_brightness(
    image: np.ndarray, *, factor: float, value_range: Sequence[float] | None = None
) -> np.ndarray:
    # torchvision's adjust_brightness: the image scaled by the factor in its dtype (a blend with
    # black), clipped to the value_range asked, if any (torchvision: [0, 1] for a float image)
    return _clipped(np.asarray(factor, image.dtype) * image, value_range, image.dtype)


def adjust_brightness_grad(
    image: np.ndarray,
    cotangent: np.ndarray,
    *,
    factor: float,
    value_range: Sequence[float] | None = None,
) -> np.ndarray:
    if value_range is not None:
        scaled = np.asarray(factor, image.dtype) * image
        cotangent = _clamp_passes(scaled, cotangent, value_range)
    return np.asarray(factor, image.dtype) * cotangent


def _clipped(out: np.ndarray, value_range: Sequence[float] | None, dtype: np.dtype) -> np.ndarray:
    """``out`` clipped to the value_range asked, if any, in ``dtype``."""
    if value_range is None:
        return out
    low, high = value_range
    return np.clip(out, low, high).astype(dtype)


def _clamp_passes(
    moved: np.ndarray, cotangent: np.ndarray, value_range: Sequence[float]
) -> np.ndarray:
    """torch.clamp's derivative: the cotangent where ``low <= moved <= high`` (its bounds
    included), 0 elsewhere."""
    inside = (moved >= value_range[0]) & (moved <= value_range[1])
    return np.where(inside, cotangent, 0).astype(cotangent.dtype)
