"""The checks themselves: failure on an infinite reference, the oracle's cache, subnormals,
declared limits, compare, trajectories and the benchmarks."""

import json
import re

import numpy as np
import pytest
from helpers import validated

from dlspec import catalogue, checks, oracle, recording, registry, report
from dlspec.divergences import Signature
from dlspec.numerics import FORMATS
from dlspec.report import blocks

pytestmark = pytest.mark.meta


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


def test_a_subnormal_cotangent_on_a_huge_mse_gradient_is_allowed_a_finite_error():
    """MSE's gradient 2 (p - t) g / n at p - t = 2^1022 with g = 2^-1074: the cotangent's
    underflow amplification 4 (1 + |d|) at |d| = 2^1023 overflowed to an infinite allowance (any value passed);
    capped at the largest float64 it is finite, yet covers the flushed cotangent's loss."""
    concept = catalogue.load().concept("mse_loss_grad")
    inputs = {
        "prediction": np.array([2.0**1022]),
        "target": np.array([0.0]),
        "cotangent": np.array(5e-324),
    }
    exact = np.array([2.0**-51])  # 2 (p - t) g, n = 1
    with np.errstate(over="raise"):
        for flushed in (True, False):
            allowed = checks.allowance(
                concept, FORMATS["float64"], inputs, {"reduction": "mean"}, exact, flushed=flushed
            )
            assert np.all(np.isfinite(allowed)), (flushed, allowed)
    assert allowed[0] >= 2.0**-52  # half the smallest subnormal times |d|, gradual


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


def test_two_runs_merge_each_backend_from_the_run_it_was_available_in(tmp_path):
    """``dlspec report --merge``: a backend that needs a process of its own (keras-torch beside
    keras-jax) contributes its rows from the run where it was available; the rest stays."""
    from dlspec import cli, report
    from dlspec.report.document import merge

    def run(available_k, status, wall):
        backends = [
            {"name": "a", "available": not available_k},
            {"name": "k", "available": available_k},
        ]
        return {
            "schema": report.SCHEMA,
            "schema_version": report.SCHEMA_VERSION,
            "seed": 1,
            "profile": "ci",
            "backends": backends,
            "matrix": [
                {"concept": "relu", "backend": b["name"], "status": status} for b in backends
            ],
            "accuracy": [],
            "porting": [],
            "suite_seconds": {
                "wall": wall,
                "by_backend_and_group": [{"backend": "k", "group": "g", "seconds": wall}],
            },
        }

    first, second = run(False, "conforms", 2.0), run(True, "fails", 3.0)
    merged = merge(first, second)
    assert [c["status"] for c in merged["matrix"]] == ["conforms", "fails"]
    assert [b["available"] for b in merged["backends"]] == [True, True]
    assert merged["suite_seconds"]["wall"] == 5.0
    assert merged["suite_seconds"]["by_backend_and_group"][0]["seconds"] == 3.0
    with pytest.raises(ValueError, match="seed"):
        merge(first, {**second, "seed": 2})
    for name, doc in (("first", first), ("second", second)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.json").write_text(json.dumps(doc))
    with pytest.raises(SystemExit):  # --merge needs --out
        cli.main(["report", "--merge", str(tmp_path / "first"), str(tmp_path / "second")])


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
    statuses = {
        ("relu", "numpy"): "conforms",
        ("sigmoid", "numpy"): "fails",
        ("gelu", "numpy"): "diverges",
    }
    speed = benchmarks.measure([numpy], statuses, ("float32",))
    timed = {(r["concept"], r["elements"], r["status"]) for r in speed["rows"]}
    assert timed == {
        (c, n, s) for c, s in (("relu", "conforms"), ("gelu", "diverges")) for n in (10, 1000)
    }
    for row in speed["rows"]:
        assert row["median_seconds"] > 0 and row["speedup_over_numpy"] == 1.0
        assert row["elements_per_second"] == row["elements"] / row["median_seconds"]
        # against a copy of the same bytes: a row is the copy's time over its own
        assert row["copy_seconds"] > 0
        assert row["bandwidth_fraction"] == row["copy_seconds"] / row["median_seconds"]
    document = report.build(results=[], backends=[numpy], seed=0, profile="ci", wall_seconds=0)
    document["speed"] = speed
    validated(document)
    report.rewrite(tmp_path, document)
    assert "## Speed" in (tmp_path / "speed.md").read_text()
    assert "gelu (diverges)" in (tmp_path / "speed.md").read_text()  # timed, and flagged
    page = (tmp_path / "report.html").read_text()
    assert page.count("<svg") == 4  # errors in float32 and float64, relu's and gelu's speed
    assert "<polyline" in page and "src=" not in page and "://" not in page  # self-contained
    headings = [
        heading
        for markdown in sorted(tmp_path.glob("*.md"))
        for heading in re.findall(r"^## (.+)$", markdown.read_text(), re.MULTILINE)
    ]
    assert headings and all(f">{h}</h2>" in page for h in headings)  # the pages, in one file


def _diverging_document():
    """A report of two backends: one divergence with its message, one failure."""
    from dlspec.adapters.numpy_adapter import NumpyAdapter

    seen = (
        "known divergence: sigmoid underflows early (spec/concepts/sigmoid.md#divergences)\n"
        "seen: 1 of 2 elements, worst out[1] = 0.0, reference 3.7e-44: 26.5 ulp, rel 1; "
        "input: x = [-27.8, -100.0]"
    )
    results = [
        {
            "concept": "sigmoid",
            "backend": "torch-cpu",
            "outcome": "diverged",
            "message": seen,
            "divergence": "concepts/sigmoid.md#divergences",
            "seconds": 0.1,
            "observations": [],
        },
        {
            "concept": "softmax",
            "backend": "numpy",
            "outcome": "failed",
            "seconds": 0.1,
            "message": "softmax [numpy float64]: beyond budget\nseen: 1 of 3 elements, worst "
            "out[0] = 0.5, reference 0.25: 4.5e+15 ulp, rel 1; input: x = [1.0, 2.0, 3.0]",
            "observations": [],
        },
        {
            "concept": "relu",
            "backend": "numpy",
            "outcome": "passed",
            "message": "",
            "seconds": 0.1,
            "observations": [],
        },
    ]
    return report.build(
        results=results, backends=[NumpyAdapter()], seed=7, profile="ci", wall_seconds=1.0
    )


def test_the_index_answers_first_what_fails_or_diverges_and_links_its_evidence(tmp_path):
    document = validated(_diverging_document())
    report.rewrite(tmp_path, document)
    first = (tmp_path / "README.md").read_text().splitlines()[:40]
    text = "\n".join(first)
    assert "**fails** `softmax` on numpy: 4.5e+15 ulp (rel 1): out[0] = 0.5" in text
    assert "**diverges** `sigmoid` on torch-cpu: 26.5 ulp (rel 1)" in text
    assert text.index("**fails**") < text.index("**diverges**")  # failures first
    # every link to another page of the report lands on a heading of that page
    for page, fragment in re.findall(r"\]\((\w+\.md)#([^)]+)\)", text):
        anchors = {
            blocks.anchor(h)
            for h in re.findall(r"^#+ (.+)$", (tmp_path / page).read_text(), re.MULTILINE)
        }
        assert fragment in anchors, (page, fragment)
    page = (tmp_path / "report.html").read_text()
    assert 'href="#sigmoid-on-torch-cpu"' in page and 'id="sigmoid-on-torch-cpu"' in page
    # interactive, still one file: the filter bar offers the report's own backends and statuses
    assert '<div id="filters"' in page and '<option value="numpy">' in page
    assert '<option value="diverges">' in page and "sortBy(" in page and "://" not in page
    # the runnable evidence: the write-up's snippet, its minimal input bound first
    evidence = (tmp_path / "divergences.md").read_text()
    assert "```python\n# the minimal input (float32)\nx = [-95.0]\ndtype = 'float32'\n" in evidence
    assert "out = torch.sigmoid(torch.tensor(x, dtype=kind))" in evidence


@pytest.mark.parametrize(
    ("name", "concept", "expected"),
    [
        ("torch-cpu", "adam", {"for-loop", "foreach", "fused"}),
        ("jax", "relu", {"jit", "eager"}),
        ("numpy", "adam", {"default"}),
    ],
)
def test_each_implementation_a_framework_offers_is_timed_and_computes_the_same(
    name, concept, expected
):
    """The benchmarks time every implementation apart (torch.optim's three Adam kernels, JAX
    jitted and eager): each is the same concept, so each gives the default's result."""
    (backend,) = registry.select([name], [])
    if not getattr(backend, "available", True):
        pytest.skip(backend.reason)
    variants = backend.timed_variants(concept)
    assert set(variants) == expected
    rng = np.random.default_rng(0)
    if concept == "adam":
        arrays, params = (rng.standard_normal(4), rng.standard_normal((3, 4))), {"lr": 1e-2}
    else:
        arrays, params = (rng.standard_normal(5),), {}
    default = backend.run(concept, *arrays, **params)
    for implementation, function in variants.items():
        result = backend.to_numpy(function(*(backend.to_native(a) for a in arrays), **params))
        np.testing.assert_allclose(result, default, rtol=1e-12, err_msg=implementation)


def test_the_porting_guide_shows_each_mapping_with_its_verdict_defaults_and_code(tmp_path):
    """The guide is written from what the porting tests recorded: a failing mapping is named in
    the index, a cannot entry shows its minimal input, the defaults read from the framework are
    side by side, and each mapping's code is there to copy."""
    from dlspec.adapters.base import FrameworkDefault
    from dlspec.adapters.numpy_adapter import NumpyAdapter

    from dlspec import catalogue

    class WithDefaults(NumpyAdapter):
        name = "torch-cpu"
        defaults = (FrameworkDefault("leaky_relu.negative_slope", "numpy.linspace", "num"),)

    mappings = {m.id: m for m in catalogue.load().mappings}
    found = {
        "gelu-tanh-form": (
            "passed",
            {"verdict": "verified", "examples": 40, "worst_fraction": 0.25},
        ),
        "sgd-momentum": ("failed", {"verdict": "parts", "examples": 3, "evidence": "2 of 4 part"}),
        "sgd-dampening": (
            "passed",
            {"verdict": "cannot", "first_step": 1, "evidence": "1 of 1 elements part; input: x"},
        ),
    }
    results = [
        {
            "concept": mappings[mapping_id].concept,
            "backend": None,
            "outcome": outcome,
            "message": "PortingMismatch: parts" if outcome == "failed" else "",
            "seconds": 0.1,
            "observations": [],
            "porting": {"mapping": mapping_id, "dtype": "float32", **seen},
        }
        for mapping_id, (outcome, seen) in found.items()
    ]
    document = validated(
        report.build(
            results=results, backends=[WithDefaults()], seed=1, profile="ci", wall_seconds=1.0
        )
    )
    report.rewrite(tmp_path, document)
    index = (tmp_path / "README.md").read_text()
    assert "**failing**: `sgd` (momentum)" in index and "(porting.md)" in index
    guide = (tmp_path / "porting.md").read_text()
    assert "float32: verified on 40 inputs (worst 0.25 of the allowance)" in guide
    assert "float32: FAILS" in guide
    assert "float32: cannot, they part from step 1" in guide and "input: x" in guide
    assert "`50` (numpy.linspace(num))" in guide  # read from the signature, not typed in
    # an optimizer mapping shows its settings; the driver it runs in is shown once
    assert "optax.chain(optax.trace(decay=momentum), optax.scale(-lr * (1 - dampening)))" in guide
    assert guide.count("for g in gradients:") == 2 and "optimizer = {make}" in guide
    assert 'id="sgd-dampening"' in (tmp_path / "report.html").read_text()


class _Raising:
    """A backend whose every call raises ``error``."""

    name = "raising"

    def __init__(self, error):
        self.conventions = {}
        self.error = error

    def run(self, concept, *arrays, **params):
        raise self.error


def test_a_raise_a_divergence_writes_up_is_that_divergence_and_any_other_fails(monkeypatch):
    """A written-up ``raises`` matches the exception's type and a part of its message, in its
    region: that call is recorded as the divergence; another exception, or the same outside the
    region, fails the check as any exception does."""
    written = catalogue.Divergence(
        backends=("raising",),
        concept="relu",
        dtypes=("float64",),
        signature=Signature("x.size > 1", "True"),
        examples={},
        summary="relu raises in place",
        spec="concepts/relu.md#divergences",
        versions="v",
        raises="RuntimeError: in-place operation",
    )
    monkeypatch.setattr(
        catalogue.Catalogue,
        "divergences_of",
        lambda self, backend, concept, dtype: [written] if backend == "raising" else [],
    )
    error = RuntimeError("Exception encountered\na leaf is used in an in-place operation.")
    x = np.array([1.0, -1.0])
    with recording.recording() as recorder, pytest.raises(checks.RaisedAsWrittenUp) as raised:
        checks.run_backend("relu", _Raising(error), x)
    assert "raised RuntimeError: a leaf is used in an in-place operation." in str(raised.value)
    assert list(recorder.divergences) == [written]
    for other, arrays in [
        (ValueError("an in-place operation"), [x]),  # another type
        (RuntimeError("kernel exploded"), [x]),  # another message
        (error, [np.array([1.0])]),  # outside the region
    ]:
        with recording.recording() as recorder, pytest.raises(checks.ConformanceFailure):
            checks.run_backend("relu", _Raising(other), *arrays)
        assert not recorder.divergences


# ---------------------------------------------------------------- low precision


class _Declaring(_Constant):
    """A constant backend declaring conventions."""

    def __init__(self, value, dtype, **conventions):
        super().__init__(value)
        self.value = self.value.astype(dtype)
        self.conventions = conventions


def test_a_low_precision_result_is_held_to_how_the_backend_declares_it_computes():
    """sigmoid(2) in bfloat16 a neighbour off (0.875 for the nearest 0.87890625, exact 0.88080,
    1.5 ulp): within the allowance of rounding each operation (4 ulp of bfloat16), beyond the
    float32-then-round allowance (half an ulp of bfloat16 plus float32's) a declaration of
    ``float32`` asks for."""
    x = np.array([2.0], dtype="bfloat16")
    nearest = oracle.exact_result("sigmoid", [x], {}).rounded(x.dtype)
    off = (nearest.astype(np.float64) - 2.0**-8).astype(x.dtype)
    assert off.tolist() == [0.875] and nearest.tolist() == [0.87890625]
    checks.check_oracle("sigmoid", _Declaring(off, x.dtype), x)  # default: "dtype"
    in_float32 = _Declaring(off, x.dtype, low_precision_compute="float32")
    with pytest.raises(checks.ConformanceFailure, match=r"sigmoid \[constant bfloat16\]"):
        checks.check_oracle("sigmoid", in_float32, x)
    per_concept = _Declaring(nearest, x.dtype, **{"sigmoid.low_precision_compute": "float32"})
    checks.check_oracle("sigmoid", per_concept, x)
    with pytest.raises(checks.ConformanceFailure, match="low_precision_compute='float64'"):
        checks.check_oracle(
            "sigmoid", _Declaring(nearest, x.dtype, low_precision_compute="float64"), x
        )


def test_the_float32_allowance_is_half_an_ulp_of_the_dtype_on_top_of_float32s():
    concept = catalogue.load().concept("sigmoid")
    x = {"x": np.array([2.0, -30.0])}
    result = np.array([0.8807970779778823, 9.357622968840175e-14])
    bf16, f32 = FORMATS["bfloat16"], FORMATS["float32"]
    wide = checks.allowance(concept, f32, x, {}, result)
    once = checks.allowance(concept, bf16, x, {}, result, computed_in=f32)
    each = checks.allowance(concept, bf16, x, {}, result)
    assert np.allclose(once, 0.5 * np.array([2.0**-8, 2.0**-51]) + wide)
    assert np.all(once < each)


def test_the_first_order_term_gains_its_second_order_where_it_is_a_fraction_of_the_result():
    """u s (1 + t) for t = u s / |r| < 1 (bfloat16's softmax logit of 64: t = 0.25); as it is
    where t >= 1 or r = 0 (a cancellation's absolute error)."""
    from dlspec.budgets import second_order

    first = np.array([0.25, 0.5, 3.0, 1e-9])
    result = np.array([1.0, 0.0, 1.0, 1.0])
    assert second_order(first, result).tolist() == [0.3125, 0.5, 3.0, 1e-9 * (1 + 1e-9)]
    assert second_order(first, result)[0] >= np.expm1(0.25)  # e^t - 1 <= t + t^2


def test_subnormals_may_be_declared_per_dtype():
    """XLA computes float16 in float32, where float16's subnormals are normal: JAX preserves
    them while it flushes float32's."""
    jax_like = _Declaring(
        0.0, np.float16, subnormals="flushed", **{"subnormals.float16": "preserved"}
    )
    tiny16, tiny32 = np.array([1e-5], np.float16), np.array([1e-40], np.float32)
    assert checks.subnormals(jax_like, "float16") == "preserved"
    assert checks.subnormals(jax_like, "float32") == "flushed"
    assert checks.as_read_by(jax_like, tiny16).tolist() == tiny16.tolist()
    assert checks.as_read_by(jax_like, tiny32).tolist() == [0.0]


def test_a_correctly_rounded_backend_is_held_to_half_an_ulp():
    """The reference's claim: sigmoid(3 * 2^-10) lies just short of a float16 tie, which a
    rounding through float32 lands on and takes to the even neighbour, an ulp above the
    nearest: within sigmoid's 4-ulp budget, not within the half ulp a correctly rounded
    backend promises."""
    x = np.array([0.0029296875], dtype=np.float16)
    exact = oracle.exact_result("sigmoid", [x], {})
    twice = exact.rounded(np.dtype(np.float32)).astype(np.float16)
    assert twice.tolist() == [0.5009765625] and exact.rounded(x.dtype).tolist() == [0.50048828125]

    class Claiming(_Declaring):
        correctly_rounded = True

    checks.check_oracle("sigmoid", _Declaring(twice, np.float16), x)
    with pytest.raises(checks.ConformanceFailure, match="beyond budget"):
        checks.check_oracle("sigmoid", Claiming(twice, np.float16), x)
    checks.check_oracle("sigmoid", Claiming(exact.rounded(x.dtype), np.float16), x)


def test_a_declared_float32_result_of_low_precision_inputs_is_held_in_float32():
    """torch.autocast's losses: mse_loss of bfloat16 inputs returned in float32 is held to
    float32's allowance (the nearest float32, filed under bfloat16), and returning float32
    undeclared, or the dtype where float32 is declared, is a wrong dtype."""
    p, t = np.array([0.0, 1.0], dtype="bfloat16"), np.array([0.1, 0.7], dtype="bfloat16")
    exact = oracle.exact_result("mse_loss", [p, t], {})
    in_float32 = exact.rounded(np.dtype(np.float32))
    declared = {"mse_loss.result_dtype": "float32"}
    out = checks.check_oracle("mse_loss", _Declaring(in_float32, np.float32, **declared), p, t)
    assert out.dtype == np.float32
    as_bfloat16 = exact.rounded(p.dtype).astype(np.float32)  # the bfloat16 value, in float32
    assert as_bfloat16.tolist() != in_float32.tolist()
    with pytest.raises(checks.ConformanceFailure, match=r"mse_loss \[constant bfloat16\]"):
        checks.check_oracle("mse_loss", _Declaring(as_bfloat16, np.float32, **declared), p, t)
    with pytest.raises(checks.ConformanceFailure, match="returned float32 for bfloat16 input"):
        checks.check_oracle("mse_loss", _Declaring(in_float32, np.float32), p, t)
    with pytest.raises(checks.ConformanceFailure, match="returned bfloat16 for float32 input"):
        checks.check_oracle(
            "mse_loss", _Declaring(exact.rounded(p.dtype), p.dtype, **declared), p, t
        )


def test_adams_float16_denominator_may_hold_no_digit_where_v_and_eps_underflow():
    """float16 at g = 2^-8, eps = 1e-8: (1 - b2) g^2 = 1.5e-8 and eps are both below half the
    smallest subnormal, the denominator may be 0, and the model sets no bound; at eps = 1e-3,
    or in float32 and bfloat16, it is finite, and in float32 as before (5e-23 of sqrt(v))."""
    concept = catalogue.load().concept("adam")
    inputs = {"params": np.array([1.0]), "gradients": np.array([[2.0**-8], [2.0**-8]])}
    trajectory = np.array([[0.999], [0.998]])

    def allowed(dtype, eps):
        params = {"lr": 1e-3, "eps": eps}
        return checks.allowance(concept, FORMATS[dtype], inputs, params, trajectory)

    assert np.isinf(allowed("float16", 1e-8)).all()
    assert np.isfinite(allowed("float16", 1e-3)).all()
    assert np.isfinite(allowed("bfloat16", 1e-8)).all()
    assert np.all(allowed("float32", 1e-8) < 1e-6)


def test_a_backend_declares_where_its_optimizers_keep_their_state():
    assert checks.optimizer_state(_Declaring([0.0], np.float16)) == "dtype"  # the default
    assert checks.optimizer_state(_Declaring([0.0], np.float16, optimizer_state="exact")) == "exact"
    with pytest.raises(checks.ConformanceFailure, match="optimizer_state='float8'"):
        checks.optimizer_state(_Declaring([0.0], np.float16, optimizer_state="float8"))
