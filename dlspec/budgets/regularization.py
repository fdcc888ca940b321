"""The error models of regularization penalties, each beside its gradient's: the derived term ``s`` of each
budget, and the underflow models (the method: :mod:`dlspec.budgets`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import dlspec.budgets._shared as shared
from dlspec.budgets._registry import Inputs, error_model, underflow_model
from dlspec.budgets.losses import pointwise_loss_grad


@error_model
def l1_penalty(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\lambda ((n - 1) + 1) \sum |w_i|`: a sum of ``n`` exact terms, scaled once."""
    w = np.abs(shared.argument(inputs, "weights")) * params["strength"]
    return shared.reduce_terms(w, w, "sum")


@error_model
def l2_penalty(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Terms :math:`c w_i^2` (``c`` = :math:`\lambda/2` or :math:`\lambda`), condition :math:`2 c w_i^2`, summed."""
    w = shared.argument(inputs, "weights")
    c = params["strength"] * (0.5 if params.get("scale", "half") == "half" else 1.0)
    return shared.reduce_terms(c * w * w, 2 * c * w * w, "sum")


@underflow_model("l2_penalty")
def _l2_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Each square may underflow (``|w| < 1.5e-154`` in float64): ``n`` of them, and the scale."""
    return np.asarray(np.size(inputs["weights"]) * (1 + params["strength"]) + 1)


@error_model
def penalty_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":func:`pointwise_loss_grad`'s :math:`4|r|`: ``lambda sign(w)`` or ``lambda w`` (times 2)
    times the cotangent, products only."""
    return pointwise_loss_grad(inputs, params, result)


@underflow_model("penalty_grad")
def _penalty_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""``g lambda w`` (times 2) in any order, the first product underflowing:
    :math:`4(1 + 2|w| + 2\lambda)(1 + \lambda)`."""
    w = np.abs(shared.argument(inputs, "weights"))
    strength = abs(params.get("strength", 0.0))
    return 4 * (1 + 2 * w + 2 * strength) * (1 + strength)
