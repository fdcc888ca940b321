"""Regularization penalties (spec/concepts/<id>.md)."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dlspec import catalogue, reference
from dlspec import strategies as dst
from dlspec.checks import (
    assume_in_range,
    check_close,
    check_oracle,
    declared_convention,
    input_text,
    run_with_allowance,
)
from dlspec.plugin import each_concept

STRENGTHS = st.sampled_from([0.0, 0.01, 0.5, 1.0, 3.0])
WEIGHTS = dst.float_arrays(min_value=-1e3, max_value=1e3)
PENALTY_EDGES = {
    "zeros": [0.0, -0.0, 0.0],
    "one weight": [-2.5],
    "large": [1e15, -1e15, 3e14],
    "1024 weights": np.linspace(-3.0, 3.0, 1024),
}
EULER_DEGREE = {"l1_penalty": 1, "l2_penalty": 2}


def _reference_gradient(concept_id, backend, weights, strength):
    """The penalty's gradient, exact, under the convention the backend declares."""
    variants = {
        v: declared_convention(concept_id, backend, v)
        for v in catalogue.load().concept(concept_id).variants
    }
    gradient = getattr(reference, f"{concept_id}_grad")(
        weights.tolist(), 1.0, strength=strength, **variants
    )
    return np.array([float(g) for g in gradient.values]).reshape(weights.shape)


@pytest.mark.concept("l1_penalty")
@given(weights=WEIGHTS, strength=STRENGTHS)
@example(weights=np.array([1.0, -2.0]), strength=0.5)  # 1.5
def test_l1_penalty_matches_reference(backend, dtype, weights, strength):
    check_oracle("l1_penalty", backend, weights.astype(dtype), strength=strength)


@pytest.mark.concept("l2_penalty")
@given(weights=WEIGHTS, strength=STRENGTHS)
@example(weights=np.array([3.0, 4.0]), strength=1.0)  # 12.5 (half) or 25 (full)
def test_l2_penalty_matches_reference(backend, dtype, weights, strength):
    check_oracle("l2_penalty", backend, weights.astype(dtype), strength=strength)


@each_concept("l1_penalty", "l2_penalty")
@pytest.mark.parametrize("edge", PENALTY_EDGES)
def test_penalty_edge_inputs(backend, dtype, concept_id, edge):
    weights = np.asarray(PENALTY_EDGES[edge], dtype=dtype)
    check_oracle(concept_id, backend, weights, kind="edge", strength=0.5)


@each_concept("l1_penalty", "l2_penalty")
@given(weights=dst.dyadic_arrays(bound=64), strength=STRENGTHS, power=st.integers(-3, 3))
def test_penalty_is_homogeneous_and_even(backend, dtype, concept_id, weights, strength, power):
    """P(c w) == |c|^d P(w) for c = ±2^k (exact scaling), degree d = 1 (L1) or 2 (L2)."""
    w = weights.astype(dtype)
    scale = -(2.0**power)
    scaled = w * np.asarray(scale, dtype=dtype)
    assume_in_range(concept_id, backend, scaled, strength=strength)
    base, allowed = run_with_allowance(concept_id, backend, w, strength=strength)
    moved, allowed_moved = run_with_allowance(concept_id, backend, scaled, strength=strength)
    factor = abs(scale) ** EULER_DEGREE[concept_id]
    check_close(
        concept_id,
        backend,
        dtype,
        f"P({scale} w) == {factor} P(w)",
        moved,
        factor * base.astype(np.float64),
        allowed_moved + factor * allowed,
        inputs=input_text(concept_id, w, strength=strength)
        | input_text(concept_id, scaled, strength=strength),
    )


@each_concept("l1_penalty", "l2_penalty")
@given(weights=WEIGHTS, strength=STRENGTHS)
def test_penalty_agrees_with_its_declared_gradient(backend, dtype, concept_id, weights, strength):
    """Euler's theorem for a penalty homogeneous of degree d: sum_i w_i dP/dw_i == d P(w), with
    the exact gradient of the convention the backend declares (lambda w for "half", 2 lambda w
    for "full"): a backend whose value follows the other convention is off by a factor 2."""
    w = weights.astype(dtype)
    assume_in_range(concept_id, backend, w, strength=strength)
    value, allowed = run_with_allowance(concept_id, backend, w, strength=strength)
    gradient = _reference_gradient(concept_id, backend, w, strength)
    degree = EULER_DEGREE[concept_id]
    check_close(
        concept_id,
        backend,
        dtype,
        f"sum_i w_i dP/dw_i == {degree} P(w)",
        degree * value.astype(np.float64),
        float(np.sum(w.astype(np.float64) * gradient)),
        degree * allowed
        + 2 * w.size * np.finfo(np.float64).eps * np.sum(np.abs(w * gradient))
        + w.size * np.finfo(np.float64).smallest_subnormal,  # the float64 products may underflow
        inputs=input_text(concept_id, w, strength=strength),
    )
