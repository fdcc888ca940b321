"""The error models of learning-rate schedules: the derived term ``s`` of each
budget, and the underflow models (the method: :mod:`dlspec.budgets`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import dlspec.budgets._shared as shared
from dlspec.budgets._registry import Inputs, error_model, underflow_model


@error_model
def schedule(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`2(t + 1)(|\eta_t| + \eta_0)` at step ``t``: a schedule computed recursively (as
    PyTorch's are) rounds one ratio and one product a step, relative to the current rate for the
    multiplicative forms and to :math:`\eta_0` for the additive (cosine, linear) ones."""
    base = abs(float(np.asarray(inputs["base_lr"])))
    steps = np.arange(1, np.size(result) + 1, dtype=np.float64).reshape(np.shape(result))
    return 2 * steps * (np.abs(result) + base)


@error_model
def cosine_schedule(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The :func:`schedule` term, plus :math:`|\eta_t - \eta_{min}| \sum_{j \le t} 2 / (1 + \cos(\pi j / T))`:
    PyTorch's recursive form multiplies :math:`\eta - \eta_{min}` by
    :math:`(1 + \cos(\pi t / T)) / (1 + \cos(\pi (t - 1) / T))` each step, and the cosines'
    absolute rounding is a relative error of that ratio as large as :math:`u / (1 + \cos)`
    near the bottom of each period (where the exact bottom itself is special-cased)."""
    t = np.arange(np.size(result), dtype=np.float64)
    with np.errstate(divide="ignore"):
        valley = 1 + np.cos(np.pi * t / params["t_max"])
        terms = np.where(valley > 1e-12, 2 / np.where(valley > 1e-12, valley, 1.0), 0.0)
    floor = params.get("eta_min", 0.0)
    return schedule(inputs, params, result) + np.abs(result - floor) * np.cumsum(terms)


underflow_model("schedule")(shared.per_step)
underflow_model("cosine_schedule")(shared.per_step)
