"""What the error models of several groups share: reading an argument, moving an axis last,
float64 helpers, and the underflow models that several groups register."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dlspec.budgets._registry import Inputs


def per_step(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Trajectories and schedules: a few underflowing operations a step (and per micro-batch
    when accumulating), accumulated: ``4 k t`` at step ``t`` (rows of the result)."""
    result = np.asarray(result)
    steps = np.arange(1, result.shape[0] + 1, dtype=np.float64) if result.ndim else np.ones(())
    return (
        4
        * params.get("accumulation_steps", 1)
        * steps.reshape((-1,) + (1,) * (result.ndim - 1))
        * np.ones_like(result, np.float64)
    )


def lane_last(array: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(np.asarray(array, dtype=np.float64), axis, -1)


def reduce_terms(terms: np.ndarray, condition: np.ndarray, reduction: str) -> np.ndarray:
    """``s`` of a loss reduced from per-element ``terms`` whose own condition terms are given."""
    if reduction == "none":
        return condition
    n = terms.size
    total = np.sum(condition) + (n - 1) * np.sum(np.abs(terms))
    return np.asarray(total if reduction == "sum" else total / n)


def xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def argument(inputs: Inputs, name: str = "x") -> np.ndarray:
    return np.asarray(inputs[name], dtype=np.float64)


def log_softmax64(z: np.ndarray) -> np.ndarray:
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def abs_cotangent(inputs: Inputs) -> np.ndarray:
    return np.abs(argument(inputs, "cotangent"))


def times_upstream(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""A derivative of a few operations may underflow before its last factors, the cotangent
    among them (``g * s * (1 + x (1 - s))`` with a subnormal ``s``): :math:`4(1 + |x|)(1 + |\bar g|)`
    for the elementwise derivatives, whose factors are at most :math:`1 + |x|` (silu, gelu) or 1."""
    x = inputs.get("x")
    base = np.ones(np.shape(result)) if x is None else 1 + np.abs(np.asarray(x, np.float64))
    g = abs_cotangent(inputs)
    if g.shape != np.shape(result):  # a cotangent per lane or sample: its largest bounds each
        g = np.max(g, initial=0.0)
    return 4 * base * (1 + g) * np.ones(np.shape(result))
