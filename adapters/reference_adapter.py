"""The spec's own implementation behind the adapter interface: backend ``reference``.

Each result is the exact value (shared with the oracle through ``dlspec.oracle``'s cache, so it
is computed once per input) rounded once, to nearest, into the input's dtype. Its conventions are
the spec's defaults for every variant.

The backend also holds the reference to itself: every input is evaluated again at twice the
working precision, and a result whose leading ``oracle.AGREEMENT_BITS`` bits move raises
:class:`ReferenceImprecision`, which the suite reports as this backend's failure with the input.
A cancelling formula fails here first, on the suite's own generated and edge inputs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from dlspec import catalogue, oracle

from .base import FLOAT_DTYPES, Adapter


class ReferenceImprecision(ArithmeticError):
    """The reference at its working precision and at twice it disagree on an input."""


class ReferenceAdapter(Adapter):
    name = "reference"
    dtypes: ClassVar[tuple[str, ...]] = FLOAT_DTYPES
    # make test's time: rounding once into float16 and bfloat16 is pinned by the meta tests
    # (tests/meta/test_numerics.py); make report runs them through every test
    ci_dtypes: ClassVar[tuple[str, ...] | None] = ("float32", "float64")
    correctly_rounded = True
    """Each result is the exact value rounded once: its error is at most half an ulp by
    construction, and the oracle holds it to that (``checks.compare``: a result rounded twice,
    through float32 into float16, is off by more at a tie), but does not steer Hypothesis'
    worst-case search by it (on the reference that search only churned: 524 s for one test at
    ``thorough``)."""

    @functools.cached_property
    def conventions(self) -> Mapping[str, str]:  # type: ignore[override]
        return {
            "optimizer_state": "exact",  # the exact trajectory, rounded once
            **{
                concept.variant_key(variant.name): variant.default
                for concept in catalogue.load().concepts.values()
                for variant in concept.own_variants()
            },
        }

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        def rounded(concept_id: str) -> Callable[..., np.ndarray]:
            def call(*arrays: np.ndarray, **params: Any) -> np.ndarray:
                concept = catalogue.load().concept(concept_id)
                params = {
                    **{v: self.conventions[concept.variant_key(v)] for v in concept.variants},
                    **params,
                }
                disagreement = oracle.precision_disagreement(concept_id, arrays, params)
                if disagreement:
                    raise ReferenceImprecision(
                        f"the reference of {concept_id!r} is not exact at its working "
                        f"precision: {disagreement}"
                    )
                exact = oracle.exact_result(concept_id, arrays, params)
                return self.rounded(exact, oracle.expected_dtype(concept, arrays))

            return call

        return {cid: rounded(cid) for cid in catalogue.load().concepts if oracle.has_reference(cid)}

    def rounded(self, exact: oracle.ExactResult, dtype: np.dtype) -> np.ndarray:
        """The exact result rounded once into ``dtype``, to nearest."""
        return exact.rounded(dtype)

    def is_native(self, concept: str) -> bool:
        return True

    def versions(self) -> Mapping[str, str]:
        import mpmath
        from dlspec.reference import PRECISION_BITS

        return {"mpmath": mpmath.__version__, "precision_bits": str(PRECISION_BITS)}
