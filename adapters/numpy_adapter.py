"""The NumPy backend, and the template to copy for a new framework.

NumPy has no deep-learning functions, so every concept is composed from NumPy operations
(``adapters/numpy_ops/``, one module per concept group). Where the spec names a variant, this
backend follows PyTorch's convention and says so in ``conventions``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from .base import Adapter
from .numpy_ops import (
    activations,
    augmentation,
    information,
    losses,
    normalization,
    optimizers,
    regularization,
    schedules,
    training,
)

GROUP_MODULES = (
    information,
    activations,
    losses,
    regularization,
    optimizers,
    schedules,
    normalization,
    training,
    augmentation,
)


class NumpyAdapter(Adapter):
    name = "numpy"
    conventions: ClassVar[Mapping[str, str]] = {
        "softplus.linear_region": "linear_above_threshold",
        "binary_cross_entropy.guard": "log_clamp_-100",
        "l2_penalty.scale": "half",
        "sgd.first_step_buffer": "gradient",
        "adam.eps_placement": "after_bias_correction",
        "adam.amsgrad_max": "raw_second_moment",
        "adamw.eps_placement": "after_bias_correction",
        "adamw.amsgrad_max": "raw_second_moment",
        "clip_grad_norm.norm_offset": "1e-6",
        "cosine_annealing_lr.past_horizon": "periodic",
        "warmup_cosine.horizon": "includes_warmup",
        "reduce_lr_on_plateau.patience_rule": "more_than_patience",
        "batch_norm.running_var": "unbiased",
        "batch_norm.momentum_convention": "weights_batch",
        "accuracy.threshold_rule": "strict",
    }

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        """The concepts each group module lists in ``__all__``, by name (the concept id)."""
        return {name: getattr(module, name) for module in GROUP_MODULES for name in module.__all__}

    def is_native(self, concept: str) -> bool:
        return False
