"""Mutant adapters: copies of the NumPy, torch and JAX adapters with one realistic bug each, one
module per concept group, and broken adapters that violate the interface (``broken.py``).
``test_mutants.py`` asserts the conformance suite catches every one.

Each mutant names the concept whose tests must catch it (``caught_by``); ``--adapter
mutants:<Name>`` finds any of them by its class name.
"""

from __future__ import annotations

import functools
from typing import Any

from . import (  # noqa: F401  (each group's mutants register on import)
    activations,
    augmentation,
    information,
    losses,
    normalization,
    optimizers,
    regularization,
    schedules,
    training,
)
from ._registry import JAX_MUTANT_SPECS, MUTANTS, TORCH_MUTANT_SPECS, Mutant, framework_mutant
from .broken import BROKEN, CRASHING

__all__ = ["BROKEN", "CRASHING", "JAX_MUTANT_SPECS", "MUTANTS", "TORCH_MUTANT_SPECS", "Mutant"]


@functools.cache
def torch_mutants() -> list[type]:
    """The torch mutant classes, built once torch is importable."""
    from dlspec.adapters.torch_adapter import TorchAdapter

    return [framework_mutant(TorchAdapter, *spec) for spec in TORCH_MUTANT_SPECS]


@functools.cache
def jax_mutants() -> list[type]:
    """The JAX mutant classes, built once jax is importable."""
    from dlspec.adapters.jax_adapter import JaxAdapter

    return [framework_mutant(JaxAdapter, *spec) for spec in JAX_MUTANT_SPECS]


FRAMEWORK_MUTANTS = {
    "Torch": (TORCH_MUTANT_SPECS, torch_mutants),
    "Jax": (JAX_MUTANT_SPECS, jax_mutants),
}


def __getattr__(name: str) -> Any:
    """``--adapter mutants:<Name>``: a NumPy mutant or broken adapter by its class name, or a
    framework's mutant, whose classes are built on first use."""
    for cls in (*MUTANTS, *BROKEN, *CRASHING):
        if cls.__name__ == name:
            return cls
    for prefix, (specs, build) in FRAMEWORK_MUTANTS.items():
        if name.startswith(prefix) and any(spec[0] == name for spec in specs):
            return next(cls for cls in build() if cls.__name__ == name)
    raise AttributeError(name)
