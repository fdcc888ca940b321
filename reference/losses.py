"""Loss functions: a per-element term, then a reduction.

Spec pages: ``spec/concepts/<id>.md``. Arguments come in the order (prediction, target).
Reductions follow PyTorch's names: ``"none"`` keeps every term, ``"sum"`` adds them all, ``"mean"``
divides that sum by the number of terms (over *all* elements, not per sample).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, Literal

import mpmath
from mpmath import fsum, mpf

from ._core import (
    DomainError,
    Tensor,
    as_tensor,
    check_choice,
    check_in_unit_interval,
    check_same_shape,
    check_tensor,
    exact,
    require,
    rows,
)
from .activations import log_softmax_lane

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: Final = ("none", "mean", "sum")

BceGuard = Literal["log_clamp_-100", "prob_clip_1e-7", "none"]
BCE_GUARDS: Final = ("log_clamp_-100", "prob_clip_1e-7", "none")
LOG_CLAMP: Final = mpf(-100)
PROBABILITY_CLIP: Final = mpf(1e-7)
"""Keras' ``epsilon()``: the float64 nearest 1e-7 (spec/README.md, "Decimal constants")."""


def reduce(concept: str, terms: Tensor, reduction: Reduction) -> Tensor | mpf:
    """Apply a named reduction to the per-element terms of a loss."""
    check_choice(concept, "reduction", reduction, REDUCTIONS)
    if reduction == "none":
        return terms
    total = fsum(terms.values)
    return total if reduction == "sum" else total / terms.size


def checked_pair(concept: str, first: str, a: Any, target: Any) -> tuple[Tensor, Tensor]:
    """A loss's first argument (named ``first``) and its target: checked tensors of one shape."""
    a, target = as_tensor(a), as_tensor(target)
    check_tensor(concept, first, a)
    check_tensor(concept, "target", target)
    check_same_shape(concept, (first, a), ("target", target))
    return a, target


def _pair_terms(
    concept: str, prediction: Any, target: Any, term: Callable[[mpf, mpf], mpf]
) -> Tensor:
    """``term(prediction_i, target_i)`` for two checked tensors of one shape."""
    prediction, target = checked_pair(concept, "prediction", prediction, target)
    return Tensor(
        prediction.shape,
        tuple(term(a, b) for a, b in zip(prediction.values, target.values, strict=True)),
    )


@exact
def mse_loss(prediction: Any, target: Any, *, reduction: Reduction = "mean") -> Tensor | mpf:
    r"""Mean squared error: terms :math:`(\hat y_i - y_i)^2`, then the reduction.

    ``mse_loss([1, 2], [1, 4]) == 2``; zero iff prediction equals target.
    """
    terms = _pair_terms("mse_loss", prediction, target, lambda a, b: (a - b) ** 2)
    return reduce("mse_loss", terms, reduction)


@exact
def mae_loss(prediction: Any, target: Any, *, reduction: Reduction = "mean") -> Tensor | mpf:
    r"""Mean absolute error: terms :math:`|\hat y_i - y_i|`, then the reduction.

    ``mae_loss([1, 2], [1, 4]) == 1``; the L1 loss, robust to outliers.
    """
    terms = _pair_terms("mae_loss", prediction, target, lambda a, b: abs(a - b))
    return reduce("mae_loss", terms, reduction)


def _huber(difference: mpf, delta: mpf) -> mpf:
    z = abs(difference)
    return z * z / 2 if z <= delta else delta * (z - delta / 2)


@exact
def huber_loss(
    prediction: Any, target: Any, *, delta: float = 1.0, reduction: Reduction = "mean"
) -> Tensor | mpf:
    r"""Huber loss: terms :math:`\tfrac12 z^2` for :math:`z = |\hat y - y| \le \delta`, else
    :math:`\delta (z - \tfrac12 \delta)`; quadratic near 0, linear in the tails, C^1 at the kink.

    ``huber_loss([0, 0], [0.5, 3]) == (0.125 + 2.5) / 2``.
    """
    require("huber_loss", "delta", delta, delta > 0, "positive")
    terms = _pair_terms("huber_loss", prediction, target, lambda a, b: _huber(a - b, mpf(delta)))
    return reduce("huber_loss", terms, reduction)


def _guarded(logarithm: mpf, guard: BceGuard) -> mpf:
    return max(logarithm, LOG_CLAMP) if guard == "log_clamp_-100" else logarithm


def _bce_term(p: mpf, y: mpf, guard: BceGuard) -> mpf:
    if guard == "prob_clip_1e-7":
        p = min(max(p, PROBABILITY_CLIP), 1 - PROBABILITY_CLIP)
    # log1p(-p), not log(1 - p): 1 - p rounded at the working precision loses a tiny p.
    log_p = _guarded(mpmath.log(p) if p > 0 else mpf("-inf"), guard)
    log_not_p = _guarded(mpmath.log1p(-p) if p < 1 else mpf("-inf"), guard)
    positive = mpf(0) if y == 0 else -y * log_p
    negative = mpf(0) if y == 1 else -(1 - y) * log_not_p
    return positive + negative


@exact
def binary_cross_entropy(
    probability: Any,
    target: Any,
    *,
    reduction: Reduction = "mean",
    guard: BceGuard = "log_clamp_-100",
) -> Tensor | mpf:
    r"""Binary cross entropy: terms :math:`-(y \log p + (1 - y) \log(1 - p))`, then the reduction.

    The guard keeps the loss finite at ``p`` in {0, 1}:

    - ``"log_clamp_-100"`` (PyTorch): each log is clamped below at -100, so a term is at most 100.
    - ``"prob_clip_1e-7"`` (Keras): ``p`` is clipped into ``[1e-7, 1 - 1e-7]`` first (at most ~16.12).
    - ``"none"``: the bare formula, :math:`+\infty` where the target puts weight on a log 0.

    A term with weight zero contributes 0 (``0 log 0 = 0``). ``binary_cross_entropy([0.5], [1])``
    is ``log 2``.
    """
    probability, target = checked_pair("binary_cross_entropy", "probability", probability, target)
    check_in_unit_interval("binary_cross_entropy", "probability", probability)
    check_in_unit_interval("binary_cross_entropy", "target", target)
    check_choice("binary_cross_entropy", "guard", guard, BCE_GUARDS)
    terms = Tensor(
        probability.shape,
        tuple(
            _bce_term(p, y, guard) for p, y in zip(probability.values, target.values, strict=True)
        ),
    )
    return reduce("binary_cross_entropy", terms, reduction)


def _softplus(v: mpf) -> mpf:
    return mpmath.log1p(mpmath.exp(v))


@exact
def binary_cross_entropy_with_logits(
    logits: Any, target: Any, *, pos_weight: float = 1.0, reduction: Reduction = "mean"
) -> Tensor | mpf:
    r"""BCE on logits: terms :math:`-(w y \log\sigma(x) + (1 - y)\log(1 - \sigma(x)))`
    :math:`= w y\,\mathrm{softplus}(-x) + (1 - y)\,\mathrm{softplus}(x)`, with ``w = pos_weight``
    scaling only the positive term; no clamp is needed, the loss is finite for finite logits.

    ``binary_cross_entropy_with_logits([0], [1]) == log 2``.
    """
    concept = "binary_cross_entropy_with_logits"
    logits, target = checked_pair(concept, "logits", logits, target)
    check_in_unit_interval(concept, "target", target)
    require(concept, "pos_weight", pos_weight, pos_weight >= 0, "non-negative")
    w = mpf(pos_weight)
    terms = Tensor(
        logits.shape,
        tuple(
            (0 if y == 0 else w * y * _softplus(-x)) + (0 if y == 1 else (1 - y) * _softplus(x))
            for x, y in zip(logits.values, target.values, strict=True)
        ),
    )
    return reduce(concept, terms, reduction)


def _class_targets(concept: str, logits: Tensor, target: Tensor) -> list[list[mpf]]:
    """Per-sample target distributions over the classes (the last axis of ``logits``): ``target``
    of the logits' shape holds probabilities, of the shape without the class axis class indices."""
    classes = logits.shape[-1]
    if target.shape == logits.shape:
        return rows(Tensor((target.size // classes, classes), target.values))
    if target.shape != logits.shape[:-1]:
        raise DomainError(
            concept,
            "target",
            f"must have the logits' shape {logits.shape} (probabilities) or {logits.shape[:-1]} "
            f"(class indices), got {target.shape}",
        )
    one_hot = []
    for label in target.values:
        if not (label == int(label) and 0 <= label < classes):
            raise DomainError(
                concept, "target", f"class index {label} must be an integer in [0, {classes})"
            )
        one_hot.append([mpf(1) if c == int(label) else mpf(0) for c in range(classes)])
    return one_hot


def classification(
    concept: str, logits: Any, target: Any, label_smoothing: float
) -> tuple[Tensor, list[list[mpf]], list[list[mpf]]]:
    """The checked logits, their samples (rows over the last axis, the classes) and each sample's
    target distribution, smoothed: :math:`y' = (1 - \varepsilon) y + \varepsilon / C`."""
    logits, target = as_tensor(logits), as_tensor(target)
    check_tensor(concept, "logits", logits, min_ndim=1)
    check_tensor(concept, "target", target)
    require(concept, "label_smoothing", label_smoothing, 0 <= label_smoothing <= 1, "in [0, 1]")
    classes = logits.shape[-1]
    smoothing = mpf(label_smoothing)
    targets = [
        [(1 - smoothing) * yc + smoothing / classes for yc in y]
        for y in _class_targets(concept, logits, target)
    ]
    return logits, rows(Tensor((logits.size // classes, classes), logits.values)), targets


@exact
def softmax_cross_entropy(
    logits: Any, target: Any, *, label_smoothing: float = 0.0, reduction: Reduction = "mean"
) -> Tensor | mpf:
    r"""Cross entropy of softmax(logits) against a target per sample, classes on the last axis:
    :math:`\ell = -\sum_c y'_c \log \mathrm{softmax}(z)_c`, where
    :math:`y' = (1 - \varepsilon) y + \varepsilon / C` (label smoothing ``\varepsilon``).

    ``target`` holds class indices (shape of ``logits`` without the last axis) or probabilities
    (shape of ``logits``); a class index ``k`` is the one-hot distribution at ``k``. ``"mean"``
    averages over samples. ``softmax_cross_entropy([[0, 0]], [1]) == log 2``.
    """
    concept = "softmax_cross_entropy"
    logits, samples, targets = classification(concept, logits, target, label_smoothing)
    losses = []
    for z, y in zip(samples, targets, strict=True):
        log_p = log_softmax_lane(z)
        losses.append(-fsum(0 if yc == 0 else yc * lp for yc, lp in zip(y, log_p, strict=True)))
    return reduce(concept, Tensor(logits.shape[:-1], tuple(losses)), reduction)


MULTI_TARGET_LOSSES: Final = ("mse", "mae", "huber", "bce_with_logits")


def check_multi_target(
    concept: str, prediction: Any, target: Any, losses: Sequence[str], weights: Sequence[float]
) -> tuple[Tensor, Tensor]:
    """The checked ``(samples, targets)`` prediction and target, one loss and weight per target."""
    prediction, target = as_tensor(prediction), as_tensor(target)
    check_tensor(concept, "prediction", prediction, min_ndim=2)
    check_tensor(concept, "target", target, min_ndim=2)
    check_same_shape(concept, ("prediction", prediction), ("target", target))
    if prediction.ndim != 2:
        raise DomainError(
            concept, "prediction", f"must be (samples, targets), got {prediction.shape}"
        )
    n_targets = prediction.shape[1]
    require(
        concept, "losses", losses, len(losses) == n_targets, f"one loss per target ({n_targets})"
    )
    require(
        concept,
        "weights",
        weights,
        len(weights) == n_targets,
        f"one weight per target ({n_targets})",
    )
    for name in losses:
        check_choice(concept, "losses", name, MULTI_TARGET_LOSSES)
    return prediction, target


@exact
def multi_target_loss(
    prediction: Any,
    target: Any,
    *,
    losses: tuple[str, ...],
    weights: tuple[float, ...],
) -> Tensor:
    r"""A model with ``T`` outputs, each with its own loss: column ``t`` of ``prediction`` and
    ``target`` (shape ``(n, T)``) is scored by ``losses[t]`` (mean over the ``n`` samples), and
    the training objective is :math:`L = \sum_t w_t L_t`.

    Returns ``[L, L_1, ..., L_T]``: the total and each target's own loss, the per-target metrics a
    training loop logs. Losses: ``"mse"``, ``"mae"``, ``"huber"`` (delta 1), ``"bce_with_logits"``.
    """
    concept = "multi_target_loss"
    prediction, target = check_multi_target(concept, prediction, target, losses, weights)
    n_targets = prediction.shape[1]
    columns = list(zip(*rows(prediction), strict=True)), list(zip(*rows(target), strict=True))
    single = {
        "mse": lambda a, b: mse_loss(a, b),
        "mae": lambda a, b: mae_loss(a, b),
        "huber": lambda a, b: huber_loss(a, b),
        "bce_with_logits": lambda a, b: binary_cross_entropy_with_logits(a, b),
    }
    per_target = [
        single[name](list(a), list(b)) for name, a, b in zip(losses, *columns, strict=True)
    ]
    total = fsum(mpf(w) * loss for w, loss in zip(weights, per_target, strict=True))
    return Tensor((n_targets + 1,), (total, *per_target))
