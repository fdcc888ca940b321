"""The conventions frameworks follow, for every variant the spec names (``"<concept>.<variant>"``
to a value of ``spec/catalogue/``), verified against the framework's source or behaviour on
each concept's spec page. Adapters declare one of these, or their own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

PYTORCH: Final[Mapping[str, str]] = {
    "subnormals": "preserved",
    "low_precision_compute": "dtype",  # float16, bfloat16; exceptions: PYTORCH_KERNELS_IN_FLOAT32
    "optimizer_state": "dtype",  # torch.optim: torch.zeros_like(p) for the buffers, eps a Python float
    "softplus.linear_region": "linear_above_threshold",
    "gelu.default_form": "none",
    "binary_cross_entropy.guard": "log_clamp_-100",
    "kl_divergence.clip": "none",
    "kl_divergence_grad.clip": "none",
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
    "reduce_lr_on_plateau.small_decrease": "skipped",
    "reduce_lr_on_plateau.cooldown_rule": "ignores_cooldown",
    "batch_norm.running_var": "unbiased",
    "batch_norm.momentum_convention": "weights_batch",
    "accuracy.threshold_rule": "strict",
    "relu_grad.at_zero": "zero",
    "leaky_relu_grad.at_zero": "negative_slope",
    "elu_grad.at_zero": "alpha",
    "mae_loss_grad.at_zero": "zero",
    "multi_target_loss_grad.at_zero": "zero",
    "l1_penalty_grad.at_zero": "zero",
    "binary_cross_entropy_grad.guard": "clamp_denominator_1e-12f",
    "resize.default_antialias": "off",
    "resize.cubic_kernel": "opencv",
    "resize.integer_rounding": "per_pass",  # F.interpolate's uint8 kernels, PIL's
    "grayscale.luma_weights": "matlab",  # torchvision's rgb_to_grayscale
    "normalize_channels.std_floor": "none",  # torchvision's normalize
    "adjust_contrast.contrast_mean": "grayscale",  # torchvision's adjust_contrast
    "adjust_contrast_grad.at_bound": "one",  # torch.clamp
    "adjust_brightness.brightness_form": "multiplicative",  # torchvision's adjust_brightness
    "adjust_brightness_grad.at_bound": "one",  # torch.clamp
    "grid_sample.point_coordinates": "normalised",  # F.grid_sample's grid in [-1, 1]
    "grid_sample_grad.point_coordinates": "normalised",
}
"""PyTorch's (and torchmetrics' for accuracy; ``warmup_cosine`` has no PyTorch scheduler, so the
composed one follows optax's horizon)."""

PYTORCH_KERNELS_IN_FLOAT32: Final[Mapping[str, str]] = {
    f"{concept}.low_precision_compute": "float32"
    for concept in (
        *("relu", "leaky_relu", "sigmoid", "tanh", "softplus", "gelu", "silu", "elu"),
        *("relu_grad", "leaky_relu_grad", "softplus_grad", "gelu_grad", "elu_grad"),
        *("mae_loss_grad", "l1_penalty_grad", "layer_norm"),
    )
}
"""PyTorch's kernels that compute a float16 or bfloat16 result in float32 (``at::opmath_type``)
and round it once: the elementwise activations, the derivatives that read only the input (not
the rounded output, as sigmoid's and tanh's do), and layer norm. Every other concept rounds
intermediates to the dtype (softmax's exponentials in bfloat16: 0.7 ulp at [0, 1, 1]; Huber's
derivative rounds the cotangent over n first: 0.67 ulp at g = 2.5, n = 3)."""

AUTOCAST_CPU_FLOAT32_LOSSES: Final = (
    *("mse_loss", "mae_loss", "huber_loss", "multi_target_loss", "kl_divergence"),
    *("binary_cross_entropy", "binary_cross_entropy_with_logits", "softmax_cross_entropy"),
)
"""The concepts whose PyTorch ops are on autocast's CPU float32 list (``mse_loss``, ``l1_loss``,
``huber_loss``, ``kl_div``, ``binary_cross_entropy``, ``binary_cross_entropy_with_logits``,
``cross_entropy_loss``): under ``torch.autocast("cpu")`` they upcast float16 and bfloat16
inputs and return float32; their derivatives are computed in float32 and cast back once, to the
inputs' dtype (KL's and BCE-with-logits' declared as rounding in the dtype: see below). Every
other concept runs in its inputs' dtype, as without autocast."""

PYTORCH_AUTOCAST_CPU: Final[Mapping[str, str]] = {
    **PYTORCH,
    **PYTORCH_KERNELS_IN_FLOAT32,
    **{f"{concept}.result_dtype": "float32" for concept in AUTOCAST_CPU_FLOAT32_LOSSES},
    **{  # the derivative of KL's torch.log(q) is computed in the dtype; BCE-with-logits'
        # sigmoid(-89) = 2.2e-39 is 0 in its float32 kernel (thorough sweep, seed 20261124)
        f"{concept}_grad.low_precision_compute": "float32"
        for concept in AUTOCAST_CPU_FLOAT32_LOSSES
        if concept not in ("kl_divergence", "binary_cross_entropy_with_logits")
    },
}
"""``torch.autocast`` on the CPU (backend ``torch-cpu-autocast``): PyTorch's conventions, and
float32 results for the concepts on autocast's float32 list (``<concept>.result_dtype``)."""

JAX: Final[Mapping[str, str]] = {
    "subnormals": "flushed",  # XLA on CPU: DAZ and FTZ, float32 and float64 (and bfloat16)
    "subnormals.float16": "preserved",  # computed in float32, where they are normal numbers
    "low_precision_compute": "dtype",  # XLA rounds each HLO op's result to the dtype
    "optimizer_state": "dtype",  # optax scale_by_adam: mu_dtype=None, nu in the params' dtype
    "softplus.linear_region": "none",
    "gelu.default_form": "tanh",
    "binary_cross_entropy.guard": "none",
    "kl_divergence.clip": "none",
    "kl_divergence_grad.clip": "none",
    "l2_penalty.scale": "half",
    "sgd.first_step_buffer": "dampened",
    "adam.eps_placement": "after_bias_correction",
    "adam.amsgrad_max": "bias_corrected",
    "adamw.eps_placement": "after_bias_correction",
    "adamw.amsgrad_max": "bias_corrected",
    "clip_grad_norm.norm_offset": "none",
    "cosine_annealing_lr.past_horizon": "clamped",
    "warmup_cosine.horizon": "includes_warmup",
    "reduce_lr_on_plateau.patience_rule": "reaches_patience",
    "reduce_lr_on_plateau.small_decrease": "applied",
    "reduce_lr_on_plateau.cooldown_rule": "ignores_cooldown",
    "batch_norm.running_var": "biased",
    "batch_norm.momentum_convention": "weights_running",
    "accuracy.threshold_rule": "strict",
    "relu_grad.at_zero": "zero",
    "leaky_relu_grad.at_zero": "one",
    "elu_grad.at_zero": "alpha",
    "mae_loss_grad.at_zero": "one",
    "multi_target_loss_grad.at_zero": "one",
    "l1_penalty_grad.at_zero": "one",
    "binary_cross_entropy_grad.guard": "none",
    "resize.default_antialias": "on",
    "resize.cubic_kernel": "keys",
    "resize.integer_rounding": "once",  # jax.image.resize: floats (a divergence), nearest exact
    "grayscale.luma_weights": "matlab",  # dm_pix's rgb_to_grayscale
    "normalize_channels.std_floor": "none",  # torchvision's formula
    "adjust_contrast.contrast_mean": "channel",  # dm_pix's adjust_contrast
    "adjust_contrast_grad.at_bound": "half",  # jnp.clip: maximum, then minimum
    "adjust_brightness.brightness_form": "additive",  # dm_pix's adjust_brightness, a delta
    "adjust_brightness_grad.at_bound": "half",  # jnp.clip
    "grid_sample.point_coordinates": "pixel",  # map_coordinates: array indices
    "grid_sample_grad.point_coordinates": "pixel",
}
"""JAX's and optax's (``jax.nn.softplus`` is ``logaddexp(x, 0)``, ``jax.nn.gelu`` defaults to the
tanh form, optax's ``trace`` starts from zero, ``scale_by_amsgrad`` takes the maximum of the
bias-corrected second moment, ``clip_by_global_norm`` leaves a small norm alone, cosine schedules
hold their end value, ``contrib.reduce_on_plateau`` reduces when the plateau count reaches the
patience and has no ``eps``). JAX has no binary cross entropy on probabilities, batch norm layer or accuracy: the
composed ones take ``xlogy`` unguarded, Flax's ``BatchNorm`` conventions and the strict threshold."""
