"""The oracle: exact reference results, computed once per input and shared by every backend.

mpmath is tens of times slower than floats, and one generated example is checked against every
selected backend (and the ``reference`` backend rounds the same exact value), so results are
cached by the exact bits of the inputs and the parameters.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import mpmath
import numpy as np

from dlspec import catalogue, reference
from dlspec.numerics import distinct_key, double_double, float_format, is_floating, round_mpf

CACHE_SIZE = 4096


@dataclass(frozen=True)
class ExactResult:
    """A reference result: its shape, exact values, and the double-double ``hi + lo`` of each."""

    shape: tuple[int, ...]
    values: tuple[mpmath.mpf, ...]
    hi: np.ndarray
    lo: np.ndarray

    def rounded(self, dtype: np.dtype) -> np.ndarray:
        """The result rounded once into ``dtype``: an integer dtype's value is the nearest
        integer (ties to even), saturated to the dtype's range, as an integer image's level."""
        if not is_floating(dtype):
            info = np.iinfo(dtype)
            levels = [min(max(int(mpmath.nint(v)), info.min), info.max) for v in self.values]
            return np.array(levels, dtype=dtype).reshape(self.shape)
        fmt = float_format(dtype)
        flat = [round_mpf(v, fmt) for v in self.values]
        return np.array(flat, dtype=fmt.numpy_dtype).reshape(self.shape)


def result_dtype(arrays: Sequence[np.ndarray]) -> np.dtype:
    """The dtype a backend must return: that of the floating-point inputs, which must agree."""
    floating = {a.dtype for a in arrays if is_floating(a.dtype)}
    if len(floating) != 1:
        raise ValueError(f"inputs must share one float dtype, got {sorted(map(str, floating))}")
    return floating.pop()


def expected_dtype(concept: catalogue.Concept, arrays: Sequence[np.ndarray]) -> np.dtype:
    """The dtype a backend must return for ``concept``: the catalogue's ``result``, where
    ``"input"`` means that of the floating-point inputs and ``"image"`` the image's. Inputs of
    no floating-point dtype where the result is the inputs' are outside the concept's domain
    (an integer image for a colour concept): :class:`reference.DomainError`, naming it."""
    if concept.result == "image":
        return arrays[concept.arguments.index("image")].dtype
    if concept.result == "input" and arrays and not any(is_floating(a.dtype) for a in arrays):
        raise reference.DomainError(
            concept.id,
            concept.arguments[0],
            f"is {arrays[0].dtype}, outside the domain: {' or '.join(concept.dtypes)} "
            f"(spec/{concept.page})",
        )
    return result_dtype(arrays) if concept.result == "input" else np.dtype(concept.result)


def is_integer_image(concept: catalogue.Concept, arrays: Sequence[np.ndarray]) -> bool:
    """Whether ``arrays`` hold an integer image for an image concept (its result is in levels)."""
    return concept.result == "image" and not is_floating(expected_dtype(concept, arrays))


def has_reference(concept_id: str) -> bool:
    return callable(getattr(reference, concept_id, None))


def with_input_dtype(
    concept_id: str, arrays: Sequence[np.ndarray], params: Mapping[str, Any]
) -> Mapping[str, Any]:
    """``params``, plus ``input_dtype`` (the inputs' float dtype) for a reference function that
    takes it: one whose convention compares with a Python scalar that the framework stores in
    the inputs' dtype (Keras's clip to ``[1e-7, 1 - 1e-7]``, which is ``[1e-7, 1 - 2**-23]``
    in float32), or an integer image's (its levels). The reference sees numbers, not arrays, so
    the oracle says the dtype."""
    if "input_dtype" in params or not _takes_input_dtype(concept_id):
        return params
    concept = catalogue.load().concept(concept_id)
    if is_integer_image(concept, arrays):  # resize's integer_rounding reads the image's levels
        return {**params, "input_dtype": expected_dtype(concept, arrays).name}
    floating = [a.dtype for a in arrays if is_floating(a.dtype)]
    return {**params, "input_dtype": floating[0].name if floating else "float64"}


def _takes_input_dtype(concept_id: str) -> bool:
    import inspect

    function = getattr(reference, concept_id, None)
    return callable(function) and "input_dtype" in inspect.signature(function).parameters


def _key(
    concept_id: str, arrays: Sequence[np.ndarray], params: Mapping[str, Any], bits: int
) -> Hashable:
    return (
        concept_id,
        tuple((a.dtype.str, a.shape, a.tobytes()) for a in arrays),
        distinct_key(sorted(params.items())),
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
    params = with_input_dtype(concept_id, arrays, params)
    key = _key(concept_id, arrays, params, bits)
    if key in _cache:
        _counts["hits"] += 1
        _cache.move_to_end(key)
        return _cache[key]
    _counts["misses"] += 1
    with reference.inputs_rounded_to(_significand_bits(arrays)):
        tensor = _evaluate(concept_id, [a.tolist() for a in arrays], params, bits)
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

CONDITION_SLACK = 2**16
"""How many times the result's own sensitivity to its inputs a disagreement may be (see
:func:`precision_disagreement`): room for the rounding errors of every operation of a stable
evaluation (a trajectory of a few steps, a reduction over a few thousand terms) to add up, and
still some 2**80 below what a cancelling formula loses."""


def _significand_bits(arrays: Sequence[np.ndarray]) -> int:
    """The significand bits of the narrowest float format among ``arrays`` (53: none)."""
    return min(
        (float_format(a.dtype).significand_bits for a in arrays if is_floating(a.dtype)),
        default=53,
    )


def _evaluate(
    concept_id: str, arguments: Sequence[Any], params: Mapping[str, Any], bits: int
) -> reference.Tensor:
    """The reference function on nested lists of numbers, at ``bits`` of working precision."""
    with mpmath.workprec(bits):
        value = getattr(reference, concept_id)(*arguments, **params)
        # inside: as_tensor converts a scalar result with mpf(), which rounds to the precision
        # in force (outside it, float64's 53 bits: a reduced loss's exact value was rounded)
        return value if isinstance(value, reference.Tensor) else reference.as_tensor(value)


def _input_sensitivity(
    concept_id: str,
    arrays: Sequence[np.ndarray],
    params: Mapping[str, Any],
    at: tuple[mpmath.mpf, ...],
) -> list[mpmath.mpf]:
    """Per result element, how far the exact result moves when each floating-point input
    element, and each floating-point parameter, in turn is moved by a relative
    ``2**-PRECISION_BITS`` (the working precision's own rounding), summed: the first-order
    componentwise condition of the problem times the working precision, evaluated at twice it.
    ``at`` is the unmoved result. The parameters count as the inputs do: an L2-coupled Adam
    step with ``lr * weight_decay / eps`` one ulp from 1 (0.1, 0.01, 0.001) cancels ``theta``
    to 1e-17 of itself through them."""
    bits = 2 * reference.PRECISION_BITS
    step = mpmath.ldexp(1, -reference.PRECISION_BITS)
    lists = [a.tolist() for a in arrays]
    with reference.inputs_rounded_to(_significand_bits(arrays)):
        return _sensitivities(concept_id, arrays, lists, params, at, step, bits)


def _sensitivities(
    concept_id: str,
    arrays: Sequence[np.ndarray],
    lists: list[Any],
    params: Mapping[str, Any],
    at: tuple[mpmath.mpf, ...],
    step: mpmath.mpf,
    bits: int,
) -> list[mpmath.mpf]:
    total = [mpmath.mpf(0)] * len(at)
    for k, array in enumerate(arrays):
        if not is_floating(array.dtype):
            continue
        for j in range(array.size):
            moved = _moved_element(concept_id, lists, k, array, j, step, params, bits)
            if moved is None:  # at a domain's edge both ways: that input cannot move
                continue
            with mpmath.workprec(bits):
                total = [t + abs(m - a) for t, m, a in zip(total, moved, at, strict=True)]
    for name, value in params.items():
        if not isinstance(value, float) or value == 0 or not math.isfinite(value):
            continue
        moved = _moved_parameter(concept_id, lists, params, name, step, bits)
        if moved is not None:
            with mpmath.workprec(bits):
                total = [t + abs(m - a) for t, m, a in zip(total, moved, at, strict=True)]
    return total


def _moved_parameter(
    concept_id: str,
    lists: Sequence[Any],
    params: Mapping[str, Any],
    name: str,
    step: mpmath.mpf,
    bits: int,
) -> tuple[mpmath.mpf, ...] | None:
    """The result with parameter ``name`` times ``1 + step``, or ``1 - step`` where that leaves
    its domain (a ``beta`` below 1), or None where both do."""
    for sign in (1, -1):
        with mpmath.workprec(bits):
            value = mpmath.mpf(params[name]) * (1 + sign * step)
        try:
            return _evaluate(concept_id, lists, {**params, name: value}, bits).values
        except (ValueError, TypeError):
            continue
    return None


def _moved_element(
    concept_id: str,
    lists: Sequence[Any],
    k: int,
    array: np.ndarray,
    j: int,
    step: mpmath.mpf,
    params: Mapping[str, Any],
    bits: int,
) -> tuple[mpmath.mpf, ...] | None:
    """The result with element ``j`` of input ``k`` times ``1 + step``, or ``1 - step`` where
    that leaves the concept's domain (a probability of 1), or None where both do."""
    for sign in (1, -1):
        elements = np.empty(array.shape, dtype=object)
        elements.flat[:] = array.ravel().tolist()
        with mpmath.workprec(bits):  # 1 + step is 1 at the default 53 bits
            elements.flat[j] = mpmath.mpf(elements.flat[j]) * (1 + sign * step)
        arguments = [*lists[:k], elements.tolist(), *lists[k + 1 :]]
        try:
            return _evaluate(concept_id, arguments, params, bits).values
        except ValueError:
            continue
    return None


def precision_disagreement(
    concept_id: str, arrays: Sequence[np.ndarray], params: Mapping[str, Any]
) -> str | None:
    """Where the reference of ``concept_id`` at its working precision and at twice it differ by
    more than a relative ``2**-AGREEMENT_BITS``, and by more than :data:`CONDITION_SLACK` times
    what moving the inputs by the working precision's rounding moves the result, a description
    of the worst element; else None. Such a disagreement means the reference is wrong at its
    own precision on this input.

    The second condition tells a lossy formula from a result that cancels by the problem's own
    nature: an Adam step from ``theta = g = 2.2e-72`` with ``lr = eps = 1e-3`` ends at
    ``g^2 / (g + eps) = 4.9e-141``, 2**-229 of its terms, which a stable evaluation at any
    fixed precision gets only to within the terms' rounding, and so does every backend (its
    budget is absolute there); ``log(1 + e^-120)`` computed as ``log`` of the rounded sum is 0
    where moving the inputs moves the result by only 1e-98. Only where the first condition
    fails is the sensitivity computed (one evaluation per input element)."""
    params = with_input_dtype(concept_id, arrays, params)
    single = exact_result(concept_id, arrays, params)
    double = exact_result(concept_id, arrays, params, bits=2 * reference.PRECISION_BITS)
    if single.shape != double.shape:
        return f"shape {single.shape} at {reference.PRECISION_BITS} bits, {double.shape} at twice"
    tolerance = mpmath.ldexp(1, -AGREEMENT_BITS)
    apart: list[tuple[mpmath.mpf, int]] = []
    with mpmath.workprec(2 * reference.PRECISION_BITS):
        for index, (a, b) in enumerate(zip(single.values, double.values, strict=True)):
            if a == b or (mpmath.isnan(a) and mpmath.isnan(b)):
                continue
            off = mpmath.inf if b == 0 or mpmath.isinf(b) else abs(a - b) / abs(b)
            if off > tolerance:
                apart.append((off, index))
    if apart and all(mpmath.isfinite(v) for v in double.values):
        sensitivity = _input_sensitivity(concept_id, arrays, params, double.values)
        with mpmath.workprec(2 * reference.PRECISION_BITS):
            apart = [
                (off, i)
                for off, i in apart
                if abs(single.values[i] - double.values[i]) > CONDITION_SLACK * sensitivity[i]
            ]
    worst = max(apart, default=None)
    if worst is None:
        return None
    off, index = worst
    return (
        f"element {index} is {mpmath.nstr(single.values[index], 25)} at "
        f"{reference.PRECISION_BITS} bits and {mpmath.nstr(double.values[index], 25)} at "
        f"{2 * reference.PRECISION_BITS} (relative {mpmath.nstr(off, 3)}, allowed 2**-{AGREEMENT_BITS})"
    )
