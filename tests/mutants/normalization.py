"""Mutants of the normalization concepts (Normalization) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import normalization as norm

from ._registry import jax_mutant, mutant, torch_mutant

LOW_PRECISION = ("float16",)
"""The dtype the low-precision mutants run in, where each is caught: one, for make test's time."""


@mutant(
    "LayerNormMeanAccumulatedInHalf",
    "layer_norm",
    "declares it computes in float32, as PyTorch's kernel does, but adds up the mean in the "
    "float16 or bfloat16 input's own dtype, one rounding per element.",
    dtypes=LOW_PRECISION,
    conventions={"layer_norm.low_precision_compute": "float32"},
)
def _layer_norm_mean_accumulated_in_half(x, weight, bias, *, eps=1e-5):
    total = x[..., :1]
    for j in range(1, x.shape[-1]):
        total = total + x[..., j : j + 1]  # rounds to x.dtype: the accumulator is the bug
    wide = x.astype(np.float32)
    centred = wide - total.astype(np.float32) / np.float32(x.shape[-1])
    variance = np.mean(centred * centred, axis=-1, keepdims=True)
    out = centred / np.sqrt(variance + np.float32(eps))
    return (out * weight.astype(np.float32) + bias.astype(np.float32)).astype(x.dtype)


@mutant(
    "StandardizeEpsilonUnderflows",
    "standardize",
    "epsilon enters in the dtype with subnormals flushed (a constant built under flush-to-zero): "
    "1e-5 is a float16 subnormal, so a constant feature with epsilon 1e-5 gives 0 / 0 = NaN.",
    dtypes=LOW_PRECISION,
)
def _standardize_epsilon_underflows(x, *, axis=0, ddof=0, epsilon=0.0):
    tiny = float(np.finfo(np.float16).tiny) if x.dtype == np.float16 else 0.0
    flushed = epsilon if abs(epsilon) >= tiny else 0.0
    mean = np.mean(x, axis=axis, keepdims=True)
    centred = x - mean
    count = x.dtype.type(x.shape[axis] - ddof)
    variance = np.sum(centred * centred, axis=axis, keepdims=True) / count
    with np.errstate(divide="ignore", invalid="ignore"):
        z = centred / np.sqrt(variance + x.dtype.type(flushed))
    # the honest adapter's guard, on the epsilon asked for: a constant feature maps to 0 at 0
    constant = np.max(x, axis=axis, keepdims=True) == np.min(x, axis=axis, keepdims=True)
    return np.where(constant & (epsilon == 0), 0, z).astype(x.dtype)


@mutant(
    "StandardizeOverEveryElement",
    "standardize",
    "one mean and variance over the whole array, not per lane along axis.",
)
def _standardize_over_every_element(x, *, axis=0, ddof=0, epsilon=0.0):
    mean, spread = np.mean(x), np.sqrt(np.var(x, ddof=ddof) + epsilon)
    return (x - mean) / spread


@mutant("LayerNormWithFlaxDefault", "layer_norm", "eps defaults to Flax's 1e-6, not 1e-5.")
def _layer_norm_with_flax_default(x, weight, bias, *, eps=1e-6):
    return norm.layer_norm(x, weight, bias, eps=eps)


@mutant("MinMaxGlobal", "min_max_scale", "one min and max for the whole array, not per feature.")
def _min_max_global(x, *, axis=0, feature_min=0.0, feature_max=1.0):
    low, high = np.min(x), np.max(x)
    a, b = x.dtype.type(feature_min), x.dtype.type(feature_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(high == low, a, a + (b - a) * ((x - low) / (high - low))).astype(x.dtype)


@mutant("StandardizeUnbiased", "standardize", "ddof=1 whatever is asked.")
def _standardize_unbiased(x, *, axis=0, ddof=0, epsilon=0.0):
    return norm.standardize(x, axis=axis, ddof=1 if x.shape[axis] > 1 else 0, epsilon=epsilon)


@mutant(
    "BatchNormBiasedRunningVar", "batch_norm", "biased running variance while declaring unbiased."
)
def _batch_norm_biased_running_var(
    x, running_mean, running_variance, weight, bias, *, training=True, momentum=0.1, eps=1e-5
):
    out = norm.batch_norm(
        x,
        running_mean,
        running_variance,
        weight,
        bias,
        training=training,
        momentum=momentum,
        eps=eps,
    )
    if training:
        variance = np.mean((x - np.mean(x, axis=0)) ** 2, axis=0)
        out[-1] = (1 - momentum) * running_variance + momentum * variance
    return out


@mutant("LayerNormOverEverything", "layer_norm", "statistics over the whole tensor, not per row.")
def _layer_norm_over_everything(x, weight, bias, *, eps=1e-5):
    flat = norm.standardize(x.reshape(1, -1), axis=-1, epsilon=eps).reshape(x.shape)
    return flat * weight + bias


@mutant(
    "BatchNormGradStatisticsConstant",
    "batch_norm_grad",
    "the batch statistics treated as constants in training mode.",
)
def _batch_norm_grad_statistics_constant(x, weight, bias, cotangent, *, eps=1e-5):
    # the evaluation-mode gradient: the batch mean and variance treated as constants
    return cotangent * weight / np.sqrt(np.var(x, axis=0) + x.dtype.type(eps))


@mutant(
    "LayerNormGradWithoutWeight",
    "layer_norm_grad",
    "the chain rule through the affine weight left out.",
)
def _layer_norm_grad_without_weight(x, weight, bias, cotangent, *, eps=1e-5):
    return norm.layer_norm_grad(x, np.ones_like(weight), bias, cotangent, eps=eps)


@mutant(
    "StandardizeGradBiasedAlways",
    "standardize_grad",
    "ddof ignored: the biased variance's derivative.",
)
def _standardize_grad_biased_always(x, cotangent, *, axis=0, ddof=0, epsilon=0.0):
    return norm.standardize_grad(x, cotangent, axis=axis, ddof=0, epsilon=epsilon)


@torch_mutant(
    "TorchBatchNormGradDetachedStatistics",
    "batch_norm_grad",
    "hand-written batch norm with .detach() on the batch mean and variance.",
)
def _t_batch_norm_grad_detached_statistics(x, weight, bias, cotangent, *, eps=1e-5):
    import torch
    from dlspec.adapters import torch_ops

    def normalized(v, weight, bias):
        mean, variance = v.mean(0).detach(), v.var(0, unbiased=False).detach()
        return (v - mean) / torch.sqrt(variance + eps) * weight + bias

    return torch_ops.vjp(torch)(normalized, 0)(x, weight, bias, cotangent)


@jax_mutant(
    "JaxLayerNormGradStoppedStatistics",
    "layer_norm_grad",
    "stop_gradient on the mean and variance of a hand-written layer norm.",
)
def _j_layer_norm_grad_stopped_statistics(x, weight, bias, cotangent, *, eps=1e-5):
    import jax
    import jax.numpy as jnp
    from dlspec.adapters import jax_ops

    def normalized(v, weight, bias, *, eps):
        mean = jax.lax.stop_gradient(jnp.mean(v, axis=-1, keepdims=True))
        variance = jax.lax.stop_gradient(jnp.var(v, axis=-1, keepdims=True))
        return (v - mean) / jnp.sqrt(variance + eps) * weight + bias

    return jax_ops.vjp(jax)(normalized, 0)(x, weight, bias, cotangent, eps=eps)
