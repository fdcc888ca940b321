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
    AT_ZERO,
    DomainError,
    Tensor,
    as_tensor,
    check_choice,
    check_in_unit_interval,
    check_same_shape,
    check_tensor,
    checked_cotangent,
    exact,
    exact_product,
    guarded,
    kinked_sign,
    require,
    rows,
    stored,
)
from .activations import log_softmax_lane, logistic, softmax_weights, weighted_difference

Reduction = Literal["none", "mean", "sum"]
REDUCTIONS: Final = ("none", "mean", "sum")

BceGuard = Literal["log_clamp_-100", "prob_clip_1e-7", "none"]
BCE_GUARDS: Final = ("log_clamp_-100", "prob_clip_1e-7", "none")
LOG_CLAMP: Final = mpf(-100)
KERAS_EPSILON: Final = 1e-7
"""Keras' ``epsilon()``, a Python float (spec/README.md, "Decimal constants")."""


def probability_clip(input_dtype: str) -> tuple[mpf, mpf]:
    """Keras's clip of a probability, ``clip(p, epsilon, 1 - epsilon)`` with the Python floats
    ``1e-7`` and ``1 - 1e-7`` stored in the input's dtype: ``[1e-7, 1 - 2**-23]`` in float32,
    asymmetric (a term is at most 16.118 at p = 0, 15.942 at p = 1)."""
    return stored(KERAS_EPSILON, input_dtype), stored(1 - KERAS_EPSILON, input_dtype)


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


def _bce_term(p: mpf, y: mpf, guard: BceGuard, clip: tuple[mpf, mpf]) -> mpf:
    if guard == "prob_clip_1e-7":
        p = min(max(p, clip[0]), clip[1])
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
    input_dtype: str = "float64",
) -> Tensor | mpf:
    r"""Binary cross entropy: terms :math:`-(y \log p + (1 - y) \log(1 - p))`, then the reduction.

    The guard keeps the loss finite at ``p`` in {0, 1}:

    - ``"log_clamp_-100"`` (PyTorch): each log is clamped below at -100, so a term is at most 100.
    - ``"prob_clip_1e-7"`` (Keras): ``p`` is clipped into ``[1e-7, 1 - 1e-7]`` first, both bounds
      as the inputs' dtype ``input_dtype`` stores them (:func:`probability_clip`; the oracle
      passes it).
    - ``"none"``: the bare formula, :math:`+\infty` where the target puts weight on a log 0.

    A term with weight zero contributes 0 (``0 log 0 = 0``). ``binary_cross_entropy([0.5], [1])``
    is ``log 2``.
    """
    probability, target = checked_pair("binary_cross_entropy", "probability", probability, target)
    check_in_unit_interval("binary_cross_entropy", "probability", probability)
    check_in_unit_interval("binary_cross_entropy", "target", target)
    check_choice("binary_cross_entropy", "guard", guard, BCE_GUARDS)
    clip = probability_clip(input_dtype)
    terms = Tensor(
        probability.shape,
        tuple(
            _bce_term(p, y, guard, clip)
            for p, y in zip(probability.values, target.values, strict=True)
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


# ---------------------------------------------------------------- gradients


def _reduction_scale(
    concept: str, cotangent: Any, shape: tuple[int, ...], reduction: str
) -> list[mpf]:
    """Per element of a loss's terms, the cotangent reaching it through the reduction: the
    cotangent itself (``"none"``), the scalar cotangent (``"sum"``) or that over n (``"mean"``)."""
    check_choice(concept, "reduction", reduction, REDUCTIONS)
    n = 1
    for side in shape:
        n *= side
    if reduction == "none":
        return list(checked_cotangent(concept, cotangent, shape).values)
    (g,) = checked_cotangent(concept, cotangent, ()).values
    return [g / n if reduction == "mean" else g] * n


def _loss_grad(
    concept: str,
    first: str,
    a: Any,
    target: Any,
    cotangent: Any,
    reduction: str,
    derivative: Callable[[mpf, mpf], mpf],
) -> Tensor:
    """The VJP of a reduced elementwise loss: ``scale_i * d term(a_i, t_i) / d a_i``."""
    a, target = checked_pair(concept, first, a, target)
    scales = _reduction_scale(concept, cotangent, a.shape, reduction)
    return Tensor(
        a.shape,
        tuple(
            s * derivative(v, t) for v, t, s in zip(a.values, target.values, scales, strict=True)
        ),
    )


@exact
def mse_loss_grad(
    prediction: Any, target: Any, cotangent: Any, *, reduction: str = "mean"
) -> Tensor:
    r""":math:`\partial (p - t)^2 / \partial p = 2(p - t)`, through the reduction (``/n`` for
    the mean)."""
    return _loss_grad(
        "mse_loss_grad",
        "prediction",
        prediction,
        target,
        cotangent,
        reduction,
        lambda p, t: 2 * (p - t),
    )


@exact
def mae_loss_grad(
    prediction: Any, target: Any, cotangent: Any, *, reduction: str = "mean", at_zero: str = "zero"
) -> Tensor:
    r""":math:`\mathrm{sign}(p - t)` through the reduction; at :math:`p = t` ``at_zero``: 0
    (PyTorch, NumPy's sign) or 1 (JAX's abs)."""
    check_choice("mae_loss_grad", "at_zero", at_zero, AT_ZERO)
    return _loss_grad(
        "mae_loss_grad",
        "prediction",
        prediction,
        target,
        cotangent,
        reduction,
        lambda p, t: kinked_sign(p - t, at_zero),
    )


def _huber_derivative(difference: mpf, delta: mpf) -> mpf:
    """``d`` inside ``|d| <= delta``, ``delta sign(d)`` outside: continuous at ``|d| = delta``
    (Huber is C1), so the kink needs no convention."""
    return difference if abs(difference) <= delta else delta * mpmath.sign(difference)


@exact
@guarded
def huber_loss_grad(
    prediction: Any, target: Any, cotangent: Any, *, delta: float = 1.0, reduction: str = "mean"
) -> Tensor:
    r""":math:`p - t` for :math:`|p - t| \le \delta`, :math:`\delta\,\mathrm{sign}(p - t)`
    beyond, through the reduction. Both branches give :math:`\pm\delta` at the kink."""
    require("huber_loss_grad", "delta", delta, delta > 0, "positive")
    return _loss_grad(
        "huber_loss_grad",
        "prediction",
        prediction,
        target,
        cotangent,
        reduction,
        lambda p, t: _huber_derivative(p - t, mpf(delta)),
    )


BCE_GRADIENT_GUARDS: Final = (
    "clamp_denominator_1e-12f",
    "prob_clip_1e-7",
    "prob_clip_1e-7_split_at_bounds",
    "none",
)


BCE_DENOMINATOR_CLAMP: Final = mpf(float.fromhex("0x1.197998p-40"))
"""``1e-12`` rounded to float32, as PyTorch's ``constexpr float EPSILON = 1e-12``."""


def _bce_derivative(p: mpf, y: mpf, guard: str, clip: tuple[mpf, mpf]) -> mpf:
    if guard.startswith("prob_clip_1e-7"):
        if not clip[0] <= p <= clip[1]:
            return mpf(0)  # the clip is flat there (Keras)
        at_bound = p in clip and guard == "prob_clip_1e-7_split_at_bounds"
        return _bce_derivative(p, y, "none", clip) / (2 if at_bound else 1)
    if guard == "clamp_denominator_1e-12f":
        return (p - y) / max(p * (1 - p), BCE_DENOMINATOR_CLAMP)
    # the bare derivative -y/p + (1 - y)/(1 - p); a zero weight contributes 0 (0 log 0 = 0)
    positive = mpf(0) if y == 0 else (-y / p if p > 0 else mpf("-inf"))
    negative = mpf(0) if y == 1 else ((1 - y) / (1 - p) if p < 1 else mpf("inf"))
    return positive + negative


@exact
@guarded
def binary_cross_entropy_grad(
    probability: Any,
    target: Any,
    cotangent: Any,
    *,
    reduction: str = "mean",
    guard: str = "clamp_denominator_1e-12f",
    input_dtype: str = "float64",
) -> Tensor:
    r""":math:`\partial / \partial p\,[-(y \log p + (1 - y)\log(1 - p))] = (p - y) / (p(1 - p))`,
    through the reduction. ``guard``: ``"clamp_denominator_1e-12f"`` (PyTorch) divides by
    :math:`\max(p(1 - p), \epsilon)` with :math:`\epsilon` = 1e-12 rounded to float32;
    ``"prob_clip_1e-7"`` (Keras) is the derivative of the clipped forward: 0 outside
    :func:`probability_clip`'s interval, the bare derivative inside and at its bounds (torch's
    ``clamp``), or half of it at the bounds with ``"prob_clip_1e-7_split_at_bounds"`` (JAX's
    ``clip``: ``min`` and ``max`` share the derivative of a tie); ``"none"`` is the bare
    derivative, :math:`\mp\infty` at ``p`` in {0, 1}."""
    concept = "binary_cross_entropy_grad"
    check_choice(concept, "guard", guard, BCE_GRADIENT_GUARDS)
    probability, target = checked_pair(concept, "probability", probability, target)
    check_in_unit_interval(concept, "probability", probability)
    check_in_unit_interval(concept, "target", target)
    return _loss_grad(
        concept,
        "probability",
        probability,
        target,
        cotangent,
        reduction,
        lambda p, y: _bce_derivative(p, y, guard, probability_clip(input_dtype)),
    )


def _logit_loss_derivative(z: mpf, a: mpf, b: mpf) -> mpf:
    """``a sigmoid(z) - b sigmoid(-z)`` for ``a, b >= 0``, as ``-a expm1(log(b/a) - z)
    sigmoid(z)``: no cancellation but in ``z - log(b/a)``, which is exact where the root is 0."""
    sigmoid = logistic
    if a == 0 or b == 0:
        return a * sigmoid(z) - b * sigmoid(-z)
    return -a * mpmath.expm1(mpmath.log(b / a) - z) * sigmoid(z)


@exact
@guarded
def binary_cross_entropy_with_logits_grad(
    logits: Any,
    target: Any,
    cotangent: Any,
    *,
    pos_weight: float = 1.0,
    reduction: str = "mean",
) -> Tensor:
    r""":math:`(1 - y)\sigma(z) - w y (1 - \sigma(z))`, which is :math:`\sigma(z) - y` for
    :math:`w = 1`, through the reduction.

    Evaluated as :math:`-A\,\mathrm{expm1}(z^* - z)\,\sigma(z)` with :math:`A = 1 - y`,
    :math:`B = w y` and the root :math:`z^* = \log(B / A)` (the plain difference where
    :math:`A` or :math:`B` is 0): the two sigmoid terms cancel near the root, without bound where
    it is rational (:math:`z^* = 0` for ``y = 1/2``, ``w = 1``: the gradient is
    :math:`\tanh(z/2)/2`).
    """
    concept = "binary_cross_entropy_with_logits_grad"
    logits, target = checked_pair(concept, "logits", logits, target)
    check_in_unit_interval(concept, "target", target)
    require(concept, "pos_weight", pos_weight, pos_weight >= 0, "non-negative")
    w = mpf(pos_weight)
    return _loss_grad(
        concept,
        "logits",
        logits,
        target,
        cotangent,
        reduction,
        lambda z, y: _logit_loss_derivative(z, mpf(1) - y, exact_product(w, y)),
    )


@exact
@guarded
def softmax_cross_entropy_grad(
    logits: Any,
    target: Any,
    cotangent: Any,
    *,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    r""":math:`\partial \ell / \partial z_c = s_c \sum_j y'_j - y'_c` per sample, with
    :math:`s = \mathrm{softmax}(z)`, through the reduction over samples (``/N`` for the mean).

    This is the VJP of the forward as written, :math:`-\sum_c y'_c \log s_c`, for any target:
    the familiar :math:`s - y'` holds only where :math:`y'` sums to exactly 1, and a target may
    miss 1 by ``DISTRIBUTION_TOLERANCE`` (torch and JAX differentiate the forward, so they give
    :math:`s \sum y' - y'`). Evaluated as :math:`\sum_j (s_c y'_j - y'_c s_j)` (the same, as
    :math:`\sum_j s_j = 1`), which does not cancel where :math:`s_c` is within the working
    precision of 1 and :math:`y'_c = 1`."""
    concept = "softmax_cross_entropy_grad"
    logits, samples, targets = classification(concept, logits, target, label_smoothing)
    scales = _reduction_scale(concept, cotangent, logits.shape[:-1], reduction)
    out: list[mpf] = []
    for z, y, scale in zip(samples, targets, scales, strict=True):
        # each term w_c y_j - y_c w_j (w = W s) as weighted_difference takes it: logits
        # [8.8e-110, 0] with target [1/2, 1/2] give 2.2e-110, which rounded weights lose
        w, e, total = softmax_weights(z)
        out += [
            scale
            * fsum(
                part
                for j in range(len(z))
                for part in weighted_difference(w[c], e[c], y[j], w[j], e[j], y[c])
            )
            / total
            for c in range(len(z))
        ]
    return Tensor(logits.shape, tuple(out))


@exact
@guarded
def multi_target_loss_grad(
    prediction: Any,
    target: Any,
    cotangent: Any,
    *,
    losses: Sequence[str],
    weights: Sequence[float],
    at_zero: str = "zero",
) -> Tensor:
    r"""Column ``t`` receives :math:`(w_t \bar g_0 + \bar g_t)\,\partial L_t / \partial p_{:,t}`:
    the total :math:`L = \sum_t w_t L_t` and the logged :math:`L_t` both depend on it. Each
    :math:`L_t` is a mean, so each column's derivative is its single loss's over ``n``."""
    concept = "multi_target_loss_grad"
    check_choice(concept, "at_zero", at_zero, AT_ZERO)
    prediction, target = check_multi_target(concept, prediction, target, losses, weights)
    n, n_targets = prediction.shape
    g = checked_cotangent(concept, cotangent, (n_targets + 1,)).values
    one = mpf(1)
    single = {
        "mse": lambda p, t: mse_loss_grad(p, t, one),
        "mae": lambda p, t: mae_loss_grad(p, t, one, at_zero=at_zero),
        "huber": lambda p, t: huber_loss_grad(p, t, one),
        "bce_with_logits": lambda p, t: binary_cross_entropy_with_logits_grad(p, t, one),
    }
    columns = list(zip(*rows(prediction), strict=True)), list(zip(*rows(target), strict=True))
    out = [[mpf(0)] * n_targets for _ in range(n)]
    for t, (name, p, y) in enumerate(zip(losses, *columns, strict=True)):
        upstream = mpf(weights[t]) * g[0] + g[t + 1]
        for i, d in enumerate(single[name](list(p), list(y)).values):
            out[i][t] = upstream * d
    return Tensor((n, n_targets), tuple(v for row in out for v in row))
