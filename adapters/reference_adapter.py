"""The spec's own implementation behind the adapter interface: backend ``reference``.

Each result is the exact value (shared with the oracle through ``dlspec.oracle``'s cache, so it
is computed once per input) rounded once, to nearest, into the input's dtype. Its conventions are
the spec's defaults for every variant.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from dlspec import catalogue, oracle

from .base import Adapter


class ReferenceAdapter(Adapter):
    name = "reference"

    @functools.cached_property
    def conventions(self) -> Mapping[str, str]:  # type: ignore[override]
        return {
            concept.variant_key(variant.name): variant.default
            for concept in catalogue.load().concepts.values()
            for variant in concept.own_variants()
        }

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        def rounded(concept_id: str) -> Callable[..., np.ndarray]:
            def call(*arrays: np.ndarray, **params: Any) -> np.ndarray:
                concept = catalogue.load().concept(concept_id)
                params = {
                    **{v: self.conventions[concept.variant_key(v)] for v in concept.variants},
                    **params,
                }
                exact = oracle.exact_result(concept_id, arrays, params)
                return exact.rounded(oracle.expected_dtype(concept, arrays))

            return call

        return {cid: rounded(cid) for cid in catalogue.load().concepts if oracle.has_reference(cid)}

    def is_native(self, concept: str) -> bool:
        return True

    def versions(self) -> Mapping[str, str]:
        import mpmath
        from dlspec.reference import PRECISION_BITS

        return {"mpmath": mpmath.__version__, "precision_bits": str(PRECISION_BITS)}
