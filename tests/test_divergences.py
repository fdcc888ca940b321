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
from dlspec.checks import evaluate, evidence
from dlspec.plugin import known_divergence


class DivergenceShows(AssertionError):
    """The written-up divergence shows at its minimal input, as expected."""


def _native(value: Any, dtype: str) -> np.ndarray:
    array = np.asarray(value)
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
                    id=f"{divergence.concept}-{dtype}-{'+'.join(divergence.backends)}",
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


@pytest.mark.parametrize("case", _cases())
def test_a_divergence_shows_at_its_minimal_input(request, backend, case):
    divergence, dtype = case
    concept = catalogue.load().concept(divergence.concept)
    example = divergence.examples[dtype]
    arrays = [_native(example[a], dtype) for a in concept.arguments]
    params = {k: _parameter(v) for k, v in example.items() if k not in concept.arguments}
    comparison = evaluate(concept.id, backend, arrays, params)
    showing = divergence.signature.showing(comparison.names, comparison.out.shape)
    request.node.user_properties.append(("dlspec_divergence", divergence.spec))
    if showing.any():
        raise DivergenceShows(f"shows: {evidence(comparison, showing)}")
