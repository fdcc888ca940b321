"""What every reference module shares: the working precision, a minimal tensor, domain checks.

The reference is pure Python. Arrays are :class:`Tensor`: a shape and a row-major tuple of mpmath
numbers, enough to walk the lanes along an axis and nothing more. Every public reference function
runs under :func:`exact`, at ``PRECISION_BITS`` of working precision, so its result rounded once to
float32 or float64 is the correctly rounded truth.
"""

from __future__ import annotations

import contextlib
import functools
import math
import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Final, ParamSpec, TypeVar

import mpmath
from mpmath import mpf

PRECISION_BITS: Final = 160
"""Working precision: above float64's 53 bits and binary128's 113, with room for cancellation."""

DISTRIBUTION_TOLERANCE: Final = 2.0**-20
"""How far from 1 a probability distribution may sum. Rounding each element of an exact
distribution once to float32 moves the sum by at most 2**-24 (each p_i by at most p_i * 2**-24);
2**-20 leaves room for a float64 normalisation before that rounding."""

INPUT_SIGNIFICAND_BITS: ContextVar[int] = ContextVar("input_significand_bits", default=53)
"""The significand bits of the format the inputs were rounded to (the oracle sets it; float64's
53 unless it says otherwise): how far a rounded distribution may miss 1 depends on it."""


def distribution_tolerance() -> mpf:
    """How far a lane of a distribution may sum from 1: ``DISTRIBUTION_TOLERANCE``, or, for
    inputs rounded to a format of ``p`` significand bits with ``2**(1 - p)`` wider (float16's
    ``2**-10``, bfloat16's ``2**-7``), that: each ``p_i`` rounded moves the sum by at most
    ``2**-p p_i``, so the sum by at most ``2**-p``, twice that for the normalisation before."""
    return mpmath.ldexp(1, -min(20, INPUT_SIGNIFICAND_BITS.get() - 1))


@contextlib.contextmanager
def inputs_rounded_to(bits: int) -> Iterator[None]:
    """Evaluate with inputs known to be rounded to ``bits`` significand bits."""
    token = INPUT_SIGNIFICAND_BITS.set(bits)
    try:
        yield
    finally:
        INPUT_SIGNIFICAND_BITS.reset(token)


P = ParamSpec("P")
R = TypeVar("R")


def exact(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` at ``PRECISION_BITS`` of working precision, or more where the caller
    runs it under a higher ``mpmath.workprec`` (the oracle's precision-doubling check)."""

    @functools.wraps(function)
    def at_high_precision(*args: P.args, **kwargs: P.kwargs) -> R:
        with mpmath.workprec(max(PRECISION_BITS, mpmath.mp.prec)):
            return function(*args, **kwargs)

    return at_high_precision


GUARD_BITS: Final = 64
"""Extra bits for a formula that cancels near a root of an irrational function (SiLU's
derivative at x = -1.278..., softmax(z) against a target): no rewrite removes that cancellation,
but a float input comes no closer to the root than its spacing, so the loss is bounded, by about
2**-60 of the terms for float64 inputs; 64 guard bits cover it."""


def guarded(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` with :data:`GUARD_BITS` more than the precision in force (put it below
    :func:`exact`)."""

    @functools.wraps(function)
    def with_guard_bits(*args: P.args, **kwargs: P.kwargs) -> R:
        with mpmath.extraprec(GUARD_BITS):
            return function(*args, **kwargs)

    return with_guard_bits


class DomainError(ValueError):
    """An argument outside a concept's domain; the message names concept, argument and domain."""

    def __init__(self, concept: str, argument: str, problem: str) -> None:
        separator = "" if problem.startswith("=") else " "
        super().__init__(f"{concept}: {argument}{separator}{problem}")
        self.concept = concept
        self.argument = argument


@dataclass(frozen=True)
class Tensor:
    """A shape and its elements in row-major order."""

    shape: tuple[int, ...]
    values: tuple[mpf, ...]

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return len(self.values)

    def map(self, function: Callable[[mpf], mpf]) -> Tensor:
        return Tensor(self.shape, tuple(function(v) for v in self.values))

    def lanes(self, axis: int) -> list[list[int]]:
        """Flat indices of every 1-D lane along ``axis``, lanes in row-major order."""
        axis = axis % self.ndim
        stride = math.prod(self.shape[axis + 1 :])
        outer = math.prod(self.shape[:axis])
        length = self.shape[axis]
        return [
            [o * length * stride + i * stride + s for i in range(length)]
            for o in range(outer)
            for s in range(stride)
        ]

    def tolist(self) -> Any:
        """Nested lists of mpf, or a single mpf for a 0-d tensor."""

        def nest(values: Sequence[mpf], shape: tuple[int, ...]) -> Any:
            if not shape:
                return values[0]
            step = math.prod(shape[1:])
            return [nest(values[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]

        return nest(self.values, self.shape)


def as_tensor(data: Any) -> Tensor:
    """A :class:`Tensor` from a tensor, a number or nested sequences of numbers (exactly converted)."""
    if isinstance(data, Tensor):
        return data

    def shape_of(x: Any) -> tuple[int, ...]:
        if isinstance(x, list | tuple):
            inner = {shape_of(item) for item in x}
            if len(inner) > 1:
                raise ValueError(f"ragged nested sequence: element shapes {sorted(inner)}")
            return (len(x), *(inner.pop() if inner else ()))
        return ()

    def flatten(x: Any) -> Iterable[mpf]:
        if isinstance(x, list | tuple):
            for item in x:
                yield from flatten(item)
        else:
            yield mpf(x)

    return Tensor(shape_of(data), tuple(flatten(data)))


def scalar_if_0d(tensor: Tensor) -> Tensor | mpf:
    return tensor.values[0] if tensor.shape == () else tensor


def along_axis(function: Callable[[list[mpf]], list[mpf]], x: Tensor, axis: int) -> Tensor:
    """Apply a lane-to-lane function to every lane along ``axis``; the shape is kept."""
    out: list[mpf] = list(x.values)
    for lane in x.lanes(axis):
        for index, value in zip(lane, function([x.values[i] for i in lane]), strict=True):
            out[index] = value
    return Tensor(x.shape, tuple(out))


def reduce_axis(function: Callable[..., mpf], axis: int, *tensors: Tensor) -> Tensor | mpf:
    """Apply ``function(lane_a, lane_b, ...)`` to matching lanes along ``axis`` of equally shaped
    tensors; that axis is removed from the result."""
    shape = tensors[0].shape
    axis = axis % len(shape)
    reduced = tuple(
        function(*([t.values[i] for i in lane] for t in tensors)) for lane in tensors[0].lanes(axis)
    )
    return scalar_if_0d(Tensor(shape[:axis] + shape[axis + 1 :], reduced))


def exact_sum(values: Iterable[mpf]) -> mpf:
    """The sum of ``values`` without rounding (floats and their exact sums and products have
    finitely many bits): what a cancelling difference of sums needs."""
    return functools.reduce(lambda a, b: mpmath.fadd(a, b, exact=True), values, mpf(0))


def exact_product(*factors: mpf | int) -> mpf:
    """The product of ``factors`` without rounding."""
    return functools.reduce(lambda a, b: mpmath.fmul(a, b, exact=True), factors, mpf(1))


def scaled_deviations(lane: Sequence[mpf]) -> list[mpf]:
    """``n x_j - sum x``, exactly: ``n`` times each deviation from the lane's mean, without the
    rounding of the mean that ``x_j - mean`` would carry into a cancellation."""
    total, n = exact_sum(lane), len(lane)
    return [mpmath.fsub(exact_product(n, v), total, exact=True) for v in lane]


STORED_FORMATS: Final = {"float64": "d", "float32": "f", "float16": "e"}
"""The ``struct`` codes of the formats :func:`stored` rounds into (IEEE binary64, 32, 16)."""


def stored(value: float, input_dtype: str) -> mpf:
    """The Python float ``value`` as an array of ``input_dtype`` stores it (``struct`` packs it
    to nearest, ties to even, with the format's subnormals): the number a framework works with
    where it compares or clips an array against a Python scalar, which takes the array's dtype.
    Keras's ``1 - 1e-7`` is ``1 - 2**-23`` in float32 (``1 - 1e-7`` in float64). bfloat16, which
    ``struct`` lacks, is ``value`` rounded once to 8 significand bits (its normal range is
    float32's)."""
    if input_dtype == "bfloat16":
        with mpmath.workprec(8):
            return +mpf(value)
    code = STORED_FORMATS[input_dtype]
    return mpf(struct.unpack(code, struct.pack(code, value))[0])


def xlogy(x: mpf, y: mpf) -> mpf:
    """``x * log(y)`` with ``0 * log(y) = 0`` for every ``y``, so that ``0 log 0 = 0``."""
    return mpf(0) if x == 0 else x * mpmath.log(y)


def log_base(base: float | None) -> mpf:
    """``ln(base)``, the divisor that turns natural logarithms into base ``base``; 1 for nats."""
    return mpf(1) if base is None else mpmath.log(mpf(base))


# Domain checks. Each raises DomainError naming the concept, the argument and the allowed domain.


def check_tensor(concept: str, argument: str, x: Tensor, *, min_ndim: int = 0) -> None:
    if x.ndim < min_ndim:
        raise DomainError(
            concept, argument, f"must have at least {min_ndim} dimension(s), got shape {x.shape}"
        )
    if x.size == 0:
        raise DomainError(concept, argument, f"must not be empty, got shape {x.shape}")
    if any(mpmath.isnan(v) for v in x.values):
        raise DomainError(concept, argument, "must not contain NaN")


def check_axis(concept: str, x: Tensor, axis: int) -> None:
    if not -x.ndim <= axis < x.ndim:
        raise DomainError(concept, "axis", f"={axis} is out of range for shape {x.shape}")


def check_same_shape(concept: str, first: tuple[str, Tensor], second: tuple[str, Tensor]) -> None:
    (name_a, a), (name_b, b) = first, second
    if a.shape != b.shape:
        raise DomainError(
            concept, f"{name_a}, {name_b}", f"must have the same shape, got {a.shape} and {b.shape}"
        )


def check_in_unit_interval(concept: str, argument: str, x: Tensor) -> None:
    outside = [v for v in x.values if not 0 <= v <= 1]
    if outside:
        raise DomainError(
            concept, argument, f"must lie in [0, 1]; found {mpmath.nstr(outside[0], 8)}"
        )


def check_distributions(concept: str, argument: str, x: Tensor, axis: int) -> None:
    """Each lane along ``axis`` is non-negative and sums to 1 within
    :func:`distribution_tolerance`."""
    check_in_unit_interval(concept, argument, x)
    tolerance = distribution_tolerance()
    for lane in x.lanes(axis):
        total = mpmath.fsum(x.values[i] for i in lane)
        if abs(total - 1) > tolerance:
            raise DomainError(
                concept,
                argument,
                f"must sum to 1 along axis {axis} within {mpmath.nstr(tolerance, 6)}; "
                f"a lane sums to {mpmath.nstr(total, 10)}",
            )


def check_choice(concept: str, argument: str, value: object, allowed: Sequence[object]) -> None:
    if value not in allowed:
        raise DomainError(concept, argument, f"={value!r} is not one of {list(allowed)}")


def check_base(concept: str, base: float | None) -> None:
    if base is not None and not (base > 0 and base != 1):
        raise DomainError(concept, "base", f"={base!r} must be positive and not 1 (None means e)")


def require(concept: str, argument: str, value: object, ok: bool, domain: str) -> None:
    """Raise :class:`DomainError` ``"<concept>: <argument>=<value> must be <domain>"`` unless ok."""
    if not ok:
        raise DomainError(concept, argument, f"={value!r} must be {domain}")


def check_ndim(concept: str, argument: str, x: Tensor, ndim: int) -> None:
    if x.ndim != ndim:
        raise DomainError(
            concept, argument, f"must have exactly {ndim} dimension(s), got shape {x.shape}"
        )


def elementwise(concept: str, x: Any, function: Callable[[mpf], mpf]) -> Tensor:
    """``function`` applied to every element of the (checked) tensor ``x``."""
    x = as_tensor(x)
    check_tensor(concept, "x", x)
    return x.map(function)


def rows(x: Tensor) -> list[list[mpf]]:
    """The rows of a 2-D tensor, as lists."""
    width = x.shape[1]
    return [list(x.values[i * width : (i + 1) * width]) for i in range(x.shape[0])]


# ---------------------------------------------------------------- gradients: shared pieces


AT_ZERO: Final = ("zero", "one", "minus_one")


def checked_cotangent(concept: str, cotangent: Any, shape: tuple[int, ...]) -> Tensor:
    """The checked cotangent: the shape of the concept's result."""
    cotangent = as_tensor(cotangent)
    if cotangent.shape != shape:
        raise DomainError(
            concept,
            "cotangent",
            f"must have the result's shape {shape}, got {cotangent.shape}",
        )
    if any(mpmath.isnan(v) for v in cotangent.values):
        raise DomainError(concept, "cotangent", "must not contain NaN")
    return cotangent


def kinked_sign(v: mpf, at_zero: str) -> mpf:
    """sign(v), with the value ``at_zero`` names at 0 (``"zero"``: 0, ``"one"``: 1,
    ``"minus_one"``: -1)."""
    if v == 0:
        return {"zero": mpf(0), "one": mpf(1), "minus_one": mpf(-1)}[at_zero]
    return mpf(1) if v > 0 else mpf(-1)


def lanewise(
    x: Tensor, g: Tensor, axis: int, function: Callable[[list[mpf], list[mpf]], list[mpf]]
) -> Tensor:
    """``function(x_lane, g_lane)`` on every lane along ``axis``."""
    out: list[mpf] = list(x.values)
    for lane in x.lanes(axis):
        result = function([x.values[i] for i in lane], [g.values[i] for i in lane])
        for i, value in zip(lane, result, strict=True):
            out[i] = value
    return Tensor(x.shape, tuple(out))
