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


def _key(
    concept_id: str, arrays: Sequence[np.ndarray], params: Mapping[str, Any], bits: int
) -> Hashable:
    return (
        concept_id,
        tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays),
        tuple(sorted(params.items())),
        bits,
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
    concept_id: str,
    arrays: Sequence[np.ndarray],
    params: Mapping[str, Any],
    *,
    bits: int = reference.PRECISION_BITS,
) -> ExactResult:
    """The reference function of ``concept_id`` on ``arrays`` with keyword ``params``, evaluated
    at ``bits`` of working precision (the reference's own by default)."""
    key = _key(concept_id, arrays, params, bits)
    if key in _cache:
        _counts["hits"] += 1
        _cache.move_to_end(key)
        return _cache[key]
    _counts["misses"] += 1
    function = getattr(reference, concept_id)
    with mpmath.workprec(bits):
        value = function(*(a.tolist() for a in arrays), **params)
        # inside: as_tensor converts a scalar result with mpf(), which rounds to the precision
        # in force (outside it, float64's 53 bits: a reduced loss's exact value was rounded)
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


AGREEMENT_BITS = reference.PRECISION_BITS - 40
"""How many leading bits the reference must keep when its working precision is doubled: 120,
beyond binary128's 113 and far beyond every format the suite measures. A formula that cancels
(``log`` of a sum that is 1 plus something below the working precision) loses them all."""


def precision_disagreement(
    concept_id: str, arrays: Sequence[np.ndarray], params: Mapping[str, Any]
) -> str | None:
    """Where the reference of ``concept_id`` at its working precision and at twice it differ by
    more than a relative ``2**-AGREEMENT_BITS``, a description of the worst element; else None.
    A disagreement means the reference is wrong at its own precision on this input."""
    single = exact_result(concept_id, arrays, params)
    double = exact_result(concept_id, arrays, params, bits=2 * reference.PRECISION_BITS)
    if single.shape != double.shape:
        return f"shape {single.shape} at {reference.PRECISION_BITS} bits, {double.shape} at twice"
    tolerance = mpmath.ldexp(1, -AGREEMENT_BITS)
    worst: tuple[mpmath.mpf, int] | None = None
    with mpmath.workprec(2 * reference.PRECISION_BITS):
        for index, (a, b) in enumerate(zip(single.values, double.values, strict=True)):
            if a == b or (mpmath.isnan(a) and mpmath.isnan(b)):
                continue
            off = mpmath.inf if b == 0 or mpmath.isinf(b) else abs(a - b) / abs(b)
            if off > tolerance and (worst is None or off > worst[0]):
                worst = (off, index)
    if worst is None:
        return None
    off, index = worst
    return (
        f"element {index} is {mpmath.nstr(single.values[index], 25)} at "
        f"{reference.PRECISION_BITS} bits and {mpmath.nstr(double.values[index], 25)} at "
        f"{2 * reference.PRECISION_BITS} (relative {mpmath.nstr(off, 3)}, allowed 2**-{AGREEMENT_BITS})"
    )
