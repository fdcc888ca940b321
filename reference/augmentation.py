"""Geometric data augmentation of images laid out ``(..., height, width)`` (PyTorch's CHW and
NCHW): exact permutations of the pixels (flips, quarter turns), so the labels stay with their
images, and resampling (resize), whose weights are rational numbers, computed exactly.

Spec pages: ``spec/concepts/<id>.md``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any, Final

import mpmath

from ._core import (
    Tensor,
    as_tensor,
    check_choice,
    check_tensor,
    checked_cotangent,
    exact,
    exact_product,
    exact_sum,
    require,
)


def _remap(
    concept: str, image: Any, source: Callable[[int, int, int, int], tuple[int, int]], swap: bool
) -> Tensor:
    """Output pixel ``(i, j)`` of every image is input pixel ``source(i, j, height, width)``;
    ``swap`` exchanges the output's height and width."""
    image = as_tensor(image)
    check_tensor(concept, "image", image, min_ndim=2)
    *batch, height, width = image.shape
    out_h, out_w = (width, height) if swap else (height, width)
    values = []
    for b in range(math.prod(batch)):
        offset = b * height * width
        for i, j in itertools.product(range(out_h), range(out_w)):
            si, sj = source(i, j, height, width)
            values.append(image.values[offset + si * width + sj])
    return Tensor((*batch, out_h, out_w), tuple(values))


@exact
def horizontal_flip(image: Any) -> Tensor:
    """Mirror left-right: ``out[..., i, j] = image[..., i, W - 1 - j]`` (``torch.flip(x, [-1])``,
    torchvision ``hflip``). An involution."""
    return _remap("horizontal_flip", image, lambda i, j, h, w: (i, w - 1 - j), swap=False)


@exact
def vertical_flip(image: Any) -> Tensor:
    """Mirror top-bottom: ``out[..., i, j] = image[..., H - 1 - i, j]`` (``torch.flip(x, [-2])``,
    torchvision ``vflip``). An involution."""
    return _remap("vertical_flip", image, lambda i, j, h, w: (h - 1 - i, j), swap=False)


@exact
def rot90(image: Any, *, k: int = 1) -> Tensor:
    """Rotate by ``k`` quarter turns counterclockwise (as displayed, row 0 on top):
    ``out[..., i, j] = image[..., j, W - 1 - i]`` for ``k = 1`` (``np.rot90`` and ``torch.rot90``
    on the last two axes). Order 4; ``k`` is taken modulo 4, negative ``k`` turns clockwise."""
    require("rot90", "k", k, isinstance(k, int), "an integer")
    turns = k % 4
    result = as_tensor(image)
    check_tensor("rot90", "image", result, min_ndim=2)
    for _ in range(turns):
        result = _remap("rot90", result, lambda i, j, h, w: (j, w - 1 - i), swap=True)
    return result


RESIZE_METHODS: Final = ("nearest", "bilinear", "bicubic")
CUBIC_KERNELS: Final = ("keys", "opencv")
DEFAULT_ANTIALIAS: Final = ("off", "on")

Row = tuple[dict[int, int], int]
"""One output index's weights over the input indices: integer numerators and their common
denominator (a weight is ``numerators[j] / denominator``), so that sums over them stay exact."""


def _cubic(a: Fraction, t: Fraction) -> Fraction:
    """Keys' cubic convolution kernel (Keys 1981, eq. 15) at ``|t|``: ``(a + 2)|t|^3 - (a + 3)|t|^2
    + 1`` on [0, 1], ``a|t|^3 - 5a|t|^2 + 8a|t| - 4a`` on [1, 2], 0 beyond."""
    t = abs(t)
    if t < 1:
        return (a + 2) * t**3 - (a + 3) * t**2 + 1
    if t < 2:
        return a * t**3 - 5 * a * t**2 + 8 * a * t - 4 * a
    return Fraction(0)


def _triangle(t: Fraction) -> Fraction:
    """The linear-interpolation kernel ``max(0, 1 - |t|)``."""
    return max(Fraction(0), 1 - abs(t))


def resize_source(i: int, n_in: int, n_out: int, align_corners: bool) -> Fraction:
    """The input coordinate of output index ``i`` (input pixel ``j``'s centre is ``j``):
    half-pixel ``(i + 1/2) n_in / n_out - 1/2``, or with ``align_corners`` the corner pixels'
    centres matched, ``i (n_in - 1) / (n_out - 1)`` (0 for one output pixel)."""
    if align_corners:
        return Fraction(i * (n_in - 1), n_out - 1) if n_out > 1 else Fraction(0)
    return Fraction((2 * i + 1) * n_in, 2 * n_out) - Fraction(1, 2)


def _resize_row(
    i: int, n_in: int, n_out: int, method: str, align_corners: bool, antialias: bool, kernel: str
) -> Row:
    """Output index ``i``'s weights along one axis (see :func:`resize`)."""
    if method == "nearest":
        return {min((2 * i + 1) * n_in // (2 * n_out), n_in - 1): 1}, 1
    centre = resize_source(i, n_in, n_out, align_corners)
    stretch = max(Fraction(1), Fraction(n_in, n_out)) if antialias else Fraction(1)
    keys = antialias or kernel == "keys"
    a = Fraction(-1, 2) if keys else Fraction(-3, 4)
    radius = (1 if method == "bilinear" else 2) * stretch
    weights: dict[int, Fraction] = {}
    for j in range(math.floor(centre - radius), math.ceil(centre + radius) + 1):
        t = (j - centre) / stretch
        w = _triangle(t) if method == "bilinear" else _cubic(a, t)
        if w == 0:
            continue
        if keys:  # a tap off the image is dropped and the rest renormalized
            if 0 <= j < n_in:
                weights[j] = w
        else:  # the edge pixel repeated
            edge = min(max(j, 0), n_in - 1)
            weights[edge] = weights.get(edge, Fraction(0)) + w
    total = sum(weights.values(), Fraction(0))
    normalized = {j: w / total for j, w in weights.items()}
    denominator = math.lcm(*(w.denominator for w in normalized.values()))
    return {j: int(w * denominator) for j, w in normalized.items() if w != 0}, denominator


def resize_rows(n_in: int, n_out: int, params: dict[str, Any]) -> list[Row]:
    """Every output index's weights along an axis of ``n_in`` pixels resized to ``n_out``, for
    the parameters :func:`resize_arguments` checked."""
    return [_resize_row(i, n_in, n_out, **params) for i in range(n_out)]


def resize_arguments(
    concept: str,
    size: Sequence[int],
    method: str,
    align_corners: bool,
    antialias: bool | None,
    default_antialias: str,
    cubic_kernel: str,
) -> tuple[tuple[int, int], dict[str, Any]]:
    """The checked output size and the per-axis weight parameters."""
    check_choice(concept, "method", method, RESIZE_METHODS)
    check_choice(concept, "cubic_kernel", cubic_kernel, CUBIC_KERNELS)
    check_choice(concept, "default_antialias", default_antialias, DEFAULT_ANTIALIAS)
    require(
        concept,
        "size",
        size,
        isinstance(size, Sequence)
        and len(size) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in size),
        "two positive integers (height, width)",
    )
    require(concept, "align_corners", align_corners, isinstance(align_corners, bool), "a bool")
    antialias = default_antialias == "on" if antialias is None else antialias
    require(concept, "antialias", antialias, isinstance(antialias, bool), "a bool or None")
    if method == "nearest":
        require(concept, "align_corners", align_corners, not align_corners, "False for nearest")
        antialias = False  # a nearest pixel is a sample, not a filter
    require(
        concept,
        "antialias",
        antialias,
        not (antialias and align_corners),
        "False with align_corners=True (antialiasing is defined on the half-pixel grid)",
    )
    height, width = size
    weights = {"method": method, "align_corners": align_corners, "antialias": antialias}
    return (height, width), {**weights, "kernel": cubic_kernel}


def _resampled(
    image: Tensor, rows: list[Row], columns: list[Row], shape: tuple[int, ...]
) -> Tensor:
    """``out[..., i, j] = sum_pq W_ip V_jq image[..., p, q]``, one rounding per element."""
    *batch, height, width = image.shape
    values = []
    for b in range(math.prod(batch)):
        offset = b * height * width
        for (row, d_row), (column, d_column) in itertools.product(rows, columns):
            numerator = exact_sum(
                exact_product(n, m, image.values[offset + p * width + q])
                for p, n in row.items()
                for q, m in column.items()
            )
            values.append(mpmath.fdiv(numerator, d_row * d_column))
    return Tensor((*batch, *shape), tuple(values))


@exact
def resize(
    image: Any,
    *,
    size: Sequence[int],
    method: str = "bilinear",
    align_corners: bool = False,
    antialias: bool | None = None,
    default_antialias: str = "off",
    cubic_kernel: str = "keys",
) -> Tensor:
    r"""Resample each ``(height, width)`` image to ``size`` separably: along each axis, output
    index ``i`` is :math:`\sum_j w_{ij} x_j` with the weights of a kernel ``k`` centred on the
    source coordinate ``c_i`` (:func:`resize_source`).

    - ``nearest``: the input pixel whose cell holds the output pixel's centre,
      :math:`\min(\lfloor (i + 1/2) n_{in} / n_{out} \rfloor, n_{in} - 1)` (PyTorch's
      ``nearest-exact``, ``jax.image.resize``; PyTorch's ``nearest`` is the asymmetric
      :math:`\lfloor i\, n_{in} / n_{out} \rfloor`, not this).
    - ``bilinear``: the triangle :math:`\max(0, 1 - |t|)`; ``bicubic``: Keys' cubic
      convolution kernel (Keys 1981) with the ``cubic_kernel`` variant's ``a``.
    - ``antialias``: when downsampling (:math:`s = n_{in}/n_{out} > 1`) the kernel is stretched,
      :math:`w_{ij} \propto k((j - c_i)/s)`, a low-pass filter (PIL's, ``jax.image.resize``'s and
      PyTorch's ``antialias=True``: Keys' ``a = -1/2``, off-image taps dropped). Not given: the
      ``default_antialias`` variant (PyTorch and Keras ``off``, ``jax.image.resize`` ``on``).
    - Variant ``cubic_kernel``: ``keys`` (``a = -1/2``, taps off the image dropped and the
      weights renormalized: PIL, TensorFlow, JAX) or ``opencv`` (``a = -3/4``, the edge pixel
      repeated: PyTorch's ``bicubic`` and OpenCV without antialiasing).

    The weights are rational; the result is the exact sum rounded once.
    """
    image = as_tensor(image)
    check_tensor("resize", "image", image, min_ndim=2)
    (height, width), params = resize_arguments(
        "resize", size, method, align_corners, antialias, default_antialias, cubic_kernel
    )
    rows = resize_rows(image.shape[-2], height, params)
    columns = resize_rows(image.shape[-1], width, params)
    return _resampled(image, rows, columns, (height, width))


@exact
def resize_grad(
    image: Any,
    cotangent: Any,
    *,
    size: Sequence[int],
    method: str = "bilinear",
    align_corners: bool = False,
    antialias: bool | None = None,
    default_antialias: str = "off",
    cubic_kernel: str = "keys",
) -> Tensor:
    r"""Resize is linear in the image, ``out = W x V^T`` per image: its vector-Jacobian product
    is :math:`W^\top \bar g V`, the cotangent spread back over the input pixels with the same
    weights. Summed over a common denominator per axis and rounded once."""
    image = as_tensor(image)
    check_tensor("resize_grad", "image", image, min_ndim=2)
    (height, width), params = resize_arguments(
        "resize_grad", size, method, align_corners, antialias, default_antialias, cubic_kernel
    )
    *batch, n_h, n_w = image.shape
    g = checked_cotangent("resize_grad", cotangent, (*batch, height, width))
    rows = resize_rows(n_h, height, params)
    columns = resize_rows(n_w, width, params)
    d_rows = math.lcm(*(d for _, d in rows))
    d_columns = math.lcm(*(d for _, d in columns))
    values = []
    for b in range(math.prod(batch)):
        offset = b * height * width
        for p, q in itertools.product(range(n_h), range(n_w)):
            numerator = exact_sum(
                exact_product(
                    row.get(p, 0) * (d_rows // d_row),
                    column.get(q, 0) * (d_columns // d_column),
                    g.values[offset + i * width + j],
                )
                for i, (row, d_row) in enumerate(rows)
                if p in row
                for j, (column, d_column) in enumerate(columns)
                if q in column
            )
            values.append(mpmath.fdiv(numerator, d_rows * d_columns))
    return Tensor(image.shape, tuple(values))
