"""Floating-point facts the suite measures with: formats, correct rounding, ULPs and errors.

The reference is exact to well beyond float64 (mpmath at ``reference.PRECISION_BITS``). To compare
many backend elements against it quickly, each reference value is stored as a *double-double*
``hi + lo`` (two float64 whose sum carries 106 bits): the error ``(b - hi) - lo`` of a float32 or
float64 backend value ``b`` is then exact to a relative 2**-53 of itself, which is all an error
measure needs.

ULP convention: ``ulp(r)`` for a real ``r`` in a binary format with ``p`` significand bits and
minimum normal exponent ``emin`` is ``2**(max(e, emin) - p + 1)`` where ``2**e <= |r| < 2**(e+1)``
(Goldberg's definition, the spacing of the binade that holds ``r``); ``ulp(0)`` is the smallest
subnormal. The exponent ``e`` is read from the float64 ``hi``; a reference within 2**-106 below a
power of two can be given the upper binade's ulp, a factor of two at one point per binade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final

import ml_dtypes
import mpmath
import numpy as np


@dataclass(frozen=True)
class FloatFormat:
    """An IEEE 754 binary format: its name, significand bits ``p`` and minimum normal exponent."""

    name: str
    significand_bits: int
    min_exponent: int
    max_exponent: int

    @property
    def numpy_dtype(self) -> np.dtype:
        return np.dtype(getattr(ml_dtypes, self.name, self.name))

    @property
    def unit_roundoff(self) -> float:
        """u = 2**-p: the largest relative error of one correctly rounded operation."""
        return math.ldexp(1.0, -self.significand_bits)

    @property
    def smallest_subnormal(self) -> float:
        return math.ldexp(1.0, self.min_exponent - self.significand_bits + 1)

    @property
    def smallest_normal(self) -> float:
        return math.ldexp(1.0, self.min_exponent)

    @property
    def largest(self) -> float:
        """The largest finite value, ``(2 - 2**(1 - p)) 2**emax``."""
        return math.ldexp(2 - math.ldexp(1.0, 1 - self.significand_bits), self.max_exponent)

    @property
    def overflow_threshold(self) -> float:
        """The smallest magnitude that rounds to infinity, ``(2 - 2**-p) 2**emax``: the midpoint
        between the largest finite value (an odd significand) and ``2**(emax + 1)``, where a tie
        goes to the even one, infinity (IEEE 754-2019, 4.3.1). Infinite for float64, whose
        midpoint is not a float64."""
        try:
            return math.ldexp(2 - math.ldexp(1.0, -self.significand_bits), self.max_exponent)
        except OverflowError:
            return math.inf


def flush_subnormals(array: np.ndarray) -> np.ndarray:
    """``array`` with each subnormal replaced by a zero of its sign (denormals-are-zero)."""
    if not is_floating(array.dtype):
        return array
    tiny = float_format(array.dtype).smallest_normal
    return np.where(np.abs(array) < tiny, np.copysign(0.0, array).astype(array.dtype), array)


def _format_of(name: str) -> FloatFormat:
    """The format ``finfo`` describes for dtype ``name`` (NumPy's, or ml_dtypes' for bfloat16):
    ``p = nmant + 1`` significand bits (the implicit leading bit counted), exponents ``minexp``
    to ``maxexp - 1`` (``finfo``'s ``maxexp`` is the first exponent that overflows)."""
    dtype = getattr(ml_dtypes, name, name)
    info = ml_dtypes.finfo(dtype) if name == "bfloat16" else np.finfo(np.dtype(dtype))
    return FloatFormat(name, int(info.nmant) + 1, int(info.minexp), int(info.maxexp) - 1)


FORMATS: Final[dict[str, FloatFormat]] = {
    name: _format_of(name) for name in ("bfloat16", "float16", "float32", "float64")
}
"""IEEE 754 binary16, binary32 and binary64, and bfloat16 (binary32's exponent range with a
significand of 8 bits), as ``finfo`` describes them."""


def is_floating(dtype: str | np.dtype | type) -> bool:
    """Whether ``dtype`` is a binary floating-point format, bfloat16 included (ml_dtypes' types
    are not ``np.floating`` subtypes to NumPy)."""
    dtype = np.dtype(getattr(ml_dtypes, dtype, dtype) if isinstance(dtype, str) else dtype)
    return np.issubdtype(dtype, np.floating) or dtype.name in FORMATS


def float_format(dtype: str | np.dtype | type) -> FloatFormat:
    """The format of a dtype given by name or NumPy dtype; ``ValueError`` for any other."""
    name = np.dtype(getattr(ml_dtypes, dtype, dtype) if isinstance(dtype, str) else dtype).name
    if name not in FORMATS:
        raise ValueError(
            f"dtype={name!r} is not a supported float format; use one of {list(FORMATS)}"
        )
    return FORMATS[name]


def round_mpf(x: mpmath.mpf, fmt: FloatFormat) -> float:
    """``x`` correctly rounded (to nearest, ties to even) into ``fmt``, returned as a Python float.

    Rounds once, from the exact binary expansion of ``x``, with gradual underflow and overflow to
    infinity: rounding to float64 first and then to float32 could round twice.
    """
    if mpmath.isnan(x):
        return math.nan
    if mpmath.isinf(x):
        return math.inf if x > 0 else -math.inf
    sign, mantissa, exponent, bitcount = x._mpf_
    if mantissa == 0:
        return -0.0 if sign else 0.0
    leading_exponent = exponent + bitcount - 1
    if leading_exponent < fmt.min_exponent - fmt.significand_bits:
        # below half the smallest subnormal: rounds to zero (and shifting by the exponent of a
        # value like exp(-1e12) would build an integer of a trillion bits)
        return -0.0 if sign else 0.0
    if leading_exponent > fmt.max_exponent + 1:
        return -math.inf if sign else math.inf
    quantum_exponent = max(leading_exponent, fmt.min_exponent) - fmt.significand_bits + 1
    shift = quantum_exponent - exponent
    if shift <= 0:
        integer = mantissa << -shift
    else:
        integer, remainder = divmod(mantissa, 1 << shift)
        half = 1 << (shift - 1)
        if remainder > half or (remainder == half and integer & 1):
            integer += 1
    largest = (2 - 2.0 ** (1 - fmt.significand_bits)) * 2.0**fmt.max_exponent
    try:
        magnitude = math.ldexp(integer, quantum_exponent)
    except OverflowError:
        magnitude = math.inf
    if magnitude > largest:
        magnitude = math.inf
    return -magnitude if sign else magnitude


def double_double(x: mpmath.mpf) -> tuple[float, float]:
    """``(hi, lo)``: ``hi`` is ``x`` rounded to float64 and ``lo`` the rounded remainder."""
    hi = round_mpf(x, FORMATS["float64"])
    if not math.isfinite(hi) or (hi == 0.0 and x == 0):
        return hi, 0.0
    return hi, round_mpf(x - mpmath.mpf(hi), FORMATS["float64"])


def ulp(reference_hi: np.ndarray, fmt: FloatFormat) -> np.ndarray:
    """The ulp, in ``fmt``, of each reference value (see the module docstring for the convention)."""
    magnitude = np.abs(np.asarray(reference_hi, dtype=np.float64))
    finite = np.isfinite(magnitude) & (magnitude > 0)
    _, frexp_exponent = np.frexp(np.where(finite, magnitude, 1.0))
    binade = np.maximum(frexp_exponent - 1, fmt.min_exponent)
    spacing = np.ldexp(1.0, binade - fmt.significand_bits + 1)
    return np.where(finite, spacing, fmt.smallest_subnormal)


@dataclass(frozen=True)
class Errors:
    """Elementwise error of a backend result against the exact reference."""

    absolute: np.ndarray
    in_ulps: np.ndarray
    relative: np.ndarray


def measure_errors(
    backend: np.ndarray, reference_hi: np.ndarray, reference_lo: np.ndarray, fmt: FloatFormat
) -> Errors:
    """Absolute error ``|b - r|``, the same in ulps of ``r`` in ``fmt``, and relative ``|b - r|/|r|``.

    Where the reference is infinite, or overflows ``fmt``, a backend value equal to the reference
    rounded into ``fmt`` has error 0; a NaN in the backend value is an infinite error, except
    where the reference is NaN too.
    """
    b = np.asarray(backend, dtype=np.float64)
    hi = np.asarray(reference_hi, dtype=np.float64)
    lo = np.asarray(reference_lo, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        # the exact hi + lo rounds to infinity in fmt from the threshold on (|lo| is at most
        # half an ulp of hi, so hi decides unless it is the threshold); not a cast of hi into
        # fmt, which for some formats rounds twice (through float32)
        threshold, sign = fmt.overflow_threshold, np.where(hi < 0, -1.0, 1.0)
        overflowing = (np.abs(hi) > threshold) | ((np.abs(hi) == threshold) & (sign * lo >= 0))
        rounded = np.where(overflowing, np.copysign(np.inf, hi), hi)
        absolute = np.abs((b - hi) - lo)
        absolute = np.where(overflowing, np.where(b == rounded, 0.0, np.inf), absolute)
        absolute = np.where(np.isnan(b) | np.isnan(absolute), np.inf, absolute)
        # where the reference itself is NaN (0 * inf, an operation IEEE 754 and the spec leave
        # undefined), a NaN is the agreeing value
        absolute = np.where(np.isnan(hi) & np.isnan(b), 0.0, absolute)
        in_ulps = absolute / ulp(hi, fmt)
        magnitude = np.abs(hi)
        relative = np.where(
            absolute == 0.0, 0.0, np.where(magnitude > 0, absolute / magnitude, np.inf)
        )
    return Errors(absolute=absolute, in_ulps=in_ulps, relative=relative)


def distinct_key(value: Any) -> Any:
    """A key for a parameter value that tells apart values Python finds equal, and which a
    framework may treat differently: ``-0.0`` from ``0.0``, ``1.0`` from ``1`` and ``True``.
    Lists and tuples key element by element."""
    if isinstance(value, list | tuple):
        return tuple(distinct_key(v) for v in value)
    if isinstance(value, float):
        return (float, value.hex())
    return (type(value), value)
