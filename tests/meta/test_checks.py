"""The checks themselves: failure on an infinite reference, the oracle's cache, subnormals,
declared limits, compare, trajectories and the benchmarks."""

import json
import re

import numpy as np
import pytest
from helpers import validated

from dlspec import catalogue, checks, oracle, registry, report
from dlspec.numerics import FORMATS

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
