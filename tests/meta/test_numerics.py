"""Rounding, ULPs and error measures."""

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlspec.numerics import FORMATS, measure_errors, round_mpf, ulp

pytestmark = pytest.mark.meta
F32, F64 = FORMATS["float32"], FORMATS["float64"]


@given(st.floats(allow_nan=False, width=64))
def test_rounding_to_float32_matches_numpy_on_float64_values(x):
    # NumPy's float64 -> float32 cast rounds once, to nearest even, with gradual underflow.
    with np.errstate(over="ignore"):
        expected = float(np.float32(x))
    assert round_mpf(mpmath.mpf(x), F32) == expected


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


def test_the_float_formats_are_ieee_754s():
    """IEEE 754-2019 Table 3.5: binary32 p = 24, emin = -126, emax = 127; binary64 p = 53,
    emin = -1022, emax = 1023."""
    assert (F32.significand_bits, F32.min_exponent, F32.max_exponent) == (24, -126, 127)
    assert (F64.significand_bits, F64.min_exponent, F64.max_exponent) == (53, -1022, 1023)
    assert F32.smallest_subnormal == 2.0**-149 and F64.smallest_normal == 2.0**-1022
