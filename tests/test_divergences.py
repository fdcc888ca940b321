"""Every written-up divergence, tried at its minimal input on the backends it is written up for.

It must show there, in its region with its values (``[[divergences]]`` in the catalogue, and
:mod:`dlspec.divergences`): the test is then an expected failure, reported as the divergence.
Where it no longer shows (a framework fixed it, or the write-up is wrong), the test passes
unexpectedly and the report says so, so a reader can tell whether a divergence is still there.
The other tests no longer treat a written-up cell as an expected failure: they excuse only the
elements in the region with the known values.
"""

from typing import Any

import numpy as np
import pytest

from dlspec import catalogue
from dlspec.checks import RaisedAsWrittenUp, evaluate, evidence
from dlspec.numerics import is_floating
from dlspec.plugin import known_divergence


class DivergenceShows(AssertionError):
    """The written-up divergence shows at its minimal input, as expected."""


def _native(value: Any, dtype: str, concept: catalogue.Concept, argument: str) -> np.ndarray:
    """An example's array in the test's dtype (integer arrays, labels, as they are); for an
    integer image's dtype, the image's levels in it and any other argument (coordinates) in
    float32."""
    array = np.asarray(value)
    if concept.result == "image" and not is_floating(dtype):
        return array.astype(dtype if argument == "image" else np.float32)
    return array if array.dtype.kind in "iub" else array.astype(dtype)


def _parameter(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _cases() -> list[Any]:
    cases = []
    for divergence in catalogue.load().divergences:
        for dtype in divergence.dtypes:
            cases.append(
                pytest.param(
                    (divergence, dtype),
                    id=f"{divergence.concept}-{dtype}-{'+'.join(divergence.backends)}"
                    + (f"-{divergence.name}" if divergence.name else ""),
                    marks=[
                        pytest.mark.concept(divergence.concept),
                        pytest.mark.backends(*divergence.backends),
                        pytest.mark.xfail(
                            reason=known_divergence(divergence),
                            raises=DivergenceShows,
                            strict=False,
                        ),
                    ],
                )
            )
    return cases


def _needs_dtype(backend: Any, dtype: str) -> None:
    """A divergence shared by backends shows on those that declare its dtype (Keras on JAX
    shares JAX's elu divergence, but has no float16)."""
    if is_floating(dtype) and dtype not in getattr(backend, "dtypes", ("float32", "float64")):
        pytest.skip(f"backend {backend.name!r} has no {dtype}")


@pytest.mark.parametrize("case", _cases())
def test_a_divergence_shows_at_its_minimal_input(request, backend, case):
    divergence, dtype = case
    _needs_dtype(backend, dtype)
    concept = catalogue.load().concept(divergence.concept)
    example = divergence.examples[dtype]
    arrays = [_native(example[a], dtype, concept, a) for a in concept.arguments]
    params = {k: _parameter(v) for k, v in example.items() if k not in concept.arguments}
    request.node.user_properties.append(("dlspec_divergence", divergence.spec))
    try:
        comparison = evaluate(concept.id, backend, arrays, params)
    except RaisedAsWrittenUp as raised:
        raise DivergenceShows(f"shows: {raised}") from raised
    showing = divergence.signature.showing(comparison.names, comparison.out.shape)
    if showing.any():
        raise DivergenceShows(f"shows: {evidence(comparison, showing)}")


class _Snippet:
    """The backend as a divergence's snippet shows it: the snippet's ``out`` (in the input's
    dtype, as the framework returned it), compared under the backend's declared conventions."""

    def __init__(self, backend: Any, out: Any) -> None:
        self.name, self.conventions = backend.name, getattr(backend, "conventions", {})
        self.out = getattr(backend, "to_numpy", np.asarray)(out)  # torch's bfloat16 too

    def run(self, concept: str, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        return self.out


def snippet_inputs(divergence: Any, dtype: str) -> dict[str, Any]:
    """The names a snippet runs with: the example's arguments and parameters, and ``dtype``."""
    return {**divergence.examples[dtype], "dtype": dtype}


def _snippet_cases() -> list[Any]:
    return [
        pytest.param(
            case.values[0],
            id=case.id,
            marks=[m for m in case.marks if m.name != "xfail"]
            + [
                pytest.mark.xfail(
                    reason=known_divergence(case.values[0][0]),
                    raises=DivergenceShows,
                    strict=False,
                )
            ],
        )
        for case in _cases()
        if case.values[0][0].snippet is not None
    ]


@pytest.mark.parametrize("case", _snippet_cases())
def test_a_divergences_snippet_shows_it_in_the_frameworks_own_api(request, backend, case):
    """The write-up's snippet, run as a reader runs it (the framework's own calls, no adapter),
    shows the divergence at its example; an error in the snippet fails the test."""
    divergence, dtype = case
    _needs_dtype(backend, dtype)
    concept = catalogue.load().concept(divergence.concept)
    example = divergence.examples[dtype]
    arrays = [_native(example[a], dtype, concept, a) for a in concept.arguments]
    params = {k: _parameter(v) for k, v in example.items() if k not in concept.arguments}
    namespace = snippet_inputs(divergence, dtype)
    request.node.user_properties.append(("dlspec_divergence", divergence.spec))
    try:
        exec(divergence.snippet, namespace)  # the catalogue's own code, as the report prints it
    except Exception as error:
        if divergence.raised_by(error):
            raise DivergenceShows(f"the snippet raises {type(error).__name__}: {error}") from error
        raise
    comparison = evaluate(concept.id, _Snippet(backend, namespace["out"]), arrays, params)
    showing = divergence.signature.showing(comparison.names, comparison.out.shape)
    if showing.any():
        raise DivergenceShows(f"the snippet shows: {evidence(comparison, showing)}")
