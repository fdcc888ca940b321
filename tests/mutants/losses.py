"""Mutants of the losses concepts (Losses) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import activations as act
from dlspec.adapters.numpy_ops import losses as loss

from ._registry import mutant


@mutant("HuberWithDeltaHalfByDefault", "huber_loss", "delta defaults to 0.5, not 1.")
def _huber_with_delta_half_by_default(prediction, target, *, delta=0.5, reduction="mean"):
    return loss.huber_loss(prediction, target, delta=delta, reduction=reduction)


@mutant("BceWithoutClamp", "binary_cross_entropy", "no guard: inf at p in {0, 1}.")
def _bce_without_clamp(probability, target, *, reduction="mean"):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -(target * np.log(probability) + (1 - target) * np.log1p(-probability))
    return loss.reduce(terms, reduction)


@mutant(
    "BceClampAfterWeighting",
    "binary_cross_entropy",
    "clamps y log p at -100 instead of log p: wrong for soft targets at tiny p.",
)
def _bce_clamped_after_weighting(probability, target, *, reduction="mean"):
    # The clamp applied to the weighted term rather than to each log.
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.maximum(np.nan_to_num(target * np.log(probability), nan=0.0), -100)
        negative = np.maximum(np.nan_to_num((1 - target) * np.log1p(-probability), nan=0.0), -100)
    return loss.reduce(-(positive + negative), reduction)


@mutant("MseSummedNotAveraged", "mse_loss", "'mean' returns the sum.")
def _mse_summed(prediction, target, *, reduction="mean"):
    return loss.reduce((prediction - target) ** 2, "sum" if reduction == "mean" else reduction)


@mutant(
    "MsePerSampleMean",
    "mse_loss",
    "averages over the last axis first, so reduction='none' has the wrong shape.",
)
def _mse_per_sample(prediction, target, *, reduction="mean"):
    # Keras' convention (mean over the last axis first) presented as PyTorch's.
    terms = np.mean((prediction - target) ** 2, axis=-1)
    return loss.reduce(terms, reduction)


@mutant("MaeWithoutAbs", "mae_loss", "mean of signed differences.")
def _mae_without_abs(prediction, target, *, reduction="mean"):
    return loss.reduce(prediction - target, reduction)


@mutant("HuberAsSmoothL1", "huber_loss", "SmoothL1 (Huber / delta) for Huber.")
def _huber_as_smooth_l1(prediction, target, *, delta=1.0, reduction="mean"):
    # SmoothL1 with beta = delta is Huber / delta: equal only at delta = 1.
    return loss.huber_loss(
        prediction, target, delta=delta, reduction=reduction
    ) / prediction.dtype.type(delta)


@mutant(
    "PosWeightOnBothTerms",
    "binary_cross_entropy_with_logits",
    "pos_weight scales the negative term too.",
)
def _pos_weight_on_both_terms(logits, target, *, pos_weight=1.0, reduction="mean"):
    terms = loss.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return loss.reduce(logits.dtype.type(pos_weight) * terms, reduction)


@mutant("SmoothingOverOtherClasses", "softmax_cross_entropy", "eps/(C - 1) on the other classes.")
def _smoothing_over_other_classes(logits, target, *, label_smoothing=0.0, reduction="mean"):
    classes = logits.shape[-1]
    if target.shape != logits.shape:
        target = np.eye(classes, dtype=logits.dtype)[target.astype(np.int64)]
    eps = logits.dtype.type(label_smoothing)
    # eps / (C - 1) on the other classes instead of eps / C on every class
    smoothed = (1 - eps) * target + (1 - target) * eps / max(classes - 1, 1)
    terms = -np.sum(smoothed * act.log_softmax(logits, axis=-1), axis=-1)
    return loss.reduce(terms, reduction)


@mutant("MultiTargetUnweighted", "multi_target_loss", "ignores the per-target weights.")
def _multi_target_unweighted(prediction, target, *, losses, weights):
    return loss.multi_target_loss(prediction, target, losses=losses, weights=(1.0,) * len(losses))


@mutant("MseGradWithoutTwo", "mse_loss_grad", "(p - t), not 2 (p - t).")
def _mse_grad_without_two(prediction, target, cotangent, *, reduction="mean"):
    return loss.mse_loss_grad(prediction, target, cotangent, reduction=reduction) / 2


@mutant("SoftmaxCrossEntropyGradSummed", "softmax_cross_entropy_grad", "the mean's 1/N left out.")
def _softmax_ce_grad_summed(logits, target, cotangent, *, label_smoothing=0.0, reduction="mean"):
    summed = "sum" if reduction == "mean" else reduction
    return loss.softmax_cross_entropy_grad(
        logits, target, cotangent, label_smoothing=label_smoothing, reduction=summed
    )


@mutant("MaeGradOneAtZero", "mae_loss_grad", "sign(0) = 1 at p = t while declaring 0.")
def _mae_grad_one_at_zero(prediction, target, cotangent, *, reduction="mean"):
    sign = np.where(prediction >= target, 1, -1).astype(prediction.dtype)
    return loss._per_term(cotangent, prediction.shape, reduction) * sign


@mutant(
    "BceGradUnclamped",
    "binary_cross_entropy_grad",
    "no denominator clamp while declaring PyTorch's.",
)
def _bce_grad_unclamped(probability, target, cotangent, *, reduction="mean"):
    with np.errstate(divide="ignore", invalid="ignore"):
        derivative = (probability - target) / ((1 - probability) * probability)
    return loss._per_term(cotangent, probability.shape, reduction) * derivative


@mutant(
    "HuberGradClippedAtOne",
    "huber_loss_grad",
    "the residual clipped at 1 whatever delta (smooth L1's beta = 1).",
)
def _huber_grad_clipped_at_one(prediction, target, cotangent, *, delta=1.0, reduction="mean"):
    return loss.huber_loss_grad(prediction, target, cotangent, delta=1.0, reduction=reduction)


@mutant(
    "BceLogitsGradWeightOnBoth",
    "binary_cross_entropy_with_logits_grad",
    "w (sigma - y): pos_weight on both terms.",
)
def _bce_logits_grad_weight_on_both(logits, target, cotangent, *, pos_weight=1.0, reduction="mean"):
    derivative = logits.dtype.type(pos_weight) * (act.sigmoid(logits) - target)
    return loss._per_term(cotangent, logits.shape, reduction) * derivative


@mutant(
    "MultiTargetGradTotalOnly",
    "multi_target_loss_grad",
    "the per-target losses' cotangents dropped.",
)
def _multi_target_grad_total_only(prediction, target, cotangent, *, losses, weights):
    only_total = cotangent.copy()
    only_total[1:] = 0
    return loss.multi_target_loss_grad(
        prediction, target, only_total, losses=losses, weights=weights
    )
