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
INTEGER_ROUNDINGS: Final = ("once", "per_pass")
INTEGER_LEVELS: Final = {"uint8": (0, 255)}
"""The levels of each integer image dtype the spec resamples: its lowest and highest value."""

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


def _rounded_half_up(value: Fraction, levels: tuple[int, int]) -> int:
    """``floor(value + 1/2)`` saturated to ``levels``: a fixed-point pass's rounding (its sum
    starts at half the scale and is shifted right) and its saturating pack."""
    lowest, highest = levels
    return min(max(math.floor(value + Fraction(1, 2)), lowest), highest)


def _per_pass(
    image: Tensor, rows: list[Row], columns: list[Row], levels: tuple[int, int]
) -> Tensor:
    """PIL's resampling of an integer image: along the width first, each value rounded half up
    and saturated to ``levels``, then along the height, whose sums are left unrounded, as any
    result is. Where only one size changes there is one pass, and nothing to round between."""
    *batch, height, width = image.shape
    if len(columns) == width or len(rows) == height:
        return _resampled(image, rows, columns, (len(rows), len(columns)))
    values = []
    for b in range(math.prod(batch)):
        pixels = [int(v) for v in image.values[b * height * width : (b + 1) * height * width]]
        passed = [
            _rounded_half_up(
                Fraction(sum(m * pixels[p * width + q] for q, m in c.items()), d), levels
            )
            for p in range(height)
            for c, d in columns
        ]
        for (row, d_row), j in itertools.product(rows, range(len(columns))):
            total = sum(n * passed[p * len(columns) + j] for p, n in row.items())
            values.append(mpmath.mpf(total) / d_row)
    return Tensor((*batch, len(rows), len(columns)), tuple(values))


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
    integer_rounding: str = "once",
    input_dtype: str = "float64",
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
    - An integer image (``input_dtype`` ``uint8``) gives levels: the exact value, saturated and
      rounded to a nearest level. Variant ``integer_rounding``: ``once`` (that), or ``per_pass``
      (PIL's, and PyTorch's for uint8: along the width first, each value rounded half up and
      saturated, then along the height; :func:`_per_pass`), whose result before its last
      rounding is returned.

    The weights are rational; the result is the exact sum rounded once.
    """
    image = as_tensor(image)
    check_tensor("resize", "image", image, min_ndim=2)
    check_choice("resize", "integer_rounding", integer_rounding, INTEGER_ROUNDINGS)
    (height, width), params = resize_arguments(
        "resize", size, method, align_corners, antialias, default_antialias, cubic_kernel
    )
    rows = resize_rows(image.shape[-2], height, params)
    columns = resize_rows(image.shape[-1], width, params)
    if input_dtype in INTEGER_LEVELS and integer_rounding == "per_pass" and method != "nearest":
        return _per_pass(image, rows, columns, INTEGER_LEVELS[input_dtype])
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


ROTATE_METHODS: Final = ("nearest", "bilinear")

Tap = tuple[int | None, mpmath.mpf]
"""A flat pixel index (None: outside the image, where the fill is read) and its weight."""


Turn = tuple[int, mpmath.mpf, mpmath.mpf]
"""An angle as quarter turns ``k`` and the rest ``phi`` in [-45, 45] degrees: ``(k, cos phi - 1,
sin phi)``."""


def rotation_terms(angle: float) -> Turn:
    r"""``angle`` degrees as ``k`` quarter turns and the rest :math:`\varphi`, with
    :math:`\cos\varphi - 1 = -2 \sin^2(\varphi/2)` and :math:`\sin\varphi` at the working
    precision: the quarter turns stay exact and no term cancels near them. Exact at multiples of
    30 degrees, where the sine or the cosine is rational (Niven's theorem: for an angle that is a
    rational number of degrees, as every float is, the only rational values are 0, 1/2 and 1 up
    to sign), so that a nearest tie there is a tie, not the sign of a rounding."""
    turns = round(Fraction(angle) / 90)
    rest = mpmath.mpf(angle) - 90 * turns  # exact: both fit the working precision
    if rest in (-30, 0, 30):
        return turns, mpmath.sqrt(3) / 2 - 1 if rest else mpmath.mpf(0), rest / 60
    radians = rest * mpmath.pi / 180
    return turns, -2 * mpmath.sin(radians / 2) ** 2, mpmath.sin(radians)


def rotation_point(
    i: int, j: int, height: int, width: int, turn: Turn
) -> tuple[tuple[int, mpmath.mpf], tuple[int, mpmath.mpf]]:
    r"""The source point ``(r, q)`` of output pixel ``(i, j)`` (pixel centres at integer
    coordinates, row 0 on top), each as an integer and an offset from it. The source point turns
    the output back by the angle about the image's centre :math:`c = ((H - 1)/2, (W - 1)/2)`,

    .. math:: r = c_r + \cos\theta\,(i - c_r) + \sin\theta\,(j - c_c), \quad
              q = c_c - \sin\theta\,(i - c_r) + \cos\theta\,(j - c_c),

    so that the content turns counterclockwise as displayed for a positive angle (at 90 degrees,
    ``out[i, j] = x[j, W - 1 - i]`` on a square image: :func:`rot90`). With
    :math:`\theta = 90k + \varphi` (:func:`rotation_terms`), the point is the quarter turns'
    exact point :math:`c + R_k d` plus :math:`R_k (R_\varphi - I) d`, which keeps its relative
    precision near a multiple of 90 degrees."""
    turns, cos_minus_one, sin = turn
    centre = (Fraction(height - 1, 2), Fraction(width - 1, 2))
    d = (i - centre[0], j - centre[1])
    rest = (
        cos_minus_one * _mpf(d[0]) + sin * _mpf(d[1]),
        cos_minus_one * _mpf(d[1]) - sin * _mpf(d[0]),
    )
    for _ in range(turns % 4):  # R_90 (a, b) = (b, -a)
        d, rest = (d[1], -d[0]), (rest[1], -rest[0])
    point = []
    for axis in (0, 1):
        base = centre[axis] + d[axis]
        whole = math.floor(base)
        point.append((whole, _mpf(base - whole) + rest[axis]))
    return point[0], point[1]


def _mpf(value: Fraction) -> mpmath.mpf:
    return mpmath.mpf(value.numerator) / value.denominator


def rotation_source(i: int, j: int, height: int, width: int, angle: float) -> tuple[float, float]:
    """The source point of output pixel ``(i, j)`` (:func:`rotation_point`), in float64."""
    (r, d_r), (q, d_q) = rotation_point(i, j, height, width, rotation_terms(angle))
    return r + float(d_r), q + float(d_q)


def _axis_taps(index: int, offset: mpmath.mpf, n: int, method: str) -> list[Tap]:
    """One axis's taps at the point ``index + offset``: nearest ``floor(s + 1/2)`` (ties up; a
    point within ``2**-(prec/2)`` of a tie is one, what rounding left of an exact tie); bilinear
    ``floor(s)`` and the next, with weights ``1 - f`` and ``f``, ``f = s - floor(s)``, each one
    exact subtraction from ``offset`` (an offset that is exact, a shear's, gives exact
    weights); off the axis: None."""

    def inside(k: int) -> int | None:
        return k if 0 <= k < n else None

    if method == "nearest":
        snap = mpmath.mpf(2) ** -(mpmath.mp.prec // 2)
        return [
            (inside(index + int(mpmath.floor(offset + mpmath.mpf(1) / 2 + snap))), mpmath.mpf(1))
        ]
    whole = int(mpmath.floor(offset))
    taps = (
        (index + whole, exact_sum([mpmath.mpf(whole + 1), mpmath.fneg(offset, exact=True)])),
        (index + whole + 1, exact_sum([offset, mpmath.mpf(-whole)])),
    )
    return [(inside(k), w) for k, w in taps if w != 0]


Point = tuple[tuple[int, mpmath.mpf], tuple[int, mpmath.mpf]]
"""A source point ``(r, q)``, each coordinate as an integer and an offset from it."""


def rotation_taps(height: int, width: int, angle: float, method: str) -> list[list[Tap]]:
    """Every output pixel's taps over the ``height x width`` image of a rotation."""
    turn = rotation_terms(angle)
    return sampling_taps(
        height, width, lambda i, j: rotation_point(i, j, height, width, turn), method
    )


def sampling_taps(
    height: int, width: int, point: Callable[[int, int], Point], method: str
) -> list[list[Tap]]:
    """Every output pixel's taps over the ``height x width`` image (row-major), sampled at
    ``point(i, j)``: the products of the row's and the column's (:func:`_axis_taps`), None where
    either is off the image."""
    taps = []
    for i, j in itertools.product(range(height), range(width)):
        (row, d_row), (column, d_column) = point(i, j)
        taps.append(
            [
                (None if p is None or q is None else p * width + q, w_p * w_q)
                for (p, w_p), (q, w_q) in itertools.product(
                    _axis_taps(row, d_row, height, method),
                    _axis_taps(column, d_column, width, method),
                )
            ]
        )
    return taps


def rotate_arguments(
    concept: str, image: Any, angle: float, method: str, fill: float
) -> tuple[Tensor, list[list[Tap]]]:
    """The checked image and its taps."""
    image = _checked_sampling(concept, image, method, fill)
    require(concept, "angle", angle, _finite_number(angle), "a finite number of degrees")
    return image, rotation_taps(image.shape[-2], image.shape[-1], float(angle), method)


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _checked_sampling(concept: str, image: Any, method: str, fill: float) -> Tensor:
    """The checked image of a resampling (rotate, shear), its method and fill checked too."""
    image = as_tensor(image)
    check_tensor(concept, "image", image, min_ndim=2)
    require(
        concept,
        "image",
        "an infinite pixel",
        all(mpmath.isfinite(v) for v in image.values),
        "finite (an infinite pixel read with a weight that is 0 only in exact arithmetic gives "
        "NaN or infinity by the rounding of the coordinates)",
    )
    check_choice(concept, "method", method, ROTATE_METHODS)
    require(concept, "fill", fill, _finite_number(fill), "a finite number")
    return image


def _sampled(image: Tensor, taps: list[list[Tap]], fill: float) -> Tensor:
    """Each image of the batch sampled by ``taps`` (one list per output pixel), ``fill`` read
    off the image; each output one sum, rounded once."""
    *batch, height, width = image.shape
    values = []
    for b in range(math.prod(batch)):
        offset = b * height * width
        for pixel_taps in taps:
            values.append(
                mpmath.fsum(
                    w * (mpmath.mpf(fill) if k is None else image.values[offset + k])
                    for k, w in pixel_taps
                )
            )
    return Tensor(image.shape, tuple(values))


def _spread(image: Tensor, g: Tensor, taps: list[list[Tap]]) -> Tensor:
    """The transposed sampling: each output's cotangent spread back over the pixels it read."""
    *batch, height, width = image.shape
    spread: list[list[mpmath.mpf]] = [[] for _ in range(height * width)]
    values: list[mpmath.mpf] = []
    for b in range(math.prod(batch)):
        offset = b * height * width
        for terms in spread:
            terms.clear()
        for o, pixel_taps in enumerate(taps):
            for k, w in pixel_taps:
                if k is not None:
                    spread[k].append(w * g.values[offset + o])
        values.extend(mpmath.fsum(terms) for terms in spread)
    return Tensor(image.shape, tuple(values))


@exact
def rotate(image: Any, *, angle: float, method: str = "bilinear", fill: float = 0.0) -> Tensor:
    r"""Rotate each ``(height, width)`` image by ``angle`` degrees counterclockwise (as displayed)
    about its centre, keeping its size: output pixel ``(i, j)`` samples the image at the source
    point :func:`rotation_source` by nearest or bilinear interpolation, a point off the image
    reading ``fill`` (per tap: bilinear blends the border with the fill, PyTorch's
    ``padding_mode="zeros"``, SciPy's ``grid-constant``),

    .. math:: \mathrm{out}_{ij} = \sum_{(p, q)} w_p(r)\, w_q(s)\, x_{pq}
              \quad (x_{pq} = \mathrm{fill} \text{ off the image}).

    The weights are products of ``cos`` and ``sin`` of the angle, taken at the working
    precision (exact at multiples of 30 degrees: :func:`rotation_terms`); the sum is rounded
    once."""
    image, taps = rotate_arguments("rotate", image, angle, method, fill)
    return _sampled(image, taps, fill)


@exact
def rotate_grad(
    image: Any, cotangent: Any, *, angle: float, method: str = "bilinear", fill: float = 0.0
) -> Tensor:
    r"""Rotation is affine in the image (the fill is the constant part): its vector-Jacobian
    product is the transposed sampling, :math:`\bar x_{pq} = \sum_{ij} w_{ij,pq}\, \bar g_{ij}`,
    each output's cotangent spread back over the pixels it read."""
    image, taps = rotate_arguments("rotate_grad", image, angle, method, fill)
    return _spread(image, checked_cotangent("rotate_grad", cotangent, image.shape), taps)


def shear_point(i: int, j: int, height: int, width: int, shear_x: float, shear_y: float) -> Point:
    r"""The source point ``(r, q)`` of output pixel ``(i, j)`` of a shear about the image's
    centre :math:`c = ((H - 1)/2, (W - 1)/2)`, exactly (the factors are rational):

    .. math:: r = i + s_y (j - c_c), \quad q = j + s_x (i - c_r),

    ``keras.ops.image.affine_transform``'s ``[1, s_x, -s_x c_r, s_y, 1, -s_y c_c, 0, 0]`` (it
    maps an output ``(x, y) = (j, i)`` to the input point). With ``s_y = 0`` each row slides
    along itself by :math:`-s_x (i - c_r)`: the rows below the centre move left for
    :math:`s_x > 0` as displayed (row 0 on top)."""
    point = []
    for index, factor, offset in (
        (i, shear_y, j - (width - 1) / 2),
        (j, shear_x, i - (height - 1) / 2),
    ):
        # exact: a float times a half-integer, plus an integer, held with all its bits
        moved = exact_product(mpmath.mpf(factor), mpmath.mpf(offset))
        whole = int(mpmath.floor(moved))
        point.append((index + whole, exact_sum([moved, mpmath.mpf(-whole)])))
    return point[0], point[1]


def shear_arguments(
    concept: str, image: Any, shear_x: float, shear_y: float, method: str, fill: float
) -> tuple[Tensor, list[list[Tap]]]:
    """The checked image and its taps."""
    image = _checked_sampling(concept, image, method, fill)
    for name, value in (("shear_x", shear_x), ("shear_y", shear_y)):
        require(concept, name, value, _finite_number(value), "a finite number (tan of the angle)")
    height, width = image.shape[-2:]
    taps = sampling_taps(
        height,
        width,
        lambda i, j: shear_point(i, j, height, width, float(shear_x), float(shear_y)),
        method,
    )
    return image, taps


@exact
def shear(
    image: Any,
    *,
    shear_x: float = 0.0,
    shear_y: float = 0.0,
    method: str = "bilinear",
    fill: float = 0.0,
) -> Tensor:
    r"""Skew each ``(height, width)`` image about its centre, keeping its size: output pixel
    ``(i, j)`` samples the image at :func:`shear_point` by nearest or bilinear interpolation,
    a point off the image reading ``fill`` (per tap, as :func:`rotate`). ``shear_x`` is the
    tangent of the angle the vertical lines lean by, ``shear_y`` that of the horizontal ones;
    both at once are the matrix :math:`\begin{pmatrix} 1 & s_y \\ s_x & 1 \end{pmatrix}`
    on ``(row, column)`` offsets from the centre. The point is exact, so are the weights; the
    sum is rounded once."""
    image, taps = shear_arguments("shear", image, shear_x, shear_y, method, fill)
    return _sampled(image, taps, fill)


@exact
def shear_grad(
    image: Any,
    cotangent: Any,
    *,
    shear_x: float = 0.0,
    shear_y: float = 0.0,
    method: str = "bilinear",
    fill: float = 0.0,
) -> Tensor:
    r"""A shear is affine in the image: its vector-Jacobian product is the transposed sampling,
    :math:`\bar x_{pq} = \sum_{ij} w_{ij,pq}\, \bar g_{ij}`."""
    image, taps = shear_arguments("shear_grad", image, shear_x, shear_y, method, fill)
    return _spread(image, checked_cotangent("shear_grad", cotangent, image.shape), taps)


def _cell(coordinate: mpmath.mpf, n: int) -> tuple[tuple[int | None, int | None], mpmath.mpf]:
    """A bilinear sample's cell along one axis of ``n`` pixels at ``coordinate``: the pixels
    ``floor(s)`` and ``floor(s) + 1`` (None off the axis) and the fraction ``s - floor(s)``,
    exact (the coordinate is a float, held with all its bits)."""
    whole = int(mpmath.floor(coordinate))
    fraction = exact_sum([coordinate, mpmath.mpf(-whole)])
    low, high = (k if 0 <= k < n else None for k in (whole, whole + 1))
    return (low, high), fraction


POINT_COORDINATES: Final = ("pixel", "normalised")


def grid_sample_arguments(
    concept: str, image: Any, points: Any, fill: float, point_coordinates: str
) -> tuple[Tensor, Tensor]:
    """The checked image ``(..., H, W)`` and points ``(..., P, 2)``, the same leading shape."""
    check_choice(concept, "point_coordinates", point_coordinates, POINT_COORDINATES)
    image = _checked_sampling(concept, image, "bilinear", fill)
    points = as_tensor(points)
    check_tensor(concept, "points", points, min_ndim=2)
    require(
        concept,
        "points",
        f"shape {points.shape}",
        points.shape[-1] == 2 and points.shape[:-2] == image.shape[:-2],
        f"(..., P, 2) with the image's leading shape {image.shape[:-2]} (a (row, column) "
        "point per output)",
    )
    require(
        concept,
        "points",
        "a non-finite coordinate",
        all(mpmath.isfinite(v) for v in points.values),
        "finite",
    )
    return image, points


def _bilinear_cells(
    image: Tensor, points: Tensor, fill: float
) -> list[tuple[list[list[mpmath.mpf]], mpmath.mpf, mpmath.mpf]]:
    """Per point (row-major over the leading shape and P): the 2 x 2 pixels of its cell
    (``fill`` off the image) and its fractions along the rows and the columns."""
    *batch, height, width = image.shape
    count = points.shape[-2]
    cells = []
    for b in range(math.prod(batch)):
        offset = b * height * width
        for p in range(count):
            row, column = points.values[2 * (b * count + p) : 2 * (b * count + p) + 2]
            (rows, f_row), (columns, f_column) = _cell(row, height), _cell(column, width)
            pixels = [
                [
                    mpmath.mpf(fill)
                    if r is None or c is None
                    else image.values[offset + r * width + c]
                    for c in columns
                ]
                for r in rows
            ]
            cells.append((pixels, f_row, f_column))
    return cells


@exact
def grid_sample(
    image: Any, points: Any, *, fill: float = 0.0, point_coordinates: str = "pixel"
) -> Tensor:
    r"""Sample each ``(height, width)`` image at its own points ``(..., P, 2)``, each a
    ``(row, column)`` in pixel coordinates (pixel centres at the integers, row 0 on top), by
    bilinear interpolation, a pixel off the image reading ``fill``:

    .. math:: \mathrm{out}_p = \sum_{a, b \in \{0, 1\}} w_a(f_r)\, w_b(f_q)\,
              x_{\lfloor r \rfloor + a,\, \lfloor q \rfloor + b},
              \quad w_0(f) = 1 - f,\ w_1(f) = f,\ f_r = r - \lfloor r \rfloor.

    The sampling at the heart of :func:`rotate` and :func:`shear` with the points given:
    PyTorch's ``F.grid_sample`` (normalised ``(x, y)``), JAX's and Keras's
    ``map_coordinates`` (order 1). The weights are exact; the sum is rounded once. The variant
    ``point_coordinates`` (the coordinates the backend takes) leaves the value as it is: it
    tells the error model how far the backend's point may be off."""
    image, points = grid_sample_arguments("grid_sample", image, points, fill, point_coordinates)
    values = []
    for pixels, f_row, f_column in _bilinear_cells(image, points, fill):
        weights = (_linear_weights(f_row), _linear_weights(f_column))
        values.append(
            exact_sum(
                exact_product(weights[0][a], weights[1][b], pixels[a][b])
                for a in (0, 1)
                for b in (0, 1)
            )
        )
    return Tensor(points.shape[:-1], tuple(values))


@exact
def grid_sample_grad(
    image: Any,
    points: Any,
    cotangent: Any,
    *,
    fill: float = 0.0,
    point_coordinates: str = "pixel",
) -> Tensor:
    r"""The derivative in the points, ``(..., P, 2)``: bilinear interpolation is linear in each
    coordinate within a cell, so

    .. math:: \bar r_p = \bar g_p \sum_b w_b(f_q) (x_{1b} - x_{0b}), \quad
              \bar q_p = \bar g_p \sum_a w_a(f_r) (x_{a1} - x_{a0})

    over the point's cell. On a pixel boundary (an integer coordinate) the cell is the one
    that starts there, ``floor``'s: the derivative from above, the one PyTorch's and JAX's
    autodiff take. A coordinate crossing a boundary changes the other's derivative
    continuously, its own in a jump."""
    image, points = grid_sample_arguments(
        "grid_sample_grad", image, points, fill, point_coordinates
    )
    g = checked_cotangent("grid_sample_grad", cotangent, points.shape[:-1])
    values: list[mpmath.mpf] = []
    for (pixels, f_row, f_column), g_p in zip(
        _bilinear_cells(image, points, fill), g.values, strict=True
    ):
        (x00, x01), (x10, x11) = pixels
        for weights, steps in (
            (_linear_weights(f_column), ((x10, x00), (x11, x01))),
            (_linear_weights(f_row), ((x01, x00), (x11, x10))),
        ):
            values.append(exact_product(g_p, _weighted_steps(weights, steps)))
    return Tensor(points.shape, tuple(values))


def _linear_weights(fraction: mpmath.mpf) -> tuple[mpmath.mpf, mpmath.mpf]:
    """``(1 - f, f)``, exactly (``1 - f`` of a subnormal ``f`` has a thousand bits)."""
    return exact_sum([mpmath.mpf(1), mpmath.fneg(fraction, exact=True)]), fraction


def _weighted_steps(
    weights: tuple[mpmath.mpf, mpmath.mpf], steps: tuple[tuple[mpmath.mpf, mpmath.mpf], ...]
) -> mpmath.mpf:
    """``sum_b w_b (high_b - low_b)``, exactly."""
    return exact_sum(
        exact_product(w, exact_sum([high, mpmath.fneg(low, exact=True)]))
        for w, (high, low) in zip(weights, steps, strict=True)
    )


LUMA_WEIGHTS: Final = {"bt601": (2990, 5870, 1140), "matlab": (2989, 5870, 1140)}
"""Each ``luma_weights`` variant's red, green and blue weights, in units of 1/10000: ITU-R
BT.601's 0.299, 0.587, 0.114 (PIL's ``convert("L")``, OpenCV; they sum to 1), and MATLAB's
``rgb2gray`` 0.2989, 0.5870, 0.1140 (tf.image, torchvision, Keras; they sum to 0.9999)."""
LUMA_DENOMINATOR: Final = 10000


def _checked_rgb(concept: str, image: Any, luma_weights: str) -> tuple[Tensor, tuple[int, ...]]:
    """The checked ``(..., 3, H, W)`` image and the variant's weights."""
    image = as_tensor(image)
    check_tensor(concept, "image", image, min_ndim=3)
    require(
        concept,
        "image",
        f"shape {image.shape}",
        image.shape[-3] == 3,
        "(..., 3, H, W): red, green and blue channels first",
    )
    check_choice(concept, "luma_weights", luma_weights, tuple(LUMA_WEIGHTS))
    return image, LUMA_WEIGHTS[luma_weights]


@exact
def grayscale(image: Any, *, luma_weights: str = "bt601") -> Tensor:
    r"""The luma of each pixel of a ``(..., 3, H, W)`` RGB image, ``(..., 1, H, W)``:

    .. math:: Y = w_r R + w_g G + w_b B

    with the weights of the variant ``luma_weights`` (:data:`LUMA_WEIGHTS`), exact decimals:
    the sum over the common denominator is exact, divided once."""
    image, weights = _checked_rgb("grayscale", image, luma_weights)
    *batch, _, height, width = image.shape
    plane = height * width
    values = []
    for b in range(math.prod(batch)):
        offset = 3 * b * plane
        for k in range(plane):
            numerator = exact_sum(
                exact_product(w, image.values[offset + c * plane + k])
                for c, w in enumerate(weights)
            )
            values.append(mpmath.fdiv(numerator, LUMA_DENOMINATOR))
    return Tensor((*batch, 1, height, width), tuple(values))


@exact
def grayscale_grad(image: Any, cotangent: Any, *, luma_weights: str = "bt601") -> Tensor:
    r"""Grayscale is linear: each channel's derivative is its weight, :math:`\bar x_c = w_c \bar
    g`, the luma's cotangent spread over the three channels."""
    image, weights = _checked_rgb("grayscale_grad", image, luma_weights)
    *batch, _, height, width = image.shape
    g = checked_cotangent("grayscale_grad", cotangent, (*batch, 1, height, width))
    plane = height * width
    values: list[mpmath.mpf] = []
    for b in range(math.prod(batch)):
        for w in weights:
            values.extend(
                mpmath.fdiv(exact_product(w, g.values[b * plane + k]), LUMA_DENOMINATOR)
                for k in range(plane)
            )
    return Tensor(image.shape, tuple(values))


STD_FLOORS: Final = {"none": 0.0, "epsilon": 1e-7}
"""Each ``std_floor`` variant's floor under the divisor, ``max(std_c, floor)``: none (torchvision's
``Normalize``, the formula as written) or Keras's ``backend.epsilon()``, 1e-7, under
``sqrt(variance)`` in ``keras.layers.Normalization``."""


def _checked_channels(
    concept: str, image: Any, mean: Sequence[float], std: Sequence[float], std_floor: str
) -> tuple[Tensor, list[mpmath.mpf], list[mpmath.mpf]]:
    """The checked ``(..., C, H, W)`` image, its channels' means and divisors."""
    image = as_tensor(image)
    check_tensor(concept, "image", image, min_ndim=3)
    channels = image.shape[-3]

    def numbers(argument: str, values: Sequence[float], positive: bool) -> list[mpmath.mpf]:
        domain = "positive finite numbers" if positive else "finite numbers"
        require(
            concept,
            argument,
            values,
            isinstance(values, Sequence)
            and not isinstance(values, str)
            and len(values) == channels
            and all(
                isinstance(v, int | float)
                and not isinstance(v, bool)
                and math.isfinite(v)
                and (v > 0 or not positive)
                for v in values
            ),
            f"{domain}, one per channel: {channels} (axis -3 of the image, shape {image.shape})",
        )
        return [mpmath.mpf(v) for v in values]

    check_choice(concept, "std_floor", std_floor, tuple(STD_FLOORS))
    floor = mpmath.mpf(STD_FLOORS[std_floor])
    divisors = [max(s, floor) for s in numbers("std", std, positive=True)]
    return image, numbers("mean", mean, positive=False), divisors


def _per_channel(
    image: Tensor, values: Tensor, divisors: Sequence[mpmath.mpf], shift: Sequence[mpmath.mpf]
) -> Tensor:
    """``(v - shift_c) / divisor_c`` for each element ``v`` of ``values`` (the image's shape),
    ``c`` its channel: the difference is exact, divided once."""
    *batch, channels, height, width = image.shape
    plane = height * width
    out: list[mpmath.mpf] = []
    for b in range(math.prod(batch)):
        for c in range(channels):
            start = (b * channels + c) * plane
            out.extend(
                mpmath.fdiv(exact_sum([v, -shift[c]]), divisors[c])
                for v in values.values[start : start + plane]
            )
    return Tensor(image.shape, tuple(out))


@exact
def normalize_channels(
    image: Any, *, mean: Sequence[float], std: Sequence[float], std_floor: str = "none"
) -> Tensor:
    r"""Each channel ``c`` of a ``(..., C, H, W)`` image shifted by its mean and scaled by its
    standard deviation, as given (torchvision's ``Normalize``, the ImageNet preprocessing):

    .. math:: y = \frac{x - m_c}{\max(s_c, \epsilon)}

    with :math:`\epsilon` the variant ``std_floor``'s (:data:`STD_FLOORS`: 0, or Keras's 1e-7)."""
    image, means, divisors = _checked_channels("normalize_channels", image, mean, std, std_floor)
    return _per_channel(image, image, divisors, means)


@exact
def normalize_channels_grad(
    image: Any,
    cotangent: Any,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    std_floor: str = "none",
) -> Tensor:
    r"""The map is affine in the image: :math:`\bar x = \bar y / \max(s_c, \epsilon)`."""
    image, _, divisors = _checked_channels("normalize_channels_grad", image, mean, std, std_floor)
    g = checked_cotangent("normalize_channels_grad", cotangent, image.shape)
    return _per_channel(image, g, divisors, [mpmath.mpf(0)] * image.shape[-3])


CONTRAST_MEANS: Final = ("channel", "grayscale")
"""What ``adjust_contrast`` blends towards: each channel's own mean over the image's pixels
(tf.image, Keras's RandomContrast, dm_pix), or the mean of the image's luma, one level for all
its channels (torchvision's ``adjust_contrast``, MATLAB's weights)."""
AT_BOUND: Final = ("one", "half")
"""The derivative of the clipping at a pixel exactly on a bound of ``value_range``: the
cotangent passed (``torch.clamp``: inside means ``lo <= y <= hi``), or halved (``jnp.clip``,
``maximum`` then ``minimum``, whose derivative splits a tie)."""


def _checked_contrast(
    concept: str,
    image: Any,
    factor: float,
    value_range: Sequence[float] | None,
    contrast_mean: str,
) -> tuple[Tensor, mpmath.mpf, tuple[mpmath.mpf, mpmath.mpf] | None]:
    """The checked image, factor and bounds."""
    image = as_tensor(image)
    check_tensor(concept, "image", image, min_ndim=3)
    require(
        concept,
        "factor",
        factor,
        isinstance(factor, int | float)
        and not isinstance(factor, bool)
        and math.isfinite(factor)
        and factor >= 0,
        "a finite number >= 0 (0 gives the mean, 1 the image)",
    )
    check_choice(concept, "contrast_mean", contrast_mean, CONTRAST_MEANS)
    if contrast_mean == "grayscale":
        require(
            concept,
            "image",
            f"shape {image.shape}",
            image.shape[-3] in (1, 3),
            "(..., 1 or 3, H, W) for the mean of the luma: a gray or an RGB image",
        )
    return image, mpmath.mpf(factor), _checked_bounds(concept, value_range)


def _checked_bounds(
    concept: str, value_range: Sequence[float] | None
) -> tuple[mpmath.mpf, mpmath.mpf] | None:
    """The bounds of ``value_range``, where one is given, checked: finite, low < high."""
    if value_range is None:
        return None
    require(
        concept,
        "value_range",
        value_range,
        isinstance(value_range, Sequence)
        and not isinstance(value_range, str)
        and len(value_range) == 2
        and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value_range
        )
        and value_range[0] < value_range[1],
        "None or (low, high), finite, low < high",
    )
    low, high = value_range
    return mpmath.mpf(low), mpmath.mpf(high)


def _clip_derivative(
    value: mpmath.mpf, bounds: tuple[mpmath.mpf, mpmath.mpf], at_bound: str
) -> int | mpmath.mpf:
    """The clipping's derivative at the unclipped ``value``: 1 inside, 0 outside, the variant
    ``at_bound`` on a bound (:data:`AT_BOUND`)."""
    if value in bounds:
        return 1 if at_bound == "one" else mpmath.mpf(1) / 2
    return int(bounds[0] < value < bounds[1])


def contrast_means(image: Tensor, contrast_mean: str) -> list[tuple[mpmath.mpf, int]]:
    """The level each channel of each image is blended towards, ``(batch, C)`` flattened, as an
    exact numerator over an integer denominator: the channel's mean, or the mean luma of the
    image (MATLAB's weights; a one-channel image is its own luma)."""
    *batch, channels, height, width = image.shape
    plane = height * width
    levels = []
    for b in range(math.prod(batch)):
        start = b * channels * plane
        if contrast_mean == "channel":
            for c in range(channels):
                pixels = image.values[start + c * plane : start + (c + 1) * plane]
                levels.append((exact_sum(pixels), plane))
            continue
        weights = LUMA_WEIGHTS["matlab"] if channels == 3 else (LUMA_DENOMINATOR,)
        total = exact_sum(
            exact_product(w, v)
            for c, w in enumerate(weights)
            for v in image.values[start + c * plane : start + (c + 1) * plane]
        )
        levels.extend([(total, LUMA_DENOMINATOR * plane)] * channels)
    return levels


def _blended(image: Tensor, factor: mpmath.mpf, contrast_mean: str) -> list[mpmath.mpf]:
    """``f x + (1 - f) mu`` for every pixel, before clipping: ``(f x d + (1 - f) n) / d`` for the
    level ``n / d``, exact sums and products divided once (``mu + f (x - mu)`` would cancel)."""
    *_, height, width = image.shape
    levels = contrast_means(image, contrast_mean)
    plane = height * width
    rest = exact_sum([mpmath.mpf(1), -factor])
    values = []
    for k, v in enumerate(image.values):
        numerator, denominator = levels[k // plane]
        blend = exact_sum([exact_product(factor, v, denominator), exact_product(rest, numerator)])
        values.append(mpmath.fdiv(blend, denominator))
    return values


@exact
def adjust_contrast(
    image: Any,
    *,
    factor: float,
    value_range: Sequence[float] | None = None,
    contrast_mean: str = "channel",
) -> Tensor:
    r"""Each pixel of a ``(..., C, H, W)`` image moved away from (``factor > 1``) or towards
    (``factor < 1``) a mean level :math:`\mu` (the variant ``contrast_mean``,
    :data:`CONTRAST_MEANS`), then clipped to ``value_range`` where one is given:

    .. math:: y = \mathrm{clip}(\mu + f (x - \mu), lo, hi)

    (tf.image.adjust_contrast; torchvision's ``adjust_contrast`` writes it
    :math:`f x + (1 - f) \mu` and clips to [0, 1] for float images)."""
    image, f, bounds = _checked_contrast(
        "adjust_contrast", image, factor, value_range, contrast_mean
    )
    values = _blended(image, f, contrast_mean)
    if bounds is not None:
        low, high = bounds
        values = [min(max(v, low), high) for v in values]
    return Tensor(image.shape, tuple(values))


@exact
def adjust_contrast_grad(
    image: Any,
    cotangent: Any,
    *,
    factor: float,
    value_range: Sequence[float] | None = None,
    contrast_mean: str = "channel",
    at_bound: str = "one",
) -> Tensor:
    r"""With :math:`m_j` the clipping's derivative at pixel :math:`j` (1 inside the range, 0
    outside, the variant ``at_bound`` on a bound, :data:`AT_BOUND`) and :math:`\bar y = m \bar
    g`, each pixel gets its own term and a share of the mean's:

    .. math:: \bar x_i = f \bar y_i + (1 - f) \frac{\partial \mu}{\partial x_i} \sum_j \bar y_j

    the sum over the pixels that read the same level (the channel, or every channel of the image
    for the luma, whose :math:`\partial \mu / \partial x_i` is :math:`w_c / (H W)`)."""
    concept = "adjust_contrast_grad"
    image, f, bounds = _checked_contrast(concept, image, factor, value_range, contrast_mean)
    check_choice(concept, "at_bound", at_bound, AT_BOUND)
    g = checked_cotangent(concept, cotangent, image.shape)
    masked = list(g.values)
    if bounds is not None:
        for k, v in enumerate(_blended(image, f, contrast_mean)):
            masked[k] = masked[k] * _clip_derivative(v, bounds, at_bound)
    *batch, channels, height, width = image.shape
    plane = height * width
    values: list[mpmath.mpf] = []
    for b in range(math.prod(batch)):
        start = b * channels * plane
        lanes = [masked[start + c * plane : start + (c + 1) * plane] for c in range(channels)]
        if contrast_mean == "channel":
            shares = [(exact_sum(lane), plane) for lane in lanes]
        else:
            weights = LUMA_WEIGHTS["matlab"] if channels == 3 else (LUMA_DENOMINATOR,)
            total = exact_sum(v for lane in lanes for v in lane)
            shares = [(exact_product(w, total), LUMA_DENOMINATOR * plane) for w in weights]
        rest = exact_sum([mpmath.mpf(1), -f])
        for (numerator, denominator), lane in zip(shares, lanes, strict=True):
            values.extend(
                mpmath.fdiv(
                    exact_sum([exact_product(f, v, denominator), exact_product(rest, numerator)]),
                    denominator,
                )
                for v in lane
            )
    return Tensor(image.shape, tuple(values))


BRIGHTNESS_FORMS: Final = ("multiplicative", "additive")
"""How ``adjust_brightness`` reads its factor: a scale, ``f x`` (torchvision's
``adjust_brightness``, a blend with black; PIL's ``ImageEnhance.Brightness``), or a shift,
``x + f`` (tf.image's and dm_pix's ``adjust_brightness`` delta; Keras's ``RandomBrightness``,
whose factor is that shift over the width of its value range)."""


def _checked_brightness(
    concept: str,
    image: Any,
    factor: float,
    value_range: Sequence[float] | None,
    brightness_form: str,
) -> tuple[Tensor, list[mpmath.mpf], tuple[mpmath.mpf, mpmath.mpf] | None]:
    """The checked image, its pixels moved (before clipping, exactly) and the bounds."""
    image = as_tensor(image)
    check_tensor(concept, "image", image, min_ndim=3)
    check_choice(concept, "brightness_form", brightness_form, BRIGHTNESS_FORMS)
    scale = brightness_form == "multiplicative"
    require(
        concept,
        "factor",
        factor,
        isinstance(factor, int | float)
        and not isinstance(factor, bool)
        and math.isfinite(factor)
        and (factor >= 0 or not scale),
        "a finite number >= 0 (multiplicative: 0 gives black, 1 the image)"
        if scale
        else "a finite number (additive: the shift)",
    )
    bounds = _checked_bounds(concept, value_range)
    f = mpmath.mpf(factor)
    moved = [exact_product(f, v) if scale else exact_sum([v, f]) for v in image.values]
    return image, moved, bounds


@exact
def adjust_brightness(
    image: Any,
    *,
    factor: float,
    value_range: Sequence[float] | None = None,
    brightness_form: str = "multiplicative",
) -> Tensor:
    r"""Every pixel of a ``(..., C, H, W)`` image scaled or shifted by ``factor`` (the variant
    ``brightness_form``, :data:`BRIGHTNESS_FORMS`), then clipped to ``value_range`` where one
    is given:

    .. math:: y = \mathrm{clip}(f x, lo, hi) \quad \text{or} \quad y = \mathrm{clip}(x + f, lo, hi)

    (torchvision's ``adjust_brightness`` is the first, clipped to [0, 1] for a float image;
    tf.image's the second, unclipped). The product or the sum is exact here, rounded once."""
    image, moved, bounds = _checked_brightness(
        "adjust_brightness", image, factor, value_range, brightness_form
    )
    if bounds is not None:
        moved = [min(max(v, bounds[0]), bounds[1]) for v in moved]
    return Tensor(image.shape, tuple(moved))


@exact
def adjust_brightness_grad(
    image: Any,
    cotangent: Any,
    *,
    factor: float,
    value_range: Sequence[float] | None = None,
    brightness_form: str = "multiplicative",
    at_bound: str = "one",
) -> Tensor:
    r"""Elementwise: :math:`\bar x = m f \bar g` (multiplicative) or :math:`m \bar g`
    (additive), with :math:`m` the clipping's derivative at the moved pixel (1 inside the
    range, 0 outside, the variant ``at_bound`` on a bound, :data:`AT_BOUND`)."""
    concept = "adjust_brightness_grad"
    image, moved, bounds = _checked_brightness(concept, image, factor, value_range, brightness_form)
    check_choice(concept, "at_bound", at_bound, AT_BOUND)
    g = checked_cotangent(concept, cotangent, image.shape)
    slope = mpmath.mpf(factor) if brightness_form == "multiplicative" else mpmath.mpf(1)
    values = []
    for v, gradient in zip(moved, g.values, strict=True):
        mask = 1 if bounds is None else _clip_derivative(v, bounds, at_bound)
        values.append(exact_product(slope, gradient) * mask)
    return Tensor(image.shape, tuple(values))
