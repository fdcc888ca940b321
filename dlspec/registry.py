"""Finding backends: built-in adapters and plug-ins through the ``dlspec.adapters`` entry-point
group, plus any ``module:Class`` or ``path/to/file.py:Class`` named on the command line.

Nothing here imports a framework: an entry point is loaded only when its backend is selected, and
a backend whose framework is missing is *unavailable* (its tests skip with the reason), never an
import error.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

ENTRY_POINT_GROUP = "dlspec.adapters"


@dataclass
class StandIn:
    """Takes the place of a backend that cannot be used, so that its tests still run to a
    clear outcome (a skip or a failure) and the report still lists it, as not available."""

    available: ClassVar[bool] = False
    name: str
    device: str = "-"
    dtypes: tuple[str, ...] = ("float32", "float64")
    conventions: dict[str, str] = field(default_factory=dict)

    def supports(self, concept: str) -> bool:
        return True

    def is_native(self, concept: str) -> bool:
        return False

    def versions(self) -> dict[str, str]:
        return {}


@dataclass
class Unavailable(StandIn):
    """A backend that cannot run here (framework missing, no device); its tests skip."""

    reason: str = ""


@dataclass
class Broken(StandIn):
    """An adapter that could not be loaded or constructed; every one of its tests fails."""

    error: str = ""

    def run(self, concept: str, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        raise RuntimeError(f"adapter {self.name!r} could not be constructed: {self.error}")


def load_class(spec: str) -> type:
    """The class named by ``module:Class`` or ``path/to/file.py:Class``."""
    target, _, class_name = spec.rpartition(":")
    if not target or not class_name:
        raise ValueError(f"--adapter {spec!r}: expected 'module:Class' or 'path/to/file.py:Class'")
    if target.endswith(".py"):
        path = Path(target).resolve()
        module_name = f"dlspec_adapter_{path.stem}"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise ValueError(f"--adapter {spec!r}: cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module
        module_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(target)
    return getattr(module, class_name)


def instantiate(name: str, factory: Any) -> Any:
    """An adapter instance, or an :class:`Unavailable` / :class:`Broken` stand-in."""
    reason_of = getattr(factory, "unavailable_reason", None)
    try:
        reason = reason_of() if callable(reason_of) else None
    except Exception as error:
        reason = f"availability check raised {type(error).__name__}: {error}"
    if reason:
        return Unavailable(name=getattr(factory, "name", name), reason=reason)
    try:
        adapter = factory()
        getattr(adapter, "table", None)  # a table adapter builds its table now, not mid-test
    except Exception as error:
        return Broken(name=getattr(factory, "name", name), error=f"{type(error).__name__}: {error}")
    if not isinstance(getattr(adapter, "name", None), str):
        adapter.name = name
    return adapter


def select(backends: Iterable[str], adapter_specs: Iterable[str]) -> list[Any]:
    """Adapters for ``--backend`` names (``all`` = every built-in or installed one) and
    ``--adapter`` specs, in the order given, without duplicates."""
    available = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    names: list[str] = []
    for entry in backends:
        for name in (n.strip() for n in entry.split(",") if n.strip()):
            names.extend(sorted(available) if name == "all" else [name])
    chosen: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        if name not in available:
            chosen[name] = Unavailable(
                name=name, reason=f"no backend named {name!r}; known: {sorted(available)}"
            )
            continue
        try:
            factory = available[name].load()
        except Exception as error:
            chosen[name] = Broken(
                name=name, error=f"loading entry point: {type(error).__name__}: {error}"
            )
            continue
        chosen[name] = instantiate(name, factory)
    for spec in adapter_specs:
        try:
            factory = load_class(spec)
        except Exception as error:
            chosen[spec] = Broken(name=spec, error=f"{type(error).__name__}: {error}")
            continue
        adapter = instantiate(spec, factory)
        chosen[adapter.name] = adapter
    return list(chosen.values())
