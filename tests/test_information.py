"""Information theory: entropy, cross entropy, KL divergence (spec/concepts/<id>.md)."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlspec import strategies as dst
from dlspec.checks import (
    allowance_for,
    check_close,
    check_oracle,
    check_relation,
    declared_convention,
    input_text,
    needs_concepts,
    run_backend,
    run_with_allowance,
)
from dlspec.plugin import each_concept

BASES = st.sampled_from([None, 2.0, 10.0])
DISTRIBUTION_EDGES = {
    "certain outcome": [[0.0, 1.0, 0.0]],
    "one element": [1.0],
    "1000 uniform": np.full(1000, 1e-3),
    "tiny mass": [[1.0 - 1e-30, 1e-30], [1e-300, 1.0 - 1e-300]],
}


@pytest.mark.concept("entropy")
@given(p=dst.distributions(), base=BASES)
@example(p=np.array([0.5, 0.5]), base=2.0)  # seed: a fair coin has 1 bit
@example(p=np.array([0.9, 0.1]), base=2.0)  # seed: a 0.9/0.1 coin has about 0.469 bits
def test_entropy_matches_reference(backend, dtype, p, base):
    check_oracle("entropy", backend, p.astype(dtype), base=base, axis=-1)


@pytest.mark.concept("entropy")
@given(lanes=dst.three_d_lanes(distributions=True))
def test_entropy_along_any_axis_of_a_3d_input(backend, dtype, lanes):
    """Distributions along the axis asked for, the others of other lengths: an implementation
    that ignores ``axis`` (or takes the last, or PyTorch's legacy implicit dimension) fails."""
    p, axis = lanes
    check_oracle("entropy", backend, p.astype(dtype), base=None, axis=axis)


@pytest.mark.concept("entropy")
@pytest.mark.parametrize("edge", DISTRIBUTION_EDGES)
def test_entropy_edge_inputs(backend, dtype, edge):
    p = np.asarray(DISTRIBUTION_EDGES[edge], dtype=dtype)
    check_oracle("entropy", backend, p, kind="edge", base=None, axis=-1)


@pytest.mark.concept("entropy")
@given(p=dst.distributions(), base=BASES)
def test_entropy_lies_between_zero_and_log_n(backend, dtype, p, base):
    p = p.astype(dtype)
    n = p.shape[-1]
    h = run_backend("entropy", backend, p, base=base, axis=-1)
    uniform = np.full_like(p, 1 / n)
    h_uniform = run_backend("entropy", backend, uniform, base=base, axis=-1)
    allowed = allowance_for("entropy", backend, [p], h, base=base, axis=-1)
    allowed_uniform = allowance_for("entropy", backend, [uniform], h_uniform, base=base, axis=-1)
    log_n = np.log(n) / (1.0 if base is None else np.log(base))
    text = input_text("entropy", p, base=base, axis=-1)
    check_relation(
        "entropy",
        backend,
        dtype,
        "H(p) >= 0",
        h >= -allowed,
        actual=h,
        expected="values >= 0",
        inputs=text,
    )
    check_relation(
        "entropy",
        backend,
        dtype,
        "H(p) <= log n, the entropy of the uniform",
        h <= log_n + allowed + allowed_uniform,
        actual=h,
        expected=log_n,
        inputs=text,
    )
    check_close(
        "entropy",
        backend,
        dtype,
        "H(uniform over n) == log n",
        h_uniform,
        np.full_like(h_uniform, log_n, dtype=np.float64),
        allowed_uniform,
        inputs=text,
    )


@pytest.mark.concept("cross_entropy")
@given(pq=dst.distribution_pairs(), base=BASES)
@example(pq=(np.array([1.0, 0.0]), np.array([0.5, 0.5])), base=2.0)  # 1 bit
def test_cross_entropy_matches_reference(backend, dtype, pq, base):
    p, q = (a.astype(dtype) for a in pq)
    check_oracle("cross_entropy", backend, p, q, base=base, axis=-1)


@each_concept("cross_entropy", "kl_divergence")
@given(p_lanes=dst.three_d_lanes(distributions=True), data=st.data())
def test_two_distributions_along_any_axis_of_a_3d_input(backend, dtype, concept_id, p_lanes, data):
    """As ``test_entropy_along_any_axis_of_a_3d_input``, for H(P, Q) and D(P || Q)."""
    p, axis = p_lanes
    weights = data.draw(hnp.arrays(np.float64, p.shape, elements=st.floats(1e-3, 1.0)), label="q")
    q = weights / weights.sum(axis=axis, keepdims=True)
    check_oracle(concept_id, backend, p.astype(dtype), q.astype(dtype), base=None, axis=axis)


@each_concept("cross_entropy", "kl_divergence")
@pytest.mark.parametrize("edge", DISTRIBUTION_EDGES)
def test_two_distribution_edge_inputs(backend, dtype, concept_id, edge):
    p = np.asarray(DISTRIBUTION_EDGES[edge], dtype=dtype)
    q = np.flip(p, axis=-1).copy()
    check_oracle(concept_id, backend, p, p, kind="edge", base=None, axis=-1)
    check_oracle(concept_id, backend, p, q, kind="edge", base=None, axis=-1)


@pytest.mark.concept("cross_entropy")
@given(pq=dst.distribution_pairs())
def test_gibbs_inequality(backend, dtype, pq):
    """H(P, Q) >= H(P), with equality at Q = P (so KL(P || Q) >= 0)."""
    p, q = (a.astype(dtype) for a in pq)
    cross = run_backend("cross_entropy", backend, p, q, axis=-1)
    own = run_backend("cross_entropy", backend, p, p, axis=-1)
    allowed_cross = allowance_for("cross_entropy", backend, [p, q], cross, axis=-1)
    allowed_own = allowance_for("cross_entropy", backend, [p, p], own, axis=-1)
    text = input_text("cross_entropy", p, q, axis=-1)
    check_relation(
        "cross_entropy",
        backend,
        dtype,
        "H(P, Q) >= H(P, P)",
        cross >= own - allowed_cross - allowed_own,
        actual=cross,
        expected=own,
        inputs=text,
    )
    if backend.supports("entropy"):
        h = run_backend("entropy", backend, p, axis=-1)
        allowed_h = allowance_for("entropy", backend, [p], h, axis=-1)
        check_close(
            "cross_entropy",
            backend,
            dtype,
            "H(P, P) == H(P)",
            own,
            h,
            allowed_own + allowed_h,
            inputs=text,
        )


# ---------------------------------------------------------------- kl_divergence


@pytest.mark.concept("kl_divergence")
@given(pq=dst.distribution_pairs(), base=BASES)
@example(pq=(np.array([1.0, 0.0]), np.array([0.5, 0.5])), base=2.0)  # 1 bit
def test_kl_divergence_matches_reference(backend, dtype, pq, base):
    p, q = (a.astype(dtype) for a in pq)
    check_oracle("kl_divergence", backend, p, q, base=base, axis=-1)


@pytest.mark.concept("kl_divergence")
@given(pq=dst.distribution_pairs(), base=BASES)
def test_kl_divergence_is_nonnegative_and_zero_on_itself(backend, dtype, pq, base):
    """Gibbs' inequality: D(P || Q) >= 0, and D(P || P) == 0."""
    p, q = (a.astype(dtype) for a in pq)
    d, allowed = run_with_allowance("kl_divergence", backend, p, q, base=base, axis=-1)
    own, allowed_own = run_with_allowance("kl_divergence", backend, p, p, base=base, axis=-1)
    text = input_text("kl_divergence", p, q, base=base, axis=-1)
    check_relation(
        "kl_divergence",
        backend,
        dtype,
        "D(P || Q) >= 0",
        d >= -allowed,
        actual=d,
        expected="values >= 0",
        inputs=text,
    )
    check_close(
        "kl_divergence",
        backend,
        dtype,
        "D(P || P) == 0",
        own,
        np.zeros_like(own, dtype=np.float64),
        allowed_own,
        inputs=input_text("kl_divergence", p, p, base=base, axis=-1),
    )


@pytest.mark.concept("kl_divergence")
@given(pq=dst.distribution_pairs())
def test_kl_divergence_is_cross_entropy_minus_entropy(backend, dtype, pq):
    """Under a declared ``clip`` (Keras's), the identity holds for the clipped distributions."""
    needs_concepts(backend, "cross_entropy", "entropy")
    p, q = (a.astype(dtype) for a in pq)
    d, allowed_d = run_with_allowance("kl_divergence", backend, p, q, axis=-1)
    if declared_convention("kl_divergence", backend, "clip") == "clip_1e-7":
        p, q = (np.clip(a, a.dtype.type(1e-7), 1) for a in (p, q))
    cross, allowed_cross = run_with_allowance("cross_entropy", backend, p, q, axis=-1)
    h, allowed_h = run_with_allowance("entropy", backend, p, axis=-1)
    check_close(
        "kl_divergence",
        backend,
        dtype,
        "D(P || Q) == H(P, Q) - H(P)",
        d,
        cross.astype(np.float64) - h,
        allowed_d + allowed_cross + allowed_h,
        inputs=input_text("kl_divergence", p, q, axis=-1),
    )
