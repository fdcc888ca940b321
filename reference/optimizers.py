"""Optimizers as trajectories: the parameters after each of ``k`` steps, from given initial
parameters and a given gradient sequence.

Spec pages: ``spec/concepts/<id>.md``. ``params`` has shape ``(d,)``, ``gradients`` shape
``(k, d)`` (row ``t`` is the loss gradient the optimizer sees at step ``t + 1``), and the result
shape ``(k, d)``: row ``t`` holds the parameters after step ``t + 1``. Hyperparameters are the
binary values of the arguments, as a framework stores them. Step counts are 1-based inside the
optimizers (the bias corrections use ``t = 1`` on the first step).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import mpmath
from mpmath import fsum, mpf

from ._core import (
    DomainError,
    Tensor,
    as_tensor,
    check_choice,
    check_ndim,
    check_tensor,
    exact,
    require,
    rows,
)

Vector = list[mpf]
FIRST_STEP_BUFFERS: Final = ("gradient", "dampened")
EPS_PLACEMENTS: Final = ("after_bias_correction", "eps_hat")
AMSGRAD_MAXIMA: Final = ("raw_second_moment", "bias_corrected")
NORM_OFFSETS: Final = ("1e-6", "none")


def _trajectory_inputs(
    concept: str, params: Any, gradients: Any, gradients_name: str = "gradients"
) -> tuple[Vector, list[Vector]]:
    params, gradients = as_tensor(params), as_tensor(gradients)
    check_tensor(concept, "params", params)
    check_ndim(concept, "params", params, 1)
    check_tensor(concept, gradients_name, gradients)
    check_ndim(concept, gradients_name, gradients, 2)
    if gradients.shape[1] != params.size:
        raise DomainError(
            concept,
            gradients_name,
            f"must have shape (steps, {params.size}) for params of shape {params.shape}, "
            f"got {gradients.shape}",
        )
    return list(params.values), rows(gradients)


def _check_rate(concept: str, lr: float, weight_decay: float) -> None:
    require(concept, "lr", lr, lr >= 0 and math.isfinite(lr), "a finite non-negative number")
    require(concept, "weight_decay", weight_decay, weight_decay >= 0, "non-negative")


def _as_trajectory(steps: Sequence[Vector]) -> Tensor:
    return Tensor((len(steps), len(steps[0])), tuple(v for step in steps for v in step))


def _sgd_steps(
    theta: Vector,
    gradients: list[Vector],
    *,
    lr: float,
    momentum: float,
    dampening: float,
    nesterov: bool,
    weight_decay: float,
    first_step_buffer: str,
) -> list[Vector]:
    buffer: Vector | None = None
    trajectory = []
    for gradient in gradients:
        g = [gi + weight_decay * ti for gi, ti in zip(gradient, theta, strict=True)]
        if momentum != 0:
            if buffer is None:
                buffer = (
                    g
                    if first_step_buffer == "gradient"
                    else [(1 - mpf(dampening)) * gi for gi in g]
                )
            else:
                buffer = [
                    momentum * b + (1 - mpf(dampening)) * gi
                    for b, gi in zip(buffer, g, strict=True)
                ]
            g = [gi + momentum * b for gi, b in zip(g, buffer, strict=True)] if nesterov else buffer
        theta = [ti - lr * gi for ti, gi in zip(theta, g, strict=True)]
        trajectory.append(theta)
    return trajectory


def _check_sgd(
    concept: str, lr: float, momentum: float, dampening: float, nesterov: bool, weight_decay: float
) -> None:
    _check_rate(concept, lr, weight_decay)
    require(concept, "momentum", momentum, momentum >= 0, "non-negative")
    require(concept, "dampening", dampening, 0 <= dampening <= 1, "in [0, 1]")
    if nesterov:
        require(
            concept,
            "nesterov",
            nesterov,
            momentum > 0 and dampening == 0,
            "used with momentum > 0 and dampening = 0",
        )


@exact
def sgd(
    params: Any,
    gradients: Any,
    *,
    lr: float,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    first_step_buffer: str = "gradient",
) -> Tensor:
    r"""Stochastic gradient descent with momentum (PyTorch's formulation; Sutskever et al. 2013).

    Per step: :math:`g \leftarrow g + \lambda\theta` (coupled weight decay), then with momentum
    :math:`\mu > 0` the buffer :math:`b \leftarrow \mu b + (1 - \tau) g` (dampening :math:`\tau`),
    the direction :math:`d = g + \mu b` (Nesterov) or :math:`d = b`, and
    :math:`\theta \leftarrow \theta - \eta d`. Without momentum :math:`d = g`.

    Variant ``first_step_buffer``: ``"gradient"`` (PyTorch) starts the buffer at the first
    gradient itself, undampened; ``"dampened"`` starts from a zero buffer, so the first buffer is
    :math:`(1 - \tau) g`. They agree when ``dampening == 0`` (optax's ``trace`` is that case).
    """
    _check_sgd("sgd", lr, momentum, dampening, nesterov, weight_decay)
    check_choice("sgd", "first_step_buffer", first_step_buffer, FIRST_STEP_BUFFERS)
    theta, steps = _trajectory_inputs("sgd", params, gradients)
    return _as_trajectory(
        _sgd_steps(
            theta,
            steps,
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            nesterov=nesterov,
            weight_decay=weight_decay,
            first_step_buffer=first_step_buffer,
        )
    )


def _adam_steps(
    concept: str,
    params: Any,
    gradients: Any,
    *,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    coupled_decay: float,
    decoupled_decay: float,
    amsgrad: bool,
    eps_placement: str,
    amsgrad_max: str,
) -> Tensor:
    _check_rate(concept, lr, coupled_decay + decoupled_decay)
    require(concept, "beta1", beta1, 0 <= beta1 < 1, "in [0, 1)")
    require(concept, "beta2", beta2, 0 <= beta2 < 1, "in [0, 1)")
    require(concept, "eps", eps, eps >= 0, "non-negative")
    check_choice(concept, "eps_placement", eps_placement, EPS_PLACEMENTS)
    check_choice(concept, "amsgrad_max", amsgrad_max, AMSGRAD_MAXIMA)
    theta, steps = _trajectory_inputs(concept, params, gradients)
    b1, b2 = mpf(beta1), mpf(beta2)
    m = [mpf(0)] * len(theta)
    v = [mpf(0)] * len(theta)
    v_max = [mpf(0)] * len(theta)
    trajectory = []
    for t, gradient in enumerate(steps, start=1):
        theta = [ti * (1 - lr * mpf(decoupled_decay)) for ti in theta]
        g = [gi + coupled_decay * ti for gi, ti in zip(gradient, theta, strict=True)]
        m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g, strict=True)]
        v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g, strict=True)]
        correction1, correction2 = 1 - b1**t, 1 - b2**t
        if not amsgrad:
            v_hat = [vi / correction2 for vi in v]
        elif amsgrad_max == "raw_second_moment":
            v_max = [max(a, b) for a, b in zip(v_max, v, strict=True)]
            v_hat = [vi / correction2 for vi in v_max]
        else:
            v_max = [max(a, b / correction2) for a, b in zip(v_max, v, strict=True)]
            v_hat = v_max
        if eps_placement == "after_bias_correction":
            update = [
                mi / correction1 / (mpmath.sqrt(vi) + eps) for mi, vi in zip(m, v_hat, strict=True)
            ]
        else:
            # eps added to the uncorrected root: sqrt(v_hat) * sqrt(1 - beta2^t) + eps.
            update = [
                mpmath.sqrt(correction2) / correction1 * mi / (mpmath.sqrt(vi * correction2) + eps)
                for mi, vi in zip(m, v_hat, strict=True)
            ]
        theta = [ti - lr * ui for ti, ui in zip(theta, update, strict=True)]
        trajectory.append(theta)
    return _as_trajectory(trajectory)


@exact
def adam(
    params: Any,
    gradients: Any,
    *,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    amsgrad: bool = False,
    eps_placement: str = "after_bias_correction",
    amsgrad_max: str = "raw_second_moment",
) -> Tensor:
    r"""Adam (Kingma and Ba 2015, Algorithm 1) with coupled L2 weight decay and AMSGrad.

    Per step ``t``: :math:`g \leftarrow g + \lambda\theta`;
    :math:`m \leftarrow \beta_1 m + (1 - \beta_1) g`, :math:`v \leftarrow \beta_2 v + (1 - \beta_2) g^2`;
    :math:`\hat m = m / (1 - \beta_1^t)`, :math:`\hat v = v / (1 - \beta_2^t)`;
    :math:`\theta \leftarrow \theta - \eta \hat m / (\sqrt{\hat v} + \epsilon)`.

    Variant ``eps_placement``: ``"after_bias_correction"`` (PyTorch, optax) as above;
    ``"eps_hat"`` (Keras, TensorFlow) adds :math:`\epsilon` to the *uncorrected*
    :math:`\sqrt v`: :math:`\theta \leftarrow \theta - \eta \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}
    \frac{m}{\sqrt v + \epsilon}`. Variant ``amsgrad_max``: AMSGrad keeps the running maximum of
    the raw :math:`v` and divides it by the current correction (``"raw_second_moment"``, PyTorch,
    Keras) or of :math:`\hat v` (``"bias_corrected"``, optax).
    """
    return _adam_steps(
        "adam",
        params,
        gradients,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        coupled_decay=weight_decay,
        decoupled_decay=0.0,
        amsgrad=amsgrad,
        eps_placement=eps_placement,
        amsgrad_max=amsgrad_max,
    )


@exact
def adamw(
    params: Any,
    gradients: Any,
    *,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    eps_placement: str = "after_bias_correction",
    amsgrad_max: str = "raw_second_moment",
) -> Tensor:
    r"""AdamW (Loshchilov and Hutter 2019): Adam with *decoupled* weight decay,
    :math:`\theta \leftarrow \theta (1 - \eta\lambda)` before each Adam step, which sees the bare
    gradient. The decay is scaled by the learning rate, as in PyTorch and optax (the paper's
    schedule multiplier is the learning rate here). Variants as :func:`adam`.
    """
    return _adam_steps(
        "adamw",
        params,
        gradients,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        coupled_decay=0.0,
        decoupled_decay=weight_decay,
        amsgrad=amsgrad,
        eps_placement=eps_placement,
        amsgrad_max=amsgrad_max,
    )


@exact
def gradient_accumulation(
    params: Any, micro_gradients: Any, *, lr: float, accumulation_steps: int
) -> Tensor:
    r"""SGD on gradients accumulated over ``k = accumulation_steps`` micro-batches.

    ``micro_gradients`` (shape ``(s k, d)``) are the gradients of the *mean* loss of ``s k``
    equally sized micro-batches. Every ``k`` micro-batches the optimizer takes one step with their
    mean :math:`\bar g = \frac1k \sum_j g_j`, which is the gradient of the mean loss over the
    union batch, so the result equals full-batch SGD. Returns the ``s`` parameter vectors after
    each optimizer step (shape ``(s, d)``); the optimizer does not move between them.
    """
    concept = "gradient_accumulation"
    _check_rate(concept, lr, 0.0)
    require(
        concept, "accumulation_steps", accumulation_steps, accumulation_steps >= 1, "at least 1"
    )
    theta, micro = _trajectory_inputs(concept, params, micro_gradients, "micro_gradients")
    if len(micro) % accumulation_steps:
        raise DomainError(
            concept,
            "micro_gradients",
            f"has {len(micro)} rows, not a multiple of accumulation_steps={accumulation_steps}",
        )
    k = accumulation_steps
    trajectory = []
    for start in range(0, len(micro), k):
        group = micro[start : start + k]
        mean = [fsum(column) / k for column in zip(*group, strict=True)]
        theta = [ti - lr * gi for ti, gi in zip(theta, mean, strict=True)]
        trajectory.append(theta)
    return _as_trajectory(trajectory)


@exact
def clip_grad_norm(gradients: Any, *, max_norm: float, norm_offset: str = "1e-6") -> Tensor:
    r"""Clip by global norm: :math:`g \leftarrow g \cdot \min(1, c / (\|g\|_2 + \delta))` over all
    elements of all parameters' gradients (``gradients`` holds them, any shape).

    Variant ``norm_offset``: :math:`\delta = 10^{-6}` (PyTorch ``clip_grad_norm_``, which always
    multiplies by the clamped coefficient) or ``"none"``, :math:`\delta = 0` (optax
    ``clip_by_global_norm``: unchanged while :math:`\|g\| < c`, else :math:`g c / \|g\|`).
    """
    concept = "clip_grad_norm"
    gradients = as_tensor(gradients)
    check_tensor(concept, "gradients", gradients)
    require(concept, "max_norm", max_norm, max_norm > 0, "positive")
    check_choice(concept, "norm_offset", norm_offset, NORM_OFFSETS)
    norm = mpmath.sqrt(fsum(g * g for g in gradients.values))
    # the float64 nearest 1e-6, as PyTorch's source writes it (spec/README.md, "Decimal constants")
    offset = mpf(1e-6) if norm_offset == "1e-6" else mpf(0)
    scale = min(mpf(1), mpf(max_norm) / (norm + offset)) if norm + offset > 0 else mpf(1)
    return gradients.map(lambda g: g * scale)


@exact
def frozen_parameters(
    params: Any,
    gradients: Any,
    *,
    frozen: tuple[bool, ...],
    lr: float,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
) -> Tensor:
    r"""Fine-tuning with frozen parameters: SGD (as :func:`sgd`, no dampening) moves the trainable
    parameters, while every parameter with ``frozen[i]`` stays at its initial value, whatever its
    gradient, momentum or weight decay: a frozen parameter is not handed to the optimizer at all.

    ``frozen`` holds one flag per parameter (length ``d``).
    """
    concept = "frozen_parameters"
    _check_sgd(concept, lr, momentum, 0.0, False, weight_decay)
    theta, steps = _trajectory_inputs(concept, params, gradients)
    require(
        concept,
        "frozen",
        frozen,
        len(frozen) == len(theta),
        f"one flag per parameter ({len(theta)})",
    )
    trainable = [i for i, flag in enumerate(frozen) if not flag]
    trajectory = [list(theta) for _ in steps]
    if trainable:
        moved = _sgd_steps(
            [theta[i] for i in trainable],
            [[g[i] for i in trainable] for g in steps],
            lr=lr,
            momentum=momentum,
            dampening=0.0,
            nesterov=False,
            weight_decay=weight_decay,
            first_step_buffer="gradient",
        )
        for row, values in zip(trajectory, moved, strict=True):
            for i, value in zip(trainable, values, strict=True):
                row[i] = value
    return _as_trajectory(trajectory)
