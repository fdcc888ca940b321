"""Losses: the ``keras.losses`` classes, called as ``loss(y_true, y_pred)`` with the reduction
that gives the spec's (``"mean"`` is Keras's default ``"sum_over_batch_size"``). A Keras loss
averages over the last axis per sample; the inputs go in as one sample per element (shape
``(n, 1)``), so that a sample's loss is the element's term (see :mod:`..ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dlspec.adapters.base import multi_target

Tensor = Any

REDUCTIONS = {"mean": "sum_over_batch_size", "sum": "sum", "none": None}


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    ops, losses = keras.ops, keras.losses

    def per_element(loss_class: Any, reduction: str, **settings: Any) -> Callable[..., Tensor]:
        def loss(prediction: Tensor, target: Tensor) -> Tensor:
            shape = ops.shape(prediction)
            value = loss_class(reduction=REDUCTIONS[reduction], **settings)(
                ops.reshape(target, (-1, 1)), ops.reshape(prediction, (-1, 1))
            )
            return ops.reshape(value, shape) if reduction == "none" else value

        return loss

    def mse_loss(prediction: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
        return per_element(losses.MeanSquaredError, reduction)(prediction, target)

    def mae_loss(prediction: Tensor, target: Tensor, *, reduction: str = "mean") -> Tensor:
        return per_element(losses.MeanAbsoluteError, reduction)(prediction, target)

    def huber_loss(
        prediction: Tensor, target: Tensor, *, delta: float = 1.0, reduction: str = "mean"
    ) -> Tensor:
        return per_element(losses.Huber, reduction, delta=delta)(prediction, target)

    def binary_cross_entropy(
        probability: Tensor, target: Tensor, *, reduction: str = "mean"
    ) -> Tensor:
        return per_element(losses.BinaryCrossentropy, reduction)(probability, target)

    def binary_cross_entropy_with_logits(
        logits: Tensor, target: Tensor, *, pos_weight: float = 1.0, reduction: str = "mean"
    ) -> Tensor:
        del pos_weight  # Keras has none: a declared limit
        loss = per_element(losses.BinaryCrossentropy, reduction, from_logits=True)
        return loss(logits, target)

    def softmax_cross_entropy(
        logits: Tensor, target: Tensor, *, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> Tensor:
        if ops.ndim(logits) == 1:  # one sample: Keras's losses take a batch
            loss = softmax_cross_entropy(
                logits[None], target[None], label_smoothing=label_smoothing, reduction=reduction
            )
            return loss[0] if reduction == "none" else loss
        classes = ops.shape(logits)[-1]
        if ops.ndim(target) != ops.ndim(logits):  # class indices
            if label_smoothing == 0.0:
                loss = losses.SparseCategoricalCrossentropy(
                    from_logits=True, reduction=REDUCTIONS[reduction]
                )
                return loss(target, logits)
            # SparseCategoricalCrossentropy has no label smoothing: one-hot targets
            target = ops.one_hot(target, classes, dtype=logits.dtype)
        loss = losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=label_smoothing, reduction=REDUCTIONS[reduction]
        )
        return loss(target, logits)

    single_target: dict[str, Callable[..., Tensor]] = {
        "mse": mse_loss,
        "mae": mae_loss,
        "huber": huber_loss,
        "bce_with_logits": binary_cross_entropy_with_logits,
    }
    return {
        "mse_loss": mse_loss,
        "mae_loss": mae_loss,
        "huber_loss": huber_loss,
        "binary_cross_entropy": binary_cross_entropy,
        "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
        "softmax_cross_entropy": softmax_cross_entropy,
        "multi_target_loss": multi_target(single_target, ops.stack),
    }
