"""Backend selection, markers, seeding and determinism, and the report the plugin writes."""

import importlib
import json
import re

import hypothesis
import pytest
from helpers import TESTS, validated
from hypothesis import given
from hypothesis import strategies as st

from dlspec import registry, report
from dlspec.plugin import PROFILES

CI_EXAMPLES = PROFILES["ci"]["max_examples"]
"""What the ``ci`` profile draws a test."""

pytestmark = pytest.mark.meta


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


def test_the_schema_rejects_a_malformed_report():
    jsonschema = pytest.importorskip("jsonschema")
    with pytest.raises(jsonschema.ValidationError, match="'fine' is not one of"):
        validated(
            {
                "schema": "dlspec-report",
                "schema_version": report.SCHEMA_VERSION,
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
    assert alone.startswith("ci ") and len(alone.splitlines()) == CI_EXAMPLES
    assert _outer_draws(pytester, "test_a_nested.py", "test_b_draws.py") == alone
    assert (pytester.path / "nested.txt").read_text().startswith("dev ")


FEWER_EXAMPLES = """
from typing import ClassVar

from dlspec.adapters.numpy_adapter import NumpyAdapter


class Compiling(NumpyAdapter):
    name = "compiling"
    ci_examples: ClassVar[int | None] = 5
"""


DRAWS_PER_BACKEND = """
import pytest
from hypothesis import given, strategies as st


@given(st.floats(-1e3, 1e3))
def test_draws(backend, x):
    with open(f"{backend.name}.txt", "a") as seen:
        seen.write(f"{x!r}\\n")


@pytest.mark.runs_on("numpy", "compiling")
@given(st.floats(-1e3, 1e3))
def test_a_pair_draws(x):
    with open("pair.txt", "a") as seen:
        seen.write(f"{x!r}\\n")
"""


@pytest.mark.parametrize(
    ("profile", "expected"), [("ci", (5, CI_EXAMPLES, 5)), ("dev", (20, 20, 20))]
)
def test_a_backends_ci_examples_caps_its_draws_at_ci_alone(pytester, profile, expected):
    """``ci_examples`` (a backend that compiles every new shape) caps that backend's draws at
    the ``ci`` profile and no other, and those of a test that names it in ``runs_on`` (a porting
    mapping); the test function, which every backend's parametrization shares, draws the
    profile's number again on the next backend."""
    pytester.makepyfile(compiling=FEWER_EXAMPLES, test_draws=DRAWS_PER_BACKEND)
    result = pytester.runpytest_subprocess(
        "test_draws.py",
        *("--adapter", "compiling.py:Compiling", "--backend", "numpy"),
        *("-p", "no:cacheprovider", "--hypothesis-profile", profile, "--dlspec-seed", "7"),
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    drawn = tuple(
        len((pytester.path / f"{name}.txt").read_text().splitlines())
        for name in ("compiling", "numpy", "pair")
    )
    assert drawn == expected


def test_xdist_workers_merge_into_the_same_report(pytester, tmp_path):
    """Under ``pytest -n``, the workers' results reach the controller, which writes one report,
    the same as a run in one process."""
    serial = _seeded_report(pytester, tmp_path / "serial")
    assert serial[0] and serial[1]
    assert _seeded_report(pytester, tmp_path / "parallel", "-n", "2") == serial


PROGRESS_SUITE = """
import pytest

@pytest.mark.parametrize("k", range(5))
def test_passes(k):
    pass

def test_fails():
    assert False
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_progress_prints_lines_of_tests_done_instead_of_letters(pytester, workers):
    pytester.makepyfile(test_progress=PROGRESS_SUITE)
    result = pytester.runpytest_subprocess("-q", "--progress", "1e-9", *workers)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    lines = result.stdout.lines
    assert any(re.match(r"dlspec: 6 of 6 tests \(100%\), 1 failed, \d+ s$", line) for line in lines)
    assert not any(re.fullmatch(r"\.*F\.*( +\[\d+%\])?", line.strip()) for line in lines if line)


def test_each_workers_jax_cache_gets_the_entries_the_others_wrote(tmp_path, monkeypatch):
    """After a run, every worker's cache folder holds every entry (a warm run's test may go to
    any worker); a file already there is kept, and a worker (not the controller) merges none."""
    from types import SimpleNamespace

    from dlspec.plugin import JAX_CACHE, share_jax_caches

    for worker, entries in {"gw0": ["a", "both"], "gw1": ["b", "both"], "gw2": []}.items():
        (tmp_path / worker).mkdir()
        for entry in entries:
            (tmp_path / worker / entry).write_text(f"{entry} of {worker}")
    monkeypatch.setenv(JAX_CACHE, str(tmp_path))
    assert share_jax_caches(SimpleNamespace(workerinput={"workerid": "gw0"})) == 0
    assert share_jax_caches(SimpleNamespace()) == 5  # b; a; a, b and both
    for worker in ("gw0", "gw1", "gw2"):
        assert sorted(p.name for p in (tmp_path / worker).iterdir()) == ["a", "b", "both"]
    assert (tmp_path / "gw1" / "both").read_text() == "both of gw1"
    assert (tmp_path / "gw1" / "a").read_text() == "a of gw0"
    assert share_jax_caches(SimpleNamespace()) == 0


def test_programs_keeps_the_most_recently_used_and_drops_the_rest():
    """A jitting adapter's program store is bounded (memory maps per XLA executable): the least
    recently used program goes first, and one asked for again is made anew."""
    from dlspec.adapters.base import Programs

    made: list[str] = []

    def maker(key: str):
        def make():
            made.append(key)
            return lambda: key

        return make

    programs = Programs(capacity=2)
    for key in ["a", "b", "a", "c", "a", "b"]:
        assert programs.get(key, maker(key))() == key
    assert made == ["a", "b", "c", "b"]  # "b" was the least recently used when "c" came
    assert len(programs) == 2
