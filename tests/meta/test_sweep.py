"""The seed sweep and the divergence signatures."""

import tomllib
from importlib import resources

import numpy as np
import pytest

from dlspec import catalogue

pytestmark = pytest.mark.meta


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


def test_the_sweep_counts_a_failing_porting_mapping():
    """A porting mapping's test has no backend cell in the matrix: its failure is read from the
    report's ``porting`` rows, so a sweep cannot pass over it."""
    from dlspec import sweep

    row = {
        "concept": "sgd",
        "title": "momentum",
        "frameworks": ["torch-cpu", "jax"],
        "dtype": "float32",
        "outcome": "fails",
        "message": "dlspec.porting.PortingMismatch: porting sgd (momentum) parts\n  settings: ...",
    }
    document = {"matrix": [], "porting": [row, {**row, "outcome": "holds", "message": ""}]}
    (entry,) = sweep.failure_entries(document, 3)
    assert entry == {
        "seed": 3,
        "concept": "sgd (porting: momentum)",
        "backend": "torch-cpu+jax",
        "dtype": "float32",
        "message": "dlspec.porting.PortingMismatch: porting sgd (momentum) parts",
    }


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
    entry = next(d for d in document["divergences"] if d["concept"] == "sigmoid" and "example" in d)
    for key in ("where", "example"):
        broken = {**document, "divergences": [{k: v for k, v in entry.items() if k != key}]}
        with pytest.raises(ValueError, match=r"where|example"):
            catalogue.parse(broken)
