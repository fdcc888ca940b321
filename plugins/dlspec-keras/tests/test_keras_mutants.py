"""The Keras mutants (``keras_mutants.py``: optimizer, schedule, callback and normalization
misuses) are caught by the suite's conformance tests, run on each in a nested session of this
process (its Keras backend). The suite's tests are found beside this package, in the repository
it is developed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("keras")

from keras_mutants import MUTANTS

from dlspec.catalogue import load

HERE = Path(__file__).parent
SUITE_TESTS = HERE.parents[2] / "tests"
OPTIONS = (
    "--hypothesis-profile",
    "mutants",
    "--dlspec-seed",
    "0",
    "-p",
    "no:cacheprovider",
    "-q",
    "--assert=plain",
    "--tb=native",
    "-x",
)


@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.__name__)
def test_keras_mutant_is_caught(pytester: Any, mutant: type) -> None:
    if not SUITE_TESTS.is_dir():
        pytest.skip(f"the suite's tests are not at {SUITE_TESTS}")
    concept = load().concept(mutant.caught_by)
    result = pytester.runpytest_inprocess(
        str(SUITE_TESTS / f"test_{concept.group}.py"),
        "--adapter",
        f"{HERE / 'keras_mutants.py'}:{mutant.__name__}",
        "--concept",
        mutant.caught_by,
        *OPTIONS,
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) >= 1, f"{mutant.__name__} ({mutant.__doc__}) was not caught"
    result.stdout.fnmatch_lines([f"*ConformanceFailure: {mutant.caught_by} [[]{mutant.name} *"])
    result.stdout.no_fnmatch_line("*could not be constructed*")
