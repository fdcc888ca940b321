"""Activations: ReLU, sigmoid, softmax and log-softmax (spec/concepts/<id>.md)."""

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

LOGIT_EDGES = {
    "extreme logits 1e4": [[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]],
    "one element": [3.5],
    "1024 elements": np.linspace(-40.0, 40.0, 1024),
    "ties and zeros": [[0.0, 0.0, 0.0, 0.0]],
}
ELEMENTWISE_EDGES = {
    "zeros and signed zero": [0.0, -0.0],
    "saturation": [-1e4, -800.0, -100.0, -20.0, 20.0, 100.0, 800.0, 1e4],
    "tiny": [5e-324, -5e-324, 1e-40, -1e-40, 1e-300, -1e-300],
    "1024 elements": np.linspace(-50.0, 50.0, 1024),
}


# ---------------------------------------------------------------- relu


@pytest.mark.concept("relu")
@given(x=dst.float_arrays(min_value=-1e30, max_value=1e30))
@example(x=np.array([-1.0, -0.0, 0.0, 2.5]))
def test_relu_matches_reference(backend, dtype, x):
    check_oracle("relu", backend, x.astype(dtype))


@pytest.mark.concept("relu")
@pytest.mark.parametrize("edge", ELEMENTWISE_EDGES)
def test_relu_edge_inputs(backend, dtype, edge):
    check_oracle("relu", backend, np.asarray(ELEMENTWISE_EDGES[edge], dtype=dtype), kind="edge")


@pytest.mark.concept("relu")
@given(x=dst.float_arrays())
def test_relu_is_idempotent_nonnegative_and_splits_x(backend, dtype, x):
    x = x.astype(dtype)
    once = run_backend("relu", backend, x)
    twice = run_backend("relu", backend, once)
    negated = run_backend("relu", backend, -x)
    text = input_text("relu", x)
    check_relation(
        "relu",
        backend,
        dtype,
        "relu(relu(x)) == relu(x)",
        twice == once,
        actual=twice,
        expected=once,
        inputs=text,
    )
    check_relation(
        "relu",
        backend,
        dtype,
        "relu(x) >= 0",
        once >= 0,
        actual=once,
        expected=np.zeros_like(once),
        inputs=text,
    )
    check_relation(
        "relu",
        backend,
        dtype,
        "relu(x) - relu(-x) == x",
        once - negated == x,
        actual=once - negated,
        expected=x,
        inputs=text,
    )


# ---------------------------------------------------------------- sigmoid


@pytest.mark.concept("sigmoid")
@given(x=dst.float_arrays(min_value=-200.0, max_value=200.0))
@example(x=np.array([0.0]))  # sigmoid(0) = 1/2
def test_sigmoid_matches_reference(backend, dtype, x):
    check_oracle("sigmoid", backend, x.astype(dtype))


@pytest.mark.concept("sigmoid")
@pytest.mark.parametrize("edge", ELEMENTWISE_EDGES)
def test_sigmoid_edge_inputs(backend, dtype, edge):
    check_oracle("sigmoid", backend, np.asarray(ELEMENTWISE_EDGES[edge], dtype=dtype), kind="edge")


@pytest.mark.concept("sigmoid")
@given(x=dst.float_arrays(min_value=-30.0, max_value=30.0))
def test_sigmoid_is_symmetric_and_bounded(backend, dtype, x):
    x = x.astype(dtype)
    positive = run_backend("sigmoid", backend, x)
    negative = run_backend("sigmoid", backend, -x)
    allowed = allowance_for("sigmoid", backend, [x], positive) + allowance_for(
        "sigmoid", backend, [-x], negative
    )
    text = input_text("sigmoid", x)
    check_close(
        "sigmoid",
        backend,
        dtype,
        "sigmoid(x) + sigmoid(-x) == 1",
        positive.astype(np.float64) + negative,
        np.ones_like(positive, np.float64),
        allowed,
        inputs=text,
    )
    check_relation(
        "sigmoid",
        backend,
        dtype,
        "0 <= sigmoid(x) <= 1",
        (positive >= 0) & (positive <= 1),
        actual=positive,
        expected="values in [0, 1]",
        inputs=text,
    )


# ---------------------------------------------------------------- softmax family


@pytest.mark.concept("softmax")
@given(x=dst.float_arrays(min_value=-100.0, max_value=100.0), data=st.data())
def test_softmax_matches_reference(backend, dtype, x, data):
    check_oracle("softmax", backend, x.astype(dtype), axis=data.draw(dst.axes_for(x), label="axis"))


@pytest.mark.concept("softmax")
@pytest.mark.parametrize("edge", LOGIT_EDGES)
def test_softmax_edge_inputs(backend, dtype, edge):
    check_oracle(
        "softmax", backend, np.asarray(LOGIT_EDGES[edge], dtype=dtype), kind="edge", axis=-1
    )


@pytest.mark.concept("softmax")
@given(x=dst.float_arrays(min_value=-50.0, max_value=50.0))
def test_softmax_lanes_sum_to_one(backend, dtype, x):
    x = x.astype(dtype)
    out = run_backend("softmax", backend, x, axis=-1)
    allowed = allowance_for("softmax", backend, [x], out, axis=-1).sum(axis=-1)
    total = out.astype(np.float64).sum(axis=-1)
    check_close(
        "softmax",
        backend,
        dtype,
        "each lane sums to 1",
        total,
        np.ones_like(total),
        allowed,
        inputs=input_text("softmax", x, axis=-1),
    )


@pytest.mark.concept("softmax")
@given(x=dst.dyadic_arrays(bound=32), shift=st.integers(-64, 64))
def test_softmax_is_shift_invariant(backend, dtype, x, shift):
    x = x.astype(dtype)
    shifted = x + np.asarray(shift, dtype=dtype)  # exact: dyadic values and a small integer
    plain = run_backend("softmax", backend, x, axis=-1)
    moved = run_backend("softmax", backend, shifted, axis=-1)
    allowed = allowance_for("softmax", backend, [x], plain, axis=-1) + allowance_for(
        "softmax", backend, [shifted], moved, axis=-1
    )
    check_close(
        "softmax",
        backend,
        dtype,
        f"softmax(x + {shift}) == softmax(x)",
        moved,
        plain,
        allowed,
        inputs=input_text("softmax", x, axis=-1),
    )


@pytest.mark.concept("log_softmax")
@given(x=dst.float_arrays(min_value=-100.0, max_value=100.0), data=st.data())
@example(x=np.array([0.0, 0.0]), data=None)  # log_softmax([0, 0]) = [-log 2, -log 2]
def test_log_softmax_matches_reference(backend, dtype, x, data):
    axis = -1 if data is None else data.draw(dst.axes_for(x), label="axis")
    check_oracle("log_softmax", backend, x.astype(dtype), axis=axis)


@pytest.mark.concept("log_softmax")
@pytest.mark.parametrize("edge", LOGIT_EDGES)
def test_log_softmax_edge_inputs(backend, dtype, edge):
    check_oracle(
        "log_softmax", backend, np.asarray(LOGIT_EDGES[edge], dtype=dtype), kind="edge", axis=-1
    )


@pytest.mark.concept("log_softmax")
@given(x=dst.dyadic_arrays(bound=32), shift=st.integers(-64, 64))
def test_log_softmax_is_shift_invariant_and_nonpositive(backend, dtype, x, shift):
    x = x.astype(dtype)
    shifted = x + np.asarray(shift, dtype=dtype)
    plain = run_backend("log_softmax", backend, x, axis=-1)
    moved = run_backend("log_softmax", backend, shifted, axis=-1)
    allowed_plain = allowance_for("log_softmax", backend, [x], plain, axis=-1)
    allowed = allowed_plain + allowance_for("log_softmax", backend, [shifted], moved, axis=-1)
    text = input_text("log_softmax", x, axis=-1)
    check_close(
        "log_softmax",
        backend,
        dtype,
        f"log_softmax(x + {shift}) == log_softmax(x)",
        moved,
        plain,
        allowed,
        inputs=text,
    )
    check_relation(
        "log_softmax",
        backend,
        dtype,
        "log_softmax(x) <= 0 (up to the budget)",
        plain <= allowed_plain,
        actual=plain,
        expected="values <= 0",
        inputs=text,
    )
    lane_max = plain.max(axis=-1).astype(np.float64)
    floor = -np.log(x.shape[-1]) - allowed_plain.max(axis=-1)
    check_relation(
        "log_softmax",
        backend,
        dtype,
        "max_i log_softmax(x)_i >= -log n",
        lane_max >= floor,
        actual=lane_max,
        expected=floor,
        inputs=text,
    )
