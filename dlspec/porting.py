"""The porting guide's check: two frameworks' snippets, run on one input, agree or part.

A mapping (``[[mappings]]`` in the catalogue, :class:`~dlspec.catalogue.PortingMapping`) gives,
per framework, Python in that framework's own API. :func:`compare` runs both on the same input
and holds their results to each other: they agree where ``|a - b|`` is within the sum of the two
results' allowances (each the oracle's allowance for the concept, under that backend's declared
conventions and floating-point environment), the same rule as a property that relates two
results. No reference is evaluated: the conformance tests already hold each side to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from dlspec import catalogue
from dlspec.checks import allowance_for, describe_inputs

if TYPE_CHECKING:
    from dlspec.adapters.base import Backend


class PortingMismatch(AssertionError):
    """A mapping's two snippets part on an input: the message gives both values and by how much."""


def snippet_names(
    mapping: catalogue.PortingMapping, drawn: Mapping[str, Any], dtype: str
) -> dict[str, Any]:
    """The names a snippet runs with: the concept's arguments as NumPy arrays of ``dtype``
    (integer arrays as drawn), its parameters (the drawn ones, then the mapping's ``fixed``),
    and ``dtype``."""
    concept = catalogue.load().concept(mapping.concept)
    names: dict[str, Any] = {**drawn, **mapping.fixed}
    for argument in concept.arguments:
        array = np.asarray(names[argument])
        names[argument] = array if array.dtype.kind in "iub" else array.astype(dtype)
    return {**names, "dtype": dtype}


def run_snippet(
    mapping: catalogue.PortingMapping, framework: str, names: Mapping[str, Any]
) -> np.ndarray:
    """``out`` of the mapping's snippet for ``framework``, as a float64 NumPy array. The snippet
    gets copies of the arrays, so that one framework's in-place update cannot reach the other."""
    namespace = {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in names.items()}
    exec(mapping.snippets[framework], namespace)  # the catalogue's code, as the guide prints it
    if "out" not in namespace:
        raise PortingMismatch(f"{_head(mapping)}: the {framework} snippet assigns no 'out'")
    out = namespace["out"]
    detach = getattr(out, "detach", None)
    return np.asarray(detach() if callable(detach) else out, dtype=np.float64)


@dataclass(frozen=True)
class Agreement:
    """Both results on one input, and where they part."""

    mapping: catalogue.PortingMapping
    dtype: str
    outs: tuple[np.ndarray, np.ndarray]
    allowed: np.ndarray
    parts: np.ndarray
    """Per element: the two differ by more than the allowance."""
    inputs: str

    @property
    def agrees(self) -> bool:
        return not bool(self.parts.any())

    @property
    def difference(self) -> np.ndarray:
        a, b = self.outs
        with np.errstate(invalid="ignore"):
            return np.where(a == b, 0.0, np.abs(a - b))

    def worst_fraction(self) -> float:
        """The largest difference over its allowance (``inf`` where they part without one)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(
                self.difference == 0,
                0.0,
                np.where(self.allowed > 0, self.difference / self.allowed, np.inf),
            )
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
        return float(np.max(ratio, initial=0.0))

    def first_step(self) -> int | None:
        """For a k-step trajectory (one row per step): the first step (from 1) where they part."""
        if self.outs[0].ndim < 2 or not self.parts.any():
            return None
        rows = self.parts.reshape(self.parts.shape[0], -1).any(axis=1)
        return int(np.argmax(rows)) + 1

    def text(self) -> str:
        """Where and by how much they part (or the largest difference seen, where they agree)."""
        a, b = self.outs
        first, second = self.mapping.frameworks
        difference = np.where(np.isnan(self.difference), np.inf, self.difference)
        where = self.parts if self.parts.any() else np.ones(self.parts.shape, dtype=bool)
        index = (
            np.unravel_index(int(np.argmax(np.where(where, difference, -1.0))), a.shape)
            if a.size
            else ()
        )
        relative = (
            float(difference[index] / abs(b[index])) if a.size and b[index] != 0 else float("inf")
        )
        step = self.first_step()
        return (
            f"{int(np.count_nonzero(self.parts))} of {a.size} elements part"
            + (f" (from step {step})" if step else "")
            + f"; worst out[{', '.join(map(str, (int(i) for i in index)))}]: {first} "
            f"{float(a[index])!r}, {second} {float(b[index])!r}, difference {difference[index]:.3g} (relative {relative:.3g}), "
            f"allowed {self.allowed[index]:.3g}; input ({self.dtype}): {self.inputs}"
        )


def _head(mapping: catalogue.PortingMapping) -> str:
    return f"porting {mapping.concept} ({mapping.title}) {' vs '.join(mapping.frameworks)}"


def compare(
    mapping: catalogue.PortingMapping,
    backends: Mapping[str, Backend],
    drawn: Mapping[str, Any],
    dtype: str,
) -> Agreement:
    """Run both snippets on ``drawn`` in ``dtype`` and hold them to each other."""
    concept = catalogue.load().concept(mapping.concept)
    names = snippet_names(mapping, drawn, dtype)
    arrays = [names[a] for a in concept.arguments]
    params = {k: v for k, v in names.items() if k in concept.parameters}
    outs = tuple(run_snippet(mapping, f, names) for f in mapping.frameworks)
    if outs[0].shape != outs[1].shape:
        raise PortingMismatch(
            f"{_head(mapping)}: shapes {outs[0].shape} and {outs[1].shape}; input ({dtype}): "
            f"{describe_inputs(concept, arrays, params)}"
        )
    allowed = sum(
        (
            allowance_for(mapping.concept, backends[f], arrays, out, **params)
            for f, out in zip(mapping.frameworks, outs, strict=True)
        ),
        start=np.zeros(outs[0].shape),
    )
    a, b = outs
    with np.errstate(invalid="ignore", over="ignore"):
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        parts = ~same & ~(np.abs(a - b) <= allowed)
    return Agreement(
        mapping, dtype, (a, b), allowed, parts, describe_inputs(concept, arrays, params)
    )


def check_verified(agreement: Agreement) -> None:
    """A ``verified`` mapping: the two agree on this input."""
    if not agreement.agrees:
        raise PortingMismatch(
            f"{_head(agreement.mapping)}: verified mapping parts: {agreement.text()}\n"
            f"  settings: {agreement.mapping.settings}"
        )
