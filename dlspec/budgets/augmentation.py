r"""Error models of the augmentation group's resampling (``resize``, ``rotate`` and their
gradients); flips and quarter turns are exact (the ``exact`` model).

A backend resizes with weights it computes in floating point: the source coordinate
:math:`c_i` (half-pixel :math:`(i + 1/2) s - 1/2` or ``align_corners``' :math:`i s`, with the
scale :math:`s` rounded: an absolute error of at most :math:`4u(|c_i| + 1)`), the kernel at
:math:`t = (j - c_i)/\sigma` (Horner's rule on a cubic: :math:`\gamma_6 \sum_k |a_k| |t|^k`,
Higham eq. 5.3, at most :math:`6u \cdot 36` for Keys' kernel with :math:`a = -3/4` on [1, 2];
:math:`u(1 + |t|)` for the triangle), a slope of at most 1.5 carrying the coordinate's error,
and the normalisation by the weights' total, at least 1/2, which spreads each of the
:math:`T_i` taps' errors over all: :math:`|\delta w_{ij}| \le u E_i` with
:math:`E_i = 2(T_i + 1)(6S + 6(|c_i| + 2))` on the taps within the kernel's reach plus one
pixel (``S`` the kernel's Horner sum). Then ``out = W x V^T`` sums :math:`T_h T_w` products in
one pass or two (at most :math:`T_h T_w + T_h + T_w` roundings on the terms).

A rotation samples at a source point the backend computes: the angle converted to radians
(``angle * pi / 180``, or Keras' ``(angle / 360) * 360 * (pi / 180)``: a relative error of at
most :math:`4u`, so :math:`4u|\theta|` in ``cos`` and ``sin`` besides their own rounding, at most
:math:`2u`), times the offsets from the centre, then at most 8 roundings on quantities below
:math:`|r| + |q| + H + W` (PyTorch's normalised grid: ``(2j + 1)/W - 1``, the 2 x 3 product,
``((x + 1) W - 1)/2``): the point is off by at most :math:`u K` per axis, with
:math:`K = 8(|r| + |q| + H + W) + (4|\theta| + 2)(|i - c_r| + |j - c_c|)`. A shear's point is
the same computation with the factors in place of ``cos`` and ``sin``: each rounded into the
dtype, then multiplied by the offset from the centre and by the aspect ratio (affine_grid) or
by the centre for Keras's translation :math:`-s c`, so
:math:`K = 8(|r| + |q| + H + W) + 4(|s_x| + |s_y|)(|i - c_r| + |j - c_c| + H + W)`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
from dlspec.reference.augmentation import (
    INTEGER_LEVELS,
    LUMA_DENOMINATOR,
    LUMA_WEIGHTS,
    STD_FLOORS,
    resize_arguments,
    resize_rows,
    resize_source,
    rotation_source,
    rotation_taps,
    sampling_taps,
    shear_point,
)

from dlspec.budgets._registry import Inputs, error_model, underflow_model

HORNER_SUM = {"nearest": 0.0, "bilinear": 2.0, "bicubic": 36.0}
"""The largest :math:`\\sum_k |a_k| |t|^k` of the kernel's polynomial on its support (Keys'
cubic with :math:`a = -3/4` on [1, 2]: :math:`0.75 (8 + 20 + 16 + 4)`; the triangle's
:math:`1 + |t|`)."""


@functools.cache
def _axis(n_in: int, n_out: int, frozen: tuple[tuple[str, Any], ...]) -> tuple[np.ndarray, ...]:
    """Along one axis: the exact weights' magnitudes ``|W|`` (float64), the taps each weight may
    err on (0/1), their errors' bound ``E`` per output index, and the term counts ``T``."""
    params = dict(frozen)
    weights = np.zeros((n_out, n_in))
    for i, (row, denominator) in enumerate(resize_rows(n_in, n_out, params)):
        for j, numerator in row.items():
            weights[i, j] = abs(float(Fraction(numerator, denominator)))
    if params["method"] == "nearest":  # a selection: no weight to err
        return weights, weights.copy(), np.zeros(n_out), np.ones(n_out)
    stretch = max(1.0, n_in / n_out) if params["antialias"] else 1.0
    reach = (1 if params["method"] == "bilinear" else 2) * stretch + 1
    centres = np.array(
        [float(resize_source(i, n_in, n_out, params["align_corners"])) for i in range(n_out)]
    )
    taps = np.abs(np.arange(n_in)[None, :] - centres[:, None]) <= reach
    taps[:, 0] |= centres - reach < 0  # clamped (replicated edges) or dropped taps
    taps[:, -1] |= centres + reach > n_in - 1
    counts = taps.sum(axis=1).astype(np.float64)
    horner = HORNER_SUM[params["method"]]
    errors = 2 * (counts + 1) * (6 * horner + 6 * (np.abs(centres) + 2))
    return weights, taps.astype(np.float64), errors, counts


def _resolved(params: Mapping[str, Any]) -> tuple[tuple[int, int], tuple[tuple[str, Any], ...]]:
    """The output size and the per-axis weight parameters (hashable) of resize's ``params``."""
    size, resolved = resize_arguments(
        "resize",
        params["size"],
        params.get("method", "bilinear"),
        params.get("align_corners", False),
        params.get("antialias"),
        params.get("default_antialias", "off"),
        params.get("cubic_kernel", "keys"),
    )
    return size, tuple(sorted(resolved.items()))


def _axes(
    image_shape: tuple[int, ...], params: Mapping[str, Any]
) -> tuple[tuple[np.ndarray, ...], ...]:
    size, frozen = _resolved(params)
    return (
        _axis(image_shape[-2], size[0], frozen),
        _axis(image_shape[-1], size[1], frozen),
    )


def _apply(rows: np.ndarray, image: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """``rows @ image @ columns^T`` over the last two axes."""
    return np.einsum("ip,...pq,jq->...ij", rows, image, columns)


def _unit_roundoff(inputs: Inputs) -> float:
    """The image dtype's unit roundoff (float32's where the image is not floating point)."""
    dtype = np.asarray(inputs["image"]).dtype
    return float(np.finfo(dtype).eps) / 2 if dtype.kind == "f" else 2.0**-24


def _term_counts(counts_h: np.ndarray, counts_w: np.ndarray) -> np.ndarray:
    """The roundings on an output's terms: :math:`T_h T_w + T_h + T_w`, one pass or two."""
    return np.outer(counts_h, counts_w) + counts_h[:, None] + counts_w[None, :]


@error_model
def resize(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\sum_{pq} |x_{pq}| ((T_h T_w + T_h + T_w)|W_{ip}||V_{jq}| + E_i M_{ip} |V_{jq}|
    + |W_{ip}| M_{jq} E_j + u E_i M_{ip} M_{jq} E_j)`: the sum's roundings and the weights'
    errors (module docstring), the last the product of two weights' errors, which is all there
    is where both exact weights are 0 (a corner-aligned corner of 1.2e-32 in float64: seed 3); 0
    for nearest, a selection. An integer image resized per pass adds :func:`_per_pass_levels`."""
    if params.get("method", "bilinear") == "nearest":
        return np.zeros(np.shape(result))
    x = np.abs(np.asarray(inputs["image"], dtype=np.float64))
    (w, m_h, e_h, t_h), (v, m_w, e_w, t_w) = _axes(x.shape, params)
    s = (
        _term_counts(t_h, t_w) * _apply(w, x, v)
        + e_h[:, None] * _apply(m_h, x, v)
        + _apply(w, x, m_w) * e_w
        + _unit_roundoff(inputs) * e_h[:, None] * _apply(m_h, x, m_w) * e_w
    )
    if params.get("integer_rounding") == "per_pass" and params.get("input_dtype") in INTEGER_LEVELS:
        # an error model's terms are multiples of u; these levels are not
        s = s + _per_pass_levels(inputs, params) / _unit_roundoff(inputs)
    return s * np.ones(np.shape(result))


FIXED_POINT_WEIGHT = 2.0**-14
r"""A fixed-point pass's weight error, relative to the axis's largest weight :math:`w_{max}`:
PyTorch's uint8 kernels (``UpSampleKernel.cpp``, as PIL's) store each weight as
:math:`\mathrm{round}(w 2^P)` in an int16, the precision ``P < 22`` the largest with
:math:`w_{max} 2^{P+1} < 2^{15}`, so a weight errs by :math:`2^{-P-1} \le 2^{-15} w_{max}`
(or :math:`2^{-23}` at the cap): :math:`2^{-14} w_{max} + 2^{-22}` bounds both, twice over."""


@functools.cache
def _signed_weights(n_in: int, n_out: int, frozen: tuple[tuple[str, Any], ...]) -> np.ndarray:
    """Along one axis, the exact weights with their signs (float64)."""
    weights = np.zeros((n_out, n_in))
    for i, (row, denominator) in enumerate(resize_rows(n_in, n_out, dict(frozen))):
        for j, numerator in row.items():
            weights[i, j] = float(Fraction(numerator, denominator))
    return weights


def _per_pass_levels(inputs: Inputs, params: Mapping[str, Any]) -> np.ndarray:
    r"""Per output pixel, in levels, how far a fixed-point per-pass resize (PyTorch's uint8,
    PIL's) may be from the spec's per-pass value (the reference's ``per_pass``, exact weights):

    - a pass's sum with the rounded weights is off by :math:`\delta \sum_k |x_k|` over its taps
      (:data:`FIXED_POINT_WEIGHT`, :math:`\delta` the per-weight error);
    - where the width's pass, exact, lies within that of a half level, its rounding may go
      either way: one level, times the height's weight :math:`|W_{ip}|` it is read with;
    - the height's pass sums levels of at most the dtype's top, off by its own :math:`\delta`.

    A pass whose size is unchanged is not run (exact)."""
    image = np.asarray(inputs["image"], dtype=np.float64)
    size, frozen = _resolved(params)
    height, width = image.shape[-2:]
    _, top = INTEGER_LEVELS[params["input_dtype"]]
    w = _signed_weights(height, size[0], frozen)
    v = _signed_weights(width, size[1], frozen)
    delta_h = FIXED_POINT_WEIGHT * np.max(np.abs(w)) + 2.0**-22
    delta_w = FIXED_POINT_WEIGHT * np.max(np.abs(v)) + 2.0**-22
    if size[1] != width:
        passed = np.einsum("...pq,jq->...pj", image, v)
        slack = delta_w * np.einsum("...pq,jq->...pj", np.abs(image), (v != 0).astype(float))
        near = np.abs(passed - np.floor(passed) - 0.5) <= slack + 1e-9 * (1 + np.abs(passed))
        levels = np.clip(np.floor(passed + 0.5), 0, top) + near
    else:
        slack, near, levels = np.zeros_like(image), np.zeros(image.shape, bool), image
    if size[0] == height:
        return slack * np.ones((*image.shape[:-2], *size))
    return np.einsum("ip,...pj->...ij", np.abs(w), near.astype(float)) + delta_h * np.einsum(
        "ip,...pj->...ij", (w != 0).astype(float), levels
    )


@error_model
def resize_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The transposed sums :math:`W^\top \bar g V`: the same weights' errors, and at input
    pixel ``p`` a sum over the :math:`R_p` output indices that read it."""
    x = np.asarray(inputs["image"], dtype=np.float64)
    g = np.abs(np.asarray(inputs["cotangent"], dtype=np.float64))
    (w, m_h, e_h, _), (v, m_w, e_w, _) = _axes(x.shape, params)
    r_h, r_w = m_h.sum(axis=0), m_w.sum(axis=0)
    s = (
        _term_counts(r_h, r_w) * _apply(w.T, g, v.T)
        + _apply(m_h.T, e_h[:, None] * g, v.T)
        + _apply(w.T, g * e_w, m_w.T)
        + _unit_roundoff(inputs) * _apply(m_h.T, e_h[:, None] * g * e_w, m_w.T)
    )
    return s * np.ones(np.shape(result))


@underflow_model("resize")
def _resize_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Each product of a weight (below 1) and a pixel may underflow, and each partial sum of the
    second pass may too: the term count of :func:`_term_counts`, each with half a subnormal."""
    if params.get("method", "bilinear") == "nearest":
        return np.zeros(np.shape(result))
    image = np.asarray(inputs["image"])
    (_, _, _, t_h), (_, _, _, t_w) = _axes(image.shape, params)
    return 2 * _term_counts(t_h, t_w) * np.ones(np.shape(result))


@underflow_model("resize_grad")
def _resize_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """As :func:`_resize_underflow`, over the output pixels that read each input pixel."""
    image = np.asarray(inputs["image"])
    (_, m_h, _, _), (_, m_w, _, _) = _axes(image.shape, params)
    return 2 * _term_counts(m_h.sum(axis=0), m_w.sum(axis=0)) * np.ones(np.shape(result))


@functools.cache
def _rotation(height: int, width: int, angle: float, method: str) -> dict[str, np.ndarray]:
    """The exact sampling of a rotation (:func:`_sampling`), its point's error bound ``K`` from
    the module docstring."""
    with mpmath.workprec(113):
        points = [
            rotation_source(i, j, height, width, angle) for i in range(height) for j in range(width)
        ]
        taps = rotation_taps(height, width, angle, method)
    theta = abs(angle) * np.pi / 180
    return _sampling(points, taps, height, width, lambda offsets: (4 * theta + 2) * offsets)


def _shearing(
    height: int, width: int, shear_x: float, shear_y: float, method: str
) -> dict[str, np.ndarray]:
    """The exact sampling of a shear (:func:`_sampling`): the factors rounded into the dtype,
    times offsets of at most ``H + W`` beside the pixel's own (the centre's translation
    ``-s c`` in Keras's matrix, the aspect ratio's product in affine_grid's), 4 roundings."""

    def point(i: int, j: int) -> tuple[float, float]:
        (r, d_r), (q, d_q) = shear_point(i, j, height, width, shear_x, shear_y)
        return r + float(d_r), q + float(d_q)

    with mpmath.workprec(113):
        points = [point(i, j) for i in range(height) for j in range(width)]
        taps = sampling_taps(
            height,
            width,
            lambda i, j: shear_point(i, j, height, width, shear_x, shear_y),
            method,
        )
    factors = 4 * (abs(shear_x) + abs(shear_y))
    return _sampling(
        points, taps, height, width, lambda offsets: factors * (offsets + height + width)
    )


def _sampling(
    points: list[tuple[float, float]],
    taps: list[list[Any]],
    height: int,
    width: int,
    factor_terms: Any,
) -> dict[str, np.ndarray]:
    """A resampling, per output pixel (row-major): the exact source point in float64
    (``rows``, ``columns``), the point's error bound ``K`` (``8(|r| + |q| + H + W)``, the
    normalised coordinates' roundings, plus ``factor_terms`` of the offsets from the centre,
    what the transform's own numbers add), and the taps as ``(H W, 4)`` arrays of flat
    indices (-1 off the image; weight 0 pads) and weights."""
    rows = np.array([float(r) for r, _ in points])
    columns = np.array([float(q) for _, q in points])
    offsets = np.abs(np.arange(height * width) // width - (height - 1) / 2) + np.abs(
        np.arange(height * width) % width - (width - 1) / 2
    )
    k = 8 * (np.abs(rows) + np.abs(columns) + height + width) + factor_terms(offsets)
    indices = np.full((height * width, 4), -1)
    weights = np.zeros((height * width, 4))
    for o, pixel_taps in enumerate(taps):
        for t, (index, weight) in enumerate(pixel_taps):
            indices[o, t] = -1 if index is None else index
            weights[o, t] = float(weight)
    return {"rows": rows, "columns": columns, "K": k, "indices": indices, "weights": weights}


def _rotation_of(inputs: Inputs, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    shape = np.shape(inputs["image"])
    method = params.get("method", "bilinear")
    return _rotation(shape[-2], shape[-1], float(params["angle"]), method)


def _shearing_of(inputs: Inputs, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    shape = np.shape(inputs["image"])
    factors = (float(params.get("shear_x", 0.0)), float(params.get("shear_y", 0.0)))
    return _shearing(shape[-2], shape[-1], *factors, params.get("method", "bilinear"))


def _read(image: np.ndarray, rows: np.ndarray, columns: np.ndarray, fill: float) -> np.ndarray:
    """``image[..., rows, columns]`` elementwise over the index arrays, ``fill`` off the image."""
    height, width = image.shape[-2:]
    inside = (rows >= 0) & (rows < height) & (columns >= 0) & (columns < width)
    values = image[..., np.clip(rows, 0, height - 1), np.clip(columns, 0, width - 1)]
    return np.where(inside, values, fill)


def _margin(rotation: Mapping[str, np.ndarray], u: float) -> np.ndarray:
    """How far the backend's source point may lie from the exact one, per output pixel (its
    bound ``u K``, and the float64 rounding of the exact point the model reads)."""
    scale = np.abs(rotation["rows"]) + np.abs(rotation["columns"]) + 1
    return u * rotation["K"] + 2.0**-50 * scale


def _windows(rotation: Mapping[str, np.ndarray], margin: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per output pixel, the rows and columns (``(H W, 4)``, -1 where the window is narrower)
    of the pixels a bilinear sample at a point within ``margin`` of the exact one may read."""

    def spans(coordinate: np.ndarray) -> np.ndarray:
        low = np.floor(coordinate - margin).astype(np.int64)
        high = np.floor(coordinate + margin).astype(np.int64) + 1
        span = low[:, None] + np.arange(4)[None, :]
        return np.where(span <= high[:, None], span, low[:, None])  # repeats are harmless

    return spans(rotation["rows"]), spans(rotation["columns"])


def _steepest_step(image: np.ndarray, windows: tuple[np.ndarray, ...], fill: float) -> np.ndarray:
    """The largest difference of two neighbouring pixels (the fill off the image) in each
    output's window: a Lipschitz constant of the bilinear interpolant there, per axis."""
    rows, columns = windows
    values = _read(image, rows[:, :, None], columns[:, None, :], fill)  # (..., HW, 4, 4)
    down = np.abs(np.diff(values, axis=-2)).max(axis=(-2, -1), initial=0.0)
    across = np.abs(np.diff(values, axis=-1)).max(axis=(-2, -1), initial=0.0)
    return np.maximum(down, across)


def _nearest_candidates(
    rotation: Mapping[str, np.ndarray], margin: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output pixel, the rows and columns (``(H W, 2)``) a nearest sample within
    ``margin`` of the exact point may take (two where the point is that close to a pixel
    boundary, else the exact choice twice), and whether any axis is that close."""

    def choices(coordinate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        chosen = np.floor(coordinate + 0.5)
        boundary = np.floor(coordinate) + 0.5
        near = np.abs(coordinate - boundary) <= margin
        low = np.where(near, np.floor(coordinate), chosen)
        return np.stack([low, np.where(near, low + 1, chosen)], axis=-1).astype(np.int64), near

    rows, near_rows = choices(rotation["rows"])
    columns, near_columns = choices(rotation["columns"])
    return rows, columns, near_rows | near_columns


def _fill(params: Mapping[str, Any]) -> float:
    return float(params.get("fill", 0.0))


@error_model
def rotate(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """The resampling's model (:func:`_resampled`) at the rotation's source points."""
    return _resampled(inputs, params, result, _rotation_of(inputs, params))


@error_model
def shear(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """The resampling's model (:func:`_resampled`) at the shear's source points."""
    return _resampled(inputs, params, result, _shearing_of(inputs, params))


def _resampled(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray, rotation: Mapping[str, Any]
) -> np.ndarray:
    r"""Bilinear: :math:`2 L K + 9 (\sum_t w_t |v_t| + |f|)`, the source point's error times
    the steepest step ``L`` of the interpolant within reach (:func:`_steepest_step`, taken as
    the larger of the image with the fill and of the image with 0 plus ``|f|``: a backend may
    sample the image and the fill's mask apart, as torchvision does), and the roundings of the
    weights (3 each) and of the four products and their sum (6). Nearest: 0, except where the
    point lies within its error of a pixel boundary: there any pixel it may take is allowed
    (the largest difference from the exact pixel, in units of ``u``)."""
    x = np.asarray(inputs["image"], dtype=np.float64)
    fill = _fill(params)
    u = _unit_roundoff(inputs)
    margin = _margin(rotation, u)
    if params.get("method", "bilinear") == "nearest":
        rows, columns, near = _nearest_candidates(rotation, margin)
        taken = _read(x, rows[:, :, None], columns[:, None, :], fill)  # (..., HW, 2, 2)
        exact = np.asarray(result, dtype=np.float64).reshape(*x.shape[:-2], -1, 1, 1)
        spread = np.abs(taken - exact).max(axis=(-2, -1))
        # 2**-20 more: the allowance's own rounding must not put the other pixel just beyond
        return (np.where(near, spread, 0.0) * (1 + 2.0**-20) / u).reshape(np.shape(result))
    windows = _windows(rotation, margin)
    steep = np.maximum(
        _steepest_step(x, windows, fill), _steepest_step(x, windows, 0.0) + abs(fill)
    )
    indices, weights = rotation["indices"], rotation["weights"]
    flat = np.abs(x.reshape(*x.shape[:-2], -1))
    read = np.where(indices >= 0, flat[..., np.maximum(indices, 0)], abs(fill))
    terms = (weights * read).sum(axis=-1) + abs(fill)
    s = 2 * steep * rotation["K"] + 9 * terms
    return s.reshape(np.shape(result))


@error_model
def rotate_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """The transposed resampling's model (:func:`_spread`) at the rotation's source points."""
    return _spread(inputs, params, result, _rotation_of(inputs, params))


@error_model
def shear_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """The transposed resampling's model (:func:`_spread`) at the shear's source points."""
    return _spread(inputs, params, result, _shearing_of(inputs, params))


def _spread(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray, rotation: Mapping[str, Any]
) -> np.ndarray:
    r"""The transposed sampling: bilinear, each pixel within reach of an output's point
    (:func:`_windows`) takes a weight off by at most :math:`2 u K` (a weight's slope is at most
    1 per axis) plus 3 roundings of the exact weight, and the :math:`R_p` outputs that may read
    pixel ``p`` are summed (:math:`R_p` roundings on their terms). Nearest: the outputs whose
    point lies within its error of a boundary may send their cotangent to either pixel (the
    whole ``|g|``, in units of ``u``), and the sum over the outputs that take a pixel rounds."""
    x = np.asarray(inputs["image"], dtype=np.float64)
    g = np.abs(np.asarray(inputs["cotangent"], dtype=np.float64))
    u = _unit_roundoff(inputs)
    margin = _margin(rotation, u)
    height, width = x.shape[-2:]
    g_flat = g.reshape(*g.shape[:-2], -1)
    s = np.zeros_like(g_flat)
    if params.get("method", "bilinear") == "nearest":
        rows, columns, near = _nearest_candidates(rotation, margin)
        for o in range(height * width):
            pixels = {
                int(r) * width + int(q)
                for r in rows[o]
                for q in columns[o]
                if 0 <= r < height and 0 <= q < width
            }
            for p in pixels:
                s[..., p] += g_flat[..., o] * ((1 + 2.0**-20) / u if near[o] else 1.0)
        counts = np.zeros(height * width)
        for o in range(height * width):
            index = rotation["indices"][o, 0]
            if index >= 0:
                counts[index] += 1
        return (s * np.maximum(counts, 1)).reshape(np.shape(result))
    rows, columns = _windows(rotation, margin)
    reach = np.zeros((height * width, height * width))  # (output, pixel): within reach
    for o in range(height * width):
        for r in set(rows[o]):
            for q in set(columns[o]):
                if 0 <= r < height and 0 <= q < width:
                    reach[o, r * width + q] = 1.0
    exact = np.zeros((height * width, height * width))
    for t in range(4):
        inside = rotation["indices"][:, t] >= 0
        outputs = np.arange(height * width)[inside]
        np.add.at(exact, (outputs, rotation["indices"][inside, t]), rotation["weights"][inside, t])
    counts = reach.sum(axis=0)
    s = (g_flat * (2 * rotation["K"])) @ reach + (3 + counts) * (g_flat @ exact)
    return s.reshape(np.shape(result))


@underflow_model("rotate")
def _rotate_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """The resampling's underflow (:func:`_sampled_underflow`) at the rotation's points."""
    return _transform_underflow(inputs, params, result, _rotation_of)


@underflow_model("shear")
def _shear_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """The resampling's underflow (:func:`_sampled_underflow`) at the shear's points."""
    return _transform_underflow(inputs, params, result, _shearing_of)


def _transform_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray, sampling_of: Any
) -> np.ndarray:
    """Nearest is a selection: no underflow."""
    if params.get("method", "bilinear") == "nearest":
        return np.zeros(np.shape(result))
    x = np.asarray(inputs["image"], dtype=np.float64)
    u = _unit_roundoff(inputs)
    return _sampled_underflow(x, sampling_of(inputs, params), u, _fill(params)).reshape(
        np.shape(result)
    )


@underflow_model("grid_sample")
def _grid_sample_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """The resampling's underflow (:func:`_sampled_underflow`) at each image's own points."""
    images, points = _per_image(inputs)
    u = _unit_roundoff(inputs)
    height, width = images.shape[-2:]
    a = [
        _sampled_underflow(
            np.asarray(x, dtype=np.float64),
            _points_sampling(p, height, width, params),
            u,
            _fill(params),
        )
        for x, p in zip(images, points, strict=True)
    ]
    return np.stack(a).reshape(np.shape(result))


def _sampled_underflow(
    x: np.ndarray, sampling: Mapping[str, np.ndarray], u: float, fill: float
) -> np.ndarray:
    r"""Per output: each of the (at most eight, the fill's mask sampled apart) products may
    underflow, each with half a subnormal (half the smallest normal where the backend flushes),
    and so may the product of the two axes' weights before a pixel multiplies it: that loss is
    amplified by the pixel. So :math:`16 + 4(M + |f|)`, ``M`` the largest ``|x|`` within reach
    (found by the seed sweep: JAX, float64, a weight 0.5 x 2.2e-308 flushed to 0 before it
    met a pixel of 35)."""
    windows = _windows(sampling, _margin(sampling, u))
    reach = np.abs(_read(x, windows[0][:, :, None], windows[1][:, None, :], fill))
    return 16 + 4 * (reach.max(axis=(-2, -1)) + abs(fill))


@underflow_model("rotate_grad")
def _rotate_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """Each product of a weight and a cotangent summed into a pixel may underflow: twice the
    number of outputs that read it."""
    return _spread_underflow(inputs, params, result, _rotation_of)


@underflow_model("shear_grad")
def _shear_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """As a rotation's: twice the number of outputs that read a pixel."""
    return _spread_underflow(inputs, params, result, _shearing_of)


def _spread_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray, sampling_of: Any
) -> np.ndarray:
    if params.get("method", "bilinear") == "nearest":
        return np.zeros(np.shape(result))
    indices = sampling_of(inputs, params)["indices"]
    height, width = np.shape(inputs["image"])[-2:]
    counts = np.bincount(indices[indices >= 0], minlength=height * width)
    return 2 * np.broadcast_to(counts.reshape(height, width), np.shape(result)).astype(np.float64)


def _points_sampling(
    points: np.ndarray, height: int, width: int, params: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """One image's sampling at its ``(P, 2)`` points, as :func:`_sampling` lays it out: the
    points themselves (exact in float64), their error bound ``K`` (0 where the backend takes
    pixel coordinates as they are; ``8(|r| + |q| + H + W)`` for normalised ones, PyTorch's
    ``(2q + 1)/W - 1`` and back), and the bilinear taps."""
    rows, columns = (np.asarray(points[:, axis], dtype=np.float64) for axis in (0, 1))
    normalised = params.get("point_coordinates", "pixel") == "normalised"
    k = 8 * (np.abs(rows) + np.abs(columns) + height + width) * normalised
    low_r, low_c = np.floor(rows), np.floor(columns)
    f_r, f_c = rows - low_r, columns - low_c  # exact
    indices, weights = [], []
    for dr, dc in itertools.product((0, 1), (0, 1)):
        r, c = low_r + dr, low_c + dc
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        indices.append(np.where(inside, r * width + c, -1).astype(np.int64))
        weights.append((f_r if dr else 1 - f_r) * (f_c if dc else 1 - f_c))
    return {
        "rows": rows,
        "columns": columns,
        "K": k,
        "indices": np.stack(indices, axis=-1),
        "weights": np.stack(weights, axis=-1),
    }


def _per_image(inputs: Inputs) -> tuple[np.ndarray, np.ndarray]:
    """The images ``(B, H, W)`` and their points ``(B, P, 2)``, the leading shape flattened."""
    image = np.asarray(inputs["image"])
    points = np.asarray(inputs["points"])
    return image.reshape(-1, *image.shape[-2:]), points.reshape(-1, *points.shape[-2:])


@error_model
def grid_sample(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """The resampling's model (:func:`_resampled`) at each image's own points."""
    images, points = _per_image(inputs)
    out = np.asarray(result).reshape(images.shape[0], -1)
    height, width = images.shape[-2:]
    s = [
        _resampled({"image": x}, params, o, _points_sampling(p, height, width, params))
        for x, p, o in zip(images, points, out, strict=True)
    ]
    return np.stack(s).reshape(np.shape(result))


def _step_along(
    x: np.ndarray, low: np.ndarray, across: np.ndarray, fraction: np.ndarray, axis: int, fill: float
) -> np.ndarray:
    """The derivative of the bilinear interpolant along ``axis`` (0: rows) in the cell that
    starts at ``low`` on that axis and ``across`` on the other, ``fraction`` along the other:
    :math:`(1 - f)(x_{1 0} - x_{0 0}) + f (x_{1 1} - x_{0 1})`, with ``fill`` off the image."""

    def pixel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        rows, columns = (a, b) if axis == 0 else (b, a)
        return _read(x, rows.astype(np.int64), columns.astype(np.int64), fill)

    near = pixel(low + 1, across) - pixel(low, across)
    far = pixel(low + 1, across + 1) - pixel(low, across + 1)
    return (1 - fraction) * near + fraction * far


@error_model
def grid_sample_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Per coordinate, in units of ``u``: :math:`|\bar g|` times

    - ``4 K M``: the other coordinate's error (``u K``, its weight's) times the largest change
      of the derivative along it, at most ``4 M`` (``M`` the largest ``|x|`` or ``|f|`` in the
      pixels within reach);
    - ``16 (sum_t |x_t| + 2|f|)``: the roundings of the terms, weighed pixel by pixel (PyTorch's
      backward sums ``+-x_t w g`` over the four pixels; with a fill, the sampled mask's terms
      too), the product with ``g`` and the normalisation's chain factors ``W/2`` and ``2/W``;
    - where the coordinate lies within its error of a pixel boundary (normalised coordinates
      only), the derivative there jumps: the largest difference between the exact cell's
      derivative and the other's a backend may take (:math:`(1 + 2^{-20})/u` times it)."""
    images, points = _per_image(inputs)
    g = np.abs(np.asarray(inputs["cotangent"], dtype=np.float64)).reshape(images.shape[0], -1)
    fill = _fill(params)
    u = _unit_roundoff(inputs)
    height, width = images.shape[-2:]
    s = np.zeros((*g.shape, 2))
    for b, (image, image_points) in enumerate(zip(images, points, strict=True)):
        x = np.asarray(image, dtype=np.float64)
        sampling = _points_sampling(image_points, height, width, params)
        # a point taken as it is has no error: its cell is floor's, exactly
        margin = _margin(sampling, u) if sampling["K"].any() else np.zeros(len(sampling["K"]))
        windows = _windows(sampling, margin)
        reach = np.abs(_read(x, windows[0][:, :, None], windows[1][:, None, :], fill))
        largest = np.maximum(reach.max(axis=(-2, -1)), abs(fill))
        flat = np.abs(x.reshape(-1))
        cell = np.where(
            sampling["indices"] >= 0, flat[np.maximum(sampling["indices"], 0)], abs(fill)
        ).sum(axis=-1)
        smooth = 4 * sampling["K"] * largest + 16 * (cell + 2 * abs(fill))
        coordinates = (sampling["rows"], sampling["columns"])
        for axis in (0, 1):
            own, other = coordinates[axis], coordinates[1 - axis]
            across, fraction = np.floor(other), other - np.floor(other)
            exact = _step_along(x, np.floor(own), across, fraction, axis, fill)
            jump = np.zeros_like(own)
            for low in (np.floor(own - margin), np.floor(own + margin)):
                taken = _step_along(x, low, across, fraction, axis, fill)
                jump = np.maximum(jump, np.abs(taken - exact))
            s[b, :, axis] = g[b] * (smooth + jump * (1 + 2.0**-20) / u)
    return s.reshape(np.shape(result))


@underflow_model("grid_sample_grad")
def _grid_sample_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """Each of the (at most eight, with the fill's mask) products of a pixel, a weight and the
    cotangent may underflow, and so may a product of two of them before the third multiplies
    it: :math:`16 + 8(M + |f|) + 8|\bar g|` (:func:`_sampled_underflow`'s ``M``)."""
    images, points = _per_image(inputs)
    g = np.abs(np.asarray(inputs["cotangent"], dtype=np.float64)).reshape(images.shape[0], -1)
    u = _unit_roundoff(inputs)
    height, width = images.shape[-2:]
    a = [
        2
        * _sampled_underflow(
            np.asarray(x, dtype=np.float64),
            _points_sampling(p, height, width, params),
            u,
            _fill(params),
        )
        - 16
        + 8 * g_b
        for x, p, g_b in zip(images, points, g, strict=True)
    ]
    return np.broadcast_to(np.stack(a)[..., None], (*g.shape, 2)).reshape(np.shape(result))


def _luma(params: Mapping[str, Any]) -> np.ndarray:
    """The variant's channel weights, ``(3, 1, 1)``."""
    weights = LUMA_WEIGHTS[params.get("luma_weights", "bt601")]
    return (np.array(weights, dtype=np.float64) / LUMA_DENOMINATOR)[:, None, None]


@error_model
def grayscale(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`4 \sum_c w_c |x_c|`: each weight rounded into the dtype and each product (2 on
    a term), and the two sums on the first terms (at most 2 more)."""
    x = np.abs(np.asarray(inputs["image"], dtype=np.float64))
    s = 4 * (_luma(params) * x).sum(axis=-3, keepdims=True)
    return s * np.ones(np.shape(result))


@error_model
def grayscale_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """:math:`w_c |g|`: the weight rounded into the dtype (the product is the budget's ulp)."""
    g = np.abs(np.asarray(inputs["cotangent"], dtype=np.float64))
    return _luma(params) * g * np.ones(np.shape(result))


@underflow_model("grayscale")
def _grayscale_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """Each of the three products may underflow, half a subnormal each."""
    return 6 * np.ones(np.shape(result))


def _channel_column(values: Any, ndim: int) -> np.ndarray:
    """Per-channel numbers shaped to broadcast over a ``(..., C, H, W)`` image of ``ndim``."""
    return np.asarray(values, dtype=np.float64).reshape((-1, 1, 1))[(None,) * (ndim - 3)]


def _divisors(params: Mapping[str, Any], ndim: int) -> np.ndarray:
    """``max(s_c, floor)`` under the variant ``std_floor``."""
    floor = STD_FLOORS[params.get("std_floor", "none")]
    return np.maximum(_channel_column(params["std"], ndim), floor)


@error_model
def normalize_channels(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(|m_c| + |x - m_c|) / s_c + 3|y|`: the mean rounded into the dtype and the
    difference rounded, divided by the std; the std rounded into the dtype (:math:`|y|`), or
    recovered as :math:`\sqrt{fl(s^2)}` where the framework takes the variance (Keras: the
    square's rounding halved by the root, and the root's, :math:`1.5|y|`); the floor rounded
    into the dtype is the std's term where it applies."""
    x = np.asarray(inputs["image"], dtype=np.float64)
    mean = _channel_column(params["mean"], x.ndim)
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = np.abs(mean) + np.abs(x - mean)
        return shifted / _divisors(params, x.ndim) + 3 * np.abs(result)


@error_model
def normalize_channels_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """:math:`2.5|\bar x|`: the std rounded into the dtype, or recovered from the variance."""
    return 2.5 * np.abs(result)


@underflow_model("normalize_channels")
def _normalize_channels_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """Two intermediates may underflow, each divided by the std: the mean rounded into the dtype,
    and, where subnormal inputs are flushed, the pixel (a difference of two floats that is
    subnormal is exact)."""
    return 2 / _divisors(params, np.ndim(inputs["image"])) * np.ones(np.shape(result))


@underflow_model("normalize_channels_grad")
def _normalize_channels_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """A flushed subnormal cotangent, divided by the std."""
    return 1 / _divisors(params, np.ndim(inputs["image"])) * np.ones(np.shape(result))


def _contrast_terms(
    inputs: Inputs, params: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The image, its levels ``mu`` broadcast to it, their error bound ``D`` (in units of u) and
    the factor."""
    x = np.asarray(inputs["image"], dtype=np.float64)
    plane = x.shape[-2] * x.shape[-1]
    magnitude = np.abs(x)
    if params.get("contrast_mean", "channel") == "grayscale":
        weights = _luma({"luma_weights": "matlab"}) if x.shape[-3] == 3 else np.ones((1, 1, 1))
        luma = (weights * x).sum(axis=-3, keepdims=True)
        mu = luma.mean(axis=(-2, -1), keepdims=True)
        # each luma's error (the grayscale model), then the mean of the luma
        spread = (4 * weights * magnitude).sum(axis=-3, keepdims=True) + np.abs(luma) * (plane - 1)
    else:
        mu = x.mean(axis=(-2, -1), keepdims=True)
        spread = magnitude * (plane - 1)
    error = spread.mean(axis=(-2, -1), keepdims=True) + 2 * np.abs(mu)
    return x, np.broadcast_to(mu, x.shape), np.broadcast_to(error, x.shape), float(params["factor"])


@error_model
def adjust_contrast(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|1 - f| D + 3|f| (|x| + |\mu| + |x - \mu|) + 3|1 - f||\mu| + |x - \mu|`.

    :math:`D` bounds the level's error: a mean of :math:`n = H W` terms summed in one pass
    (:math:`(n - 1)` roundings on the mean magnitude) and divided, once or once per axis
    (Keras: :math:`2|\mu|`); for the luma, each pixel's own error first (the grayscale model's
    :math:`4 \sum_c w_c |x_c|`). The level's error reaches the result times :math:`|1 - f|`
    in either form. The rest is the larger of the two forms' roundings: tf.image's
    :math:`(x - \mu) f + \mu` (the difference, the factor rounded into the dtype, the product)
    and torchvision's :math:`f x + (1 - f) \mu` (the factor, :math:`1 - f`, both products);
    the last sum is the budget's ulp. Clipping is exact and moves no value further from the
    reference's."""
    x, mu, error, f = _contrast_terms(inputs, params)
    with np.errstate(over="ignore", invalid="ignore"):
        rounding = 3 * abs(f) * (np.abs(x) + np.abs(mu) + np.abs(x - mu)) + 3 * abs(1 - f) * np.abs(
            mu
        )
        return abs(1 - f) * error + rounding + np.abs(x - mu)


@error_model
def adjust_contrast_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r""":math:`2|f||\bar y| + ((k + 1)(1 + |f|) + 3|1 - f|) \, S`, with :math:`S` the level's
    share of the summed :math:`|\bar y|` (divided by :math:`H W`, weighted) and :math:`k` the
    number of pixels summed.

    The first term is the factor rounded and its product. The level's cotangent
    :math:`(1 - f) \sum \bar y` is formed as the forward form has it: torchvision's
    :math:`f x + (1 - f) \mu` gives one sum times :math:`1 - f` (:math:`|1 - f| (k + 1)`),
    but reverse mode through tf.image's :math:`(x - \mu) f + \mu` (Keras, dm_pix) gives two
    sums, :math:`\sum \bar y` from the added level and :math:`\sum f \bar y` from the
    subtracted one, whose difference cancels: each sum's error is on its own magnitude,
    :math:`k - 1` roundings of the first, :math:`k |f|` of the second (its products and its
    sum), :math:`|f|` for the factor rounded into the dtype, then :math:`3|1 - f|` for the
    difference and the division, once or once per axis. The coefficient bounds both forms
    (:math:`|1 - f| \le 1 + |f|`). Measured: Keras on torch,
    float32, an image of zeros, :math:`\bar y = (2, \epsilon, \epsilon, \epsilon)`,
    :math:`f = 1.5`: 9.6 ulp, where :math:`|1 - f| (k + 3) S` allowed 8."""
    g = np.abs(np.asarray(inputs["cotangent"], dtype=np.float64))
    x = np.asarray(inputs["image"], dtype=np.float64)
    f = float(params["factor"])
    if params.get("contrast_mean", "channel") == "grayscale":
        weights = _luma({"luma_weights": "matlab"}) if x.shape[-3] == 3 else np.ones((1, 1, 1))
        terms = g.sum(axis=-3, keepdims=True) * weights
        count = x.shape[-3] * x.shape[-2] * x.shape[-1]
    else:
        terms = g
        count = x.shape[-2] * x.shape[-1]
    share = terms.sum(axis=(-2, -1), keepdims=True) / (x.shape[-2] * x.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        coefficient = (count + 1) * (1 + abs(f)) + 3 * abs(1 - f)
        return 2 * abs(f) * g + coefficient * share * np.ones(x.shape)


@underflow_model("adjust_contrast")
def _adjust_contrast_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """Intermediates that may underflow, each times what carries it to the result: the pixel
    where inputs are flushed (:math:`|f| + |1 - f|`), the level and the luma's three products
    (:math:`4|1 - f|`), the two products of the blend (1 each); in half subnormals."""
    f = float(params["factor"])
    return 2 * (2 + abs(f) + 5 * abs(1 - f)) * np.ones(np.shape(result))


@underflow_model("adjust_contrast_grad")
def _adjust_contrast_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """A flushed cotangent (:math:`|f| + |1 - f|`), the share and its weighting (2), the two
    products (1 each); in half subnormals."""
    f = float(params["factor"])
    return 2 * (4 + abs(f) + abs(1 - f)) * np.ones(np.shape(result))


def _scales(params: Mapping[str, Any]) -> bool:
    return params.get("brightness_form", "multiplicative") == "multiplicative"


@error_model
def adjust_brightness(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|f x|` for a scale: the factor rounded into the dtype, carried by the pixel; for a
    shift, :math:`4|f|`: the delta as Keras forms it, :math:`(f / w)` in float64, then in the
    dtype, times :math:`w` (a rounding each), tf.image's and dm_pix's, the delta rounded into the
    dtype, within it. The product or the sum is the budget's ulp; clipping is exact and moves
    no value further from the reference's."""
    x = np.asarray(inputs["image"], dtype=np.float64)
    f = float(params["factor"])
    with np.errstate(over="ignore", invalid="ignore"):
        return np.abs(f * x) if _scales(params) else 4 * abs(f) * np.ones(x.shape)


@error_model
def adjust_brightness_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r""":math:`|f \bar g|`: the factor rounded into the dtype (a scale); a shift's derivative,
    the cotangent masked, is exact."""
    g = np.abs(np.asarray(inputs["cotangent"], dtype=np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        return abs(float(params["factor"])) * g if _scales(params) else np.zeros(g.shape)


@underflow_model("adjust_brightness")
def _adjust_brightness_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """A flushed pixel (times the scale), a flushed result; for a shift, the shift as Keras
    forms it, :math:`f / w` (``w`` the value range's width), which underflows first and is then
    multiplied by :math:`w` (found by the seed sweep: Keras on JAX, float64, a shift of 2.8e-306
    on a range of width 255 gave 0); in half subnormals."""
    value_range = params.get("value_range")
    if _scales(params):
        amplification = 1 + abs(float(params["factor"]))
    else:
        amplification = 1 + (1.0 if value_range is None else value_range[1] - value_range[0])
    return 2 * (1 + amplification) * np.ones(np.shape(result))


@underflow_model("adjust_brightness_grad")
def _adjust_brightness_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """A flushed cotangent (times the scale, or 1) and a flushed product; in half subnormals."""
    slope = abs(float(params["factor"])) if _scales(params) else 1.0
    return 2 * (1 + slope) * np.ones(np.shape(result))
