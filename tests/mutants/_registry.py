"""Where the mutants register. A mutant is a function with one realistic bug, decorated with its
class name, the concept whose conformance tests must catch it (``caught_by``) and what it gets
wrong: ``@mutant`` makes it a copy of the NumPy adapter with that entry replaced, and
``@torch_mutant`` / ``@jax_mutant`` a spec that the framework's adapter class is built from when
the framework is importable."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from dlspec.adapters.numpy_adapter import NumpyAdapter

Spec = tuple[str, str, Callable[..., Any], str]
"""A framework mutant: its class name, the concept that catches it, the entry, the bug."""


class Mutant(NumpyAdapter):
    """The NumPy adapter with ``replacements`` swapped into its table. It runs float32 and
    float64 (what its bug shows in), unless it names its dtypes: a low-precision bug its
    float16 and bfloat16."""

    caught_by: ClassVar[str]
    replacements: ClassVar[Mapping[str, Callable[..., Any]]]
    dtypes: ClassVar[tuple[str, ...]] = ("float32", "float64")
    written_up_as: ClassVar[str] = "numpy"  # NumPy's known divergences are not its bug

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        return {**super().implementations(), **self.replacements}


MUTANTS: list[type[Mutant]] = []
TORCH_MUTANT_SPECS: list[Spec] = []
JAX_MUTANT_SPECS: list[Spec] = []


def mutant(
    name: str,
    concept: str,
    doc: str,
    *,
    dtypes: tuple[str, ...] | None = None,
    conventions: Mapping[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the NumPy adapter with ``concept``'s entry replaced by the decorated function;
    ``dtypes`` and ``conventions`` (added to NumPy's) where the bug needs them."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        attributes: dict[str, Any] = {
            "name": f"mutant-{name}",
            "caught_by": concept,
            "replacements": {concept: function},
            "__doc__": doc,
        }
        if dtypes is not None:
            attributes["dtypes"] = dtypes
        if conventions is not None:
            attributes["conventions"] = {**NumpyAdapter.conventions, **conventions}
        MUTANTS.append(type(name, (Mutant,), attributes))
        return function

    return register


def _spec(into: list[Spec]) -> Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]:
    def decorator(name: str, concept: str, doc: str) -> Callable[[Callable[..., Any]], Any]:
        def register(function: Callable[..., Any]) -> Callable[..., Any]:
            into.append((name, concept, function, doc))
            return function

        return register

    return decorator


torch_mutant = _spec(TORCH_MUTANT_SPECS)
jax_mutant = _spec(JAX_MUTANT_SPECS)


def framework_mutant(
    base: type, name: str, concept: str, function: Callable[..., Any], doc: str
) -> type:
    """A subclass of a framework adapter with one table entry replaced."""

    def implementations(self: Any) -> Mapping[str, Callable[..., Any]]:
        return {**base.implementations(self), concept: function}

    attributes = {
        "name": f"mutant-{name}",
        "caught_by": concept,
        "implementations": implementations,
        "written_up_as": base.name,  # the framework's known divergences are not its bug
        "__doc__": doc,
    }
    return type(name, (base,), attributes)
