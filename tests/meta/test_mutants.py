"""The suite tests itself: every mutant adapter must be caught by the conformance tests of its
concept, and every broken adapter must produce clear failures and a complete report, never a
crashed run."""

import functools
import json
from pathlib import Path

import pytest
from helpers import validated
from mutants import BROKEN, JAX_MUTANT_SPECS, MUTANTS, TORCH_MUTANT_SPECS
from mutants.porting import MAPPING_MUTANTS

from dlspec.catalogue import load

TESTS = Path(__file__).parent.parent
pytestmark = pytest.mark.meta


QUIET_SEEDED_MUTANT_RUN = (
    "--hypothesis-profile",
    "mutants",
    "--dlspec-seed",
    "0",
    "-p",
    "no:cacheprovider",
    "-q",
    "--assert=plain",
    "--tb=native",
)
"""The nested sessions' options. A nested session imports the test modules afresh: without
rewriting their asserts (``--assert=plain``; the verdicts are the suite's own
``ConformanceFailure`` messages, which need no rewriting) and printing failures as Python's own
tracebacks (``--tb=native``, not pytest's source excerpts, which parse each module again), it
spends its time on the tests, not on a third of it compiling and parsing them."""


def run_suite_on(pytester, adapter: type, *extra: str):
    """The conformance tests of the adapter's ``caught_by`` concept (its group's module and the
    calls with defaults), run on that adapter."""
    concept = load().concept(adapter.caught_by)
    return pytester.runpytest_inprocess(
        str(TESTS / f"test_{concept.group}.py"),
        str(TESTS / "test_defaults.py"),
        *("--adapter", f"mutants:{adapter.__name__}", "--concept", adapter.caught_by),
        *QUIET_SEEDED_MUTANT_RUN,
        *extra,
    )


def assert_caught(result, mutant: type) -> None:
    """Caught by what it computes: a conformance failure headed with the mutant's own name, and
    no failure that only says the adapter could not be loaded or raised."""
    outcomes = result.parseoutcomes()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert outcomes.get("failed", 0) >= 1, f"{mutant.__name__} ({mutant.__doc__}) was not caught"
    assert "errors" not in outcomes and "error" not in outcomes, result.stdout.str()
    result.stdout.fnmatch_lines([f"*ConformanceFailure: {mutant.caught_by} [[]{mutant.name} *"])
    result.stdout.no_fnmatch_line("*could not be constructed*")
    result.stdout.no_fnmatch_line(f"*ConformanceFailure: * [[]{mutant.name} *] raised *")


def covered_by_this_session(request, backend: str, concepts: set[str]) -> bool:
    """Whether this very session also runs the conformance tests of ``concepts`` on ``backend``
    (``make test`` runs every backend): those tests are the control, at this session's seed and
    profile, and a failure there fails the session; running them again would only repeat them."""
    wanted = set(concepts)
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        marker = item.get_closest_marker("concept")
        if callspec is None or marker is None or marker.args[0] not in wanted:
            continue
        if getattr(callspec.params.get("backend"), "name", None) == backend:
            wanted.discard(marker.args[0])
    return not wanted


def assert_control_passes(pytester, backend: str, concepts: set[str]) -> None:
    """The control: the tests that catch the mutants pass on the unmutated adapter."""
    groups = sorted({load().concept(c).group for c in concepts})
    args = [str(TESTS / f"test_{g}.py") for g in groups] + [str(TESTS / "test_defaults.py")]
    for concept in sorted(concepts):
        args += ["--concept", concept]
    result = pytester.runpytest_inprocess(*args, "--backend", backend, *QUIET_SEEDED_MUTANT_RUN)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


CAUGHT_AT_THE_FIRST_FAILURE = "-x"  # one conformance failure catches a mutant


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.__name__)
def test_mutant_is_caught(pytester, mutant):
    assert_caught(run_suite_on(pytester, mutant, CAUGHT_AT_THE_FIRST_FAILURE), mutant)


CONTROL_IN_THIS_SESSION = "the conformance tests of {concept!r} on {backend} run in this session"


@pytest.mark.parametrize("concept", sorted({m.caught_by for m in MUTANTS}))
def test_the_unmutated_adapter_passes_what_catches_the_mutants(request, pytester, concept):
    if covered_by_this_session(request, "numpy", {concept}):
        pytest.skip(CONTROL_IN_THIS_SESSION.format(concept=concept, backend="numpy"))
    assert_control_passes(pytester, "numpy", {concept})


FRAMEWORKS = {
    "torch-cpu": ("torch_imported", "torch_mutants", TORCH_MUTANT_SPECS),
    "jax": ("jax_imported", "jax_mutants", JAX_MUTANT_SPECS),
}
"""Per framework backend: the fixture that imports the framework, the builder of its mutants in
``mutants/`` and their specs (optimizers, schedules and gradients)."""


@functools.cache
def _framework_mutants(builder: str) -> dict[str, type]:
    import mutants

    return {cls.__name__: cls for cls in getattr(mutants, builder)()}


@pytest.fixture
def framework(request):
    """The framework backend's name, its framework imported first: before pytester snapshots
    ``sys.modules`` (see ``torch_imported``), so this fixture comes before ``pytester``."""
    request.getfixturevalue(FRAMEWORKS[request.param][0])
    return request.param


@pytest.mark.parametrize(
    ("framework", "name"),
    [(f, spec[0]) for f, (_, _, specs) in FRAMEWORKS.items() for spec in specs],
    indirect=["framework"],
)
def test_framework_mutant_is_caught(framework, pytester, name):
    """The framework adapters' own misuses (``zero_grad()`` forgotten, optax updates subtracted,
    ...) are caught as the NumPy mutants are."""
    mutant = _framework_mutants(FRAMEWORKS[framework][1])[name]
    assert_caught(run_suite_on(pytester, mutant, CAUGHT_AT_THE_FIRST_FAILURE), mutant)


@pytest.mark.parametrize(
    ("framework", "concept"),
    [(f, c) for f, (_, _, specs) in FRAMEWORKS.items() for c in sorted({s[1] for s in specs})],
    indirect=["framework"],
)
def test_the_unmutated_framework_adapter_passes_what_catches_its_mutants(
    request, framework, pytester, concept
):
    if covered_by_this_session(request, framework, {concept}):
        pytest.skip(CONTROL_IN_THIS_SESSION.format(concept=concept, backend=framework))
    assert_control_passes(pytester, framework, {concept})


EXPECTED_MESSAGE = {
    "BrokenRaises": "raised RuntimeError: kernel exploded",
    "BrokenWrongShape": "returned shape",
    "BrokenWrongDtype": "returned float16 for float32 input",
    "BrokenNaN": "beyond budget",
    "BrokenNotAnArray": "returned float, not a NumPy array",
    "BrokenMissingRun": "has no method 'run'",
    "BrokenConstructor": "could not be constructed: ImportError",
    "BrokenNoConvention": "declares no convention for 'binary_cross_entropy.guard'",
    "BrokenWritesIntoInput": "raised InputModified: the call wrote into its argument 0",
}


@pytest.mark.parametrize("broken", BROKEN, ids=lambda b: b.__name__)
def test_broken_adapter_fails_clearly_and_still_reports(pytester, broken, tmp_path):
    report_dir = tmp_path / "report"
    result = run_suite_on(pytester, broken, "--report", str(report_dir))
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1
    assert "errors" not in outcomes and "error" not in outcomes, result.stdout.str()
    result.stdout.fnmatch_lines([f"*{EXPECTED_MESSAGE[broken.__name__]}*"])
    document = validated(json.loads((report_dir / "report.json").read_text()))
    cells = [c for c in document["matrix"] if c["concept"] == broken.caught_by]
    assert cells and all(c["status"] == "fails" for c in cells), cells
    assert any(EXPECTED_MESSAGE[broken.__name__] in m for c in cells for m in c["failures"])
    assert (report_dir / "README.md").read_text().count(broken.caught_by) >= 1


def test_a_worker_that_crashes_is_a_failure_entry_of_its_cell(pytester, tmp_path):
    """A test whose xdist worker dies (JAX once segfaulted reading its compilation cache) is a
    failure of its concept, backend and dtype in the report, with xdist's message, and the
    report is complete: the other tests of the run are in it."""
    report_dir = tmp_path / "report"
    result = pytester.runpytest_subprocess(
        str(TESTS / "test_activations.py"),
        *("--adapter", "mutants:BrokenCrashes", "--concept", "relu", "--concept", "sigmoid"),
        *("-k", "relu_matches_reference and float64 or sigmoid_edge_inputs and float64"),
        *("-n", "1", "--report", str(report_dir), *QUIET_SEEDED_MUTANT_RUN),
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    document = validated(json.loads((report_dir / "report.json").read_text()))
    cells = {(c["concept"], c["status"]) for c in document["matrix"]}
    assert cells == {("relu", "fails"), ("sigmoid", "conforms")}, document["matrix"]
    (relu,) = [c for c in document["matrix"] if c["concept"] == "relu"]
    assert any("crashed while running" in m and "float64" in m for m in relu["failures"]), relu


def test_every_concept_has_a_mutant():
    covered = {m.caught_by for m in MUTANTS}
    assert covered == set(load().concepts), sorted(set(load().concepts) - covered)


@pytest.mark.parametrize(
    ("mapping_id", "framework", "old", "new", "bug"),
    MAPPING_MUTANTS,
    ids=[m[0] for m in MAPPING_MUTANTS],
)
def test_a_wrong_porting_setting_is_caught(mapping_id, framework, old, new, bug):
    """A verified mapping with one wrong setting: Hypothesis finds an input where it parts, as
    ``tests/test_porting.py`` draws them (the same inputs, the ``mutants`` profile's budget)."""
    import dataclasses
    import random

    from hypothesis import find, settings
    from test_porting import INPUTS

    from dlspec.porting import compare

    backends = _porting_backends()
    mapping = next(m for m in load().mappings if m.id == mapping_id)
    assert mapping.verdict == "verified" and old in mapping.snippets[framework], (mapping_id, old)
    snippets = {**mapping.snippets, framework: mapping.snippets[framework].replace(old, new)}
    mutated = dataclasses.replace(mapping, snippets=snippets)
    dtype = mapping.dtypes[0]
    found = find(
        INPUTS[mapping.inputs],
        lambda drawn: not compare(mutated, backends, drawn, dtype).agrees,
        settings=settings(settings.get_profile("mutants"), database=None),
        random=random.Random(0),
    )
    assert not compare(mutated, backends, found, dtype).agrees, bug


@functools.cache
def _porting_backends():
    pytest.importorskip("torch", reason="the porting mutants need torch")
    pytest.importorskip("optax", reason="the porting mutants need jax and optax")
    from dlspec.adapters.jax_adapter import JaxAdapter
    from dlspec.adapters.torch_adapter import TorchAdapter

    return {"torch-cpu": TorchAdapter(), "jax": JaxAdapter()}
