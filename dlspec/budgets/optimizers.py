"""The error models of optimizers (trajectories of SGD, Adam, AdamW, accumulation, clipping, freezing): the derived term ``s`` of each
budget, and the underflow models (the method: :mod:`dlspec.budgets`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import dlspec.budgets._shared as shared
from dlspec.budgets._registry import (
    UNDERFLOW_LOSS,
    UNIT_ROUNDOFF,
    Inputs,
    error_model,
    underflow_model,
)


@underflow_model("clip_grad_norm")
def _scaled_to_max_norm(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """A gradient divided by the global norm underflows before the product by ``max_norm`` (the
    order ``g / ||g|| * c`` of optax's ``clip_by_global_norm``): amplified by ``c``."""
    return np.full(np.shape(result), 1.0 + float(params["max_norm"]))


def _trajectory(
    theta: np.ndarray,
    step_errors: list[np.ndarray],
    growth: float | list[np.ndarray],
    result: np.ndarray,
    *,
    rounding: bool = True,
) -> np.ndarray:
    """Accumulate per-step errors: after step ``t`` the error is the previous one, amplified by
    ``growth`` (weight decay feeding the parameters' error back into the next update; a number or
    one array a step), plus the step's own error and, with ``rounding``, the rounding of the new
    parameters (all in units of ``u``, or of the underflow unit for amplifications)."""
    growths = growth if isinstance(growth, list) else [growth] * len(step_errors)
    accumulated = np.zeros_like(theta)
    out = []
    for t, (error, factor) in enumerate(zip(step_errors, growths, strict=True)):
        accumulated = accumulated * factor + error + (np.abs(result[t]) if rounding else 0.0)
        out.append(accumulated)
    return np.asarray(out).reshape(result.shape)


def _sgd_step_errors(
    theta: np.ndarray, gradients: np.ndarray, params: Mapping[str, Any], result: np.ndarray
) -> tuple[list[np.ndarray], float]:
    lr, momentum = params["lr"], params.get("momentum", 0.0)
    decay, dampening = params.get("weight_decay", 0.0), params.get("dampening", 0.0)
    buffer = None
    errors = []
    previous = np.abs(theta)
    for t, g in enumerate(np.abs(gradients), start=1):
        g = g + decay * previous
        if momentum:
            buffer = g if buffer is None else momentum * buffer + (1 - dampening) * g
            direction = g + momentum * buffer if params.get("nesterov") else buffer
        else:
            direction = g
        # the direction carries a relative error growing by ~2u a step through the buffer
        errors.append(lr * (2 * t + 3) * direction)
        previous = np.abs(result[t - 1])
    growth = 1 + lr * decay * (1 + momentum) / max(1 - momentum, 1e-3)
    return errors, growth


@error_model
def sgd(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Per step :math:`|\theta_t| + \eta (2t + 3) D_t`, where :math:`D_t` is the update direction
    run on :math:`|g| + \lambda|\theta|` (the momentum buffer's rounding accumulates about
    :math:`2u` a step), accumulated over the steps and amplified by the weight decay feedback."""
    theta = shared.argument(inputs, "params")
    errors, growth = _sgd_step_errors(theta, shared.argument(inputs, "gradients"), params, result)
    return _trajectory(theta, errors, growth, result)


@error_model
def frozen_parameters(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The :func:`sgd` model on the trainable parameters; 0 on the frozen ones, which must not
    move by a single bit."""
    theta = shared.argument(inputs, "params")
    errors, growth = _sgd_step_errors(theta, shared.argument(inputs, "gradients"), params, result)
    frozen = np.asarray(params["frozen"], dtype=bool)
    return np.where(frozen, 0.0, _trajectory(theta, errors, growth, result))


def _adam_model(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray, coupled: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""``s`` and the underflow amplification of an Adam trajectory (see :func:`adam`).

    Both are first-order error bounds propagated through the linearised recurrence, per element:
    an error in the parameters enters the next gradient through a coupled decay, an error in the
    gradient enters the first moment, and the first moment's error moves the parameters divided
    by :math:`(1 - \beta_1^t)(\sqrt{\hat v} + \epsilon)`, which is huge when :math:`g \ll \epsilon`.
    """
    theta = shared.argument(inputs, "params")
    lr = params.get("lr", 1e-3)
    b1, b2, eps = params.get("beta1", 0.9), params.get("beta2", 0.999), params.get("eps", 1e-8)
    decay = params.get("weight_decay", 0.0 if coupled else 1e-2)
    m = v = v_max = lost_v = np.zeros_like(theta)
    unbounded = np.zeros(np.shape(theta), dtype=bool)
    loss, u = params.get(UNDERFLOW_LOSS, 0.0), params.get(UNIT_ROUNDOFF, 2.0**-53)
    # (rounding in units of u, underflow in units of half the smallest subnormal)
    error_theta, error_m = [np.zeros_like(theta)] * 2, [np.zeros_like(theta)] * 2
    rounding_rows, underflow_rows = [], []
    previous = theta
    for t, gradient in enumerate(shared.argument(inputs, "gradients"), start=1):
        g = gradient + (decay * previous if coupled else 0.0)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v) if params.get("amsgrad") else v
        c1, c2 = 1 - b1**t, 1 - b2**t
        denominator = np.sqrt(v_max / c2) + (
            eps if params.get("eps_placement") != "eps_hat" else eps / np.sqrt(c2)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            sensitivity = np.where(denominator > 0, lr / c1 / denominator, 0.0)
        update = np.abs(m) * sensitivity
        hat = np.sqrt(c2) if params.get("eps_placement") == "eps_hat" else 1.0
        lost_v = b2 * lost_v + 3 * loss
        slip = _denominator_error(
            v_max, lost_v, denominator, eps=eps, c2=c2, hat=hat, loss=loss, u=u
        )
        unbounded |= np.isinf(slip)  # and so every later step: the parameter may be anything
        # v, the square root and the division: (t + 8) u of the update; the bias corrections
        # 1 - beta^t, from a rounded beta^t, carry the condition beta^t / (1 - beta^t) of the
        # subtraction (500 for beta2 = 0.999 at t = 1: every Adam computes them so). A kernel
        # that takes beta in the dtype (Keras's ops.power of a float32 beta, optax's
        # decay ** count) raises its rounding to the t: beta^t is then t u off, t + 1 in all.
        # Every backend computes them in float32 or wider, whatever the parameters' dtype
        # (PyTorch in Python floats; optax in the count's dtype, cast after the subtraction:
        # optax.tree.bias_correction), so a float16 or bfloat16 update carries float32's
        # amplified rounding and two of its own (each correction rounded into the dtype).
        corrections = (t + 1) * (b1**t / c1 + b2**t / (2 * c2)) * min(1.0, 2.0**-24 / u) + (
            2 if u > 2.0**-24 else 0
        )
        local = (
            # rounding: g (one addition), m (two products and a sum), theta and the update
            # (the decoupled decay rounds the parameters twice more: its factor and its product)
            (
                np.abs(g),
                3 * np.abs(m),
                (1 if coupled else 3) * np.abs(result[t - 1])
                + (t + 8 + corrections) * update
                + np.where(unbounded, 0.0, update * np.where(unbounded, 0.0, slip)) / u,
            ),
            # underflow: one each for g and m, four for the update and the new parameters, and
            # the rate times the moment before the division by the denominator (the order of
            # PyTorch's addcdiv) underflowing: divided by the denominator. In the eps-hat form
            # the moment is scaled by lr sqrt(1 - beta2^t) / (1 - beta1^t) and divided by
            # sqrt(v) + eps, without the bias correction's sqrt(1 - beta2^t) (Keras's order): its
            # underflow is amplified by that much more.
            (
                np.ones_like(g),
                2 * np.ones_like(m),
                4 + 2 * sensitivity * c1 / max(lr, 1e-300) / hat,
            ),
        )
        for kind, (local_g, local_m, local_theta) in enumerate(local):
            error_g = (decay * error_theta[kind] if coupled else 0.0) + local_g
            error_m[kind] = b1 * error_m[kind] + (1 - b1) * error_g + local_m
            decoupled = 0.0 if coupled else lr * decay * (np.abs(previous) if kind == 0 else 1.0)
            error_theta[kind] = (
                error_theta[kind] + sensitivity * error_m[kind] + local_theta + decoupled
            )
        rounding_rows.append(np.where(unbounded, np.inf, error_theta[0]))
        underflow_rows.append(error_theta[1])
        previous = result[t - 1]
    shape = np.shape(result)
    return np.asarray(rounding_rows).reshape(shape), np.asarray(underflow_rows).reshape(shape)


def _denominator_error(
    v: np.ndarray,
    lost_v: np.ndarray,
    denominator: np.ndarray,
    *,
    eps: float,
    c2: float,
    hat: float,
    loss: float,
    u: float,
) -> np.ndarray:
    r"""The relative error underflow gives Adam's update through its denominator
    :math:`D = \sqrt{\hat v} + \epsilon`; infinite where it has no bound.

    Each step's three products on :math:`v` (``g * g``, by :math:`1 - \beta_2` and by
    :math:`\beta_2`) may each lose ``loss`` :math:`\eta` (half the smallest subnormal; a sum
    that underflows is exact), so the stored :math:`v` is off by
    :math:`\Delta_t = \beta_2 \Delta_{t-1} + 3\eta`. Its square root is off by
    :math:`\min(\sqrt{\Delta}, \Delta / \sqrt v)` (:math:`|\sqrt a - \sqrt b| \le \sqrt{|a - b|}`,
    and :math:`\le |a - b| / \sqrt a`), divided by :math:`\sqrt{1 - \beta_2^t}`; the sum with
    :math:`\epsilon` (and :math:`\epsilon` itself, which float16 holds only to :math:`\eta`: 1e-8
    is 0 there) loses :math:`2\eta` more: :math:`|D' - D| \le \delta`. Not linear in
    :math:`\eta`: float16's :math:`\eta = 2^{-25}` makes :math:`\sqrt{3\eta} = 3 \times 10^{-4}`,
    while float32's :math:`\sqrt{3 \cdot 2^{-150}}` is :math:`5 \times 10^{-23}`.

    The computed :math:`D'` is at least :math:`L = \max(D - \delta, \epsilon')`, where
    :math:`\epsilon' = \epsilon (1 - u) - \eta` is the least the format holds of
    :math:`\epsilon` (a square root is never negative), so the update :math:`m / D` is off by at
    most :math:`|m / D|\, \delta / L`. Where :math:`L \le 0` there is no bound: the format may
    hold none of the denominator's digits, and the update (a zero one included: 0 / 0) may be
    anything. That is float16 Adam at :math:`|g| \lesssim 2^{-7}` with eps = 1e-8, where every
    framework divides by 0 (spec/concepts/adam.md)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.where(v > 0, np.minimum(np.sqrt(lost_v), lost_v / np.sqrt(v)), np.sqrt(lost_v))
        lost = root / np.sqrt(c2) + 2 * loss / hat  # eps-hat: sqrt(v) + eps, over sqrt(c2)
        least = np.maximum(denominator - lost, (eps * (1 - u) - loss) / hat)
        return np.where(least > 0, lost / least, np.inf)


@error_model
def adam(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The rounding of every step propagated through Adam's linearised recurrence
    (:func:`_adam_model`): per step the rounding of :math:`g`, of :math:`m` and of the new
    parameters, and :math:`(t + 8 + c_t)` u of the update, where
    :math:`c_t = \beta_1^t / (1 - \beta_1^t) + \beta_2^t / (2 (1 - \beta_2^t))` is the condition
    of the bias corrections."""
    return _adam_model(inputs, params, result, coupled=True)[0]


@error_model
def adamw(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The :func:`adam` model without coupled decay, plus :math:`\eta\lambda|\theta|` for the
    decoupled decay's product each step."""
    return _adam_model(inputs, params, result, coupled=False)[0]


@underflow_model("adam")
def _adam_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""A subnormal moment's absolute error, divided by :math:`(1 - \beta_1^t)(\sqrt{\hat v} + \epsilon)`
    and scaled by the rate, accumulated over the steps."""
    return _adam_model(inputs, params, result, coupled=True)[1].reshape(np.shape(result))


@underflow_model("adamw")
def _adamw_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """As Adam's."""
    return _adam_model(inputs, params, result, coupled=False)[1].reshape(np.shape(result))


@error_model
def gradient_accumulation(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Per optimizer step :math:`|\theta| + \eta (k + 2) \overline{|g|}`: a ``k``-term mean, a
    product and a subtraction, accumulated over the steps."""
    theta = shared.argument(inputs, "params")
    k = params["accumulation_steps"]
    micro = np.abs(shared.argument(inputs, "micro_gradients"))
    means = micro.reshape(-1, k, micro.shape[-1]).mean(axis=1)
    return _trajectory(theta, [params["lr"] * (k + 2) * g for g in means], 1.0, result)


@error_model
def clip_grad_norm(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(n + 4)|r|`: the norm of ``n`` squares (the sum's bound and a square root), the
    quotient and the product are relative errors of the scale."""
    n = np.size(inputs["gradients"])
    return (n + 4) * np.abs(result)


underflow_model("sgd")(shared.per_step)
underflow_model("gradient_accumulation")(shared.per_step)
underflow_model("frozen_parameters")(shared.per_step)
