"""Mutants of the schedules concepts (Learning-rate schedules) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import schedules as sched

from ._registry import jax_mutant, mutant, torch_mutant


@mutant("StepLrCountingFromOne", "step_lr", "decays one step early.")
def _step_lr_counting_from_one(base_lr, *, step_size, gamma=0.1, steps):
    return sched._rates(base_lr, steps, lambda t, b: b * gamma ** ((t + 1) // step_size))


@mutant("MultistepDeduplicated", "multistep_lr", "a repeated milestone decays once.")
def _multistep_deduplicated(base_lr, *, milestones, gamma=0.1, steps):
    return sched.multistep_lr(base_lr, milestones=sorted(set(milestones)), gamma=gamma, steps=steps)


@mutant(
    "ExponentialFromStepOne", "exponential_lr", "gamma^(t + 1): the first update already decayed."
)
def _exponential_from_step_one(base_lr, *, gamma, steps):
    return sched._rates(base_lr, steps, lambda t, b: b * gamma ** (t + 1))


@mutant("CosineClamped", "cosine_annealing_lr", "clamps past T_max while declaring periodic.")
def _cosine_clamped(base_lr, *, t_max, eta_min=0.0, steps):
    return sched._rates(
        base_lr,
        steps,
        lambda t, b: eta_min + (b - eta_min) * sched._half_cosine(min(t, t_max) / t_max),
    )


@mutant("WarmupWithoutClamp", "linear_warmup", "keeps rising past total_steps.")
def _warmup_without_clamp(base_lr, *, start_factor=1 / 3, end_factor=1.0, total_steps=5, steps):
    return sched._rates(
        base_lr,
        steps,
        lambda t, b: b * (start_factor + (end_factor - start_factor) * t / total_steps),
    )


@mutant("WarmupCosineAfterWarmup", "warmup_cosine", "Keras' horizon while declaring optax's.")
def _warmup_cosine_after_warmup(
    base_lr, *, warmup_steps, decay_steps, start_lr=0.0, end_lr=0.0, steps
):
    return sched.warmup_cosine(
        base_lr,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps + warmup_steps,
        start_lr=start_lr,
        end_lr=end_lr,
        steps=steps,
    )


@mutant(
    "PlateauReachesPatience",
    "reduce_lr_on_plateau",
    "reduces one epoch early (optax's rule) while declaring PyTorch's.",
)
def _plateau_reaches_patience(base_lr, metrics, *, patience=10, **settings):
    return sched.reduce_lr_on_plateau(base_lr, metrics, patience=max(patience - 1, 0), **settings)


@mutant(
    "PlateauWithoutEps",
    "reduce_lr_on_plateau",
    "makes a reduction of at most eps (optax's rule) while declaring PyTorch's.",
)
def _plateau_without_eps(base_lr, metrics, *, eps=1e-8, **settings):
    return sched.reduce_lr_on_plateau(base_lr, metrics, eps=-np.inf, **settings)


def _t_rates(base_lr, steps, make, *, scheduler_first=False):
    import torch

    theta = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([theta], lr=float(base_lr))
    scheduler = make(optimizer)
    out = []
    for _ in range(steps + 1):
        if scheduler_first:  # the pre-1.1 order: the rate read after scheduler.step()
            scheduler.step()
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if not scheduler_first:
            scheduler.step()
    return torch.tensor(out, dtype=base_lr.dtype)


@torch_mutant(
    "TorchStepLrSchedulerFirst",
    "step_lr",
    "scheduler.step() before optimizer.step(): one step early.",
)
def _t_step_lr_scheduler_first(base_lr, *, step_size, gamma=0.1, steps):
    import torch

    return _t_rates(
        base_lr,
        steps,
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma),
        scheduler_first=True,
    )


@torch_mutant(
    "TorchMultistepDeduplicated",
    "multistep_lr",
    "milestones passed through set(): repeats decay once.",
)
def _t_multistep_set(base_lr, *, milestones, gamma=0.1, steps):
    import torch

    return _t_rates(
        base_lr,
        steps,
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, sorted(set(milestones)), gamma),
    )


@torch_mutant(
    "TorchExponentialSchedulerFirst",
    "exponential_lr",
    "scheduler.step() first: the first update already decayed.",
)
def _t_exponential_scheduler_first(base_lr, *, gamma, steps):
    import torch

    return _t_rates(
        base_lr,
        steps,
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma),
        scheduler_first=True,
    )


@torch_mutant("TorchCosineTmaxPlusOne", "cosine_annealing_lr", "T_max off by one.")
def _t_cosine_t_max_plus_one(base_lr, *, t_max, eta_min=0.0, steps):
    import torch

    return _t_rates(
        base_lr, steps, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, t_max + 1, eta_min)
    )


@torch_mutant(
    "TorchLinearLrDefaultStart", "linear_warmup", "start_factor not passed: PyTorch's 1/3."
)
def _t_linear_default_factor(base_lr, *, start_factor=1 / 3, end_factor=1.0, total_steps=5, steps):
    import torch

    def make(optimizer):  # start_factor not passed: PyTorch's default 1/3
        return torch.optim.lr_scheduler.LinearLR(
            optimizer, end_factor=end_factor, total_iters=total_steps
        )

    return _t_rates(base_lr, steps, make)


@torch_mutant(
    "TorchWarmupCosineKerasHorizon",
    "warmup_cosine",
    "the cosine over decay_steps after the warmup.",
)
def _t_warmup_cosine_keras_horizon(
    base_lr, *, warmup_steps, decay_steps, start_lr=0.0, end_lr=0.0, steps
):
    import math

    import torch

    peak, length = float(base_lr), decay_steps  # the cosine over decay_steps after the warmup
    scale = peak or 1.0  # LambdaLR multiplies the base rate: a zero peak stays 0 whatever

    def factor(t):
        if t < warmup_steps:
            return (start_lr + (peak - start_lr) * t / warmup_steps) / scale
        cosine = (1 + math.cos(math.pi * min(t - warmup_steps, length) / length)) / 2
        return (end_lr + (peak - end_lr) * cosine) / scale

    return _t_rates(base_lr, steps, lambda o: torch.optim.lr_scheduler.LambdaLR(o, factor))


@torch_mutant(
    "TorchPlateauPatienceMinusOne", "reduce_lr_on_plateau", "patience - 1: reduces an epoch early."
)
def _t_plateau_patience_minus_one(base_lr, metrics, *, patience=10, **settings):
    import torch

    theta = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([theta], lr=float(base_lr))
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, patience=max(patience - 1, 0), **settings
    )
    out = []
    for value in metrics.tolist():
        optimizer.step()
        scheduler.step(value)
        out.append(optimizer.param_groups[0]["lr"])
    return torch.tensor(out, dtype=metrics.dtype)


@jax_mutant("JaxStepLrContinuous", "step_lr", "exponential_decay without staircase=True.")
def _j_step_lr_continuous(base_lr, *, step_size, gamma=0.1, steps):
    import optax
    from dlspec.adapters import jax_ops

    return jax_ops.schedules.rates(
        base_lr, steps, optax.exponential_decay(base_lr, step_size, gamma)
    )


@jax_mutant(
    "JaxMultistepDict", "multistep_lr", "{milestone: gamma}: a repeated milestone decays once."
)
def _j_multistep_dict(base_lr, *, milestones, gamma=0.1, steps):
    import optax
    from dlspec.adapters import jax_ops

    scales = dict.fromkeys(milestones, gamma)  # a repeated milestone decays once
    return jax_ops.schedules.rates(
        base_lr, steps, optax.piecewise_constant_schedule(base_lr, scales)
    )


@jax_mutant(
    "JaxExponentialFromOne", "exponential_lr", "the schedule called with count + 1: one step ahead."
)
def _j_exponential_from_one(base_lr, *, gamma, steps):
    import optax
    from dlspec.adapters import jax_ops

    schedule = optax.exponential_decay(base_lr, 1, gamma)
    return jax_ops.schedules.rates(base_lr, steps, lambda count: schedule(count + 1))


@jax_mutant("JaxCosineDecayStepsPlusOne", "cosine_annealing_lr", "decay_steps off by one.")
def _j_cosine_decay_steps_plus_one(base_lr, *, t_max, eta_min=0.0, steps):
    import optax
    from dlspec.adapters import jax_ops

    schedule = optax.cosine_decay_schedule(base_lr, t_max + 1, alpha=eta_min / base_lr)
    return jax_ops.schedules.rates(base_lr, steps, schedule)


@jax_mutant(
    "JaxLinearEndFactorIgnored",
    "linear_warmup",
    "linear_schedule ending at the base rate whatever end_factor says.",
)
def _j_linear_end_factor_ignored(
    base_lr, *, start_factor=1 / 3, end_factor=1.0, total_steps=5, steps
):
    import optax
    from dlspec.adapters import jax_ops

    schedule = optax.linear_schedule(base_lr * start_factor, base_lr, total_steps)
    return jax_ops.schedules.rates(base_lr, steps, schedule)


@jax_mutant(
    "JaxWarmupCosineKerasHorizon",
    "warmup_cosine",
    "decay_steps counted after the warmup (Keras's horizon).",
)
def _j_warmup_cosine_keras_horizon(
    base_lr, *, warmup_steps, decay_steps, start_lr=0.0, end_lr=0.0, steps
):
    import optax
    from dlspec.adapters import jax_ops

    schedule = optax.warmup_cosine_decay_schedule(
        start_lr, base_lr, warmup_steps, decay_steps + warmup_steps, end_value=end_lr
    )
    return jax_ops.schedules.rates(base_lr, steps, schedule)


@jax_mutant(
    "JaxPlateauPatiencePlusOne", "reduce_lr_on_plateau", "patience + 1: reduces an epoch late."
)
def _j_plateau_patience_plus_one(base_lr, metrics, *, patience=10, **settings):
    import jax
    import optax
    from dlspec.adapters import jax_ops

    plateau = jax_ops.table(jax, optax)["reduce_lr_on_plateau"]
    return plateau(base_lr, metrics, patience=patience + 1, **settings)


@jax_mutant(
    "JaxWarmupCosineZeroPeakNan",
    "warmup_cosine",
    "optax 0.1.9: NaN for a zero peak (end / peak); the cell's written-up float64 "
    "divergence must not hide it.",
)
def _j_warmup_cosine_zero_peak_nan(
    base_lr, *, warmup_steps, decay_steps, start_lr=0.0, end_lr=0.0, steps
):
    """optax 0.1.9's warmup_cosine_decay_schedule: its cosine part divides end_value by
    peak_value, which is 0 / 0 for a zero peak."""
    import jax
    import optax
    from dlspec.adapters import jax_ops

    schedule = jax_ops.table(jax, optax)["warmup_cosine"]
    rates = schedule(
        base_lr,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps,
        start_lr=start_lr,
        end_lr=end_lr,
        steps=steps,
    )
    return rates + 0 * ((end_lr + 0 * base_lr) / base_lr)


@jax_mutant(
    "JaxPlateauScaleInFloat32",
    "reduce_lr_on_plateau",
    "optax 0.2.3: the plateau's scale kept in float32 under x64; the cell's written-up "
    "min_lr divergence must not hide it.",
)
def _j_plateau_scale_in_float32(base_lr, metrics, **settings):
    """optax 0.2.3's reduce_on_plateau: its scale kept in float32 whatever the dtype, so a
    float64 rate is float32-accurate."""
    import jax
    import jax.numpy as jnp
    import optax
    from dlspec.adapters import jax_ops

    plateau = jax_ops.table(jax, optax)["reduce_lr_on_plateau"]
    scale = (plateau(base_lr, metrics, **settings) / base_lr).astype(jnp.float32)
    return (base_lr * scale.astype(base_lr.dtype)).astype(metrics.dtype)
