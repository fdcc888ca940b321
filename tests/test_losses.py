"""Losses (spec/concepts/<id>.md)."""

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
from dlspec.numerics import float_format
from dlspec.plugin import each_concept

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
    """BCE(p, y) == BCE(1 - p, 1 - y); p and y on a dyadic grid, so 1 - p and 1 - y are exact.
    Under Keras's clip the bounds are not symmetric (1e-7 and 1 - 2**-23 in float32): there the
    mirror holds inside them, for p on the grid's interior."""
    target = data.draw(
        dst.dyadic_arrays(bound=1, fraction_bits=2, shape=st.just(probability.shape)).map(np.abs),
        label="target",
    )
    if declared_convention("binary_cross_entropy", backend, "guard") == "prob_clip_1e-7":
        probability = np.clip(probability, 2.0**-10, 1 - 2.0**-10)
    grid = 2.0 ** min(10, float_format(dtype).significand_bits)  # 1 - p exact in bfloat16 too
    probability = np.round(probability * grid) / grid
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


# ---------------------------------------------------------------- mae_loss

ERROR_EDGES = {**MSE_EDGES, "zero and signed zero": ([0.0, -0.0], [-0.0, 0.0])}


@pytest.mark.concept("mae_loss")
@given(pair=REAL_PAIRS, reduction=REDUCTIONS)
@example(pair=(np.array([1.0, 2.0]), np.array([1.0, 4.0])), reduction="mean")  # = 1
def test_mae_loss_matches_reference(backend, dtype, pair, reduction):
    prediction, target = (a.astype(dtype) for a in pair)
    check_oracle("mae_loss", backend, prediction, target, reduction=reduction)


@each_concept("mse_loss", "mae_loss")
@pytest.mark.parametrize("edge", ERROR_EDGES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_error_loss_edge_inputs(backend, dtype, concept_id, edge, reduction):
    prediction, target = (np.asarray(a, dtype=dtype) for a in ERROR_EDGES[edge])
    check_oracle(concept_id, backend, prediction, target, kind="edge", reduction=reduction)


@pytest.mark.concept("mae_loss")
@given(pair=REAL_PAIRS, data=st.data())
def test_mae_loss_is_a_metric(backend, dtype, pair, data):
    """Symmetric, and the triangle inequality: MAE(a, c) <= MAE(a, b) + MAE(b, c) (sum)."""
    a, b = (x.astype(dtype) for x in pair)
    c = data.draw(hnp.arrays(np.float64, a.shape, elements=st.floats(-1e3, 1e3)), label="c").astype(
        dtype
    )
    ab, allowed_ab = run_with_allowance("mae_loss", backend, a, b, reduction="sum")
    ba, allowed_ba = run_with_allowance("mae_loss", backend, b, a, reduction="sum")
    bc, allowed_bc = run_with_allowance("mae_loss", backend, b, c, reduction="sum")
    ac, allowed_ac = run_with_allowance("mae_loss", backend, a, c, reduction="sum")
    text = input_text("mae_loss", a, b, reduction="sum") + f", c = {c!r}"
    check_close(
        "mae_loss",
        backend,
        dtype,
        "MAE(a, b) == MAE(b, a)",
        ab,
        ba,
        allowed_ab + allowed_ba,
        inputs=text,
    )
    check_relation(
        "mae_loss",
        backend,
        dtype,
        "MAE(a, c) <= MAE(a, b) + MAE(b, c)",
        ac <= ab.astype(np.float64) + bc + allowed_ab + allowed_bc + allowed_ac,
        actual=ac,
        expected=ab.astype(np.float64) + bc,
        inputs=text,
    )


# ---------------------------------------------------------------- huber_loss

DELTAS = st.sampled_from([1.0, 0.5, 2.0, 10.0])


@pytest.mark.concept("huber_loss")
@given(pair=REAL_PAIRS, reduction=REDUCTIONS, delta=DELTAS)
@example(pair=(np.array([0.0, 0.0]), np.array([0.5, 3.0])), reduction="mean", delta=1.0)
def test_huber_loss_matches_reference(backend, dtype, pair, reduction, delta):
    prediction, target = (a.astype(dtype) for a in pair)
    check_oracle("huber_loss", backend, prediction, target, delta=delta, reduction=reduction)


@pytest.mark.concept("huber_loss")
@pytest.mark.parametrize("edge", ERROR_EDGES)
def test_huber_loss_edge_inputs(backend, dtype, edge):
    prediction, target = (np.asarray(a, dtype=dtype) for a in ERROR_EDGES[edge])
    check_oracle(
        "huber_loss", backend, prediction, target, kind="edge", delta=1.0, reduction="none"
    )


@pytest.mark.concept("huber_loss")
@given(pair=dst.paired_arrays(st.floats(-4.0, 4.0)), delta=DELTAS)
def test_huber_loss_is_half_mse_inside_delta_and_below_both_branches(backend, dtype, pair, delta):
    needs_concepts(backend, "mse_loss")
    a, b = (x.astype(dtype) for x in pair)
    huber, allowed = run_with_allowance("huber_loss", backend, a, b, delta=delta, reduction="none")
    mse, allowed_mse = run_with_allowance("mse_loss", backend, a, b, reduction="none")
    z = np.abs(a.astype(np.float64) - b)
    text = input_text("huber_loss", a, b, delta=delta, reduction="none")
    inside = z <= delta
    check_close(
        "huber_loss",
        backend,
        dtype,
        "huber(a, b) == mse(a, b) / 2 where |a - b| <= delta",
        np.where(inside, huber, 0.0),
        np.where(inside, mse.astype(np.float64) / 2, 0.0),
        np.where(inside, allowed + allowed_mse / 2, 0.0),
        inputs=text,
    )
    check_relation(
        "huber_loss",
        backend,
        dtype,
        "huber <= min(z^2 / 2, delta z) for z = |a - b|",
        huber <= np.minimum(z * z / 2, delta * z) + allowed,
        actual=huber,
        expected=np.minimum(z * z / 2, delta * z),
        inputs=text,
    )


# ---------------------------------------------------------------- binary_cross_entropy_with_logits

LOGITS = st.one_of(st.sampled_from([0.0, 30.0, -30.0, 100.0, -100.0]), st.floats(-200.0, 200.0))
SOFT_TARGETS = st.one_of(st.sampled_from([0.0, 1.0, 0.5]), st.floats(0.0, 1.0))
POS_WEIGHTS = st.sampled_from([1.0, 2.0, 0.5, 10.0])


@st.composite
def logits_and_targets(draw, targets=SOFT_TARGETS):
    shape = draw(dst.shapes())
    return (
        draw(hnp.arrays(np.float64, shape, elements=LOGITS)),
        draw(hnp.arrays(np.float64, shape, elements=targets)),
    )


@pytest.mark.concept("binary_cross_entropy_with_logits")
@given(pair=logits_and_targets(), reduction=REDUCTIONS, pos_weight=POS_WEIGHTS)
@example(pair=(np.array([0.0]), np.array([1.0])), reduction="mean", pos_weight=1.0)  # log 2
def test_binary_cross_entropy_with_logits_matches_reference(
    backend, dtype, pair, reduction, pos_weight
):
    logits, target = (a.astype(dtype) for a in pair)
    check_oracle(
        "binary_cross_entropy_with_logits",
        backend,
        logits,
        target,
        pos_weight=pos_weight,
        reduction=reduction,
    )


BCE_LOGIT_EDGES = {
    "confident and right": ([40.0, -40.0, 1e4, -1e4], [1.0, 0.0, 1.0, 0.0]),
    "confident and wrong": ([40.0, -40.0, 1e4, -1e4], [0.0, 1.0, 0.0, 1.0]),
    "zero logits, soft targets": ([0.0, 0.0, -0.0], [0.0, 0.5, 1.0]),
    "1024 elements": (np.linspace(-50.0, 50.0, 1024), np.linspace(0.0, 1.0, 1024)),
}


@pytest.mark.concept("binary_cross_entropy_with_logits")
@pytest.mark.parametrize("edge", BCE_LOGIT_EDGES)
def test_binary_cross_entropy_with_logits_edge_inputs(backend, dtype, edge):
    logits, target = (np.asarray(a, dtype=dtype) for a in BCE_LOGIT_EDGES[edge])
    check_oracle(
        "binary_cross_entropy_with_logits",
        backend,
        logits,
        target,
        kind="edge",
        pos_weight=1.0,
        reduction="none",
    )


@pytest.mark.concept("binary_cross_entropy_with_logits")
@given(pair=logits_and_targets(st.integers(0, 8).map(lambda k: k / 8)))
def test_binary_cross_entropy_with_logits_is_symmetric(backend, dtype, pair):
    """BCE(x, y) == BCE(-x, 1 - y) without pos_weight (1 - y exact on a dyadic grid)."""
    x, y = (a.astype(dtype) for a in pair)
    concept = "binary_cross_entropy_with_logits"
    forward, allowed = run_with_allowance(concept, backend, x, y, reduction="none")
    mirrored, allowed_m = run_with_allowance(concept, backend, -x, 1 - y, reduction="none")
    check_close(
        concept,
        backend,
        dtype,
        "BCE(x, y) == BCE(-x, 1 - y)",
        forward,
        mirrored,
        allowed + allowed_m,
        inputs=input_text(concept, x, y, reduction="none"),
    )


@pytest.mark.concept("binary_cross_entropy_with_logits")
@given(x=dst.float_arrays(min_value=-50.0, max_value=50.0), pos_weight=POS_WEIGHTS)
def test_pos_weight_scales_only_the_positive_term(backend, dtype, x, pos_weight):
    concept = "binary_cross_entropy_with_logits"
    x = x.astype(dtype)
    ones, zeros = np.ones_like(x), np.zeros_like(x)
    weighted, allowed_w = run_with_allowance(
        concept, backend, x, ones, pos_weight=pos_weight, reduction="none"
    )
    plain, allowed_p = run_with_allowance(concept, backend, x, ones, reduction="none")
    negative, allowed_n = run_with_allowance(
        concept, backend, x, zeros, pos_weight=pos_weight, reduction="none"
    )
    negative_plain, allowed_np = run_with_allowance(concept, backend, x, zeros, reduction="none")
    text = input_text(concept, x, ones, pos_weight=pos_weight, reduction="none")
    check_close(
        concept,
        backend,
        dtype,
        f"BCE(x, 1; pos_weight={pos_weight}) == {pos_weight} BCE(x, 1)",
        weighted,
        pos_weight * plain.astype(np.float64),
        allowed_w + pos_weight * allowed_p,
        inputs=text,
    )
    check_close(
        concept,
        backend,
        dtype,
        "pos_weight leaves BCE(x, 0) unchanged",
        negative,
        negative_plain,
        allowed_n + allowed_np,
        inputs=text,
    )


# ---------------------------------------------------------------- softmax_cross_entropy

SMOOTHING = st.sampled_from([0.0, 0.1, 0.5, 1.0])


@st.composite
def classification(draw, probabilities=None):
    """Logits (n, C) or (C,), and class-index (int64) or probability targets."""
    shape = draw(dst.shapes(min_dims=1, max_dims=2, max_side=12))
    logits = draw(hnp.arrays(np.float64, shape, elements=st.floats(-60.0, 60.0)))
    use_probabilities = draw(st.booleans()) if probabilities is None else probabilities
    if use_probabilities:
        weights = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
        weights[..., 0] += weights.sum(axis=-1) == 0
        return logits, weights / weights.sum(axis=-1, keepdims=True)
    labels = hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, shape[-1] - 1))
    return logits, draw(labels)


def _as_dtype(logits, target, dtype):
    floating = np.issubdtype(target.dtype, np.floating)
    return logits.astype(dtype), target.astype(dtype) if floating else target


@pytest.mark.concept("softmax_cross_entropy")
@given(problem=classification(), smoothing=SMOOTHING, reduction=REDUCTIONS)
@example(problem=(np.array([[0.0, 0.0]]), np.array([1])), smoothing=0.0, reduction="mean")
def test_softmax_cross_entropy_matches_reference(backend, dtype, problem, smoothing, reduction):
    logits, target = _as_dtype(*problem, dtype)
    check_oracle(
        "softmax_cross_entropy",
        backend,
        logits,
        target,
        label_smoothing=smoothing,
        reduction=reduction,
    )


CE_EDGES = {
    "extreme logits": ([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], [0, 0]),
    "one class": ([[3.0], [-2.0]], [0, 0]),
    "ties": ([[0.0, 0.0, 0.0, 0.0]], [2]),
    "1000 classes": (np.linspace(-20.0, 20.0, 1000)[None, :], [999]),
}


@pytest.mark.concept("softmax_cross_entropy")
@pytest.mark.parametrize("edge", CE_EDGES)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_edge_inputs(backend, dtype, edge, smoothing):
    logits, labels = CE_EDGES[edge]
    check_oracle(
        "softmax_cross_entropy",
        backend,
        np.asarray(logits, dtype=dtype),
        np.asarray(labels, dtype=np.int64),
        kind="edge",
        label_smoothing=smoothing,
        reduction="none",
    )


@pytest.mark.concept("softmax_cross_entropy")
@given(problem=classification(probabilities=False), smoothing=SMOOTHING)
def test_class_indices_equal_one_hot_probabilities(backend, dtype, problem, smoothing):
    logits, labels = _as_dtype(*problem, dtype)
    one_hot = np.eye(logits.shape[-1], dtype=dtype)[labels]
    params = {"label_smoothing": smoothing, "reduction": "none"}
    by_index, allowed_i = run_with_allowance(
        "softmax_cross_entropy", backend, logits, labels, **params
    )
    by_probability, allowed_p = run_with_allowance(
        "softmax_cross_entropy", backend, logits, one_hot, **params
    )
    check_close(
        "softmax_cross_entropy",
        backend,
        dtype,
        "CE(z, class k) == CE(z, one_hot(k))",
        by_index,
        by_probability,
        allowed_i + allowed_p,
        inputs=input_text("softmax_cross_entropy", logits, labels, **params),
    )


@pytest.mark.concept("softmax_cross_entropy")
@given(problem=classification(probabilities=False), shift=st.integers(-64, 64), data=st.data())
def test_softmax_cross_entropy_is_shift_invariant_and_nonnegative(
    backend, dtype, problem, shift, data
):
    # |z + shift| <= 96 takes 7 integer bits: the fraction keeps the sum exact in the dtype
    fraction_bits = min(3, float_format(dtype).significand_bits - 7)
    logits = data.draw(
        dst.dyadic_arrays(bound=32, fraction_bits=fraction_bits, shape=st.just(problem[0].shape)),
        label="logits",
    ).astype(dtype)
    labels = problem[1]
    moved = logits + np.asarray(shift, dtype=dtype)  # exact: dyadic values plus an integer
    params = {"reduction": "none"}
    plain, allowed = run_with_allowance("softmax_cross_entropy", backend, logits, labels, **params)
    shifted, allowed_s = run_with_allowance(
        "softmax_cross_entropy", backend, moved, labels, **params
    )
    text = input_text("softmax_cross_entropy", logits, labels, **params)
    check_close(
        "softmax_cross_entropy",
        backend,
        dtype,
        f"CE(z + {shift}, y) == CE(z, y)",
        shifted,
        plain,
        allowed + allowed_s,
        inputs=text,
    )
    check_relation(
        "softmax_cross_entropy",
        backend,
        dtype,
        "CE(z, y) >= 0",
        plain >= -allowed,
        actual=plain,
        expected="values >= 0",
        inputs=text,
    )


# ---------------------------------------------------------------- multi_target_loss

SINGLE_CONCEPT = {
    "mse": ("mse_loss", {}),
    "mae": ("mae_loss", {}),
    "huber": ("huber_loss", {"delta": 1.0}),
    "bce_with_logits": ("binary_cross_entropy_with_logits", {}),
}


@st.composite
def multi_target_problems(draw):
    n = draw(st.integers(1, 12))
    losses = tuple(draw(st.lists(st.sampled_from(sorted(SINGLE_CONCEPT)), min_size=1, max_size=4)))
    weights = tuple(draw(st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 3.0])) for _ in losses)
    shape = (n, len(losses))
    prediction = draw(hnp.arrays(np.float64, shape, elements=st.floats(-30.0, 30.0)))
    target = draw(hnp.arrays(np.float64, shape, elements=st.floats(0.0, 1.0)))
    return prediction, target, losses, weights


@pytest.mark.concept("multi_target_loss")
@given(problem=multi_target_problems())
@example(
    problem=(
        np.array([[1.0, 0.0], [2.0, 0.0]]),
        np.array([[1.0, 1.0], [1.0, 0.0]]),
        ("mse", "bce_with_logits"),
        (1.0, 2.0),
    )
)
def test_multi_target_loss_matches_reference(backend, dtype, problem):
    prediction, target, losses, weights = problem
    check_oracle(
        "multi_target_loss",
        backend,
        prediction.astype(dtype),
        target.astype(dtype),
        losses=losses,
        weights=weights,
    )


MULTI_EDGES = {
    "one sample": ([[3.0, -2.0]], [[1.0, 0.0]], ("mae", "bce_with_logits"), (0.5, 0.5)),
    "zero weight": (
        [[1.0, 2.0], [3.0, 4.0]],
        [[0.0, 1.0], [1.0, 0.0]],
        ("mse", "huber"),
        (0.0, 1.0),
    ),
    "one target": ([[0.0], [100.0]], [[1.0], [0.0]], ("bce_with_logits",), (1.0,)),
}


@pytest.mark.concept("multi_target_loss")
@pytest.mark.parametrize("edge", MULTI_EDGES)
def test_multi_target_loss_edge_inputs(backend, dtype, edge):
    prediction, target, losses, weights = MULTI_EDGES[edge]
    check_oracle(
        "multi_target_loss",
        backend,
        np.asarray(prediction, dtype=dtype),
        np.asarray(target, dtype=dtype),
        kind="edge",
        losses=losses,
        weights=weights,
    )


@pytest.mark.concept("multi_target_loss")
@given(problem=multi_target_problems())
def test_multi_target_total_is_the_weighted_sum_of_its_targets(backend, dtype, problem):
    prediction, target, losses, weights = problem
    a, b = prediction.astype(dtype), target.astype(dtype)
    out, allowed = run_with_allowance(
        "multi_target_loss", backend, a, b, losses=losses, weights=weights
    )
    per_target = out[1:].astype(np.float64)
    total = float(np.dot(weights, per_target))
    check_close(
        "multi_target_loss",
        backend,
        dtype,
        "L == sum_t w_t L_t over the reported per-target losses",
        out[0],
        total,
        allowed[0] + np.dot(weights, allowed[1:]),
        inputs=input_text("multi_target_loss", a, b, losses=losses, weights=weights),
    )


@pytest.mark.concept("multi_target_loss")
@given(problem=multi_target_problems())
def test_multi_target_per_target_losses_are_the_single_target_losses(backend, dtype, problem):
    prediction, target, losses, weights = problem
    needs_concepts(backend, *sorted({SINGLE_CONCEPT[name][0] for name in losses}))
    a, b = prediction.astype(dtype), target.astype(dtype)
    out, allowed = run_with_allowance(
        "multi_target_loss", backend, a, b, losses=losses, weights=weights
    )
    for t, name in enumerate(losses):
        concept, params = SINGLE_CONCEPT[name]
        column_a, column_b = a[:, t].copy(), b[:, t].copy()
        single, allowed_single = run_with_allowance(
            concept, backend, column_a, column_b, reduction="mean", **params
        )
        check_close(
            "multi_target_loss",
            backend,
            dtype,
            f"L_{t} == {concept}(prediction[:, {t}], target[:, {t}])",
            out[t + 1],
            single,
            allowed[t + 1] + allowed_single,
            inputs=input_text("multi_target_loss", a, b, losses=losses, weights=weights),
        )
