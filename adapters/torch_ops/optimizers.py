"""Optimizers: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

Tensor = Any


def parameter(values: Tensor) -> Tensor:
    import torch

    return torch.nn.Parameter(values.clone())


def drive(optimizer_class: type, params: Tensor, gradients: Tensor, **settings: Any) -> Tensor:
    """Construct, then per step: set ``.grad``, ``step()``; the parameters after each step."""
    import torch

    theta = parameter(params)
    optimizer = optimizer_class([theta], **settings)
    trajectory = []
    for g in gradients:
        theta.grad = g.clone()
        optimizer.step()
        trajectory.append(theta.detach().clone())
    return torch.stack(trajectory)


def sgd(params: Tensor, gradients: Tensor, **settings: Any) -> Tensor:
    from torch import optim

    return drive(optim.SGD, params, gradients, **settings)


def adam_settings(settings: dict[str, Any]) -> dict[str, Any]:
    betas = (settings.pop("beta1", 0.9), settings.pop("beta2", 0.999))
    return {**settings, "betas": betas}


def adam(params: Tensor, gradients: Tensor, **settings: Any) -> Tensor:
    from torch import optim

    return drive(optim.Adam, params, gradients, **adam_settings(settings))


def adamw(params: Tensor, gradients: Tensor, **settings: Any) -> Tensor:
    from torch import optim

    return drive(
        optim.AdamW, params, gradients, **adam_settings({"weight_decay": 1e-2, **settings})
    )


def gradient_accumulation(
    params: Tensor, micro_gradients: Tensor, *, lr: float, accumulation_steps: int
) -> Tensor:
    import torch
    from torch import optim

    # The PyTorch idiom: (loss / k).backward() per micro-batch accumulates into .grad; the
    # micro-batch "loss" here is the linear function whose gradient is the given one.
    theta = parameter(params)
    optimizer = optim.SGD([theta], lr=lr)
    trajectory = []
    for i, g in enumerate(micro_gradients, start=1):
        loss = (theta * g).sum() / accumulation_steps
        loss.backward()
        if i % accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
            trajectory.append(theta.detach().clone())
    return torch.stack(trajectory)


def clip_grad_norm(gradients: Tensor, *, max_norm: float) -> Tensor:
    import torch

    theta = parameter(torch.zeros_like(gradients))
    theta.grad = gradients.clone()
    torch.nn.utils.clip_grad_norm_([theta], max_norm)
    return theta.grad


def frozen_parameters(
    params: Tensor,
    gradients: Tensor,
    *,
    frozen: Sequence[bool],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> Tensor:
    import torch
    from torch import optim

    mask = torch.tensor(frozen, dtype=torch.bool, device=params.device)
    trainable = parameter(params[~mask])
    fixed = parameter(params[mask]).requires_grad_(False)  # no .grad: the optimizer skips it
    optimizer = optim.SGD([trainable, fixed], lr=lr, momentum=momentum, weight_decay=weight_decay)
    trajectory = []
    for g in gradients:
        trainable.grad = g[~mask].clone()
        optimizer.step()
        row = torch.empty_like(params)
        row[~mask], row[mask] = trainable.detach(), fixed.detach()
        trajectory.append(row)
    return torch.stack(trajectory)


def table(*_: Any) -> dict[str, Callable[..., Any]]:
    """The group's entries; each imports torch when it is called."""
    return {
        "sgd": sgd,
        "adam": adam,
        "adamw": adamw,
        "gradient_accumulation": gradient_accumulation,
        "clip_grad_norm": clip_grad_norm,
        "frozen_parameters": frozen_parameters,
    }
