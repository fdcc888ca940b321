"""Optimizers: ``keras.optimizers`` driven as a custom training loop drives them: a
``keras.Variable`` of the parameters, ``optimizer.apply_gradients([(g, variable)])`` per step
(see :mod:`..ops`).

The spec's ``weight_decay`` of SGD and Adam is the L2 term added to the gradient (PyTorch's);
Keras's own ``weight_decay`` is decoupled (AdamW's). A Keras user gets the L2 term from an
``L2`` regularizer on the weights, whose gradient joins the loss's: the adapter adds
``weight_decay * variable`` to each gradient before ``apply_gradients`` (composed)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Tensor = Any


def variable(keras: Any, values: Any, trainable: bool = True) -> Any:
    """A Keras variable holding a copy of ``values``: on torch a Variable made from a tensor
    wraps that tensor's storage, so its updates would write into the parameters given (a
    model's weights come from its initializers, never aliased so)."""
    dtype = keras.backend.standardize_dtype(values.dtype)
    return keras.Variable(keras.ops.copy(values), dtype=dtype, trainable=trainable)


def rows(keras: Any, values: Tensor) -> list[Tensor]:
    """One tensor per step, from the rows of ``values``."""
    return [keras.ops.convert_to_tensor(row) for row in keras.ops.convert_to_numpy(values)]


def with_l2(g: Tensor, theta: Any, weight_decay: float) -> Tensor:
    """The gradient of the loss plus an L2 regularizer's, ``weight_decay * theta``."""
    return g + weight_decay * theta.value if weight_decay else g


def drive(
    keras: Any, optimizer: Any, params: Tensor, gradients: Tensor, weight_decay: float = 0.0
) -> np.ndarray:
    """A custom training loop: ``apply_gradients`` per step; the parameters after each."""
    theta = variable(keras, params)
    optimizer.build([theta])
    trajectory = []
    for g in rows(keras, gradients):
        optimizer.apply_gradients([(with_l2(g, theta, weight_decay), theta)])
        trajectory.append(keras.ops.convert_to_numpy(theta.value))
    return np.stack(trajectory)


def compiled_drive(keras: Any, optimizer: Any, params: Tensor, gradients: Tensor) -> np.ndarray:
    """On JAX, the optimizer as ``model.fit`` runs it: ``stateless_apply`` under ``jax.jit``
    (an eager ``ops.cond``, as gradient accumulation has, compiles its branches at every step);
    elsewhere :func:`drive`."""
    if keras.backend.backend() != "jax":
        return drive(keras, optimizer, params, gradients)
    import jax

    theta = variable(keras, params)
    optimizer.build([theta])
    state, weights = [v.value for v in optimizer.variables], [theta.value]
    step = jax.jit(optimizer.stateless_apply)
    trajectory = []
    for g in rows(keras, gradients):
        weights, state = step(state, [g], weights)
        trajectory.append(keras.ops.convert_to_numpy(weights[0]))
    return np.stack(trajectory)


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    ops, optimizers = keras.ops, keras.optimizers

    def sgd(
        params: Tensor,
        gradients: Tensor,
        *,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> np.ndarray:
        del dampening  # a declared limit: 0 only
        optimizer = optimizers.SGD(lr, momentum=momentum, nesterov=nesterov)
        return drive(keras, optimizer, params, gradients, weight_decay)

    def adam(
        params: Tensor,
        gradients: Tensor,
        *,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> np.ndarray:
        optimizer = optimizers.Adam(lr, beta_1=beta1, beta_2=beta2, epsilon=eps, amsgrad=amsgrad)
        return drive(keras, optimizer, params, gradients, weight_decay)

    def adamw(
        params: Tensor,
        gradients: Tensor,
        *,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> np.ndarray:
        optimizer = optimizers.AdamW(
            lr,
            weight_decay=weight_decay,
            beta_1=beta1,
            beta_2=beta2,
            epsilon=eps,
            amsgrad=amsgrad,
        )
        return drive(keras, optimizer, params, gradients)

    def gradient_accumulation(
        params: Tensor, micro_gradients: Tensor, *, lr: float, accumulation_steps: int
    ) -> np.ndarray:
        # Keras averages gradient_accumulation_steps gradients, then steps; the variable is
        # unchanged in between: the trajectory is every k-th.
        optimizer = optimizers.SGD(lr, gradient_accumulation_steps=accumulation_steps)
        trajectory = compiled_drive(keras, optimizer, params, micro_gradients)
        return trajectory[accumulation_steps - 1 :: accumulation_steps]

    def clip_grad_norm(gradients: Tensor, *, max_norm: float) -> np.ndarray:
        # Keras clips inside the optimizer (global_clipnorm): one SGD step at learning rate 1
        # from zero parameters moves them by exactly minus the clipped gradient.
        optimizer = optimizers.SGD(1.0, global_clipnorm=max_norm)
        (moved,) = drive(keras, optimizer, ops.zeros_like(gradients), ops.expand_dims(gradients, 0))
        return -moved

    def frozen_parameters(
        params: Tensor,
        gradients: Tensor,
        *,
        frozen: Sequence[bool],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> np.ndarray:
        # Fine-tuning in Keras: the frozen weights are a non-trainable variable, and the
        # optimizer is given the trainable variables only (model.trainable_variables).
        mask, initial = np.asarray(frozen, dtype=bool), ops.convert_to_numpy(params)
        trainable = variable(keras, initial[~mask])
        fixed = variable(keras, initial[mask], trainable=False)
        optimizer = optimizers.SGD(lr, momentum=momentum)
        weights = [v for v in (trainable, fixed) if v.trainable]
        optimizer.build(weights)
        trajectory = []
        for g in ops.convert_to_numpy(gradients):
            step = with_l2(ops.convert_to_tensor(g[~mask]), trainable, weight_decay)
            optimizer.apply_gradients([(step, trainable)])
            row = np.empty(initial.shape, dtype=initial.dtype)
            row[~mask] = ops.convert_to_numpy(trainable.value)
            row[mask] = ops.convert_to_numpy(fixed.value)
            trajectory.append(row)
        return np.stack(trajectory)

    return {
        "sgd": sgd,
        "adam": adam,
        "adamw": adamw,
        "gradient_accumulation": gradient_accumulation,
        "clip_grad_norm": clip_grad_norm,
        "frozen_parameters": frozen_parameters,
    }
