"""Tests of the harness itself: rounding and ULPs, the catalogue, the reference's domain errors
and worked values, backend selection, markers and determinism."""

import importlib
import json
import math
import re
import tomllib
from importlib import resources
from pathlib import Path

import hypothesis
import mpmath
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlspec import budgets, catalogue, checks, oracle, reference, registry, report
from dlspec.numerics import FORMATS, measure_errors, round_mpf, ulp

pytestmark = pytest.mark.meta
F32, F64 = FORMATS["float32"], FORMATS["float64"]
TESTS = Path(__file__).parent


# ---------------------------------------------------------------- numerics


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


# ---------------------------------------------------------------- catalogue


def test_every_concept_has_reference_page_model_and_budget_reason():
    cat = catalogue.load()
    spec = resources.files("dlspec.spec")
    for concept in cat.concepts.values():
        assert oracle.has_reference(concept.id), concept.id
        assert spec.joinpath(concept.page).is_file(), concept.page
        assert concept.error_model in budgets.MODELS, concept.error_model
        assert concept.budget.reason.strip(), concept.id
        for variant in concept.variants.values():
            assert variant.default in variant.values


def test_spec_index_lists_every_concept_as_the_catalogue_has_it():
    """One row per concept with its group, its variants (default first) and its page: the index
    repeats the catalogue for readers, so it must agree with it."""
    index = resources.files("dlspec.spec").joinpath("README.md").read_text()
    rows = {
        cells[0]: cells[1:]
        for line in index.splitlines()
        if line.startswith("| ")
        and len(cells := [c.strip() for c in line.strip("|").split(" | ")]) == 4
    }
    for concept in catalogue.load().concepts.values():
        assert concept.id in rows, f"{concept.id} is missing from spec/README.md"
        group, variants, page = rows[concept.id]
        assert group == concept.group, concept.id
        section = "#gradient" if concept.of else ""  # a gradient: its concept page's section
        assert f"({concept.page}{section})" in page, concept.id
        listed = (
            [part.split("`: ")[0].strip("`") for part in variants.split("; ")]
            if variants != "—"
            else []
        )
        assert listed == list(concept.variants), (concept.id, variants)
        for variant in concept.variants.values():
            values = variants.split(f"`{variant.name}`: ")[1].split(";")[0]
            assert [v.strip(" `") for v in values.split("\\|")] == list(variant.values), concept.id
            assert variant.values[0] == variant.default, (
                f"{concept.id}.{variant.name}: default first"
            )


BAD_CATALOGUES = [
    ({"schema_version": 99, "groups": {}, "concepts": {}}, "schema_version"),
    (
        {"schema_version": 1, "groups": {}, "concepts": {"x": {"group": "nope"}}},
        "unknown group",
    ),
    (
        {
            "schema_version": 1,
            "groups": {"g": {"title": "G", "description": ""}},
            "concepts": {
                "x": {
                    "group": "g",
                    "title": "X",
                    "arguments": ["x"],
                    "error_model": "exact",
                    "budget": {"float32": 1, "reason": "r"},
                }
            },
        },
        "no budget for ['float64']",
    ),
    (
        {
            "schema_version": 1,
            "groups": {},
            "concepts": {},
            "divergences": [{"concept": "nosuch"}],
        },
        "divergence for unknown concept 'nosuch'",
    ),
    *(
        (
            {
                "schema_version": 1,
                "groups": {"g": {"title": "G", "description": ""}},
                "concepts": {
                    "f": {
                        "group": "g",
                        "title": "F",
                        "arguments": ["x"],
                        "error_model": "exact",
                        "budget": {"float32": 0, "float64": 0, "reason": "r"},
                    },
                    "f_grad": {
                        "group": "g",
                        "title": "F'",
                        "arguments": ["x", "cotangent"],
                        "error_model": "exact",
                        "budget": {"float32": 0, "float64": 0, "reason": "r"},
                        **gradient,
                    },
                },
            },
            message,
        )
        for gradient, message in [
            ({"of": "nosuch", "wrt": "x"}, "gradient 'f_grad' differentiates unknown 'nosuch'"),
            ({"of": "f", "wrt": "y"}, "gradient 'f_grad' has wrt='y', not one of ['x']"),
            (
                {"of": "f", "wrt": "x", "inherits": ["v"]},
                "gradient 'f_grad' inherits unknown ['v']",
            ),
        ]
    ),
]


@pytest.mark.parametrize(("document", "message"), BAD_CATALOGUES)
def test_catalogue_rejects_malformed_documents(document, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        catalogue.parse(document)


# ---------------------------------------------------------------- reference


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


@pytest.mark.parametrize(
    ("theta", "gradients", "lr", "eps", "lands_at"),
    [
        # make report's thorough runs found both: an Adam step that cancels by the problem's own
        # nature, 2**-61 of its terms (0.4995 - 0.4995...) and 2**-229 (g - lr g / (g + eps)
        # with lr = eps, which is g^2 / (g + eps)): no fixed working precision keeps 120 bits
        # of such a result, and it moves as much when its inputs move by that precision's
        # rounding, so the precision-doubling check does not take it for a lossy formula
        (0.999, [0.999, 0.999], 0.5, 1e-3, -8.6649437625041514e-19),
        (2.2037564199455144e-72, [2.2037564199455144e-72], 1e-3, 1e-3, 4.8565423584510705e-141),
    ],
)
def test_a_step_that_cancels_by_the_problem_is_not_a_reference_defect(
    theta, gradients, lr, eps, lands_at
):
    arrays = [np.array([theta]), np.array([[g] for g in gradients])]
    params = {"lr": lr, "beta1": 0.9, "beta2": 0.999, "eps": eps}
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


# ---------------------------------------------------------------- registry and plugin


def test_unknown_backend_is_unavailable_not_an_error():
    (backend,) = registry.select(["nosuch"], [])
    assert (
        isinstance(backend, registry.Unavailable) and "no backend named 'nosuch'" in backend.reason
    )


def test_all_selects_every_installed_backend():
    names = [b.name for b in registry.select(["all"], [])]
    assert {"numpy", "reference"} <= set(names)


def test_unavailable_backend_skips_with_its_reason(pytester):
    result = pytester.runpytest_inprocess(
        str(TESTS / "test_activations.py"),
        "--backend",
        "nosuch",
        "--concept",
        "relu",
        "-p",
        "no:cacheprovider",
        "-rs",
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*backend 'nosuch' unavailable: no backend named 'nosuch'*"])


def test_torch_cuda_without_a_gpu_is_unavailable_with_a_clear_reason(
    pytester, tmp_path, torch_imported
):
    torch = torch_imported
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present: torch-cuda runs here")
    result = pytester.runpytest_inprocess(
        str(TESTS / "test_activations.py"),
        *("--backend", "torch-cuda", "--concept", "relu", "-p", "no:cacheprovider", "-rs"),
        *("--report", str(tmp_path / "report")),
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*backend 'torch-cuda' unavailable: no CUDA device*has not run*"])
    document = json.loads((tmp_path / "report" / "report.json").read_text())
    assert {c["status"] for c in document["matrix"]} == {"unavailable"}
    (info,) = document["backends"]
    assert not info["available"] and "has not run" in info["reason"]


def test_a_written_up_divergence_is_reported_as_such_not_as_a_failure(
    pytester, tmp_path, torch_imported
):
    """torch-cpu's float32 sigmoid underflow (spec/concepts/sigmoid.md#divergences): the test
    runs, the run passes, and the report says `diverges` with the write-up."""
    result = pytester.runpytest_inprocess(
        str(TESTS / "test_activations.py"),
        *("--backend", "torch-cpu", "--concept", "sigmoid", "-k", "edge_inputs and float32"),
        *("-p", "no:cacheprovider", "--report", str(tmp_path / "report")),
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert result.parseoutcomes().get("xfailed") == 1
    document = json.loads((tmp_path / "report" / "report.json").read_text())
    (cell,) = document["matrix"]
    assert cell["status"] == "diverges"
    assert cell["divergences"] == ["concepts/sigmoid.md#divergences"]
    assert any("x = [-10000." in m for m in cell["divergence_messages"])


def test_group_markers_select_a_concept_group(pytester):
    result = pytester.runpytest_inprocess(
        str(TESTS / "test_information.py"),
        str(TESTS / "test_losses.py"),
        "--backend",
        "numpy",
        "-m",
        "losses",
        "--collect-only",
        "-q",
        "-p",
        "no:cacheprovider",
    )
    collected = [line for line in result.stdout.lines if "::" in line]
    assert collected and all("test_losses.py" in line for line in collected)


def _seeded_report(pytester, out, *extra):
    """Accuracy and matrix of a seeded run over a few concepts of two groups, in a process of its
    own (an in-process run shares Hypothesis' settings with whatever runs this test)."""
    pytester.runpytest_subprocess(
        str(TESTS / "test_activations.py"),
        str(TESTS / "test_schedules.py"),
        *("--backend", "numpy", "--concept", "softmax", "--concept", "sigmoid"),
        *("--concept", "step_lr", "--hypothesis-profile", "ci", "--dlspec-seed", "7"),
        *("--report", str(out), "-p", "no:cacheprovider", *extra),
    )
    document = validated(json.loads((out / "report.json").read_text()))
    return document["accuracy"], document["matrix"]


def validated(document):
    """The report, checked against its published schema (``dlspec/report/schema.json``)."""
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(report.SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(document)
    return document


def test_the_schema_rejects_a_malformed_report():
    jsonschema = pytest.importorskip("jsonschema")
    with pytest.raises(jsonschema.ValidationError, match="'fine' is not one of"):
        validated(
            {
                "schema": "dlspec-report",
                "schema_version": 1,
                "created": "2026-11-24T00:00:00+00:00",
                "seed": 1,
                "profile": "ci",
                "environment": {"python": "3.11", "platform": "x", "cpu_count": 2, "numpy": "2"},
                "backends": [],
                "matrix": [
                    {
                        "concept": "relu",
                        "group": "activations",
                        "backend": "numpy",
                        "status": "fine",
                        "implementation": "native",
                        "tests": {"passed": 1, "failed": 0, "diverged": 0, "skipped": 0},
                    }
                ],
                "accuracy": [],
                "suite_seconds": {"wall": 1.0, "by_backend_and_group": []},
            }
        )


def test_same_seed_gives_the_same_report(pytester, tmp_path):
    assert _seeded_report(pytester, tmp_path / "one") == _seeded_report(pytester, tmp_path / "two")


def _seeded_draws() -> list[float]:
    seen: list[float] = []

    @hypothesis.seed(1)
    @hypothesis.settings(max_examples=300, database=None, phases=[hypothesis.Phase.generate])
    @given(st.floats(-1e3, 1e3))
    def collect(x):
        seen.append(x)

    collect()
    return seen


def test_a_seed_draws_the_same_inputs_whatever_was_imported_before(tmp_path, monkeypatch):
    """Hypothesis mixes constants from the local modules loaded so far into its draws; the
    plugin freezes that pool, or one seed draws differently under two xdist schedules."""
    before = _seeded_draws()
    module = tmp_path / "odd_constants.py"
    module.write_text("ODD = (123.456789, 987.654321, -555.5, 0.000123, 17.25, -3.75)\n")
    monkeypatch.syspath_prepend(tmp_path)
    importlib.import_module("odd_constants")
    assert _seeded_draws() == before


NESTED_SESSION = """
import os

import pytest


def test_a_nested_session():
    os.environ["DRAWS"] = "nested.txt"
    try:
        code = pytest.main(
            ["test_b_draws.py", "-q", "-p", "no:cacheprovider", "--hypothesis-profile", "dev",
             "--dlspec-seed", "0"]
        )
    finally:
        os.environ["DRAWS"] = "outer.txt"
    assert code == 0
"""

RECORDED_DRAWS = """
import os

from hypothesis import given, settings, strategies as st


@given(st.floats(-1e3, 1e3))
def test_b_draws(x):
    with open(os.environ.get("DRAWS", "outer.txt"), "a") as seen:
        seen.write(f"{settings.get_current_profile_name()} {x!r}\\n")
"""


def _outer_draws(pytester, *files: str) -> str:
    result = pytester.runpytest_subprocess(
        *files, "-p", "no:cacheprovider", "--hypothesis-profile", "ci", "--dlspec-seed", "7"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    draws = pytester.path / "outer.txt"
    text = draws.read_text()
    draws.unlink()
    return text


def test_a_nested_session_leaves_the_outer_sessions_seed_and_profile_alone(pytester):
    """The suite's tests of itself run the conformance modules in nested sessions, in process.
    Such a session once re-seeded the outer session's test functions (which it shares) and left
    its own Hypothesis profile loaded, so a test drew other inputs after a meta test had run in
    its xdist worker, and a divergence showed or not by the schedule."""
    pytester.makepyfile(test_a_nested=NESTED_SESSION, test_b_draws=RECORDED_DRAWS)
    alone = _outer_draws(pytester, "test_b_draws.py")
    assert alone.startswith("ci ") and len(alone.splitlines()) == 40
    assert _outer_draws(pytester, "test_a_nested.py", "test_b_draws.py") == alone
    assert (pytester.path / "nested.txt").read_text().startswith("dev ")


def test_xdist_workers_merge_into_the_same_report(pytester, tmp_path):
    """Under ``pytest -n``, the workers' results reach the controller, which writes one report,
    the same as a run in one process."""
    serial = _seeded_report(pytester, tmp_path / "serial")
    assert serial[0] and serial[1]
    assert _seeded_report(pytester, tmp_path / "parallel", "-n", "2") == serial


# ---------------------------------------------------------------- the checks themselves


class _Constant:
    """A backend that answers every concept with a fixed float64 array."""

    name = "constant"

    def __init__(self, value):
        self.conventions = {}
        self.value = np.asarray(value, dtype=np.float64)

    def run(self, concept, *arrays, **params):
        return self.value.copy()


def test_a_finite_answer_where_the_reference_is_infinite_fails():
    # H(P, Q) with q_i = 0 < p_i is +inf; the allowance there is infinite too, and the check must
    # not read inf / inf as "within budget".
    p, q = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    with pytest.raises(checks.ConformanceFailure, match="beyond budget"):
        checks.check_oracle("cross_entropy", _Constant(1e300), p, q, axis=-1)
    checks.check_oracle("cross_entropy", _Constant(np.inf), p, q, axis=-1)


def test_the_reference_is_evaluated_once_per_input_whatever_the_number_of_backends():
    oracle.clear_cache()
    x = np.array([0.25, -1.5, 3.0])
    for backend in registry.select(["numpy", "reference"], []):
        checks.check_oracle("softmax", backend, x, axis=-1)
    # one evaluation at the working precision, shared by both backends and the reference
    # backend's own result, and one at twice it: the reference backend's self-check
    assert oracle.cache_info() == oracle.CacheInfo(hits=3, misses=2)


# ---------------------------------------------------------------- subnormals and limits


def test_a_range_below_the_smallest_normal_is_allowed_its_width_only_when_flushed():
    """min_max_scale over a subnormal range (make report's thorough run drew one): the allowance
    is finite (it was infinite: any value passed); flushed, the range is 0 and the lane becomes
    feature_min, a whole width away."""
    x = np.array([0.0, 5e-324])
    concept = catalogue.load().concept("min_max_scale")
    result = np.array([0.0, 1.0])
    for flushed, least, most in ((True, 1.0, 8.0), (False, 0.0, 1e-12)):
        allowed = checks.allowance(
            concept, FORMATS["float64"], {"x": x}, {}, result, flushed=flushed
        )
        assert np.all(np.isfinite(allowed)) and least <= allowed[1] <= most, (flushed, allowed)


def test_flushing_zeroes_subnormals_keeping_their_sign_and_nothing_else():
    from dlspec.numerics import flush_subnormals

    tiny32 = np.finfo(np.float32).tiny
    x = np.array([tiny32, tiny32 / 2, -tiny32 / 8, 0.0, 1.5, -np.inf], dtype=np.float32)
    flushed = flush_subnormals(x)
    assert flushed.dtype == np.float32
    assert flushed.tolist() == [tiny32, 0.0, 0.0, 0.0, 1.5, -np.inf]
    assert np.signbit(flushed[2]) and not np.signbit(flushed[1])
    assert flush_subnormals(np.array([1, 0], dtype=np.int64)).tolist() == [1, 0]


class _Answer:
    """A backend that answers with a fixed array under the given conventions."""

    name = "answer"

    def __init__(self, value, **conventions):
        self.value, self.conventions = value, conventions

    def run(self, concept, *arrays, **params):
        return self.value.copy()


def test_a_flushing_backend_is_held_to_the_reference_of_its_input_as_read():
    # relu of a subnormal: 0 as XLA reads it; the subnormal itself as IEEE reads it
    x = np.array([1e-40, 2.0], dtype=np.float32)
    zero_for_subnormal = np.array([0.0, 2.0], dtype=np.float32)
    checks.check_oracle("relu", _Answer(zero_for_subnormal, subnormals="flushed"), x)
    with pytest.raises(checks.ConformanceFailure, match="beyond budget"):
        checks.check_oracle("relu", _Answer(zero_for_subnormal), x)
    # the flush allows up to the smallest normal number, not an ulp of a normal result
    off_by_an_ulp = np.array([0.0, np.nextafter(np.float32(2), np.float32(3))], dtype=np.float32)
    with pytest.raises(checks.ConformanceFailure, match="beyond budget"):
        checks.check_oracle("relu", _Answer(off_by_an_ulp, subnormals="flushed"), x)


def test_an_unknown_subnormal_convention_is_refused():
    odd = _Answer(np.zeros(1), subnormals="sometimes")
    with pytest.raises(checks.ConformanceFailure, match="subnormals='sometimes'"):
        checks.check_oracle("relu", odd, np.zeros(1))


def test_a_declared_limit_skips_a_plain_test_with_its_reason_and_is_reported():
    from dlspec.adapters import Limit
    from dlspec.adapters.numpy_adapter import NumpyAdapter

    class NoDampening(NumpyAdapter):
        name = "no-dampening"
        limits = (Limit("sgd", "dampening", (0.0,), "this framework has none"),)

    adapter, params, grads = NoDampening(), np.zeros(2), np.ones((3, 2))
    assert checks.run_backend("sgd", adapter, params, grads, lr=0.1, momentum=0.9).shape == (3, 2)
    with pytest.raises(pytest.skip.Exception, match=r"dampening in \{0.0\} only"):
        checks.run_backend("sgd", adapter, params, grads, lr=0.1, momentum=0.9, dampening=0.5)
    document = report.build(results=[], backends=[adapter], seed=0, profile="ci", wall_seconds=0)
    assert document["backends"][0]["limits"] == [
        "sgd: dampening in {0.0} only (this framework has none)"
    ]
    assert "Limit of `no-dampening`: sgd: dampening" in report.markdown(document)


def test_compare_lists_new_failures_fixes_and_accuracy_moves(tmp_path):
    from dlspec import cli

    def document(statuses, ulps, fraction):
        return {
            "schema": "dlspec-report",
            "matrix": [
                {"concept": c, "backend": "b", "status": status} for c, status in statuses.items()
            ],
            "accuracy": [
                {
                    "concept": "softmax",
                    "backend": "b",
                    "dtype": "float32",
                    "kind": "oracle",
                    "max_ulps": ulps,
                    "max_budget_fraction": fraction,
                }
            ],
        }

    old = document({"softmax": "conforms", "relu": "fails", "tanh": "conforms"}, 1.0, 0.2)
    new = document({"softmax": "fails", "relu": "conforms", "tanh": "conforms"}, 9.0, 0.9)
    lines, newly_failing = cli.compare(old, new)
    assert newly_failing
    assert lines == [
        "no longer failing: relu on b (now conforms)",
        "newly failing: softmax on b (was conforms)",
        "accuracy moved: softmax b float32 oracle: max ulps 1 -> 9",
    ]
    assert cli.compare(old, old) == ([], False)
    paths = []
    for name, doc in (("old", old), ("new", new)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(doc))
    assert cli.main(["report", "--compare", *map(str, paths)]) == 1
    beyond = document({"softmax": "conforms"}, "inf", "inf")
    assert cli.compare(old, beyond)[0][-1].startswith("accuracy crossed the budget: softmax")

    def timed(median, iqr):
        row = {"concept": "relu", "backend": "b", "dtype": "float32", "elements": 100}
        return {"speed": {"rows": [{**row, "median_seconds": median, "iqr_seconds": iqr}]}}

    assert cli.compare({**old, **timed(1e-5, 1e-7)}, {**old, **timed(1.1e-5, 1e-7)})[0] == []
    assert cli.compare({**old, **timed(1e-5, 1e-5)}, {**old, **timed(3e-5, 1e-5)})[0] == []
    assert cli.compare({**old, **timed(1e-5, 1e-7)}, {**old, **timed(3e-5, 1e-7)})[0] == [
        "speed moved: relu b float32 100 elements: 10 -> 30 µs per call (slower)"
    ]


def test_trajectories_are_recorded_step_by_step():
    from dlspec import recording

    (numpy,) = registry.select(["numpy"], [])
    params, gradients = np.array([0.5, -1.0]), np.array([[0.1, 0.2], [0.3, -0.4], [1.0, 2.0]])
    with recording.recording() as recorder:
        checks.check_oracle("adam", numpy, params, gradients, lr=0.1)
        checks.check_oracle("adam", numpy, params, gradients[:2], lr=0.1)
        checks.check_oracle("softmax", numpy, params)
    by_concept = {o["concept"]: o for o in recorder.summary()}
    assert len(by_concept["adam"]["max_ulps_by_step"]) == 3  # the longest trajectory
    assert by_concept["softmax"]["max_ulps_by_step"] == []
    assert recording.merge_by_step([1.0, 5.0], [2.0, 1.0, 7.0]) == [2.0, 5.0, 7.0]


def test_benchmarks_time_conforming_cells_only_into_a_valid_report(monkeypatch, tmp_path):
    from dlspec import benchmarks

    monkeypatch.setattr(benchmarks, "SIZES", (10, 1000))
    monkeypatch.setattr(benchmarks, "BLOCKS", 3)
    monkeypatch.setattr(benchmarks, "BLOCK_SECONDS", 0.001)
    monkeypatch.setattr(benchmarks, "BANDWIDTH_BYTES", 2**20)
    (numpy,) = registry.select(["numpy"], [])
    statuses = {("relu", "numpy"): "conforms", ("sigmoid", "numpy"): "fails"}
    speed = benchmarks.measure([numpy], statuses, ("float32",))
    assert {(r["concept"], r["elements"]) for r in speed["rows"]} == {("relu", 10), ("relu", 1000)}
    for row in speed["rows"]:
        assert row["median_seconds"] > 0 and row["speedup_over_numpy"] == 1.0
        assert row["elements_per_second"] == row["elements"] / row["median_seconds"]
    document = report.build(results=[], backends=[numpy], seed=0, profile="ci", wall_seconds=0)
    document["speed"] = speed
    validated(document)
    report.rewrite(tmp_path, document)
    assert "## Speed" in (tmp_path / "README.md").read_text()
    page = (tmp_path / "report.html").read_text()
    assert page.count("<svg") == 3  # errors in float32 and float64, relu's speed per size
    assert "<polyline" in page and "src=" not in page and "://" not in page  # self-contained
    headings = re.findall(r"^## (.+)$", (tmp_path / "README.md").read_text(), re.MULTILINE)
    assert headings and all(f"<h2>{h}</h2>" in page for h in headings)  # one page, two formats


# ---------------------------------------------------------------- packaging


def test_the_wheel_carries_every_module_spec_page_and_the_catalogue(tmp_path):
    """A non-editable install must work: the wheel holds every source module, every spec page,
    the catalogue and the report schema, and building it raises no packaging warning."""
    import subprocess
    import sys
    import zipfile

    root = TESTS.parent
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-v"]
    built = subprocess.run(
        [*pip_wheel, "--wheel-dir", str(tmp_path), str(root)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "is absent from the `packages` configuration" not in built.stdout + built.stderr
    (wheel,) = tmp_path.glob("dlspec-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    folders = {"dlspec": "dlspec", "reference": "dlspec/reference", "adapters": "dlspec/adapters"}
    wanted = {
        f"{installed}/{path.relative_to(root / source).as_posix()}"
        for source, installed in folders.items()
        for path in (root / source).rglob("*.py")
    }
    wanted |= {
        f"dlspec/spec/{p.relative_to(root / 'spec').as_posix()}"
        for p in (root / "spec").rglob("*.md")
    }
    wanted |= {
        f"dlspec/spec/catalogue/{p.name}" for p in (root / "spec" / "catalogue").glob("*.toml")
    }
    wanted |= {"dlspec/spec/catalogue/groups.toml", "dlspec/report/schema.json"}
    assert not wanted - names, sorted(wanted - names)


# ---------------------------------------------------------------- the seed sweep


def test_the_sweep_reads_one_line_per_failure_and_the_divergences_from_a_report():
    from dlspec import sweep

    document = {
        "matrix": [
            {
                "concept": "softmax",
                "backend": "numpy",
                "failures": [
                    "dlspec.checks.ConformanceFailure: softmax [numpy float32] 1 of 2 elements "
                    "beyond budget\n  worst out[0] = ..."
                ],
                "divergences": [],
                "tests": {"failed": 1},
            },
            {
                "concept": "tanh",
                "backend": "jax",
                "failures": [],
                "divergences": [],
                "divergences_not_shown": ["concepts/tanh.md#divergences"],
                "tests": {"diverged": 0, "passed": 3},
            },
        ]
    }
    (entry,) = sweep.failure_entries(document, 7)
    assert entry == {
        "seed": 7,
        "concept": "softmax",
        "backend": "numpy",
        "dtype": "float32",
        "message": "1 of 2 elements beyond budget",
    }
    assert sweep.divergence_cells(document) == ([], ["tanh [jax]"])


def test_a_divergence_signature_excuses_its_region_and_values_only():
    """``where`` and ``gives`` per element of the result; a reduction's region covers the whole
    result; an expression that does not evaluate names itself."""
    from dlspec.divergences import Signature, SignatureError

    signature = Signature("x < -88.7", "out == 0")
    names = {"x": np.array([-95.0, -95.0, 1.0]), "out": np.array([0.0, 1e-41, 0.0])}
    assert signature.explained(names, (3,)).tolist() == [True, False, False]
    reduced = Signature("x < 0", "isnan(out)")
    assert reduced.explained({"x": np.array([1.0, -1.0]), "out": np.array(np.nan)}, ()).item()
    bound = Signature("True", "err <= k * abs(ref)", defines=(("k", "2 * u"),))
    names = {"err": np.array([1e-16, 1e-15]), "ref": np.array([1.0, 1.0]), "u": 2.0**-53}
    assert bound.explained(names, (2,)).tolist() == [True, False]
    with pytest.raises(SignatureError, match="where = 'y < 0' does not evaluate"):
        Signature("y < 0", "True").explained({"x": np.zeros(1)}, (1,))
    with pytest.raises(SignatureError, match="is not an expression"):
        Signature("x <", "True")


def test_the_catalogue_rejects_a_divergence_without_its_signature_or_example():
    folder = resources.files("dlspec.spec").joinpath("catalogue")
    files = {
        n: tomllib.loads(folder.joinpath(n).read_text())
        for n in ("groups.toml", "activations.toml")
    }
    document = catalogue.merge(files)
    entry = next(d for d in document["divergences"] if d["concept"] == "sigmoid")
    for key in ("where", "example"):
        broken = {**document, "divergences": [{k: v for k, v in entry.items() if k != key}]}
        with pytest.raises(ValueError, match=r"where|example"):
            catalogue.parse(broken)
