"""The oracle: exact reference results, computed once per input and shared by every backend.

mpmath is tens of times slower than floats, and one generated example is checked against every
selected backend (and the ``reference`` backend rounds the same exact value), so results are
cached by the exact bits of the inputs and the parameters.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import mpmath
import numpy as np

from dlspec import catalogue, reference
from dlspec.numerics import double_double, float_format, round_mpf

CACHE_SIZE = 4096


@dataclass(frozen=True)
class ExactResult:
    """A reference result: its shape, exact values, and the double-double ``hi + lo`` of each."""

    shape: tuple[int, ...]
    values: tuple[mpmath.mpf, ...]
    hi: np.ndarray
    lo: np.ndarray

    def rounded(self, dtype: np.dtype) -> np.ndarray:
        """The result rounded once into ``dtype`` (integers are exact, so only floats round)."""
        if not np.issubdtype(dtype, np.floating):
            return np.array([int(v) for v in self.values], dtype=dtype).reshape(self.shape)
        fmt = float_format(dtype)
        flat = [round_mpf(v, fmt) for v in self.values]
        return np.array(flat, dtype=fmt.numpy_dtype).reshape(self.shape)


def result_dtype(arrays: Sequence[np.ndarray]) -> np.dtype:
    """The dtype a backend must return: that of the floating-point inputs, which must agree."""
    floating = {a.dtype for a in arrays if np.issubdtype(a.dtype, np.floating)}
    if len(floating) != 1:
        raise ValueError(f"inputs must share one float dtype, got {sorted(map(str, floating))}")
    return floating.pop()


def expected_dtype(concept: catalogue.Concept, arrays: Sequence[np.ndarray]) -> np.dtype:
    """The dtype a backend must return for ``concept``: the catalogue's ``result``, where
    ``"input"`` means that of the floating-point inputs."""
    return result_dtype(arrays) if concept.result == "input" else np.dtype(concept.result)


def has_reference(concept_id: str) -> bool:
    return callable(getattr(reference, concept_id, None))


def _key(concept_id: str, arrays: Sequence[np.ndarray], params: Mapping[str, Any]) -> Hashable:
    return (
        concept_id,
        tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays),
        tuple(sorted(params.items())),
    )


class CacheInfo(NamedTuple):
    hits: int
    misses: int


_cache: OrderedDict[Hashable, ExactResult] = OrderedDict()
_counts = {"hits": 0, "misses": 0}


def cache_info() -> CacheInfo:
    """How often an exact result was reused, and how often the reference was evaluated."""
    return CacheInfo(**_counts)


def clear_cache() -> None:
    _cache.clear()
    _counts.update(hits=0, misses=0)


def exact_result(
    concept_id: str, arrays: Sequence[np.ndarray], params: Mapping[str, Any]
) -> ExactResult:
    """The reference function of ``concept_id`` on ``arrays`` with keyword ``params``."""
    key = _key(concept_id, arrays, params)
    if key in _cache:
        _counts["hits"] += 1
        _cache.move_to_end(key)
        return _cache[key]
    _counts["misses"] += 1
    function = getattr(reference, concept_id)
    value = function(*(a.tolist() for a in arrays), **params)
    tensor = value if isinstance(value, reference.Tensor) else reference.as_tensor(value)
    pairs = [double_double(v) for v in tensor.values]
    result = ExactResult(
        shape=tensor.shape,
        values=tensor.values,
        hi=np.array([h for h, _ in pairs], dtype=np.float64).reshape(tensor.shape),
        lo=np.array([lo for _, lo in pairs], dtype=np.float64).reshape(tensor.shape),
    )
    _cache[key] = result
    if len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return result
