"""Optimizers run as trajectories, following PyTorch's update rules, with the state kept and
every operation computed in the parameters' dtype (``optimizer_state = "dtype"``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "adam",
    "adamw",
    "clip_grad_norm",
    "frozen_parameters",
    "gradient_accumulation",
    "sgd",
]  # the concepts; the adapter's table


def sgd(
    params: np.ndarray,
    gradients: np.ndarray,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
) -> np.ndarray:
    theta, buffer, trajectory = params.copy(), None, []
    for g in gradients:
        g = g + theta * params.dtype.type(weight_decay)
        if momentum:
            # The first buffer is the gradient itself (PyTorch).
            buffer = g.copy() if buffer is None else momentum * buffer + (1 - dampening) * g
            g = g + momentum * buffer if nesterov else buffer
        theta = theta - lr * g
        trajectory.append(theta)
    return np.asarray(trajectory, dtype=params.dtype)


def _adam(
    params: np.ndarray,
    gradients: np.ndarray,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    coupled_decay: float,
    decoupled_decay: float,
    amsgrad: bool,
) -> np.ndarray:
    theta = params.copy()
    m, v, v_max = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    trajectory = []
    for t, g in enumerate(gradients, start=1):
        theta = theta * (1 - lr * decoupled_decay)
        g = g + coupled_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        if amsgrad:
            v_max = np.maximum(v_max, v)  # over the raw second moment (PyTorch)
        correction1, correction2 = 1 - beta1**t, 1 - beta2**t
        # Python scalars throughout, so every operation stays in the parameters' dtype (NumPy's
        # promotion of weak scalars): the state and eps live there, as in torch.optim
        denominator = np.sqrt(v_max if amsgrad else v) / math.sqrt(correction2) + eps
        # m / denominator first: (lr / correction1) * m can underflow for tiny gradients.
        theta = theta - (lr / correction1) * (m / denominator)
        trajectory.append(theta)
    return np.asarray(trajectory, dtype=params.dtype)


def adam(
    params: np.ndarray,
    gradients: np.ndarray,
    *,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
) -> np.ndarray:
    return _adam(
        params,
        gradients,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        coupled_decay=weight_decay,
        decoupled_decay=0.0,
        amsgrad=amsgrad,
    )


def adamw(
    params: np.ndarray,
    gradients: np.ndarray,
    *,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
) -> np.ndarray:
    return _adam(
        params,
        gradients,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        coupled_decay=0.0,
        decoupled_decay=weight_decay,
        amsgrad=amsgrad,
    )


def gradient_accumulation(
    params: np.ndarray, micro_gradients: np.ndarray, *, lr: float, accumulation_steps: int
) -> np.ndarray:
    # PyTorch's idiom: each micro-batch loss divided by k, gradients summed into .grad.
    theta, accumulated, trajectory = params.copy(), np.zeros_like(params), []
    for i, g in enumerate(micro_gradients, start=1):
        accumulated = accumulated + g / params.dtype.type(accumulation_steps)
        if i % accumulation_steps == 0:
            theta = theta - lr * accumulated
            accumulated = np.zeros_like(params)
            trajectory.append(theta)
    return np.asarray(trajectory, dtype=params.dtype)


def clip_grad_norm(gradients: np.ndarray, *, max_norm: float) -> np.ndarray:
    # PyTorch's rule: coefficient max_norm / (norm + 1e-6), clamped to 1, always applied. The
    # norm is taken of the gradients scaled by their largest magnitude, so it cannot overflow.
    largest = np.max(np.abs(gradients))
    scaled = gradients / np.where(largest > 0, largest, 1)
    norm = largest * np.sqrt(np.sum(scaled * scaled))
    coefficient = np.minimum(
        gradients.dtype.type(max_norm) / (norm + gradients.dtype.type(1e-6)), 1
    )
    return gradients * coefficient


def frozen_parameters(
    params: np.ndarray,
    gradients: np.ndarray,
    *,
    frozen: Sequence[bool],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> np.ndarray:
    trainable = ~np.asarray(frozen, dtype=bool)
    trajectory = np.repeat(params[None, :], len(gradients), axis=0)
    if trainable.any():
        trajectory[:, trainable] = sgd(
            params[trainable],
            gradients[:, trainable],
            lr=lr,
            momentum=momentum,
            weight_decay=weight_decay,
        )
    return trajectory
