"""Hypothesis strategies for the inputs of the catalogue's concepts.

Every strategy draws float64 NumPy arrays; a test casts them to the dtype under test, and the
reference is evaluated on the cast array, so what is compared is always exact. Options are
keyword-only and validated eagerly, with messages that name ``arg=value`` and the rule.
"""

from __future__ import annotations

import functools

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_SIDE = 16

SIDES = (1, 2, 3, 5, 8, 16)
"""The side lengths shapes are made of: the smallest sizes (where edge cases live), odd and
even, powers of two and a size between, up to ``MAX_SIDE``."""

SHAPES: dict[int, tuple[tuple[int, ...], ...]] = {
    0: ((),),
    1: ((1,), (2,), (3,), (5,), (8,), (16,)),
    2: ((1, 1), (1, 5), (2, 3), (3, 2), (5, 1), (2, 16), (8, 5), (16, 3)),
    3: ((1, 1, 1), (2, 3, 1), (1, 2, 3), (3, 2, 5), (5, 3, 2), (2, 16, 3)),
    4: ((1, 1, 1, 1), (2, 3, 2, 1), (1, 5, 3, 2), (3, 2, 1, 5)),
}
"""The shapes drawn, per number of dimensions, simplest first (Hypothesis shrinks towards the
first): every side of :data:`SIDES` in one dimension; in more, a row and a column, wide and
tall, odd and even, never square beyond 1 (a square hides a transposed axis), with sides up to
``MAX_SIDE``. A short menu, not every combination of sides: a compiling backend (JAX, or
``torch.compile``) compiles each function once per shape, and 14 shapes of one or two
dimensions compile in a third of the time of the 42 that all pairs of sides make. Sizes beyond
are the edge inputs' (1024 elements) and the speed benchmarks' business."""


@functools.cache
def arrays_of(shape: tuple[int, ...], elements: st.SearchStrategy) -> st.SearchStrategy:
    """float64 arrays of a drawn ``shape``: one strategy per shape and elements, built (and
    validated by Hypothesis) once rather than at every draw of a composite strategy."""
    return hnp.arrays(np.float64, shape, elements=elements)


UNIT_WEIGHTS = st.floats(0.0, 1.0)
UNIT_WEIGHTS_OR_ZERO = st.one_of(st.just(0.0), UNIT_WEIGHTS)
POSITIVE_WEIGHTS = st.floats(1e-3, 1.0)
LANE_VALUES = st.floats(-50.0, 50.0)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def shapes(*, min_dims: int = 1, max_dims: int = 2, max_side: int = MAX_SIDE) -> st.SearchStrategy:
    """Array shapes of ``min_dims`` to ``max_dims`` dimensions from :data:`SHAPES`, each side
    capped at ``max_side``."""
    _check(
        0 <= min_dims <= max_dims <= max(SHAPES),
        f"{min_dims=} and {max_dims=} need 0 <= min_dims <= max_dims <= {max(SHAPES)}",
    )
    _check(max_side >= 1, f"{max_side=} must be at least 1")
    menu = [
        tuple(min(side, max_side) for side in shape)
        for dims in range(min_dims, max_dims + 1)
        for shape in SHAPES[dims]
    ]
    return st.sampled_from(list(dict.fromkeys(menu)))


def float_arrays(
    *,
    min_value: float = -1e3,
    max_value: float = 1e3,
    shape: st.SearchStrategy | None = None,
    min_magnitude: float = 0.0,
) -> st.SearchStrategy:
    """Finite float64 arrays with elements in [min_value, max_value], subnormals included unless
    ``min_magnitude`` keeps every non-zero element at least that far from 0."""
    _check(min_value <= max_value, f"{min_value=} must not exceed {max_value=}")
    _check(min_magnitude >= 0, f"{min_magnitude=} must be non-negative")
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)
    if min_magnitude > 0:
        elements = elements.filter(lambda v: v == 0 or abs(v) >= min_magnitude)
    return hnp.arrays(np.float64, shape if shape is not None else shapes(), elements=elements)


def dyadic_arrays(
    *, bound: int = 32, fraction_bits: int = 3, shape: st.SearchStrategy | None = None
) -> st.SearchStrategy:
    """Arrays of multiples of 2**-fraction_bits in [-bound, bound]: exact in float32 and float64,
    and so are their sums with small integers and their complements ``1 - x`` (for bound 1)."""
    _check(bound >= 1, f"{bound=} must be at least 1")
    _check(0 <= fraction_bits <= 12, f"{fraction_bits=} must lie in [0, 12]")
    scale = 2**fraction_bits
    elements = st.integers(-bound * scale, bound * scale).map(lambda k: k / scale)
    return hnp.arrays(np.float64, shape if shape is not None else shapes(), elements=elements)


@st.composite
def distributions(
    draw: st.DrawFn, *, max_dims: int = 2, max_side: int = MAX_SIDE, zeros: bool = True
) -> np.ndarray:
    """Arrays whose lanes along the last axis are probability distributions (some entries 0)."""
    shape = draw(shapes(min_dims=1, max_dims=max_dims, max_side=max_side))
    weights = draw(arrays_of(shape, UNIT_WEIGHTS_OR_ZERO if zeros else POSITIVE_WEIGHTS))
    weights[..., 0] = np.where(weights.sum(axis=-1) == 0, 1.0, weights[..., 0])
    return weights / weights.sum(axis=-1, keepdims=True)


@st.composite
def distribution_pairs(
    draw: st.DrawFn, *, max_dims: int = 2, max_side: int = MAX_SIDE
) -> tuple[np.ndarray, np.ndarray]:
    """``(p, q)`` of one shape; ``q`` is strictly positive where ``p`` is, so H(P, Q) is finite."""
    p = draw(distributions(max_dims=max_dims, max_side=max_side))
    q = draw(arrays_of(p.shape, POSITIVE_WEIGHTS))
    return p, q / q.sum(axis=-1, keepdims=True)


@st.composite
def paired_arrays(
    draw: st.DrawFn, elements: st.SearchStrategy, *, max_dims: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Two arrays of one shape, e.g. prediction and target."""
    shape = draw(shapes(min_dims=1, max_dims=max_dims))
    return draw(arrays_of(shape, elements)), draw(arrays_of(shape, elements))


def axes_for(array: np.ndarray) -> st.SearchStrategy:
    """A valid axis of ``array``, negative or not."""
    return st.integers(-array.ndim, array.ndim - 1)


THREE_D_SIDES = (2, 3, 5)
"""Sides of the 3-D inputs that test ``axis``: all different, so a lane taken along the wrong axis
has another length (and a reduction another shape), and few, so a compiling backend compiles
each function for at most six shapes."""


@st.composite
def three_d_lanes(
    draw: st.DrawFn, elements: st.SearchStrategy | None = None, *, distributions: bool = False
) -> tuple[np.ndarray, int]:
    """A 3-D array whose sides are :data:`THREE_D_SIDES` in some order, and an axis of it
    (negative or not), for concepts that work along an axis. ``distributions=True``: the lanes
    along that axis are probability distributions."""
    shape = draw(st.permutations(THREE_D_SIDES)).copy()
    axis = draw(st.integers(-3, 2))
    if not distributions:
        values = elements if elements is not None else LANE_VALUES
        return draw(arrays_of(tuple(shape), values)), axis
    weights = draw(arrays_of(tuple(shape), POSITIVE_WEIGHTS))
    return weights / weights.sum(axis=axis, keepdims=True), axis
