"""Rounding, ULPs and error measures."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlspec.numerics import FORMATS, float_format, measure_errors, round_mpf, ulp

pytestmark = pytest.mark.meta
F32, F64 = FORMATS["float32"], FORMATS["float64"]
F16, BF16 = FORMATS["float16"], FORMATS["bfloat16"]


@given(st.floats(allow_nan=False, width=64))
def test_rounding_to_float32_matches_numpy_on_float64_values(x):
    # NumPy's float64 -> float32 cast rounds once, to nearest even, with gradual underflow.
    with np.errstate(over="ignore"):
        expected = float(np.float32(x))
    assert round_mpf(mpmath.mpf(x), F32) == expected


@given(st.floats(allow_nan=False, allow_infinity=False, width=64))
def test_rounding_to_the_16_bit_formats_gives_the_nearest_value(x):
    """The rounded value is representable (its bits survive a trip through the dtype), and no
    neighbour is nearer: checked exactly, in Fractions, without trusting any cast to round."""
    from fractions import Fraction

    for fmt in (F16, BF16):
        rounded = round_mpf(mpmath.mpf(x), fmt)
        if math.isinf(rounded):
            assert abs(x) >= fmt.overflow_threshold
            continue
        assert float(np.array(rounded).astype(fmt.numpy_dtype)) == rounded
        binade = max(math.frexp(rounded)[1] - 1, fmt.min_exponent) if rounded else fmt.min_exponent
        spacing = Fraction(math.ldexp(1.0, binade + 1 - fmt.significand_bits))
        if abs(x) < abs(rounded) == 2.0**binade and binade > fmt.min_exponent:
            spacing /= 2  # x lies in the binade below, where the values are twice as dense
        assert abs(Fraction(x) - Fraction(rounded)) <= spacing / 2


def test_the_truth_is_rounded_once_never_through_float32():
    """1 + 2**-8 + 2**-30 lies above the midpoint 1 + 2**-8 of bfloat16's 1 and 1 + 2**-7, so it
    rounds up; rounded to float32 first it becomes the midpoint itself, whose tie goes to the even
    1.0 (a double rounding: torch 2.13's and jax 0.10.2's float64 -> bfloat16 casts give 1.0).
    The same in float16 with 1 + 2**-11 + 2**-40."""
    with mpmath.workprec(200):
        one = mpmath.mpf(1)
        for fmt, above_a_tie, correct in (
            (BF16, one + mpmath.mpf(2) ** -8 + mpmath.mpf(2) ** -30, 1.0078125),
            (F16, one + mpmath.mpf(2) ** -11 + mpmath.mpf(2) ** -40, 1.0 + 2.0**-10),
        ):
            assert round_mpf(above_a_tie, fmt) == correct
            through_float32 = mpmath.mpf(round_mpf(above_a_tie, F32))
            assert round_mpf(through_float32, fmt) == 1.0  # the double rounding avoided


def test_rounding_ties_go_to_even_and_overflow_goes_to_infinity():
    with mpmath.workprec(200):
        one = mpmath.mpf(1)
        assert round_mpf(one + mpmath.mpf(2) ** -24, F32) == 1.0  # tie: down to even
        assert round_mpf(one + 3 * mpmath.mpf(2) ** -24, F32) == 1.0 + 2.0**-22  # tie: up to even
        assert round_mpf(one + mpmath.mpf(2) ** -53 + mpmath.mpf(2) ** -120, F64) == 1.0 + 2.0**-52
        assert round_mpf(mpmath.mpf(2) ** 128, F32) == math.inf
        assert round_mpf(mpmath.mpf(2) ** -150, F32) == 0.0  # below half the smallest subnormal
        assert round_mpf(mpmath.mpf(2) ** -149 * 1.5, F32) == 2.0**-148  # subnormal tie to even


def test_ulp_follows_the_binade():
    assert ulp(np.array([1.0]), F32)[0] == 2.0**-23
    assert ulp(np.array([1.5]), F64)[0] == 2.0**-52
    assert ulp(np.array([0.0]), F32)[0] == 2.0**-149
    assert ulp(np.array([1e-40]), F32)[0] == 2.0**-149  # subnormal range


def test_errors_are_measured_against_the_exact_value():
    hi, lo = np.array([1.0]), np.array([2.0**-60])
    exact = measure_errors(np.array([1.0]), hi, lo, F64)
    assert exact.absolute[0] == 2.0**-60 and exact.in_ulps[0] == 2.0**-8
    off = measure_errors(np.array([1.0 + 2.0**-23], dtype=np.float32), hi, np.zeros(1), F32)
    assert off.in_ulps[0] == 1.0 and off.relative[0] == 2.0**-23
    nan = measure_errors(np.array([np.nan]), hi, lo, F64)
    assert math.isinf(nan.in_ulps[0])
    overflow = measure_errors(np.array([np.inf], np.float32), np.array([1e300]), np.zeros(1), F32)
    assert overflow.absolute[0] == 0.0


def test_overflow_is_read_from_the_exact_value_at_the_threshold():
    """float16 rounds 65520 = (2 - 2**-11) 2**15 up to infinity (a tie, to the even) and
    anything below it down to 65504: the exact value hi + lo decides at the threshold."""
    assert F16.overflow_threshold == 65520.0 and F64.overflow_threshold == math.inf
    at, below = np.array([65520.0]), np.array([-(2.0**-40)])
    infinite, largest = np.array([np.inf], np.float16), np.array([65504.0], np.float16)
    assert measure_errors(infinite, at, np.zeros(1), F16).absolute[0] == 0.0
    assert measure_errors(infinite, at, below, F16).absolute[0] == math.inf
    assert measure_errors(largest, at, below, F16).in_ulps[0] < 0.5 + 2.0**-30


def test_the_float_formats_are_ieee_754s():
    """IEEE 754-2019 Table 3.5: binary16 p = 11, emin = -14, emax = 15; binary32 p = 24,
    emin = -126, emax = 127; binary64 p = 53, emin = -1022, emax = 1023. bfloat16: binary32's
    exponents with p = 8."""
    assert (F16.significand_bits, F16.min_exponent, F16.max_exponent) == (11, -14, 15)
    assert (BF16.significand_bits, BF16.min_exponent, BF16.max_exponent) == (8, -126, 127)
    assert (F32.significand_bits, F32.min_exponent, F32.max_exponent) == (24, -126, 127)
    assert (F64.significand_bits, F64.min_exponent, F64.max_exponent) == (53, -1022, 1023)
    assert F32.smallest_subnormal == 2.0**-149 and F64.smallest_normal == 2.0**-1022


@pytest.mark.parametrize("name", ["int8", "complex64", "float8_e4m3fn"])
def test_a_format_the_truth_cannot_be_rounded_to_is_refused_by_name(name):
    import ml_dtypes

    with pytest.raises(ValueError, match=f"dtype={name!r} is not a supported float format"):
        float_format(getattr(ml_dtypes, name, name))
