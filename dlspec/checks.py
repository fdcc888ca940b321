"""The checks every conformance test ends in: run a backend, hold it to the reference or a
relation, and fail with a message that is a small report.

A broken adapter (raises, returns a non-array, the wrong dtype or shape, NaN) fails here with a
message naming concept, backend and input; it never crashes the run.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import mpmath
import numpy as np
from hypothesis import currently_in_test_context, reject, target

from dlspec import catalogue, oracle, recording
from dlspec.budgets import Inputs, allowance
from dlspec.divergences import Names
from dlspec.numerics import (
    FORMATS,
    Errors,
    FloatFormat,
    float_format,
    flush_subnormals,
    is_floating,
    measure_errors,
    ulp,
)

if TYPE_CHECKING:
    from dlspec.adapters.base import Backend


class ConformanceFailure(AssertionError):
    """A backend does not conform; the message says where, by how much, and on what input."""


def _array_text(array: np.ndarray) -> str:
    return np.array2string(
        np.asarray(array),
        precision=17,
        threshold=24,
        edgeitems=3,
        separator=", ",
        max_line_width=10**6,
    )


def describe_inputs(
    concept: catalogue.Concept, arrays: Sequence[np.ndarray], params: Mapping[str, Any]
) -> str:
    parts = [
        f"{name} = {_array_text(a)}" + (f" (shape {a.shape})" if a.size > 24 else "")
        for name, a in zip(concept.arguments, arrays, strict=False)
    ]
    parts += [f"{k} = {v!r}" for k, v in params.items()]
    return ", ".join(parts)


class InputText:
    """:func:`describe_inputs`, written only when a failure message or the report's worst input
    needs it (most examples pass unremarked, and writing arrays out costs more than checking
    them). Call it or ``str()`` it for the text."""

    def __init__(
        self,
        concept: catalogue.Concept,
        arrays: Sequence[np.ndarray],
        params: Mapping[str, Any],
        suffix: str = "",
        also: tuple[InputText, ...] = (),
    ) -> None:
        self.concept, self.arrays, self.params = concept, tuple(arrays), dict(params)
        self.suffix = suffix
        self.also = also
        """The inputs of a relation's other sides (``a | b``): a failing property is explained
        by a divergence of any of them, the text names the first."""

    @functools.cached_property
    def text(self) -> str:
        return describe_inputs(self.concept, self.arrays, self.params) + self.suffix

    def __add__(self, more: str) -> InputText:
        """The text followed by ``more`` (an input the concept does not name)."""
        return InputText(self.concept, self.arrays, self.params, self.suffix + more, self.also)

    def __or__(self, other: InputText) -> InputText:
        """These inputs, with ``other``'s as another side of the relation."""
        also = (*self.also, other)
        return InputText(self.concept, self.arrays, self.params, self.suffix, also)

    def __call__(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text


def input_text(concept_id: str, *arrays: np.ndarray, **params: Any) -> InputText:
    """:class:`InputText` for a concept named by id, as the property tests need it."""
    return InputText(catalogue.load().concept(concept_id), arrays, params)


def _dtype_name(concept: catalogue.Concept, arrays: Sequence[np.ndarray]) -> str:
    """The dtype a test is filed under: an integer image's, else the floating-point inputs',
    else the result's."""
    if oracle.is_integer_image(concept, arrays):
        return oracle.expected_dtype(concept, arrays).name
    floating = [a.dtype for a in arrays if is_floating(a.dtype)]
    return floating[0].name if floating else oracle.expected_dtype(concept, arrays).name


def _header(concept_id: str, backend: Backend, dtype: str) -> str:
    return f"{concept_id} [{getattr(backend, 'name', type(backend).__name__)} {dtype}]"


def written_up_as(backend: Backend) -> tuple[str, ...]:
    """The backends whose written-up divergences are ``backend``'s: its own name, and the one it
    declares (``written_up_as``: JAX's eager dispatch runs the same functions as ``jax``;
    torch.autocast the same kernels as torch-cpu, outside its float32 list)."""
    name = str(getattr(backend, "name", ""))
    declared = getattr(backend, "written_up_as", None)
    return (name, str(declared)) if declared and declared != name else (name,)


def divergences_for(backend: Backend, concept_id: str, dtype: str | None) -> list[Any]:
    """The written-up divergences of ``concept_id`` in ``dtype`` that are ``backend``'s."""
    found = [
        catalogue.load().divergences_of(name, concept_id, dtype) for name in written_up_as(backend)
    ]
    return list(dict.fromkeys(d for group in found for d in group))


def declared_conventions(concept: catalogue.Concept, backend: Backend) -> dict[str, str]:
    """The variant values ``backend`` declares for ``concept``, checked against the catalogue."""
    conventions = getattr(backend, "conventions", None) or {}
    chosen: dict[str, str] = {}
    for variant in concept.variants.values():
        key = concept.variant_key(variant.name)
        if key not in conventions:
            raise ConformanceFailure(
                f"{concept.id} [{backend.name}] declares no convention for {key!r}; "
                f"an adapter must declare one of {list(variant.values)} (spec/{concept.page})"
            )
        if conventions[key] not in variant.values:
            raise ConformanceFailure(
                f"{concept.id} [{backend.name}] declares {key}={conventions[key]!r}, "
                f"which is not one of {list(variant.values)} (spec/{concept.page})"
            )
        chosen[variant.name] = conventions[key]
    return chosen


def floating_point_convention(
    backend: Backend, name: str, apart: str = "", anchor: str = ""
) -> str:
    """The value ``backend`` declares for the floating-point convention ``name``
    (``[floating_point.<name>]``): under ``apart`` where it declares one case apart (a dtype's
    ``subnormals.float16``, a concept's ``softmax.low_precision_compute``), else under the bare
    name, else the catalogue's default; checked against the values the catalogue names."""
    variant = catalogue.load().floating_point[name]
    conventions = getattr(backend, "conventions", None) or {}
    key = apart if apart in conventions else name
    declared = conventions.get(key, variant.default)
    if declared not in variant.values:
        raise ConformanceFailure(
            f"[{backend.name}] declares {key}={declared!r}, which is not one of "
            f"{list(variant.values)} (spec/README.md#{anchor or name})"
        )
    return str(declared)


def subnormals(backend: Backend, dtype: str) -> str:
    """How ``backend`` declares it treats subnormals of ``dtype`` (``floating_point.subnormals``,
    or ``subnormals.<dtype>`` where it declares a dtype apart: XLA computes float16 in float32,
    where float16's subnormals are normal numbers)."""
    return floating_point_convention(backend, "subnormals", f"subnormals.{dtype}")


def computed_in(concept: catalogue.Concept, backend: Backend, fmt: FloatFormat) -> FloatFormat:
    """The format ``backend`` declares it computes a ``fmt`` result of ``concept`` in
    (``floating_point.low_precision_compute``, for float16 and bfloat16): float32, rounding once
    at the end, or ``fmt`` itself, rounding each operation."""
    if fmt.name not in catalogue.LOW_PRECISION:
        return fmt
    declared = floating_point_convention(
        backend, "low_precision_compute", f"{concept.id}.low_precision_compute", "low-precision"
    )
    return FORMATS["float32"] if declared == "float32" else fmt


def declared_allowance(
    concept: catalogue.Concept,
    backend: Backend,
    fmt: FloatFormat,
    inputs: Mapping[str, np.ndarray],
    params: Mapping[str, Any],
    result: np.ndarray,
) -> np.ndarray:
    """The allowance for ``result`` in ``fmt`` under what ``backend`` declares: whether it
    flushes subnormals there, and the format it computes a low-precision result in."""
    return allowance(
        concept,
        fmt,
        inputs,
        params,
        result,
        flushed=subnormals(backend, fmt.name) == "flushed",
        computed_in=computed_in(concept, backend, fmt),
    )


def result_dtype(
    concept: catalogue.Concept, backend: Backend, arrays: Sequence[np.ndarray]
) -> np.dtype[Any]:
    """The dtype ``backend`` must return for ``concept`` on ``arrays``: the catalogue's
    (:func:`oracle.expected_dtype`), or float32 for float16 and bfloat16 inputs where the backend
    declares that result (``floating_point.result_dtype``: torch.autocast's float32 ops)."""
    dtype = oracle.expected_dtype(concept, arrays)
    if dtype.name not in catalogue.LOW_PRECISION:
        return dtype
    declared = floating_point_convention(
        backend, "result_dtype", f"{concept.id}.result_dtype", "low-precision"
    )
    return np.dtype("float32") if declared == "float32" else dtype


def optimizer_state(backend: Backend) -> str:
    """Where ``backend`` declares its optimizers keep their state for float16 and bfloat16
    parameters (``floating_point.optimizer_state``): ``dtype``, ``float32`` or ``exact``."""
    return floating_point_convention(backend, "optimizer_state", anchor="low-precision")


def as_read_by(backend: Backend, array: np.ndarray) -> np.ndarray:
    """``array`` as ``backend`` reads it: with subnormals zeroed where it flushes them. Exact
    properties (``relu(x) - relu(-x) == x``) hold for the value read."""
    if not is_floating(array.dtype) or subnormals(backend, array.dtype.name) == "preserved":
        return array
    return flush_subnormals(array)


def reference_inputs(backend: Backend, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The inputs the reference is evaluated on: the spec asks for the function of the input
    as the backend reads it (:func:`as_read_by`)."""
    return [as_read_by(backend, a) for a in arrays]


def declared_convention(concept_id: str, backend: Backend, variant: str) -> str:
    """The value ``backend`` declares for one variant of ``concept_id`` (checked, as above)."""
    return declared_conventions(catalogue.load().concept(concept_id), backend)[variant]


def _skip_unsupported(backend: Backend, concept_id: str, params: Mapping[str, Any]) -> None:
    """Leave out a parameter value the backend declares it cannot express (``Adapter.limits``):
    Hypothesis rejects that example and draws another; a plain test is skipped with the limit."""
    unsupported = getattr(backend, "unsupported", None)
    reason = unsupported(concept_id, params) if callable(unsupported) else None
    if not reason:
        return
    if currently_in_test_context():
        reject()
    import pytest

    pytest.skip(f"backend {backend.name!r} declares a limit: {reason}")


def run_backend(
    concept_id: str, backend: Backend, *arrays: np.ndarray, **params: Any
) -> np.ndarray:
    """The backend's result, held to the interface contract: an array of the inputs' dtype."""
    concept = catalogue.load().concept(concept_id)
    dtype = result_dtype(concept, backend, arrays)
    head = _header(concept_id, backend, _dtype_name(concept, arrays))
    run = getattr(backend, "run", None)
    if not callable(run):
        raise ConformanceFailure(f"{head} adapter {type(backend).__name__} has no method 'run'")
    _skip_unsupported(backend, concept_id, params)
    try:
        out = run(concept_id, *(a.copy() for a in arrays), **params)
    except Exception as error:
        _raise_if_written_up(concept, backend, arrays, params, error)
        raise ConformanceFailure(
            f"{head} raised {type(error).__name__}: {error}\n"
            f"  input: {describe_inputs(concept, arrays, params)}"
        ) from error
    if not isinstance(out, np.ndarray | np.generic):
        raise ConformanceFailure(
            f"{head} returned {type(out).__name__}, not a NumPy array\n"
            f"  input: {describe_inputs(concept, arrays, params)}"
        )
    out = np.asarray(out)
    if out.dtype != dtype and _returns_declared(concept, backend, dtype, out.dtype):
        # a float result of an integer image is held as it came, unrounded (check_oracle)
        keep = is_floating(out.dtype) and oracle.is_integer_image(concept, arrays)
        return out if keep else out.astype(dtype)
    if out.dtype != dtype:
        raise ConformanceFailure(
            f"{head} returned {out.dtype} for {dtype} input: a backend must return the dtype it "
            f"was given\n  input: {describe_inputs(concept, arrays, params)}"
        )
    return out


class RaisedAsWrittenUp(Exception):
    """The backend raised what a written-up divergence of the cell says it raises there: the
    test is that divergence (``dlspec.plugin`` reports it as an expected failure)."""


def _raise_if_written_up(
    concept: catalogue.Concept,
    backend: Backend,
    arrays: Sequence[np.ndarray],
    params: Mapping[str, Any],
    error: Exception,
) -> None:
    """Raise :class:`RaisedAsWrittenUp` where a divergence of the cell raises ``error`` (its
    ``raises``) on these inputs (its ``where``); recorded as seen."""
    dtype = _dtype_name(concept, arrays)
    names = {**dict(zip(concept.arguments, arrays, strict=False)), **params}
    for divergence in divergences_for(backend, concept.id, dtype):
        if divergence.raised_by(error) and divergence.signature.in_region(names, ()).all():
            fragment = (divergence.raises or "").partition(": ")[2]
            lines = [
                re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in str(error).splitlines()
            ]
            said = next((line for line in lines if fragment in line), lines[0] if lines else "")
            seen = (
                f"raised {type(error).__name__}: {said}; "
                f"input: {describe_inputs(concept, arrays, params)}"
            )
            recording.current().divergence_seen(divergence, functools.partial(str, seen))
            raise RaisedAsWrittenUp(seen) from error


def _returns_declared(
    concept: catalogue.Concept, backend: Backend, dtype: np.dtype[Any], returned: np.dtype[Any]
) -> bool:
    """Whether a written-up divergence of this cell says the backend returns ``returned`` for
    ``dtype`` (its ``returns``); recorded as seen. The result is then read in ``dtype``, and its
    values are held to the spec as any other, the divergence explaining what it explains."""
    for divergence in divergences_for(backend, concept.id, dtype.name):
        if divergence.returns == returned.name:
            recording.current().divergence_seen(
                divergence, lambda: f"returned {returned} for {dtype} input"
            )
            return True
    return False


def _ratio(absolute: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """Error over allowance; an infinite error (NaN, or a finite value where the reference is
    infinite) is infinitely beyond any allowance, an infinite one included."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(allowed > 0, absolute / allowed, np.inf)
    return np.where(absolute == 0, 0.0, np.where(np.isinf(absolute), np.inf, ratio))


def _index_text(index: tuple[int, ...]) -> str:
    return f"out[{', '.join(map(str, index))}]" if index else "out"


@dataclass(frozen=True)
class Comparison:
    """A backend's result held against the reference on one input: what a divergence's
    signature reads (:data:`dlspec.divergences.NAMES`)."""

    concept: catalogue.Concept
    backend: Backend
    fmt: FloatFormat
    out: np.ndarray
    exact: oracle.ExactResult
    errors: Errors
    allowed: np.ndarray
    ratio: np.ndarray
    names: dict[str, Any]
    input_text: InputText
    dtype: str = ""
    """The dtype the check is filed under, where it is not ``fmt``'s (an integer image's, or
    float16 inputs' whose result is float32)."""

    @property
    def dtype_name(self) -> str:
        return self.dtype or self.fmt.name


def compare(
    concept: catalogue.Concept,
    backend: Backend,
    arrays: Sequence[np.ndarray],
    params: Mapping[str, Any],
    out: np.ndarray,
    exact: oracle.ExactResult,
) -> Comparison:
    """Errors and allowance of a result, elementwise: a floating-point one's, or an integer
    image's levels (:func:`_levels`)."""
    if oracle.is_integer_image(concept, arrays) and not is_floating(out.dtype):
        return _levels(concept, backend, (arrays, params), out, exact)
    variants = declared_conventions(concept, backend)
    reference_params = {**params, **variants}
    fmt = float_format(out.dtype)
    errors = measure_errors(out, exact.hi, exact.lo, fmt)
    inputs = _model_inputs(concept, backend, arrays)
    flushed = subnormals(backend, fmt.name) == "flushed"
    allowed = declared_allowance(concept, backend, fmt, inputs, reference_params, exact.hi)
    if getattr(backend, "correctly_rounded", False):  # its claim, held: the nearest value
        allowed = np.minimum(allowed, 0.5 * ulp(exact.hi, fmt))
    in_float32 = functools.cache(
        functools.partial(_in_float32, concept, inputs, reference_params, flushed)
    )
    lazy = {"ref_float32": lambda: in_float32()[0], "allowed_float32": lambda: in_float32()[1]}
    return _comparison(
        concept,
        backend,
        (arrays, params, reference_params, inputs),
        out,
        exact,
        errors,
        allowed,
        fmt,
        fmt.largest,
        lazy,
        _filed_apart(concept, arrays, fmt),
    )


def _filed_apart(concept: catalogue.Concept, arrays: Sequence[np.ndarray], fmt: FloatFormat) -> str:
    """The dtype a float result is filed under where it is not its own: float16 or bfloat16
    inputs' whose result is float32 (``floating_point.result_dtype``); else ``""``."""
    filed = _dtype_name(concept, arrays)
    return filed if filed in catalogue.LOW_PRECISION and filed != fmt.name else ""


def _comparison(
    concept: catalogue.Concept,
    backend: Backend,
    given: tuple[Sequence[np.ndarray], Mapping[str, Any], Mapping[str, Any], Inputs],
    out: np.ndarray,
    exact: oracle.ExactResult,
    errors: Errors,
    allowed: np.ndarray,
    fmt: FloatFormat,
    biggest: float,
    lazy: Mapping[str, Callable[[], Any]],
    dtype: str = "",
) -> Comparison:
    """The comparison and its names (:data:`dlspec.divergences.NAMES`) from what was measured;
    ``given``: the arrays, the parameters, those with the declared variants, and the error
    model's inputs."""
    arrays, params, reference_params, inputs = given
    ratio = _ratio(errors.absolute, allowed)
    values = {
        **{k: v for k, v in concept.parameters.items() if isinstance(v, int | float)},
        **reference_params,
        **{k: np.asarray(v, np.float64) for k, v in inputs.items()},
        "out": np.asarray(out, np.float64),
        "ref": exact.hi,
        "err": errors.absolute,
        "ulps": errors.in_ulps,
        "rel": errors.relative,
        "allowed": allowed,
        "beyond": ratio > 1.0,
        "u": fmt.unit_roundoff,
        "tiny": fmt.smallest_normal,
        "biggest": biggest,
    }
    return Comparison(
        concept,
        backend,
        fmt,
        out,
        exact,
        errors,
        allowed,
        ratio,
        Names(values, lazy=lazy),
        InputText(concept, arrays, params),
        dtype=dtype,
    )


def _in_float32(
    concept: catalogue.Concept,
    inputs: Mapping[str, np.ndarray],
    params: Mapping[str, Any],
    flushed: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """The reference and the float32 allowance at the inputs and floating-point parameters
    rounded to float32 (:data:`dlspec.divergences.NAMES`); NaN where the reference cannot be
    evaluated there (an input beyond float32's range), which explains nothing."""
    with np.errstate(over="ignore"):
        rounded = {
            name: a.astype(np.float32) if is_floating(a.dtype) else a for name, a in inputs.items()
        }
        params32 = {
            k: float(np.float32(v)) if isinstance(v, float) else v for k, v in params.items()
        }
    try:
        exact = oracle.exact_result(concept.id, list(rounded.values()), params32)
    except (ValueError, ArithmeticError):
        return np.array(np.nan), np.array(np.nan)
    fmt = float_format(np.dtype(np.float32))
    allowed = allowance(concept, fmt, rounded, params32, exact.hi, flushed=flushed)
    return exact.hi, allowed


def evaluate(
    concept_id: str, backend: Backend, arrays: Sequence[np.ndarray], params: Mapping[str, Any]
) -> Comparison:
    """Run the backend on one input and compare it with the reference (a property's input, or
    a divergence's example)."""
    concept = catalogue.load().concept(concept_id)
    variants = declared_conventions(concept, backend)
    exact = oracle.exact_result(
        concept_id, reference_inputs(backend, arrays), {**params, **variants}
    )
    out = run_backend(concept_id, backend, *arrays, **params)
    return compare(concept, backend, arrays, params, out, exact)


def _explaining(
    comparison: Comparison, beyond: np.ndarray, *, record: bool = True
) -> Iterator[tuple[catalogue.Divergence, np.ndarray]]:
    """Each written-up divergence of this cell that explains elements beyond the budget, with
    them; recorded as seen (``record``), with the worst of them as evidence."""
    concept, backend = comparison.concept, comparison.backend
    for divergence in divergences_for(backend, concept.id, comparison.dtype_name):
        mine = beyond & divergence.signature.explained(comparison.names, beyond.shape)
        if mine.any():
            if record:
                recording.current().divergence_seen(
                    divergence, functools.partial(evidence, comparison, mine)
                )
            yield divergence, mine


def _explained(comparison: Comparison, beyond: np.ndarray) -> np.ndarray:
    """The elements beyond the budget that a written-up divergence of this cell explains."""
    explained = np.zeros(beyond.shape, dtype=bool)
    for _, mine in _explaining(comparison, beyond):
        explained |= mine
    return explained


def divergence_at(
    concept_id: str, backend: Backend, arrays: Sequence[np.ndarray], params: Mapping[str, Any]
) -> catalogue.Divergence | None:
    """The written-up divergence the backend shows on this input, if any: a check built on the
    backend's own values here (finite differences of its forward function) would measure the
    divergence, not what it checks, and leaves the input out (not recorded as seen: the cell
    checked is another)."""
    comparison = evaluate(concept_id, backend, arrays, params)
    beyond = comparison.ratio > 1.0
    return next((d for d, _ in _explaining(comparison, beyond, record=False)), None)


def evidence(comparison: Comparison, elements: np.ndarray) -> str:
    """The worst of ``elements``: index, value, reference, error and input."""
    ratio = np.where(elements, comparison.ratio, -1.0)
    worst = np.unravel_index(int(np.argmax(ratio)), ratio.shape) if ratio.size else ()
    exact_value = comparison.exact.values[
        int(np.ravel_multi_index(worst, comparison.exact.shape)) if ratio.size else 0
    ]
    return (
        f"{int(np.count_nonzero(elements))} of {comparison.out.size} elements, worst "
        f"{_index_text(tuple(int(i) for i in worst))} = {float(comparison.out[worst])!r}, "
        f"reference {mpmath.nstr(exact_value, 20)}: {_fmt(comparison.errors.in_ulps[worst])} ulp, "
        f"rel {_fmt(comparison.errors.relative[worst])}; input: {comparison.input_text()}"
    )


def check_oracle(
    concept_id: str, backend: Backend, *arrays: np.ndarray, kind: str = "oracle", **params: Any
) -> np.ndarray:
    """Hold the backend to the exact reference, within the catalogue's budget; return its result.

    ``params`` are the concept's parameters; the backend's declared conventions supply the
    variants the reference is evaluated under. Elements beyond the budget that a written-up
    divergence explains (its region and its values) are recorded as that divergence; any other
    fails the test.
    """
    concept = catalogue.load().concept(concept_id)
    dtype = oracle.expected_dtype(concept, arrays)
    dtype_name = _dtype_name(concept, arrays)
    head = _header(concept_id, backend, dtype_name)
    _skip_unsupported(backend, concept_id, params)  # before the reference is evaluated
    variants = declared_conventions(concept, backend)
    evaluated = reference_inputs(backend, arrays)
    exact = oracle.exact_result(concept_id, evaluated, {**params, **variants})
    out = run_backend(concept_id, backend, *arrays, **params)
    input_text = InputText(concept, arrays, params)
    if out.shape != exact.shape:
        raise ConformanceFailure(
            f"{head} returned shape {out.shape}, the reference has shape {exact.shape}\n"
            f"  input: {input_text()}"
        )
    if not is_floating(dtype) and not oracle.is_integer_image(concept, arrays):
        _check_exact(concept, backend, dtype_name, out, exact.rounded(dtype), kind, input_text)
        return out
    # an integer image's result is compared in levels; a float one it returns (a written-up
    # divergence's ``returns``) as floats, unrounded
    comparison = compare(concept, backend, arrays, params, out, exact)
    errors, ratio = comparison.errors, comparison.ratio
    beyond = ratio > 1.0
    explained = _explained(comparison, beyond) if beyond.any() else beyond
    unexplained_ratio = np.where(explained, 0.0, ratio)
    worst = np.unravel_index(int(np.argmax(unexplained_ratio)), ratio.shape) if ratio.size else ()
    worst_ratio = float(unexplained_ratio[worst]) if ratio.size else 0.0
    failed = worst_ratio > 1.0
    recording.current().observation(concept_id, backend.name, dtype_name, kind).add(
        ulps=float(np.max(errors.in_ulps)),
        relative=float(np.max(errors.relative)),
        budget_fraction=worst_ratio,
        failed=failed,
        input_text=input_text,
        ulps_by_step=_ulps_by_step(concept, np.where(explained, 0.0, errors.in_ulps)),
    )
    if currently_in_test_context() and not getattr(backend, "correctly_rounded", False):
        # steers the worst-case search (the thorough profile's targeting phase)
        target(min(worst_ratio, 1e9), label=f"{concept_id} [{backend.name}]: error / allowed")
    if failed:
        raise _beyond_budget(head, concept, comparison, out, exact, explained, worst, input_text)
    return out


def _beyond_budget(
    head: str,
    concept: catalogue.Concept,
    comparison: Comparison,
    out: np.ndarray,
    exact: oracle.ExactResult,
    explained: np.ndarray,
    worst: tuple[Any, ...],
    input_text: InputText,
) -> ConformanceFailure:
    """The failure of an oracle test: how many elements are beyond their allowance (besides those
    a divergence explains), and the worst one: its value, the exact one, its error in ulps and
    relative terms, the allowance (the budget and the derived part), and the input."""
    fmt, errors = comparison.fmt, comparison.errors
    beyond_count = int(np.count_nonzero((comparison.ratio > 1.0) & ~explained))
    levels = not is_floating(comparison.dtype_name)  # an integer image's: an ulp is one level
    budget = concept.budget.ulps[comparison.dtype_name if levels else fmt.name]
    with np.errstate(over="ignore"):
        unit = 1.0 if levels else ulp(exact.hi[worst], fmt)
        allowed_ulps = float(comparison.allowed[worst] / unit)
    derived_ulps = max(allowed_ulps - budget, 0.0)
    exact_value = exact.values[int(np.ravel_multi_index(worst, exact.shape))]
    known = int(np.count_nonzero(explained))
    model = f"'{concept.error_model}'" + (
        f" in {fmt.name}; an ulp of {comparison.dtype_name} is one level" if levels else ""
    )
    value = int(out[worst]) if levels else float(out[worst])
    return ConformanceFailure(
        f"{head} {beyond_count} of {out.size} elements beyond budget "
        f"({budget:g} ulp + error model {model}; spec/{concept.page})"
        + (f", besides {known} a written-up divergence explains" if known else "")
        + "\n"
        f"  worst {_index_text(tuple(int(i) for i in worst))} = {value!r}, "
        f"reference {mpmath.nstr(exact_value, 20)}: "
        f"{_fmt(errors.in_ulps[worst])} ulp, rel {_fmt(errors.relative[worst])}; "
        f"allowed {_fmt(allowed_ulps)} ulp ({budget:g} + {_fmt(derived_ulps)} derived)\n"
        f"  input: {input_text()}"
    )


INTEGER_IMAGES_COMPUTE_IN = "float32"
"""The narrowest format a backend computes an integer image's levels in before it rounds them
(JAX promotes uint8 to float32; NumPy and Keras compute in float32 or wider; torch's fixed-point
passes are within float32's allowance, spec/concepts/resize.md): its error model's allowance
is the derived part of an integer image's."""


def _model_inputs(
    concept: catalogue.Concept, backend: Backend, arrays: Sequence[np.ndarray]
) -> dict[str, np.ndarray]:
    """The inputs the error model reads, by argument name, as the backend reads them; an
    integer image's levels in the format they are computed in
    (:data:`INTEGER_IMAGES_COMPUTE_IN`, exact: arithmetic on them must not wrap)."""
    inputs = dict(zip(concept.arguments, reference_inputs(backend, arrays), strict=False))
    if oracle.is_integer_image(concept, arrays):
        inputs["image"] = inputs["image"].astype(INTEGER_IMAGES_COMPUTE_IN)
    return inputs


def _levels(
    concept: catalogue.Concept,
    backend: Backend,
    given: tuple[Sequence[np.ndarray], Mapping[str, Any]],
    out: np.ndarray,
    exact: oracle.ExactResult,
) -> Comparison:
    """An integer image's result against the reference, in levels (the dtype's unit, its ulp):
    the exact value saturated to the dtype's range, within the budget (half a level: a nearest
    level, either at a tie) and the error model's allowance in
    :data:`INTEGER_IMAGES_COMPUTE_IN` (a value computed within it of a tie may round to either
    neighbour). Its names (:data:`dlspec.divergences.NAMES`) are in levels; ``u`` and ``tiny``
    are the computing format's, ``biggest`` the dtype's top level."""
    arrays, params = given
    dtype_name = oracle.expected_dtype(concept, arrays).name
    levels = np.iinfo(out.dtype)
    saturated = (exact.hi < levels.min) | (exact.hi > levels.max)
    target = np.clip(exact.hi, levels.min, levels.max)
    error = np.abs((out.astype(np.float64) - target) - np.where(saturated, 0.0, exact.lo))
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(error == 0, 0.0, error / np.abs(target))
    fmt = FORMATS[INTEGER_IMAGES_COMPUTE_IN]
    inputs = _model_inputs(concept, backend, arrays)
    variants = declared_conventions(concept, backend)
    derived = allowance(
        concept, fmt, inputs, {**params, **variants, "input_dtype": dtype_name}, exact.hi
    )
    allowed = concept.budget.ulps[dtype_name] + np.where(saturated, 0.0, derived)
    return _comparison(
        concept,
        backend,
        (arrays, params, {**params, **variants}, inputs),
        out,
        exact,
        Errors(absolute=error, in_ulps=error, relative=relative),
        allowed,
        fmt,
        float(levels.max),
        {},
        dtype=dtype_name,
    )


def _ulps_by_step(concept: catalogue.Concept, in_ulps: np.ndarray) -> list[float]:
    """For a k-step trajectory (a result row per optimizer step), the largest error of each step:
    the report shows how the error grows with the number of steps (the elements a written-up
    divergence explains, float16 Adam's NaN, left out: the divergence is reported apart)."""
    if concept.group != "optimizers" or concept.arguments[:1] != ("params",) or in_ulps.ndim != 2:
        return []
    return [float(u) for u in np.max(in_ulps, axis=1, initial=0.0)]


COMPARED = {
    "values": lambda a: a,
    "row_sizes": lambda a: np.count_nonzero(a >= 0, axis=-1),
}
"""What an exact (integer) result is compared by; the catalogue's ``compare`` names one."""


def _check_exact(
    concept: catalogue.Concept,
    backend: Backend,
    dtype_name: str,
    out: np.ndarray,
    expected: np.ndarray,
    kind: str,
    input_text: InputText,
) -> None:
    """Integer results (indices, counts, epochs) must match exactly, by the concept's measure."""
    head = _header(concept.id, backend, dtype_name)
    seen, wanted = COMPARED[concept.compare](out), COMPARED[concept.compare](expected)
    wrong = np.flatnonzero(np.ravel(seen != wanted))
    failed = wrong.size > 0
    recording.current().observation(concept.id, backend.name, dtype_name, kind).add(
        ulps=0.0, relative=0.0, budget_fraction=float(failed), failed=failed, input_text=input_text
    )
    if failed:
        what = "" if concept.compare == "values" else f" ({concept.compare.replace('_', ' ')})"
        raise ConformanceFailure(
            f"{head} {wrong.size} of {np.size(seen)} entries differ from the reference{what}; "
            f"exact result required (spec/{concept.page})\n"
            f"  actual: {_array_text(seen)}\n  expected: {_array_text(wanted)}\n"
            f"  input: {input_text()}"
        )


def _fmt(value: float) -> str:
    value = float(value)
    if math.isinf(value) or math.isnan(value):
        return str(value)
    return f"{value:.3g}"


def _property_explained(backend: Backend, dtype: str, inputs: str | InputText) -> bool:
    """Whether a failing property's input lies in the region of a written-up divergence of its
    concept, with the backend giving there what the divergence gives (recorded as seen); for a
    relation of several concepts (``a | b``), of any of them."""
    if not isinstance(inputs, InputText) or inputs.suffix:
        return False  # an input the concept does not name: no region to place it in
    sides = (inputs, *inputs.also)
    return any(_side_explained(backend, dtype, side) for side in sides)


def _side_explained(backend: Backend, dtype: str, inputs: InputText) -> bool:
    if inputs.suffix:
        return False
    found = divergences_for(backend, inputs.concept.id, dtype)
    if not found:
        return False
    try:
        comparison = evaluate(inputs.concept.id, backend, inputs.arrays, inputs.params)
    except (ConformanceFailure, ValueError, TypeError):
        return False
    shape = comparison.out.shape
    for divergence in found:
        region = divergence.signature.in_region(comparison.names, shape)
        if region.any() and bool(
            np.all(divergence.signature.explained(comparison.names, shape) | ~region)
        ):

            def seen(r: np.ndarray = region) -> str:
                return "a property fails on an input in its region: " + evidence(comparison, r)

            recording.current().divergence_seen(divergence, seen)
            return True
    return False


def check_relation(
    concept_id: str,
    backend: Backend,
    dtype: str,
    relation: str,
    holds: np.ndarray | bool,
    *,
    actual: Any,
    expected: Any,
    inputs: str | InputText,
) -> None:
    """A property: ``holds`` must be true everywhere; the message names the relation."""
    holds = np.asarray(holds)
    failed = not bool(np.all(holds)) and not _property_explained(backend, dtype, inputs)
    recording.current().observation(concept_id, backend.name, dtype, "property").add(
        ulps=0.0, relative=0.0, budget_fraction=float(failed), failed=failed, input_text=inputs
    )
    if failed:
        raise ConformanceFailure(
            f"{_header(concept_id, backend, dtype)} property violated: {relation}\n"
            f"  actual: {_array_text(np.asarray(actual))}\n"
            f"  expected: {_array_text(np.asarray(expected))}\n"
            f"  input: {inputs}"
        )


def check_close(
    concept_id: str,
    backend: Backend,
    dtype: str,
    relation: str,
    actual: np.ndarray,
    expected: np.ndarray,
    allowed: np.ndarray,
    *,
    inputs: str | InputText,
) -> None:
    """A property that holds up to ``allowed``, an allowance derived from the catalogue's budget.

    ``actual`` and ``expected`` are compared in float64; an expected value that is not exact there
    (``log n``) is within half an ulp of it, which is added to the allowance here, once.
    """
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        difference = np.abs(actual - expected)
        allowed = allowed + FORMATS["float64"].unit_roundoff * np.abs(expected)
        holds = (difference <= allowed) | (actual == expected)
    check_relation(
        concept_id,
        backend,
        dtype,
        f"{relation} (allowed difference {_fmt(float(np.max(allowed, initial=0.0)))}, "
        f"seen {_fmt(float(np.max(np.where(np.isnan(difference), np.inf, difference), initial=0.0)))})",
        holds,
        actual=actual,
        expected=expected,
        inputs=inputs,
    )


def allowance_for(
    concept_id: str,
    backend: Backend,
    arrays: Sequence[np.ndarray],
    result: np.ndarray,
    **params: Any,
) -> np.ndarray:
    """The oracle's allowance for ``result`` (a backend value standing in for the reference).

    Where a written-up divergence of the cell declares that the backend computes in float32
    (``computes_in``), the allowance is the one its signature grants, ``allowed_float32 +
    abs(ref_float32 - ref)``, where that is wider: a property reads the backend's values under
    its declared conventions. The divergence is then recorded as seen."""
    concept = catalogue.load().concept(concept_id)
    fmt = float_format(result_dtype(concept, backend, arrays))
    reference_params = {**params, **declared_conventions(concept, backend)}
    inputs = dict(zip(concept.arguments, reference_inputs(backend, arrays), strict=False))
    flushed = subnormals(backend, fmt.name) == "flushed"
    allowed = declared_allowance(concept, backend, fmt, inputs, reference_params, result)
    for divergence in divergences_for(backend, concept_id, _dtype_name(concept, arrays)):
        if divergence.computes_in is None:
            continue
        exact = oracle.exact_result(concept_id, list(inputs.values()), reference_params)
        ref32, allowed32 = _in_float32(concept, inputs, reference_params, flushed)
        in_float32 = np.fmax(allowed, allowed32 + np.abs(ref32 - exact.hi))
        if np.any(in_float32 > allowed):
            recording.current().divergence_seen(
                divergence, lambda: "a property reads the result as computed in float32"
            )
        allowed = in_float32
    return allowed


def run_with_allowance(
    concept_id: str, backend: Backend, *arrays: np.ndarray, **params: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The backend's result and the oracle's allowance for it, for properties that combine
    several results: their allowances add up."""
    out = run_backend(concept_id, backend, *arrays, **params)
    return out, allowance_for(concept_id, backend, arrays, out, **params)


def assume_in_range(concept_id: str, backend: Backend, *arrays: np.ndarray, **params: Any) -> None:
    """Leave out an example whose exact result overflows its dtype: a property that relates
    finite values (``P(2 w) == 4 P(w)``) says nothing of float16's infinity past 65520, which the
    oracle tests hold to the reference."""
    concept = catalogue.load().concept(concept_id)
    fmt = float_format(result_dtype(concept, backend, arrays))
    params = {**params, **declared_conventions(concept, backend)}
    exact = oracle.exact_result(concept_id, reference_inputs(backend, arrays), params)
    with np.errstate(invalid="ignore"):
        reject_if = not np.all(np.abs(exact.hi) < fmt.overflow_threshold)
    if reject_if:
        reject()


def needs_concepts(backend: Backend, *concept_ids: str) -> None:
    """Skip a property that relates several concepts where the backend lacks one of them."""
    import pytest

    missing = [c for c in concept_ids if not backend.supports(c)]
    if missing:
        pytest.skip(f"backend {backend.name!r} does not implement {missing}, which this relates")
