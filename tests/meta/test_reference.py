"""The reference: its domain errors, worked values, and agreement with independent
high-precision evaluations and with itself at twice its precision."""

import mpmath
import numpy as np
import pytest

from dlspec import catalogue, checks, oracle, reference, registry

pytestmark = pytest.mark.meta


def test_the_catalogue_files_merge_by_group_and_refuse_a_misplaced_or_doubled_entry():
    group = {"title": "T", "description": "D"}
    relu = {"group": "activations", "title": "ReLU"}
    relu_grad = {"group": "gradients", "title": "ReLU: derivative", "of": "relu"}
    common = {"schema_version": 1, "groups": {"activations": group, "gradients": group}}
    merged = catalogue.merge(
        {
            "groups.toml": common,
            "activations.toml": {"concepts": {"relu_grad": relu_grad, "relu": relu}},
        }
    )
    assert list(merged["concepts"]) == ["relu", "relu_grad"]  # by group, as the groups are listed
    with pytest.raises(
        ValueError, match=r"concept 'relu_grad' is in losses\.toml, not activations"
    ):
        catalogue.merge(
            {
                "groups.toml": common,
                "activations.toml": {"concepts": {"relu": relu}},
                "losses.toml": {"concepts": {"relu_grad": relu_grad}},
            }
        )
    with pytest.raises(ValueError, match=r"concepts\.relu is in both activations\.toml and losses"):
        catalogue.merge(
            {
                "groups.toml": common,
                "activations.toml": {"concepts": {"relu": relu}},
                "losses.toml": {"concepts": {"relu": relu}},
            }
        )


def test_every_adapter_composes_only_concepts_the_catalogue_knows():
    """What a framework composes is its adapter's fact (``composed``); a name there that is no
    concept would mark nothing and hide a typo."""
    from importlib.metadata import entry_points

    known = set(catalogue.load().concepts)
    for entry in entry_points(group=registry.ENTRY_POINT_GROUP):
        composed = entry.load().composed
        assert composed == "all" or set(composed) <= known, (entry.name, set(composed) - known)


def test_reference_reproduces_the_seed_worked_values():
    assert reference.entropy([0.5, 0.5], base=2) == 1  # a fair coin: one bit
    assert abs(reference.entropy([0.9, 0.1], base=2) - mpmath.mpf("0.469")) < 5e-4
    assert reference.mse_loss([1, 2], [1, 4]) == 2
    assert reference.entropy([1.0, 0.0]) == 0  # 0 log 0 = 0


def _floats(tensor):
    return [float(v) for v in tensor.values]


def test_reference_reproduces_the_worked_values_of_its_docstrings():
    log2 = float(mpmath.log(2))
    assert reference.kl_divergence([1, 0], [0.5, 0.5], base=2) == 1
    assert _floats(reference.leaky_relu([-2, 3], negative_slope=0.5)) == [-1, 3]
    assert _floats(reference.softplus([0])) == [log2]
    assert _floats(reference.gelu([0])) == [0] and _floats(reference.silu([0])) == [0]
    assert _floats(reference.elu([0, -1e4])) == [0, -1]
    assert reference.mae_loss([1, 2], [1, 4]) == 1
    assert reference.huber_loss([0, 0], [0.5, 3]) == (0.125 + 2.5) / 2
    assert float(reference.binary_cross_entropy_with_logits([0], [1])) == log2
    assert float(reference.softmax_cross_entropy([[0, 0]], [1])) == log2
    assert reference.l1_penalty([1, -2], strength=0.5) == 1.5
    assert reference.l2_penalty([3, 4], strength=1) == 12.5
    assert reference.l2_penalty([3, 4], strength=1, scale="full") == 25
    assert _floats(reference.l2_penalty_grad([3, 4], 1, strength=1)) == [3, 4]
    # SGD with momentum 0.9 from the first-step buffer: 1 - 0.1, then 0.9 - 0.1 (0.9 + 1)
    assert _floats(reference.sgd([1.0], [[1.0], [1.0]], lr=0.1, momentum=0.9)) == [0.9, 0.71]
    # Adam's first step moves by lr (times g / (|g| + eps)) whatever the gradient's scale
    assert abs(float(reference.adam([0.0], [[1e3]], lr=0.1).values[0]) + 0.1) < 1e-11
    assert _floats(
        reference.gradient_accumulation([1.0], [[1.0], [3.0]], lr=0.5, accumulation_steps=2)
    ) == [0.0]
    assert _floats(reference.clip_grad_norm([3.0, 4.0], max_norm=5.0, norm_offset="none")) == [3, 4]
    assert _floats(reference.step_lr(0.1, step_size=2, steps=3)) == [0.1, 0.1, 0.1 * 0.1, 0.1 * 0.1]
    assert _floats(reference.multistep_lr(1.0, milestones=(1, 1), gamma=0.5, steps=1)) == [1, 0.25]
    assert _floats(reference.cosine_annealing_lr(1.0, t_max=2, steps=4)) == [1, 0.5, 0, 0.5, 1]
    assert _floats(reference.cosine_annealing_lr(1.0, t_max=2, steps=4, past_horizon="clamped"))[
        3:
    ] == [0, 0]
    assert _floats(reference.reduce_lr_on_plateau(1.0, [1, 1, 1, 1], patience=2)) == [1, 1, 1, 0.1]
    assert _floats(reference.min_max_scale([[0], [5], [10]])) == [0, 0.5, 1]
    assert _floats(reference.standardize([[1], [3]])) == [-1, 1]
    assert _floats(reference.standardize([[2], [2]])) == [0, 0]  # a constant feature maps to 0
    assert _floats(reference.minibatches(n=5, batch_size=2, drop_last=True)) == [0, 1, 2, 3]
    assert _floats(reference.train_val_test_split(n=100, fractions=(0.29, 0.71))).count(-1) == 100
    assert _floats(reference.early_stopping([3, 2, 2, 2, 1], patience=2)) == [3, 1]
    assert reference.accuracy([[0.1, 0.9], [0.5, 0.5]], [1, 1]) == 0.5  # ties: the first index
    assert reference.accuracy([0.5], [1], threshold_rule="strict") == 0
    assert _floats(reference.rot90([[1, 2], [3, 4]])) == [2, 4, 1, 3]


BAD_CALLS = [
    (reference.entropy, ([0.5, 0.6],), {}, "entropy: p must sum to 1"),
    (reference.entropy, ([1.5, -0.5],), {}, "entropy: p must lie in [0, 1]"),
    (reference.entropy, ([0.5, 0.5],), {"base": 1}, "entropy: base=1 must be positive and not 1"),
    (reference.entropy, ([0.5, 0.5],), {"axis": 3}, "entropy: axis=3 is out of range"),
    (
        reference.cross_entropy,
        ([0.5, 0.5], [1.0]),
        {},
        "cross_entropy: p, q must have the same shape",
    ),
    (
        reference.binary_cross_entropy,
        ([1.2], [1.0]),
        {},
        "binary_cross_entropy: probability must lie in [0, 1]",
    ),
    (
        reference.binary_cross_entropy,
        ([0.2], [1.0]),
        {"guard": "eps"},
        "binary_cross_entropy: guard='eps' is not one of",
    ),
    (
        reference.mse_loss,
        ([1.0], [1.0]),
        {"reduction": "avg"},
        "mse_loss: reduction='avg' is not one of",
    ),
    (reference.softmax, ([],), {}, "softmax: x must not be empty"),
    (reference.softplus, ([1.0],), {"beta": 0}, "softplus: beta=0 must be positive"),
    (reference.gelu, ([1.0],), {"approximate": "erf"}, "gelu: approximate='erf' is not one of"),
    (reference.huber_loss, ([1.0], [1.0]), {"delta": 0}, "huber_loss: delta=0 must be positive"),
    (
        reference.softmax_cross_entropy,
        ([[0.0, 1.0]], [2]),
        {},
        "softmax_cross_entropy: target class index 2.0 must be an integer in [0, 2)",
    ),
    (
        reference.sgd,
        ([1.0], [[1.0]]),
        {"lr": 0.1, "nesterov": True},
        "sgd: nesterov=True must be used with momentum > 0",
    ),
    (
        reference.sgd,
        ([1.0, 2.0], [[1.0]]),
        {"lr": 0.1},
        "sgd: gradients must have shape (steps, 2)",
    ),
    (reference.adam, ([1.0], [[1.0]]), {"beta1": 1.0}, "adam: beta1=1.0 must be in [0, 1)"),
    (
        reference.gradient_accumulation,
        ([1.0], [[1.0], [2.0], [3.0]]),
        {"lr": 0.1, "accumulation_steps": 2},
        "gradient_accumulation: micro_gradients has 3 rows, not a multiple",
    ),
    (reference.step_lr, (0.1,), {"step_size": 0, "steps": 3}, "step_lr: step_size=0 must be"),
    (
        reference.reduce_lr_on_plateau,
        (0.1, [1.0]),
        {"factor": 1.0},
        "reduce_lr_on_plateau: factor=1.0",
    ),
    (reference.standardize, ([[1.0]],), {"ddof": 1}, "standardize: ddof=1 must be in [0, 1)"),
    (
        reference.batch_norm,
        ([[1.0]], [0.0], [1.0], [1.0], [0.0]),
        {},
        "batch_norm: x=",
    ),
    (
        reference.minibatches,
        (),
        {"n": 3, "batch_size": 4, "drop_last": True},
        "minibatches: batch_size=4",
    ),
    (
        reference.train_val_test_split,
        (),
        {"n": 3, "fractions": (0.5, 0.6)},
        "train_val_test_split: fractions=",
    ),
    (reference.early_stopping, ([1.0],), {"patience": 0}, "early_stopping: patience=0 must be"),
    (reference.accuracy, ([0.2], [2.0]), {}, "accuracy: target="),
    (reference.rot90, ([1.0, 2.0],), {}, "rot90: image must have at least 2 dimension"),
    (reference.relu, ([float("nan")],), {}, "relu: x must not contain NaN"),
]


@pytest.mark.parametrize(
    ("function", "args", "kwargs", "message"),
    BAD_CALLS,
    ids=[m.split(":")[0] + "-" + str(i) for i, (*_, m) in enumerate(BAD_CALLS)],
)
def test_reference_rejects_inputs_outside_the_domain(function, args, kwargs, message):
    with pytest.raises(reference.DomainError) as raised:
        function(*args, **kwargs)
    assert str(raised.value).startswith(message), str(raised.value)


def test_reference_agrees_with_an_independent_high_precision_evaluation():
    # softmax of a lane, by mpmath at a different precision, as a check on the working precision.
    x = [1e4, 0.5, -3.0]
    got = reference.softmax(x).values
    with mpmath.workprec(400):
        weights = [mpmath.exp(mpmath.mpf(v) - mpmath.mpf(1e4)) for v in x]
        want = [w / mpmath.fsum(weights) for w in weights]
    for g, w in zip(got, want, strict=True):
        assert abs(g - w) <= abs(w) * mpmath.mpf(2) ** -150


def test_reference_keeps_what_lies_below_its_working_precision_in_the_softmax_family():
    # Issue 13's three cancellations, each with the truth from an independent formula:
    # log(1 + e^-120) = log1p(e^-120); e^-300 / (1 + e^-300)^2; s * sum(y) - y.
    tiny = mpmath.exp(-120)
    truth = -mpmath.log1p(tiny)
    assert abs(reference.log_softmax([0, -120]).values[0] / truth - 1) < 1e-40
    assert abs(reference.softmax_cross_entropy([[0, -120]], [0]) / -truth - 1) < 1e-40
    with mpmath.workprec(400):
        e = mpmath.exp(-300)
        want = e / (1 + e) ** 2
    assert abs(reference.softmax_grad([0, -300], [1, 0]).values[0] / want - 1) < 1e-40
    assert abs(reference.log_softmax_grad([0, -300], [1, 0]).values[0] / (e / (1 + e)) - 1) < 1e-40
    target = [0.25, 0.25, 0.25, 0.2500005]  # sums to 1 within the spec's 2**-20
    grad = reference.softmax_cross_entropy_grad([[0.0] * 4], [target], 1, reduction="sum")
    with mpmath.workprec(200):
        total = mpmath.fsum(mpmath.mpf(t) for t in target)
        for g, t in zip(grad.values, target, strict=True):
            assert abs(g - (total / 4 - mpmath.mpf(t))) < 1e-45
    assert grad.values[0] > 1e-7  # s - y would give 0
    # one class: the loss is identically 0, and so is its gradient
    assert reference.softmax_cross_entropy_grad([[0.3]], [[1.0]], 1).values == (0,)


def test_a_reduced_result_keeps_its_exact_value_beyond_float64():
    # The precision-doubling check found it: a 0-d reference result was turned into a tensor
    # outside the working precision, so rounded to float64 before any error was measured.
    arrays = [np.array([-2.0005, -1.9995]), np.array([0.0, 1.3925856299656443e-95])]
    exact = oracle.exact_result("huber_loss", arrays, {"delta": 1.0, "reduction": "mean"})
    assert exact.values[0] == mpmath.fadd(1.5, 2.0**-53, exact=True)  # a tie in float64
    assert (exact.hi, exact.lo) == (1.5, 2.0**-53)


def test_the_exact_result_rounds_once_into_the_16_bit_formats():
    # relu keeps 1 + 2**-8 + 2**-30, just above bfloat16's tie 1 + 2**-8 between 1 and
    # 1 + 2**-7: it must round up, not through float32 (which lands on the tie, then rounds to
    # the even 1); float16 keeps 11 bits, 1 + 2**-8 (test_numerics has the rounding itself)
    above_a_tie = 1.0 + 2.0**-8 + 2.0**-30
    exact = oracle.exact_result("relu", [np.array([above_a_tie, -above_a_tie])], {})
    import ml_dtypes

    rounded = exact.rounded(np.dtype(ml_dtypes.bfloat16))
    assert rounded.dtype == np.dtype(ml_dtypes.bfloat16)
    assert rounded.astype(np.float64).tolist() == [1.0078125, 0.0]
    assert exact.rounded(np.dtype(np.float16)).astype(np.float64).tolist() == [1.00390625, 0.0]


@pytest.mark.parametrize(
    ("theta", "gradients", "settings", "lands_at"),
    [
        # make report's thorough runs found both: an Adam step that cancels by the problem's own
        # nature, 2**-61 of its terms (0.4995 - 0.4995...) and 2**-229 (g - lr g / (g + eps)
        # with lr = eps, which is g^2 / (g + eps)): no fixed working precision keeps 120 bits
        # of such a result, and it moves as much when its inputs move by that precision's
        # rounding, so the precision-doubling check does not take it for a lossy formula
        (0.999, [0.999, 0.999], {"lr": 0.5, "eps": 1e-3}, -8.6649437625041514e-19),
        (
            2.2037564199455144e-72,
            [2.2037564199455144e-72],
            {"lr": 1e-3, "eps": 1e-3},
            4.8565423584510705e-141,
        ),
        # the seed sweep's thorough seed 2: with L2 coupling, theta (1 - lr wd / eps), and
        # lr wd / eps = 0.1 * 0.01 / 0.001 is one ulp from 1: the result is 1e-17 of theta,
        # through the parameters, which the sensitivity moves as it moves the inputs
        (
            9.370084500382116e-222,
            [2.0741276862433623e-257],
            {"lr": 0.1, "eps": 1e-3, "weight_decay": 0.01},
            -5.201441777503766e-238,
        ),
    ],
)
def test_a_step_that_cancels_by_the_problem_is_not_a_reference_defect(
    theta, gradients, settings, lands_at
):
    arrays = [np.array([theta]), np.array([[g] for g in gradients])]
    params = {"beta1": 0.9, "beta2": 0.999, **settings}
    assert oracle.precision_disagreement("adam", arrays, params) is None
    # right to within the rounding of its terms, not to 120 bits of itself
    assert abs(oracle.exact_result("adam", arrays, params).hi[-1] - lands_at) <= 2**-150 * theta


def test_the_precision_doubling_check_finds_a_cancelling_reference(monkeypatch):
    arrays, params = [np.array([0.0, -120.0])], {"axis": -1}
    assert oracle.precision_disagreement("log_softmax", arrays, params) is None

    def cancelling(z):  # log of a sum that is 1 + 7.7e-53, the formula issue 13 found
        top = max(z)
        log_total = mpmath.log(mpmath.fsum(mpmath.exp(v - top) for v in z))
        return [v - top - log_total for v in z]

    monkeypatch.setattr(reference.activations, "log_softmax_lane", cancelling)
    oracle.clear_cache()
    found = oracle.precision_disagreement("log_softmax", arrays, params)
    assert found is not None and found.startswith("element 0 is 0.0 at 160 bits"), found
    from dlspec.adapters.reference_adapter import ReferenceAdapter

    with pytest.raises(checks.ConformanceFailure, match="not exact at its working precision"):
        checks.check_oracle("log_softmax", ReferenceAdapter(), *arrays, **params)
    oracle.clear_cache()


def test_a_rounded_distribution_may_miss_one_by_its_formats_rounding():
    """A distribution rounded to bfloat16 sums to 1 within 2^-7, not 2^-20: the reference takes
    the tolerance of the format the oracle says the inputs have."""
    p = [0.2001953125, 0.30078125, 0.5]  # 0.2, 0.3, 0.5 in bfloat16: 1.0009765625
    with pytest.raises(reference.DomainError, match=r"within 9\.53674e-7"):
        reference.entropy(p)
    with reference.inputs_rounded_to(8):
        assert reference.entropy(p) > 0
    with reference.inputs_rounded_to(8), pytest.raises(reference.DomainError, match=r"0\.0078125"):
        reference.entropy([0.25, 0.25, 0.52])


def test_a_constant_stored_in_bfloat16_is_rounded_once_to_8_bits():
    from dlspec.reference._core import stored

    assert float(stored(1 - 1e-7, "bfloat16")) == 1.0
    assert float(stored(1e-7, "bfloat16")) == float(np.float32(1e-7).astype("bfloat16"))
    assert float(stored(1 + 2**-8 + 2**-30, "bfloat16")) == 1.0078125  # once, not via float32
