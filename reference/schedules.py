"""Learning-rate schedules: the learning rate of every optimizer step ``t = 0, 1, ..., steps``.

Spec pages: ``spec/concepts/<id>.md``. ``base_lr`` is a 0-d array (the optimizer's initial
learning rate); the result has shape ``(steps + 1,)`` and element ``t`` is the learning rate the
``t``-th optimizer update uses, counting from 0. This is optax's count and PyTorch's ``last_epoch``
when ``scheduler.step()`` follows ``optimizer.step()``: the first update uses ``f(0)``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from typing import Any, Final

import mpmath
from mpmath import mpf

from ._core import (
    Tensor,
    as_tensor,
    check_choice,
    check_ndim,
    check_tensor,
    exact,
    require,
)

PAST_HORIZON: Final = ("periodic", "clamped")
WARMUP_HORIZONS: Final = ("includes_warmup", "after_warmup")
PATIENCE_RULES: Final = ("more_than_patience", "reaches_patience")
SMALL_DECREASES: Final = ("skipped", "applied", "applied_above_min_lr")
COOLDOWN_RULES: Final = ("ignores_cooldown", "ignores_cooldown_minus_one")


def _base(concept: str, base_lr: Any) -> mpf:
    base = as_tensor(base_lr)
    check_tensor(concept, "base_lr", base)
    check_ndim(concept, "base_lr", base, 0)
    require(concept, "base_lr", float(base.values[0]), base.values[0] >= 0, "non-negative")
    return base.values[0]


def _schedule(concept: str, base_lr: Any, steps: int, factor: Callable[[int, mpf], mpf]) -> Tensor:
    require(
        concept, "steps", steps, isinstance(steps, int) and steps >= 0, "a non-negative integer"
    )
    base = _base(concept, base_lr)
    return Tensor((steps + 1,), tuple(factor(t, base) for t in range(steps + 1)))


@exact
def step_lr(base_lr: Any, *, step_size: int, gamma: float = 0.1, steps: int) -> Tensor:
    r""":math:`\eta_t = \eta_0 \gamma^{\lfloor t / s \rfloor}`: decay by ``gamma`` every
    ``step_size`` steps (PyTorch ``StepLR``; optax ``exponential_decay(staircase=True)``)."""
    require("step_lr", "step_size", step_size, step_size >= 1, "a positive integer")
    return _schedule("step_lr", base_lr, steps, lambda t, b: b * mpf(gamma) ** (t // step_size))


@exact
def multistep_lr(
    base_lr: Any, *, milestones: Sequence[int], gamma: float = 0.1, steps: int
) -> Tensor:
    r""":math:`\eta_t = \eta_0 \gamma^{|\{m \in M : m \le t\}|}`: decay by ``gamma`` *at* each
    milestone; a repeated milestone decays twice (PyTorch ``MultiStepLR``; optax
    ``piecewise_constant_schedule``, boundaries applied when ``count >= boundary``)."""
    require(
        "multistep_lr",
        "milestones",
        list(milestones),
        all(m >= 0 for m in milestones),
        "non-negative integers",
    )
    ordered = sorted(milestones)
    return _schedule(
        "multistep_lr",
        base_lr,
        steps,
        lambda t, b: b * mpf(gamma) ** bisect.bisect_right(ordered, t),
    )


@exact
def exponential_lr(base_lr: Any, *, gamma: float, steps: int) -> Tensor:
    r""":math:`\eta_t = \eta_0 \gamma^t` (PyTorch ``ExponentialLR``; optax ``exponential_decay``
    with ``transition_steps=1``)."""
    require("exponential_lr", "gamma", gamma, gamma > 0, "positive")
    return _schedule("exponential_lr", base_lr, steps, lambda t, b: b * mpf(gamma) ** t)


def _cosine(progress: mpf) -> mpf:
    """:math:`(1 + \\cos(\\pi p)) / 2`."""
    return (1 + mpmath.cos(mpmath.pi * progress)) / 2


@exact
def cosine_annealing_lr(
    base_lr: Any, *, t_max: int, eta_min: float = 0.0, steps: int, past_horizon: str = "periodic"
) -> Tensor:
    r""":math:`\eta_t = \eta_{min} + (\eta_0 - \eta_{min}) (1 + \cos(\pi t / T)) / 2`
    (Loshchilov and Hutter 2017, without restarts); ``eta_min`` is absolute.

    Variant ``past_horizon``: ``"periodic"`` (PyTorch ``CosineAnnealingLR``) keeps the formula
    for ``t > T``, so the rate climbs back to :math:`\eta_0` at ``2T``; ``"clamped"`` (optax
    ``cosine_decay_schedule``, Keras ``CosineDecay``) holds :math:`\eta_{min}` from ``T`` on.
    """
    concept = "cosine_annealing_lr"
    require(concept, "t_max", t_max, t_max >= 1, "a positive integer")
    check_choice(concept, "past_horizon", past_horizon, PAST_HORIZON)
    floor = mpf(eta_min)

    def rate(t: int, base: mpf) -> mpf:
        step = t if past_horizon == "periodic" else min(t, t_max)
        return floor + (base - floor) * _cosine(mpf(step) / t_max)

    return _schedule(concept, base_lr, steps, rate)


@exact
def linear_warmup(
    base_lr: Any,
    *,
    start_factor: float = 1 / 3,
    end_factor: float = 1.0,
    total_steps: int = 5,
    steps: int,
) -> Tensor:
    r""":math:`\eta_t = \eta_0 (s + (e - s) \min(t, T) / T)`: the factor moves linearly from
    ``start_factor`` to ``end_factor`` over ``total_steps`` and then stays (PyTorch ``LinearLR``;
    optax ``linear_schedule`` with absolute end points :math:`s\eta_0`, :math:`e\eta_0`)."""
    concept = "linear_warmup"
    require(concept, "total_steps", total_steps, total_steps >= 1, "a positive integer")
    require(concept, "start_factor", start_factor, 0 < start_factor <= 1, "in (0, 1]")
    require(concept, "end_factor", end_factor, 0 <= end_factor <= 1, "in [0, 1]")
    s, e = mpf(start_factor), mpf(end_factor)
    return _schedule(
        concept, base_lr, steps, lambda t, b: b * (s + (e - s) * min(t, total_steps) / total_steps)
    )


@exact
def warmup_cosine(
    base_lr: Any,
    *,
    warmup_steps: int,
    decay_steps: int,
    start_lr: float = 0.0,
    end_lr: float = 0.0,
    steps: int,
    horizon: str = "includes_warmup",
) -> Tensor:
    r"""Linear warmup from ``start_lr`` to the peak :math:`\eta_0` over ``W = warmup_steps``,
    then cosine decay to ``end_lr`` (absolute), held constant after its end.

    Variant ``horizon``: ``"includes_warmup"`` (optax ``warmup_cosine_decay_schedule``) counts
    ``decay_steps`` from step 0, so the cosine lasts ``decay_steps - W`` steps;
    ``"after_warmup"`` (Keras ``CosineDecay`` with ``warmup_steps``) lets it last ``decay_steps``.
    """
    concept = "warmup_cosine"
    check_choice(concept, "horizon", horizon, WARMUP_HORIZONS)
    require(concept, "warmup_steps", warmup_steps, warmup_steps >= 0, "a non-negative integer")
    length = decay_steps - warmup_steps if horizon == "includes_warmup" else decay_steps
    require(
        concept,
        "decay_steps",
        decay_steps,
        length >= 1,
        "longer than the warmup (includes_warmup) or positive",
    )
    start, end = mpf(start_lr), mpf(end_lr)

    def rate(t: int, peak: mpf) -> mpf:
        if t < warmup_steps:
            return start + (peak - start) * mpf(t) / warmup_steps
        return end + (peak - end) * _cosine(mpf(min(t - warmup_steps, length)) / length)

    return _schedule(concept, base_lr, steps, rate)


def _check_plateau_settings(
    mode: str,
    threshold_mode: str,
    patience_rule: str,
    small_decrease: str,
    factor: float,
    patience: int,
) -> None:
    concept = "reduce_lr_on_plateau"
    check_choice(concept, "mode", mode, ("min", "max"))
    check_choice(concept, "threshold_mode", threshold_mode, ("rel", "abs"))
    check_choice(concept, "patience_rule", patience_rule, PATIENCE_RULES)
    check_choice(concept, "small_decrease", small_decrease, SMALL_DECREASES)
    require(concept, "factor", factor, 0 < factor < 1, "in (0, 1)")
    require(concept, "patience", patience, patience >= 0, "a non-negative integer")
    if patience_rule == "reaches_patience":
        require(concept, "patience", patience, patience >= 1, "at least 1 under reaches_patience")


@exact
def reduce_lr_on_plateau(
    base_lr: Any,
    metrics: Any,
    *,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
    patience_rule: str = "more_than_patience",
    small_decrease: str = "skipped",
    cooldown_rule: str = "ignores_cooldown",
) -> Tensor:
    r"""The learning rate after each epoch's validation metric (result shape ``(n,)`` for ``n``
    metrics): multiply by ``factor`` (not below ``min_lr``) once the metric has not improved for
    long enough; after a reduction, ``cooldown`` epochs are not counted.

    Improvement (``mode="min"``): :math:`a < b (1 - \theta)` (``threshold_mode="rel"``) or
    :math:`a < b - \theta` (``"abs"``) for the best value ``b`` so far (initially
    :math:`+\infty`); ``"max"`` mirrors it.

    Variant ``patience_rule``: ``"more_than_patience"`` (PyTorch ``ReduceLROnPlateau``) reduces
    when the count of bad epochs *exceeds* ``patience``, i.e. on the ``patience + 1``-th;
    ``"reaches_patience"`` (optax ``contrib.reduce_on_plateau``) when it reaches ``patience``.

    Variant ``small_decrease``: ``"skipped"`` (PyTorch) makes no reduction that lowers the rate
    by at most ``eps``; ``"applied"`` (optax, which has no ``eps``) makes every one;
    ``"applied_above_min_lr"`` (Keras, which has no ``eps``) makes every one while the rate is
    above ``min_lr``, and none once it is not (so a base rate below ``min_lr`` stays).

    Variant ``cooldown_rule``: ``"ignores_cooldown"`` (PyTorch, optax) counts no bad epoch in
    the ``cooldown`` epochs after a reduction; ``"ignores_cooldown_minus_one"`` (Keras
    ``callbacks.ReduceLROnPlateau``, which counts the cooldown down *before* it looks at the
    epoch) counts the last of them, so only ``cooldown - 1`` are ignored.
    """
    concept = "reduce_lr_on_plateau"
    check_choice(concept, "cooldown_rule", cooldown_rule, COOLDOWN_RULES)
    counts_down_first = cooldown_rule == "ignores_cooldown_minus_one"
    _check_plateau_settings(mode, threshold_mode, patience_rule, small_decrease, factor, patience)
    require(concept, "cooldown", cooldown, cooldown >= 0, "a non-negative integer")
    metrics = as_tensor(metrics)
    check_tensor(concept, "metrics", metrics)
    check_ndim(concept, "metrics", metrics, 1)
    lr = _base(concept, base_lr)
    sign = 1 if mode == "min" else -1
    best = mpf("inf")
    bad = cooldown_left = 0
    rates = []
    for value in metrics.values:
        a, b = sign * value, best
        limit = b * (1 - sign * mpf(threshold)) if threshold_mode == "rel" else b - mpf(threshold)
        if counts_down_first and cooldown_left > 0:
            cooldown_left -= 1
            bad = 0
        if a < limit:
            best, bad = a, 0
        elif not (counts_down_first and cooldown_left > 0):
            bad += 1
        if not counts_down_first and cooldown_left > 0:
            cooldown_left -= 1
            bad = 0
        if bad > patience if patience_rule == "more_than_patience" else bad >= patience:
            new = max(lr * mpf(factor), mpf(min_lr))
            if (
                small_decrease == "applied"
                or (small_decrease == "applied_above_min_lr" and lr > mpf(min_lr))
                or (small_decrease == "skipped" and lr - new > eps)
            ):
                lr = new
            cooldown_left, bad = cooldown, 0
        rates.append(lr)
    return Tensor((len(rates),), tuple(rates))
