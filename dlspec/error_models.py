r"""Error models: the derived part of each concept's error budget.

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

Each model receives the inputs and the result in float64 (the reference rounded; an
approximation of ``r`` is all a bound needs) and returns ``s`` with the result's shape. Models are
looked up by the name the catalogue gives (``error_model``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Inputs = Mapping[str, np.ndarray]
ErrorModel = Callable[[Inputs, Mapping[str, Any], np.ndarray], np.ndarray]

MODELS: dict[str, ErrorModel] = {}


def error_model(function: ErrorModel) -> ErrorModel:
    MODELS[function.__name__] = function
    return function


def _lane_last(array: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(np.asarray(array, dtype=np.float64), axis, -1)


def _lane_count(array: np.ndarray, axis: int) -> int:
    return int(np.shape(array)[axis])


def _log_base_magnitude(base: float | None) -> float:
    return 1.0 if base is None else abs(float(np.log(base)))


def reduce_terms(terms: np.ndarray, condition: np.ndarray, reduction: str) -> np.ndarray:
    """``s`` of a loss reduced from per-element ``terms`` whose own condition terms are given."""
    if reduction == "none":
        return condition
    n = terms.size
    total = np.sum(condition) + (n - 1) * np.sum(np.abs(terms))
    return np.asarray(total if reduction == "sum" else total / n)


@error_model
def exact(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Results that are one of the inputs or a constant (ReLU, flips): no rounding at all."""
    return np.zeros_like(result, dtype=np.float64)


@error_model
def sigmoid(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x \sigma'(x)| = |x| \sigma(x)(1 - \sigma(x))`: the relative condition of exp."""
    x = np.asarray(inputs["x"], dtype=np.float64)
    return np.abs(x) * result * (1.0 - result)


@error_model
def softmax(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`r_i (|x_i| + \sum_j r_j |x_j| + n - 1)`.

    :math:`\partial r_i / \partial x_j = r_i(\delta_{ij} - r_j)` gives the condition term; the
    normalising sum of ``n`` positive terms adds :math:`(n - 1) r_i`.
    """
    axis = params.get("axis", -1)
    x = np.abs(_lane_last(inputs["x"], axis))
    r = _lane_last(result, axis)
    weighted = np.sum(r * x, axis=-1, keepdims=True)
    s = r * (x + weighted + (x.shape[-1] - 1))
    return np.moveaxis(s, -1, axis)


@error_model
def log_softmax(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x_i| + \sum_j \mathrm{softmax}_j |x_j| + n - 1`.

    :math:`\partial r_i / \partial x_j = \delta_{ij} - \mathrm{softmax}_j`; the log of a sum of ``n``
    positive terms, each rounded, is off by at most :math:`(n - 1) u` absolutely.
    """
    axis = params.get("axis", -1)
    x = np.abs(_lane_last(inputs["x"], axis))
    with np.errstate(under="ignore"):
        probabilities = np.exp(_lane_last(result, axis))
    weighted = np.sum(probabilities * x, axis=-1, keepdims=True)
    s = x + weighted + (x.shape[-1] - 1)
    return np.moveaxis(s, -1, axis)


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


@error_model
def entropy(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(\sum_i p_i |\ln p_i + 1| + (n - 1) \sum_i |p_i \ln p_i|) / |\ln b|`."""
    axis = params.get("axis", -1)
    p = _lane_last(inputs["p"], axis)
    terms = np.abs(_xlogy(p, p))
    condition = np.where(p == 0, 0.0, np.abs(p) * np.abs(np.log(np.where(p == 0, 1.0, p)) + 1))
    n = p.shape[-1]
    s = np.sum(condition, axis=-1) + (n - 1) * np.sum(terms, axis=-1)
    return s / _log_base_magnitude(params.get("base"))


@error_model
def cross_entropy(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(\sum_i (|p_i \ln q_i| + p_i) + (n - 1) \sum_i |p_i \ln q_i|) / |\ln b|`.

    :math:`\partial H / \partial p_i = -\ln q_i` and :math:`\partial H / \partial q_i = -p_i / q_i`.
    """
    axis = params.get("axis", -1)
    p, q = _lane_last(inputs["p"], axis), _lane_last(inputs["q"], axis)
    terms = np.abs(_xlogy(p, q))
    n = p.shape[-1]
    s = np.sum(terms + np.abs(p), axis=-1) + (n - 1) * np.sum(terms, axis=-1)
    return s / _log_base_magnitude(params.get("base"))


@error_model
def mse_loss(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Terms :math:`d_i^2`, :math:`d = \hat y - y`, with condition :math:`2|d_i|(|\hat y_i| + |y_i|)`."""
    a = np.asarray(inputs["prediction"], dtype=np.float64)
    b = np.asarray(inputs["target"], dtype=np.float64)
    d = a - b
    return reduce_terms(
        d * d, 2 * np.abs(d) * (np.abs(a) + np.abs(b)), params.get("reduction", "mean")
    )


@error_model
def binary_cross_entropy(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Terms :math:`t = -y L_1 - (1 - y) L_2` with :math:`L_1 = \log p`, :math:`L_2 = \log(1-p)`
    as guarded; condition :math:`y + (1 - y) p / (1 - p) + |L_1| + |L_2|`, where a log the guard
    holds constant contributes no :math:`p` derivative.
    """
    p = np.asarray(inputs["probability"], dtype=np.float64)
    y = np.asarray(inputs["target"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_not_p = np.maximum(np.log1p(-p), -100.0)
        odds = np.where(log_not_p > -100.0, p / (1.0 - p), 0.0)
    terms = np.abs(_xlogy(y, np.exp(log_p))) + np.abs((1 - y) * log_not_p)
    condition = np.abs(y) + np.abs(1 - y) * odds + np.abs(log_p) + np.abs(log_not_p)
    return reduce_terms(terms, condition, params.get("reduction", "mean"))
