"""The conventions frameworks follow, for every variant the spec names (``"<concept>.<variant>"``
to a value of ``spec/catalogue.toml``), verified against the framework's source or behaviour on
each concept's spec page. Adapters declare one of these, or their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

PYTORCH: Final[Mapping[str, str]] = {
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
"""PyTorch's (and torchmetrics' for accuracy; ``warmup_cosine`` has no PyTorch scheduler, so the
composed one follows optax's horizon)."""
