"""Losses: MSE and binary cross entropy (spec/concepts/<id>.md)."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlspec import strategies as dst
from dlspec.checks import (
    allowance_for,
    check_close,
    check_oracle,
    check_relation,
    input_text,
    run_backend,
)

REDUCTIONS = st.sampled_from(["mean", "sum", "none"])
REAL_PAIRS = dst.paired_arrays(st.floats(-1e3, 1e3, allow_nan=False))
PROBABILITY = st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0.0, 1.0))
PROBABILITY_PAIRS = dst.paired_arrays(PROBABILITY)
BCE_EDGES = {
    "p at 0 and 1, hard and soft targets": (
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0],
        [0.0, 0.5, 1.0, 0.0, 0.5, 1.0],
    ),
    "p near the clamp": ([1e-44, 1e-300, 1 - 1e-16, 3.7e-44], [0.5, 0.25, 0.5, 1.0]),
    "one element": ([0.25], [1.0]),
    "1024 elements": (np.linspace(0.0, 1.0, 1024), np.linspace(1.0, 0.0, 1024)),
}
MSE_EDGES = {
    "equal": ([1.5, -2.0, 0.0], [1.5, -2.0, 0.0]),
    "one element": ([3.0], [-1.0]),
    "large magnitudes": ([1e15, -1e15], [-1e15, 1e15]),
    "1024 elements": (np.linspace(-5.0, 5.0, 1024), np.zeros(1024)),
}


# ---------------------------------------------------------------- mse_loss


@pytest.mark.concept("mse_loss")
@given(pair=REAL_PAIRS, reduction=REDUCTIONS)
@example(pair=(np.array([1.0, 2.0]), np.array([1.0, 4.0])), reduction="mean")  # = 2
def test_mse_loss_matches_reference(backend, dtype, pair, reduction):
    prediction, target = (a.astype(dtype) for a in pair)
    check_oracle("mse_loss", backend, prediction, target, reduction=reduction)


@pytest.mark.concept("mse_loss")
@pytest.mark.parametrize("edge", MSE_EDGES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_edge_inputs(backend, dtype, edge, reduction):
    prediction, target = (np.asarray(a, dtype=dtype) for a in MSE_EDGES[edge])
    check_oracle("mse_loss", backend, prediction, target, kind="edge", reduction=reduction)


@pytest.mark.concept("mse_loss")
@given(prediction=dst.dyadic_arrays(bound=64), data=st.data())
def test_mse_loss_is_zero_iff_equal(backend, dtype, prediction, data):
    prediction = prediction.astype(dtype)
    index = data.draw(st.integers(0, prediction.size - 1), label="changed element")
    step = data.draw(st.sampled_from([-1.0, 1.0]), label="step")
    moved = prediction.copy()
    moved.flat[index] += np.asarray(step, dtype=dtype)  # exact: a dyadic value plus one
    same = run_backend("mse_loss", backend, prediction, prediction.copy())
    different = run_backend("mse_loss", backend, prediction, moved)
    text = input_text("mse_loss", prediction, moved)
    check_relation(
        "mse_loss",
        backend,
        dtype,
        "mse(a, a) == 0",
        same == 0,
        actual=same,
        expected=0.0,
        inputs=text,
    )
    check_relation(
        "mse_loss",
        backend,
        dtype,
        "mse(a, b) > 0 when a != b",
        different > 0,
        actual=different,
        expected="> 0",
        inputs=text,
    )


@pytest.mark.concept("mse_loss")
@given(pair=REAL_PAIRS, reduction=REDUCTIONS)
def test_mse_loss_is_symmetric(backend, dtype, pair, reduction):
    a, b = (x.astype(dtype) for x in pair)
    forward = run_backend("mse_loss", backend, a, b, reduction=reduction)
    backward = run_backend("mse_loss", backend, b, a, reduction=reduction)
    allowed = allowance_for("mse_loss", backend, [a, b], forward, reduction=reduction)
    allowed = allowed + allowance_for("mse_loss", backend, [b, a], backward, reduction=reduction)
    check_close(
        "mse_loss",
        backend,
        dtype,
        "mse(a, b) == mse(b, a)",
        forward,
        backward,
        allowed,
        inputs=input_text("mse_loss", a, b, reduction=reduction),
    )


# ---------------------------------------------------------------- binary_cross_entropy


@pytest.mark.concept("binary_cross_entropy")
@given(pair=PROBABILITY_PAIRS, reduction=REDUCTIONS)
@example(pair=(np.array([0.5]), np.array([1.0])), reduction="mean")  # = log 2
def test_binary_cross_entropy_matches_reference(backend, dtype, pair, reduction):
    probability, target = (a.astype(dtype) for a in pair)
    check_oracle("binary_cross_entropy", backend, probability, target, reduction=reduction)


@pytest.mark.concept("binary_cross_entropy")
@pytest.mark.parametrize("edge", BCE_EDGES)
def test_binary_cross_entropy_edge_inputs(backend, dtype, edge):
    probability, target = (np.asarray(a, dtype=dtype) for a in BCE_EDGES[edge])
    check_oracle(
        "binary_cross_entropy", backend, probability, target, kind="edge", reduction="none"
    )


@pytest.mark.concept("binary_cross_entropy")
@given(
    probability=dst.dyadic_arrays(bound=1, fraction_bits=10).map(np.abs),
    data=st.data(),
)
def test_binary_cross_entropy_is_symmetric_under_complement(backend, dtype, probability, data):
    """BCE(p, y) == BCE(1 - p, 1 - y); p and y on a dyadic grid, so 1 - p and 1 - y are exact."""
    target = data.draw(
        dst.dyadic_arrays(bound=1, fraction_bits=2, shape=st.just(probability.shape)).map(np.abs),
        label="target",
    )
    p, y = probability.astype(dtype), target.astype(dtype)
    forward = run_backend("binary_cross_entropy", backend, p, y, reduction="none")
    mirrored = run_backend("binary_cross_entropy", backend, 1 - p, 1 - y, reduction="none")
    allowed = allowance_for("binary_cross_entropy", backend, [p, y], forward, reduction="none")
    allowed = allowed + allowance_for(
        "binary_cross_entropy", backend, [1 - p, 1 - y], mirrored, reduction="none"
    )
    check_close(
        "binary_cross_entropy",
        backend,
        dtype,
        "BCE(p, y) == BCE(1 - p, 1 - y)",
        forward,
        mirrored,
        allowed,
        inputs=input_text("binary_cross_entropy", p, y, reduction="none"),
    )
    check_relation(
        "binary_cross_entropy",
        backend,
        dtype,
        "BCE(p, y) >= 0",
        forward >= 0,
        actual=forward,
        expected="values >= 0",
        inputs=input_text("binary_cross_entropy", p, y, reduction="none"),
    )
