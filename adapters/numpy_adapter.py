"""The NumPy backend, and the template to copy for a new framework.

NumPy has no deep-learning functions, so every concept is composed from NumPy operations
(``adapters/numpy_ops/``, one module per concept group). Where the spec names a variant, this
backend follows PyTorch's convention and says so in ``conventions`` (but for the points of
``grid_sample``, which it reads in pixel coordinates, as they are, and for an integer image,
resampled in float32 and rounded once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from . import conventions
from .base import ALL, FLOAT_DTYPES, Adapter, group_modules


class NumpyAdapter(Adapter):
    name = "numpy"
    framework = "numpy"
    composed = ALL  # NumPy has no deep-learning functions
    dtypes: ClassVar[tuple[str, ...]] = FLOAT_DTYPES  # bfloat16: ml_dtypes' ufuncs
    # make test's time: the ci profile runs each low-precision dtype on one backend, float16 here
    # (its hazards, overflow past 65504 and guards below 6e-8, show in NumPy's formulas) and
    # bfloat16 on torch-cpu; make report and the seed sweep run every dtype everywhere
    ci_dtypes: ClassVar[tuple[str, ...] | None] = ("float32", "float64", "float16")
    conventions: ClassVar[Mapping[str, str]] = {
        **conventions.PYTORCH,
        "low_precision_compute": "dtype",  # each ufunc's result is rounded to the dtype
        "grid_sample.point_coordinates": "pixel",
        "grid_sample_grad.point_coordinates": "pixel",
        "resize.integer_rounding": "once",  # its integer images: computed, then rounded
    }

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        """The concepts each group module lists in ``__all__``, by name (the concept id)."""
        modules = group_modules(f"{__package__}.numpy_ops")
        return {name: getattr(module, name) for module in modules for name in module.__all__}
