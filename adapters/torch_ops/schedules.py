"""Learning-rate schedules: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

Tensor = Any


def rates(base_lr: Tensor, steps: int, make: Callable[[Any], Any]) -> Tensor:
    """The optimizer's rate before each update, stepping the scheduler after the optimizer."""
    import torch
    from torch import optim

    theta = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = optim.SGD([theta], lr=float(base_lr))
    scheduler = make(optimizer)
    out = []
    for _ in range(steps + 1):
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return torch.tensor(out, dtype=base_lr.dtype)


def step_lr(base_lr: Tensor, *, step_size: int, gamma: float = 0.1, steps: int) -> Tensor:
    from torch.optim import lr_scheduler as schedulers

    return rates(base_lr, steps, lambda o: schedulers.StepLR(o, step_size, gamma=gamma))


def multistep_lr(
    base_lr: Tensor, *, milestones: Sequence[int], gamma: float = 0.1, steps: int
) -> Tensor:
    from torch.optim import lr_scheduler as schedulers

    return rates(base_lr, steps, lambda o: schedulers.MultiStepLR(o, list(milestones), gamma))


def exponential_lr(base_lr: Tensor, *, gamma: float, steps: int) -> Tensor:
    from torch.optim import lr_scheduler as schedulers

    return rates(base_lr, steps, lambda o: schedulers.ExponentialLR(o, gamma))


def cosine_annealing_lr(base_lr: Tensor, *, t_max: int, eta_min: float = 0.0, steps: int) -> Tensor:
    from torch.optim import lr_scheduler as schedulers

    return rates(base_lr, steps, lambda o: schedulers.CosineAnnealingLR(o, t_max, eta_min))


def linear_warmup(
    base_lr: Tensor,
    *,
    start_factor: float = 1 / 3,
    end_factor: float = 1.0,
    total_steps: int = 5,
    steps: int,
) -> Tensor:
    from torch.optim import lr_scheduler as schedulers

    return rates(
        base_lr,
        steps,
        lambda o: schedulers.LinearLR(o, start_factor, end_factor, total_iters=total_steps),
    )


def warmup_cosine(
    base_lr: Tensor,
    *,
    warmup_steps: int,
    decay_steps: int,
    start_lr: float = 0.0,
    end_lr: float = 0.0,
    steps: int,
) -> Tensor:
    from torch.optim import lr_scheduler as schedulers

    # No single PyTorch scheduler: a LambdaLR with optax's definition (decay_steps counts
    # the warmup), the factor relative to the peak rate.
    peak, length = float(base_lr), decay_steps - warmup_steps

    def factor(t: int) -> float:
        if t < warmup_steps:
            return (start_lr + (peak - start_lr) * t / warmup_steps) / peak if peak else 0.0
        cosine = (1 + math.cos(math.pi * min(t - warmup_steps, length) / length)) / 2
        return (end_lr + (peak - end_lr) * cosine) / peak if peak else 0.0

    return rates(base_lr, steps, lambda o: schedulers.LambdaLR(o, factor))


def reduce_lr_on_plateau(base_lr: Tensor, metrics: Tensor, **settings: Any) -> Tensor:
    import torch
    from torch import optim
    from torch.optim import lr_scheduler as schedulers

    theta = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = optim.SGD([theta], lr=float(base_lr))
    scheduler = schedulers.ReduceLROnPlateau(optimizer, **settings)
    out = []
    for value in metrics.tolist():
        optimizer.step()
        scheduler.step(value)
        out.append(optimizer.param_groups[0]["lr"])
    return torch.tensor(out, dtype=metrics.dtype)


def table(*_: Any) -> dict[str, Callable[..., Any]]:
    """The group's entries; each imports torch when it is called."""
    return {
        "step_lr": step_lr,
        "multistep_lr": multistep_lr,
        "exponential_lr": exponential_lr,
        "cosine_annealing_lr": cosine_annealing_lr,
        "linear_warmup": linear_warmup,
        "warmup_cosine": warmup_cosine,
        "reduce_lr_on_plateau": reduce_lr_on_plateau,
    }
