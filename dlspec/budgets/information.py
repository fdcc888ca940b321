"""The error models of information theory (entropy, cross entropy, KL divergence), each beside its gradient's: the derived term ``s`` of each
budget, and the underflow models (the method: :mod:`dlspec.budgets`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import dlspec.budgets._shared as shared
from dlspec.budgets._registry import Inputs, error_model, underflow_model


def _log_base_magnitude(base: float | None) -> float:
    return 1.0 if base is None else abs(float(np.log(base)))


@error_model
def entropy(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(\sum_i p_i |\ln p_i + 1| + (n - 1) \sum_i |p_i \ln p_i|) / |\ln b|`."""
    axis = params.get("axis", -1)
    p = shared.lane_last(inputs["p"], axis)
    terms = np.abs(shared.xlogy(p, p))
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
    p, q = shared.lane_last(inputs["p"], axis), shared.lane_last(inputs["q"], axis)
    terms = np.abs(shared.xlogy(p, q))
    n = p.shape[-1]
    s = np.sum(terms + np.abs(p), axis=-1) + (n - 1) * np.sum(terms, axis=-1)
    return s / _log_base_magnitude(params.get("base"))


@error_model
def kl_divergence(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(\sum_i p_i (|\ln p_i| + |\ln q_i| + 2) + (n - 1) \sum_i (|p_i \ln p_i| + |p_i \ln q_i|)) / |\ln b|`.

    The condition of :math:`\sum p \ln(p/q)` plus the summation bound of *both* sums, so that the
    textbook evaluation :math:`H(P, Q) - H(P)` conforms as well as the termwise
    :math:`\sum p \ln(p / q)` (``rel_entr``), which is far more accurate near ``P = Q``.
    """
    axis = params.get("axis", -1)
    p, q = shared.lane_last(inputs["p"], axis), shared.lane_last(inputs["q"], axis)
    terms = np.abs(shared.xlogy(p, p)) + np.abs(shared.xlogy(p, q))
    n = p.shape[-1]
    s = np.sum(terms + 2 * np.abs(p), axis=-1) + (n - 1) * np.sum(terms, axis=-1)
    return s / _log_base_magnitude(params.get("base"))


def _lane_cotangent(inputs: Inputs, params: Mapping[str, Any], name: str) -> np.ndarray:
    """The per-lane cotangent of an information measure, broadcast back along ``axis``."""
    axis = params.get("axis", -1)
    x = shared.argument(inputs, name)
    return np.expand_dims(
        np.abs(shared.argument(inputs, "cotangent")), axis % x.ndim
    ) * np.ones_like(x)


@error_model
def entropy_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\bar g(|\log p| + 3)/|\log b| + 2|r|`: the log within 1 ulp of itself, the sum
    :math:`\log p + 1` (cancelling near :math:`p = 1/e`) relative to its terms, the quotient."""
    p = shared.argument(inputs, "p")
    g = _lane_cotangent(inputs, params, "p")
    with np.errstate(divide="ignore"):
        return g * (np.abs(np.log(p)) + 3) / _log_base_magnitude(params.get("base")) + 2 * np.abs(
            result
        )


@error_model
def cross_entropy_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`2|r|`: a quotient and up to two products, relative errors."""
    return 2 * np.abs(result)


@underflow_model("cross_entropy_grad")
def _information_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""``g p`` (or ``g / q``) underflowing before the other factor: :math:`4(1 + p/q + 1/q)`,
    over :math:`|\log b|`."""
    q = shared.argument(inputs, "q")
    amplification = 4 * (1 + (shared.argument(inputs, "p") + 1) / q)
    return amplification / _log_base_magnitude(params.get("base"))


underflow_model("entropy_grad")(shared.times_upstream)
