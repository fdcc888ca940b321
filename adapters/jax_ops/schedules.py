"""Learning-rate schedules: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .optimizers import compiled, stacked, steps_of

Array = Any


def rates(base_lr: Array, steps: int, schedule: Callable[[Array], Array]) -> Array:
    """An optax schedule at optax's ``int32`` step counts 0..steps, cast as optax casts it for
    the parameters: to the base rate's dtype.

    The counts go through one ``jax.vmap`` of the schedule, the very function optax calls with
    one count per step: its operations are elementwise in the count, so each rate is the one a
    single count gives, with one eager dispatch per operation rather than per operation and
    step. The counts run on to the next power of two, so that JAX compiles each operation for a
    handful of lengths, not one per ``steps``; NumPy drops the rates past ``steps`` and casts
    (rounding to nearest, as XLA's convert does), which in JAX would compile per length."""
    import jax
    import jax.numpy as jnp

    length = 1 << steps.bit_length()  # > steps, a power of two
    counts = jnp.arange(length, dtype=jnp.int32)
    return np.asarray(jax.vmap(schedule)(counts))[: steps + 1].astype(base_lr.dtype)


def step_lr(base_lr: Array, *, step_size: int, gamma: float = 0.1, steps: int) -> Array:
    import optax

    schedule = optax.exponential_decay(base_lr, step_size, gamma, staircase=True)
    return rates(base_lr, steps, schedule)


def multistep_lr(
    base_lr: Array, *, milestones: Sequence[int], gamma: float = 0.1, steps: int
) -> Array:
    import optax

    # a milestone listed twice decays twice (as PyTorch's MultiStepLR counts them)
    scales = {m: gamma**count for m, count in Counter(milestones).items()}
    return rates(base_lr, steps, optax.piecewise_constant_schedule(base_lr, scales))


def exponential_lr(base_lr: Array, *, gamma: float, steps: int) -> Array:
    import optax

    return rates(base_lr, steps, optax.exponential_decay(base_lr, 1, gamma))


def cosine_annealing_lr(base_lr: Array, *, t_max: int, eta_min: float = 0.0, steps: int) -> Array:
    import optax

    schedule = optax.cosine_decay_schedule(base_lr, t_max, alpha=eta_min / base_lr)
    return rates(base_lr, steps, schedule)


def linear_warmup(
    base_lr: Array,
    *,
    start_factor: float = 1 / 3,
    end_factor: float = 1.0,
    total_steps: int = 5,
    steps: int,
) -> Array:
    import optax

    schedule = optax.linear_schedule(
        base_lr * start_factor, base_lr * end_factor, transition_steps=total_steps
    )
    return rates(base_lr, steps, schedule)


def warmup_cosine(
    base_lr: Array,
    *,
    warmup_steps: int,
    decay_steps: int,
    start_lr: float = 0.0,
    end_lr: float = 0.0,
    steps: int,
) -> Array:
    import optax

    schedule = optax.warmup_cosine_decay_schedule(
        start_lr, base_lr, warmup_steps, decay_steps, end_value=end_lr
    )
    return rates(base_lr, steps, schedule)


def plateau(
    factor: float, patience: int, rtol: float, atol: float, cooldown: int, min_scale: float
) -> Any:
    import optax

    return optax.contrib.reduce_on_plateau(
        factor=factor,
        patience=patience,
        rtol=rtol,
        atol=atol,
        cooldown=cooldown,
        min_scale=min_scale,
    )


def reduce_lr_on_plateau(
    base_lr: Array,
    metrics: Array,
    *,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
) -> Array:
    import jax.numpy as jnp

    # optax scales the updates by state.scale; the rate is base_lr times it. It has no
    # mode (a declared limit) and no eps.
    del mode, eps
    relative = threshold_mode == "rel"
    transform = compiled(
        plateau,
        factor,
        patience,
        threshold if relative else 0.0,
        0.0 if relative else threshold,
        cooldown,
        float(min_lr / base_lr),
    )
    params = jnp.zeros((), dtype=metrics.dtype)
    state = transform.init(params)
    out = []
    for value in steps_of(metrics):
        _, state = transform.update(params, state, params, value=value)
        out.append(base_lr * state.scale)
    return stacked(out).astype(metrics.dtype)


def table(*_: Any) -> dict[str, Callable[..., Any]]:
    """The group's entries; each imports optax (and jax) when it is called."""
    return {
        "step_lr": step_lr,
        "multistep_lr": multistep_lr,
        "exponential_lr": exponential_lr,
        "cosine_annealing_lr": cosine_annealing_lr,
        "linear_warmup": linear_warmup,
        "warmup_cosine": warmup_cosine,
        "reduce_lr_on_plateau": reduce_lr_on_plateau,
    }
