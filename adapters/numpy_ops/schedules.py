"""Learning-rate schedules in closed form, evaluated in the base rate's dtype."""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "cosine_annealing_lr",
    "exponential_lr",
    "linear_warmup",
    "multistep_lr",
    "reduce_lr_on_plateau",
    "step_lr",
    "warmup_cosine",
]  # the concepts; the adapter's table


def _rates(base_lr: np.ndarray, steps: int, rate: Callable[[int, float], float]) -> np.ndarray:
    base = float(base_lr)
    return np.array([rate(t, base) for t in range(steps + 1)], dtype=base_lr.dtype)


def step_lr(base_lr: np.ndarray, *, step_size: int, gamma: float = 0.1, steps: int) -> np.ndarray:
    return _rates(base_lr, steps, lambda t, b: b * gamma ** (t // step_size))


def multistep_lr(
    base_lr: np.ndarray, *, milestones: Sequence[int], gamma: float = 0.1, steps: int
) -> np.ndarray:
    ordered = sorted(milestones)
    return _rates(base_lr, steps, lambda t, b: b * gamma ** bisect.bisect_right(ordered, t))


def exponential_lr(base_lr: np.ndarray, *, gamma: float, steps: int) -> np.ndarray:
    return _rates(base_lr, steps, lambda t, b: b * gamma**t)


def _half_cosine(progress: float) -> float:
    return (1 + math.cos(math.pi * progress)) / 2


def cosine_annealing_lr(
    base_lr: np.ndarray, *, t_max: int, eta_min: float = 0.0, steps: int
) -> np.ndarray:
    # PyTorch's convention: the formula continues past t_max (periodic).
    return _rates(base_lr, steps, lambda t, b: eta_min + (b - eta_min) * _half_cosine(t / t_max))


def linear_warmup(
    base_lr: np.ndarray,
    *,
    start_factor: float = 1 / 3,
    end_factor: float = 1.0,
    total_steps: int = 5,
    steps: int,
) -> np.ndarray:
    def rate(t: int, b: float) -> float:
        return b * (start_factor + (end_factor - start_factor) * min(t, total_steps) / total_steps)

    return _rates(base_lr, steps, rate)


def warmup_cosine(
    base_lr: np.ndarray,
    *,
    warmup_steps: int,
    decay_steps: int,
    start_lr: float = 0.0,
    end_lr: float = 0.0,
    steps: int,
) -> np.ndarray:
    # optax's convention: decay_steps counts the warmup.
    length = decay_steps - warmup_steps

    def rate(t: int, peak: float) -> float:
        if t < warmup_steps:
            return start_lr + (peak - start_lr) * t / warmup_steps
        return end_lr + (peak - end_lr) * _half_cosine(min(t - warmup_steps, length) / length)

    return _rates(base_lr, steps, rate)


def reduce_lr_on_plateau(
    base_lr: np.ndarray,
    metrics: np.ndarray,
    *,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> np.ndarray:
    # PyTorch's rule: reduce once the bad epochs exceed patience.
    sign = 1.0 if mode == "min" else -1.0
    lr, best, bad, cooling, rates = float(base_lr), math.inf, 0, 0, []
    for value in metrics.tolist():
        a = sign * value
        limit = best * (1 - sign * threshold) if threshold_mode == "rel" else best - threshold
        if a < limit:
            best, bad = a, 0
        else:
            bad += 1
        if cooling > 0:
            cooling, bad = cooling - 1, 0
        if bad > patience:
            new = max(lr * factor, min_lr)
            if lr - new > eps:
                lr = new
            cooling, bad = cooldown, 0
        rates.append(lr)
    return np.array(rates, dtype=metrics.dtype)
