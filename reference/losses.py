"""Loss functions: a per-element term, then a reduction.

Spec pages: ``spec/concepts/<id>.md``. Arguments come in the order (prediction, target).
Reductions follow PyTorch's names: ``"none"`` keeps every term, ``"sum"`` adds them all, ``"mean"``
divides that sum by the number of terms (over *all* elements, not per sample).
"""

from __future__ import annotations

from typing import Any, Final, Literal

import mpmath
from mpmath import fsum, mpf

from ._core import (
    Tensor,
    as_tensor,
    check_choice,
    check_in_unit_interval,
    check_same_shape,
    check_tensor,
    exact,
)

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: Final = ("none", "mean", "sum")

BceGuard = Literal["log_clamp_-100", "prob_clip_1e-7", "none"]
BCE_GUARDS: Final = ("log_clamp_-100", "prob_clip_1e-7", "none")
LOG_CLAMP: Final = mpf(-100)
PROBABILITY_CLIP: Final = mpf("1e-7")


def reduce(concept: str, terms: Tensor, reduction: Reduction) -> Tensor | mpf:
    """Apply a named reduction to the per-element terms of a loss."""
    check_choice(concept, "reduction", reduction, REDUCTIONS)
    if reduction == "none":
        return terms
    total = fsum(terms.values)
    return total if reduction == "sum" else total / terms.size


@exact
def mse_loss(prediction: Any, target: Any, *, reduction: Reduction = "mean") -> Tensor | mpf:
    r"""Mean squared error: terms :math:`(\hat y_i - y_i)^2`, then the reduction.

    ``mse_loss([1, 2], [1, 4]) == 2``; zero iff prediction equals target.
    """
    prediction, target = as_tensor(prediction), as_tensor(target)
    check_tensor("mse_loss", "prediction", prediction)
    check_tensor("mse_loss", "target", target)
    check_same_shape("mse_loss", ("prediction", prediction), ("target", target))
    terms = Tensor(
        prediction.shape,
        tuple((a - b) ** 2 for a, b in zip(prediction.values, target.values, strict=True)),
    )
    return reduce("mse_loss", terms, reduction)


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
    probability, target = as_tensor(probability), as_tensor(target)
    check_tensor("binary_cross_entropy", "probability", probability)
    check_tensor("binary_cross_entropy", "target", target)
    check_same_shape("binary_cross_entropy", ("probability", probability), ("target", target))
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
