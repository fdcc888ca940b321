"""Known divergences by their signature: where in the input space a backend departs from the
spec, and what it gives there.

A ``[[divergences]]`` entry of the catalogue names a backend, a concept and its dtypes, and three
NumPy expressions over the names of a comparison (:data:`NAMES`):

- ``where``: the input region (the concept's arguments and parameters, as the backend read them);
- ``gives``: what the backend's result is there (``out == 0``, ``isnan(out)``, a derived bound
  such as ``err <= allowed + 8 * u * abs(ref)``);
- ``shows`` (default ``beyond``): when the departure is visible at all, for the entry's pinned
  example (``example``), which must show it.

An oracle check excuses an element beyond its budget only where it lies in ``where`` and its
value matches ``gives``; any other element beyond the budget fails the test as before, so a
written-up divergence never hides another departure in the same cell. A property that fails is
excused only if its own input lies in the region and the backend's result there matches
``gives``. Either way the test is reported as diverging, with the entry's page; a run where a
divergence does not show at all reports the test as passing, and the pinned example says plainly
whether the divergence is still there.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

FUNCTIONS: dict[str, Any] = {
    name: getattr(np, name)
    for name in (
        "abs",
        "all",
        "arange",
        "asarray",
        "concatenate",
        "any",
        "exp",
        "expm1",
        "isfinite",
        "isin",
        "isinf",
        "isnan",
        "log",
        "log1p",
        "max",
        "maximum",
        "mean",
        "min",
        "minimum",
        "sqrt",
        "square",
        "sum",
        "var",
        "where",
    )
}
"""The NumPy functions a signature may call, by their NumPy names."""

NAMES = {
    "out": "the backend's result, in float64",
    "ref": "the reference result, rounded to float64",
    "err": "the absolute error |out - exact|",
    "ulps": "the error in ulps of the result's dtype",
    "rel": "the relative error",
    "allowed": "the spec's allowance per element (the budget and the error model), absolute",
    "beyond": "err > allowed: the element fails the spec",
    "u": "the unit roundoff of the dtype (2^-24 for float32)",
    "tiny": "the dtype's smallest normal number",
    "biggest": "the dtype's largest finite number",
    "ref_float32": "the reference result at the inputs and parameters rounded to float32",
    "allowed_float32": "the spec's float32 allowance per element there, absolute",
}
"""The names of a comparison, besides the concept's arguments and parameters. The last two
describe a result computed in float32 from a wider dtype's inputs: such a result is as accurate
as a conforming float32 backend is on the rounded inputs, and by the triangle inequality its
error is at most ``allowed_float32 + abs(ref_float32 - ref)`` (evaluated only when read)."""


class Names(dict[str, Any]):
    """A comparison's names (:data:`NAMES`); those in ``lazy`` are computed when an expression
    first reads them, once."""

    def __init__(self, values: Mapping[str, Any], lazy: Mapping[str, Callable[[], Any]]) -> None:
        super().__init__(values)
        self.lazy = dict(lazy)

    def __missing__(self, key: str) -> Any:
        if key not in self.lazy:
            raise KeyError(key)
        self[key] = value = self.lazy.pop(key)()
        return value


class _Scope(dict[str, Any]):
    """A signature's ``defines`` over the comparison's names, read through to them."""

    def __init__(self, names: Mapping[str, Any]) -> None:
        super().__init__()
        self.names = names

    def __missing__(self, key: str) -> Any:
        return self.names[key]


class SignatureError(ValueError):
    """A divergence's expression that does not evaluate: the message names entry and expression."""


@dataclass(frozen=True)
class Signature:
    """``where``, ``gives`` and ``shows`` (see above), and ``defines``: names computed in order
    before them (a derived bound's terms), each an expression over the names before it."""

    where: str
    gives: str
    shows: str = "beyond"
    defines: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        expressions = [("where", self.where), ("gives", self.gives), ("shows", self.shows)]
        for field, text in [*expressions, *self.defines]:
            try:
                compile(text, f"<divergence {field}>", "eval")
            except SyntaxError as error:
                raise SignatureError(
                    f"divergence {field} = {text!r} is not an expression: {error}"
                ) from None

    def explained(self, names: Mapping[str, Any], shape: tuple[int, ...]) -> np.ndarray:
        """Per element of the result: in the region, with the known value."""
        scope = self._scope(names)
        return _fit(_evaluate("where", self.where, scope), shape) & _fit(
            _evaluate("gives", self.gives, scope), shape
        )

    def in_region(self, names: Mapping[str, Any], shape: tuple[int, ...]) -> np.ndarray:
        return _fit(_evaluate("where", self.where, self._scope(names)), shape)

    def showing(self, names: Mapping[str, Any], shape: tuple[int, ...]) -> np.ndarray:
        """Per element: the divergence is visible there (in the region, with the known value,
        and ``shows``)."""
        shows = _fit(_evaluate("shows", self.shows, self._scope(names)), shape)
        return self.explained(names, shape) & shows

    def _scope(self, names: Mapping[str, Any]) -> dict[str, Any]:
        scope = _Scope(names)
        for name, text in self.defines:
            scope[name] = _evaluate(name, text, scope, as_bool=False)
        return scope


def _evaluate(field: str, text: str, names: dict[str, Any], *, as_bool: bool = True) -> np.ndarray:
    try:
        with np.errstate(all="ignore"):
            value = eval(text, {"__builtins__": {}, **FUNCTIONS}, names)  # the catalogue's text
    except Exception as error:
        raise SignatureError(
            f"divergence {field} = {text!r} does not evaluate: {type(error).__name__}: "
            f"{error} (names: {sorted(names)})"
        ) from error
    return np.asarray(value, dtype=bool) if as_bool else np.asarray(value)


def _fit(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A predicate over the inputs, as one per element of the result: broadcast where its shape
    allows (elementwise concepts), else any element of it (a reduction's input)."""
    try:
        return np.broadcast_to(value, shape)
    except ValueError:
        return np.broadcast_to(np.any(value), shape)
