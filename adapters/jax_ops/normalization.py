"""Normalization: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Array = Any


def table(jax: Any, optax: Any) -> dict[str, Callable[..., Any]]:
    jnp = jax.numpy

    def min_max_scale(
        x: Array, *, axis: int = 0, feature_min: float = 0.0, feature_max: float = 1.0
    ) -> Array:
        low, high = jnp.min(x, axis=axis, keepdims=True), jnp.max(x, axis=axis, keepdims=True)
        span = high - low
        scaled = feature_min + (feature_max - feature_min) * ((x - low) / span)
        return jnp.where(span == 0, jnp.asarray(feature_min, x.dtype), scaled)

    def standardize(x: Array, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0) -> Array:
        # jax.nn.standardize computes the biased variance; another ddof is passed in.
        variance = jnp.var(x, axis=axis, ddof=ddof, keepdims=True) if ddof else None
        return jax.nn.standardize(x, axis=axis, variance=variance, epsilon=epsilon)

    def batch_norm(
        x: Array,
        running_mean: Array,
        running_variance: Array,
        weight: Array,
        bias: Array,
        *,
        training: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Array:
        # JAX has no batch norm layer (Flax has); composed with Flax's conventions: the biased
        # batch variance feeds the running average, and momentum weights the running value.
        if training:
            mean, variance = jnp.mean(x, axis=0), jnp.var(x, axis=0)
            new_mean = momentum * running_mean + (1 - momentum) * mean
            new_variance = momentum * running_variance + (1 - momentum) * variance
        else:
            mean, variance = running_mean, running_variance
            new_mean, new_variance = running_mean, running_variance
        out = jax.nn.standardize(x, axis=0, mean=mean, variance=variance, epsilon=eps)
        return jnp.concatenate([out * weight + bias, new_mean[None, :], new_variance[None, :]])

    def layer_norm(x: Array, weight: Array, bias: Array, *, eps: float = 1e-5) -> Array:
        return jax.nn.standardize(x, axis=-1, epsilon=eps) * weight + bias

    return {
        "min_max_scale": min_max_scale,
        "standardize": standardize,
        "batch_norm": batch_norm,
        "layer_norm": layer_norm,
    }
