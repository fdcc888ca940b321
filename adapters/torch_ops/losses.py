"""Losses: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..base import multi_target

Tensor = Any


def table(torch: Any, device: str) -> dict[str, Callable[..., Any]]:
    F = torch.nn.functional

    def binary_cross_entropy_with_logits(
        logits: Tensor, target: Tensor, *, pos_weight: float = 1.0, reduction: str = "mean"
    ) -> Tensor:
        weight = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
        return F.binary_cross_entropy_with_logits(
            logits, target, pos_weight=weight, reduction=reduction
        )

    def softmax_cross_entropy(
        logits: Tensor, target: Tensor, *, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> Tensor:
        # classes on the last axis; F.cross_entropy wants them on dim 1 of a batch
        batched = logits.reshape(-1, logits.shape[-1])
        labels = (
            target.reshape(batched.shape) if target.shape == logits.shape else target.reshape(-1)
        )
        loss = F.cross_entropy(
            batched, labels, label_smoothing=label_smoothing, reduction=reduction
        )
        return loss.reshape(logits.shape[:-1]) if reduction == "none" else loss

    single_target = {
        "mse": lambda a, b: F.mse_loss(a, b),
        "mae": lambda a, b: F.l1_loss(a, b),
        "huber": lambda a, b: F.huber_loss(a, b, delta=1.0),
        "bce_with_logits": lambda a, b: F.binary_cross_entropy_with_logits(a, b),
    }

    multi_target_loss = multi_target(single_target, torch.stack)

    return {
        "mse_loss": lambda a, b, *, reduction="mean": F.mse_loss(a, b, reduction=reduction),
        "mae_loss": lambda a, b, *, reduction="mean": F.l1_loss(a, b, reduction=reduction),
        "huber_loss": lambda a, b, *, delta=1.0, reduction="mean": F.huber_loss(
            a, b, reduction=reduction, delta=delta
        ),
        "binary_cross_entropy": lambda p, y, *, reduction="mean": F.binary_cross_entropy(
            p, y, reduction=reduction
        ),
        "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
        "softmax_cross_entropy": softmax_cross_entropy,
        "multi_target_loss": multi_target_loss,
    }
