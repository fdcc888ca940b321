r"""Error models of the augmentation group's resampling (``resize`` and its gradient); flips and
quarter turns are exact (the ``exact`` model).

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
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
from dlspec.reference.augmentation import resize_arguments, resize_rows, resize_source

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


def _axes(
    image_shape: tuple[int, ...], params: Mapping[str, Any]
) -> tuple[tuple[np.ndarray, ...], ...]:
    size, resolved = resize_arguments(
        "resize",
        params["size"],
        params.get("method", "bilinear"),
        params.get("align_corners", False),
        params.get("antialias"),
        params.get("default_antialias", "off"),
        params.get("cubic_kernel", "keys"),
    )
    frozen = tuple(sorted(resolved.items()))
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
    for nearest, a selection."""
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
    return s * np.ones(np.shape(result))


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
