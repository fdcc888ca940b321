"""Learning-rate schedules: ``keras.optimizers.schedules`` called at the optimizer's step counts
0..steps, and the ``ReduceLROnPlateau`` callback driven through ``on_epoch_end`` with the logs a
``fit`` would pass (see :mod:`..ops`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Tensor = Any


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    ops, schedules = keras.ops, keras.optimizers.schedules

    def rates(base_lr: Tensor, steps: int, schedule: Any) -> np.ndarray:
        """The schedule at each step count 0..steps, in the base rate's dtype (Keras's floatx).

        On JAX the counts go through one ``jax.vmap`` of the schedule (the function the
        optimizer calls with its step count; elementwise in it), padded to a power of two: an
        eager ``ops.cond`` (CosineDecay's warmup) would compile its branches at every call.
        On torch, one call per count."""
        dtype = keras.backend.standardize_dtype(base_lr.dtype)
        if keras.backend.backend() != "jax":
            return np.array(
                [ops.convert_to_numpy(schedule(step)) for step in range(steps + 1)], dtype=dtype
            )
        import jax
        import jax.numpy as jnp

        counts = jnp.arange(1 << steps.bit_length(), dtype=jnp.int32)  # > steps
        return np.asarray(jax.vmap(schedule)(counts))[: steps + 1].astype(dtype)

    def step_lr(base_lr: Tensor, *, step_size: int, gamma: float = 0.1, steps: int) -> np.ndarray:
        schedule = schedules.ExponentialDecay(float(base_lr), step_size, gamma, staircase=True)
        return rates(base_lr, steps, schedule)

    def multistep_lr(
        base_lr: Tensor, *, milestones: Sequence[int], gamma: float = 0.1, steps: int
    ) -> np.ndarray:
        # PiecewiseConstantDecay's value changes once step > boundary: boundaries m - 1; a
        # milestone listed twice decays twice (PyTorch's count), so values repeat the power.
        counts = sorted(Counter(milestones).items())
        boundaries = [m - 1 for m, _ in counts]
        values, decays = [float(base_lr)], 0
        for _, count in counts:
            decays += count
            values.append(float(base_lr) * gamma**decays)
        if not boundaries:
            return rates(base_lr, steps, lambda step: ops.convert_to_tensor(values[0]))
        return rates(base_lr, steps, schedules.PiecewiseConstantDecay(boundaries, values))

    def exponential_lr(base_lr: Tensor, *, gamma: float, steps: int) -> np.ndarray:
        return rates(base_lr, steps, schedules.ExponentialDecay(float(base_lr), 1, gamma))

    def cosine_annealing_lr(
        base_lr: Tensor, *, t_max: int, eta_min: float = 0.0, steps: int
    ) -> np.ndarray:
        lr = float(base_lr)
        schedule = schedules.CosineDecay(lr, t_max, alpha=eta_min / lr if lr else 0.0)
        return rates(base_lr, steps, schedule)

    def linear_warmup(
        base_lr: Tensor,
        *,
        start_factor: float = 1 / 3,
        end_factor: float = 1.0,
        total_steps: int = 5,
        steps: int,
    ) -> np.ndarray:
        # Keras's linear schedule is PolynomialDecay with power 1 (held past decay_steps)
        lr = float(base_lr)
        schedule = schedules.PolynomialDecay(
            lr * start_factor, total_steps, end_learning_rate=lr * end_factor, power=1.0
        )
        return rates(base_lr, steps, schedule)

    def warmup_cosine(
        base_lr: Tensor,
        *,
        warmup_steps: int,
        decay_steps: int,
        start_lr: float = 0.0,
        end_lr: float = 0.0,
        steps: int,
    ) -> np.ndarray:
        lr = float(base_lr)
        schedule = schedules.CosineDecay(
            start_lr,
            decay_steps,
            alpha=end_lr / lr if lr else 0.0,
            warmup_target=lr,
            warmup_steps=warmup_steps,
        )
        return rates(base_lr, steps, schedule)

    def reduce_lr_on_plateau(
        base_lr: Tensor,
        metrics: Tensor,
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
        del threshold_mode, eps  # absolute only (a declared limit); Keras has no eps
        model = keras.Sequential()
        model.compile(optimizer=keras.optimizers.SGD(float(base_lr)))
        callback = keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss",
            factor=factor,
            patience=patience,
            mode=mode,
            min_delta=threshold,
            cooldown=cooldown,
            min_lr=min_lr,
        )
        callback.set_model(model)
        callback.on_train_begin()
        dtype = keras.backend.standardize_dtype(metrics.dtype)
        out = []
        for epoch, value in enumerate(ops.convert_to_numpy(metrics)):
            callback.on_epoch_end(epoch, {"loss": float(value), "val_loss": float(value)})
            out.append(ops.convert_to_numpy(model.optimizer.learning_rate))
        return np.array(out, dtype=dtype)

    return {
        "step_lr": step_lr,
        "multistep_lr": multistep_lr,
        "exponential_lr": exponential_lr,
        "cosine_annealing_lr": cosine_annealing_lr,
        "linear_warmup": linear_warmup,
        "warmup_cosine": warmup_cosine,
        "reduce_lr_on_plateau": reduce_lr_on_plateau,
    }
