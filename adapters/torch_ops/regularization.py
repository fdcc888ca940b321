"""Regularization: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Tensor = Any


def table(torch: Any, device: str) -> dict[str, Callable[..., Any]]:

    def l1_penalty(weights: Tensor, *, strength: float) -> Tensor:
        return strength * weights.abs().sum()

    def l2_penalty(weights: Tensor, *, strength: float) -> Tensor:
        return strength / 2 * (weights * weights).sum()  # the penalty behind weight_decay

    return {
        "l1_penalty": l1_penalty,
        "l2_penalty": l2_penalty,
    }
