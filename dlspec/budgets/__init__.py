r"""Error budgets: the derived part of each concept's allowance, one module per concept group
(a concept's model beside its gradient's), registered by name; :func:`allowance` adds it up.

A backend value ``b`` of a result with exact value ``r`` conforms when

.. math:: |b - r| \le N \cdot \mathrm{ulp}(r) + u \cdot s

where ``N`` is the catalogue's budget in ulps for the dtype (the rounding of the last operations
and the error of the library's elementary functions), ``u = 2**-p`` is the dtype's unit roundoff,
and ``s`` is computed here, per element, from the inputs. ``s`` is the first-order bound of a
*backward-stable* algorithm: the exact result for inputs each perturbed by a relative ``u``
(the condition term :math:`\sum_j |\partial r / \partial x_j| |x_j|`), plus, for reductions, the
recursive-summation bound :math:`(n - 1) \sum_i |t_i|` of adding ``n`` terms ``t_i`` (Higham,
*Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1 and §4.2). A spec must not require
one summation order, so no model assumes pairwise summation.

Gradient concepts (``<concept>_grad``) sit in their forward's group. A framework's backward pass
evaluates the derivative's formula from *rounded* intermediates, most often the forward result it
saved (``sigmoid' = y (1 - y)`` from the rounded ``y``). So each gradient model is the
first-order propagation of those intermediates' errors through the formula, plus the a-priori
bound :math:`k \sum |t_i|` of adding the formula's terms :math:`t_i` (Higham §3.1). Where the
exact derivative is much smaller than its terms (``1 - y`` with ``y`` rounded near 1;
``softmax - y`` near the target), that is the cancellation the bound must allow, and no more.

Each model receives the inputs and the result in float64 (the reference rounded; an
approximation of ``r`` is all a bound needs) and returns ``s`` with the result's shape. Models are
looked up by the name the catalogue gives (``error_model``) in :data:`MODELS`; the underflow
models (:data:`UNDERFLOW`) by the same name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dlspec import catalogue
from dlspec.budgets import (  # noqa: F401  (each group's models register on import)
    activations,
    augmentation,
    information,
    losses,
    normalization,
    optimizers,
    regularization,
    schedules,
)
from dlspec.budgets._registry import (
    MODELS,
    UNDERFLOW,
    UNDERFLOW_LOSS,
    UNIT_ROUNDOFF,
    ErrorModel,
    Inputs,
    error_model,
)
from dlspec.numerics import FloatFormat, ulp

__all__ = ["MODELS", "UNDERFLOW", "ErrorModel", "Inputs", "allowance", "error_model"]


@error_model
def exact(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Results that are one of the inputs or a constant (ReLU, flips): no rounding at all."""
    return np.zeros_like(result, dtype=np.float64)


def second_order(first: np.ndarray, result: np.ndarray) -> np.ndarray:
    r"""The first-order term ``u s`` made a bound where it is smaller than the result.

    The models are first order: they drop the products of the rounding errors, which a
    relative ``t = u s / |r|`` makes negligible in float32 and float64, but not in bfloat16
    (``u = 2**-8``), where a softmax logit of 64 moves its exponential by ``e^{64 u} - 1 = 0.284``
    for a first-order 0.25. For ``t < 1`` the allowance is ``u s (1 + t)``: the remainder of
    :math:`e^t - 1 \le t + t^2` and of a product of roundings, :math:`\prod (1 + \delta_i) - 1`,
    to second order (Higham, Lemma 3.1). Where ``t >= 1`` (and at ``r = 0``) the first-order term
    already allows an error as large as the result: that is a cancellation, whose error is
    absolute and linear in the roundings, and the term stands as it is."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = first / np.abs(result)
    relative = np.isfinite(t) & (t < 1)
    return np.where(relative, first * (1 + np.where(relative, t, 0.0)), first)


def allowance(
    concept: catalogue.Concept,
    fmt: FloatFormat,
    inputs: Mapping[str, np.ndarray],
    params: Mapping[str, Any],
    result: np.ndarray,
    *,
    flushed: bool = False,
    computed_in: FloatFormat | None = None,
) -> np.ndarray:
    r"""Allowed absolute error per element: the budget in ulps plus the error model's term.

    An underflowing operation loses up to half the smallest subnormal (gradual underflow), or,
    where the backend flushes subnormals, up to the smallest normal number: the result's own
    flush, plus each intermediate's times its amplification (the ``UNDERFLOW`` model).

    A result ``computed_in`` a wider format than ``fmt`` (float32 for a float16 result), rounded
    once into ``fmt`` at the end, is within half an ulp of ``fmt`` of the value computed, which is
    within the wider format's allowance: :math:`|b - r| \le \tfrac12 \mathrm{ulp}_{fmt}(r) +
    A_{wide}(r)` (spec/README.md, "Low precision").
    """
    result = np.asarray(result, dtype=np.float64)
    if computed_in is not None and computed_in.significand_bits > fmt.significand_bits:
        wide = allowance(concept, computed_in, inputs, params, result, flushed=flushed)
        with np.errstate(invalid="ignore", over="ignore"):
            return 0.5 * ulp(result, fmt) + wide
    params = {  # for a model's second-order term, and one not linear in the underflow
        **params,
        UNIT_ROUNDOFF: fmt.unit_roundoff,
        UNDERFLOW_LOSS: fmt.smallest_normal if flushed else 0.5 * fmt.smallest_subnormal,
    }
    derived = MODELS[concept.error_model](inputs, params, result)
    underflow = UNDERFLOW.get(concept.error_model)
    amplified = np.asarray(
        0.0 if underflow is None else underflow(inputs, params, result), dtype=np.float64
    )
    # half the smallest subnormal is not a float64: halve the amplification instead
    lost = (
        fmt.smallest_normal * (1 + amplified)
        if flushed
        else fmt.smallest_subnormal * (0.5 * amplified)
    )
    with np.errstate(invalid="ignore", over="ignore"):
        allowed = (
            concept.budget.ulps[fmt.name] * ulp(result, fmt)
            + second_order(fmt.unit_roundoff * np.asarray(derived, dtype=np.float64), result)
            + lost
        )
    return np.broadcast_to(np.nan_to_num(allowed, nan=0.0, posinf=np.inf), np.shape(result))
