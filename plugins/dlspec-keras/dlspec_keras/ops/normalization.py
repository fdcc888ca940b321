"""Normalization: ``keras.layers.BatchNormalization`` and ``LayerNormalization`` through their
``stateless_call`` (the weights and the moving statistics passed in, the updated statistics
returned: what a JAX training step does, and what lets the backend differentiate in the weights);
min-max scaling and standardization composed from ``keras.ops`` (see :mod:`..ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Tensor = Any


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    ops, layers = keras.ops, keras.layers

    def by_name(variables: list[Any], values: dict[str, Tensor]) -> list[Tensor]:
        """``values`` in the order of the layer's ``variables``, matched by variable name."""
        return [values[v.name] for v in variables]

    def min_max_scale(
        x: Tensor, *, axis: int = 0, feature_min: float = 0.0, feature_max: float = 1.0
    ) -> Tensor:
        low, high = ops.min(x, axis=axis, keepdims=True), ops.max(x, axis=axis, keepdims=True)
        span = high - low
        scaled = feature_min + (feature_max - feature_min) * ((x - low) / span)
        return ops.where(span == 0, ops.cast(feature_min, x.dtype), scaled)

    def standardize(x: Tensor, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0) -> Tensor:
        # ops.mean and ops.var: keras.ops.moments on torch computes E[x^2] - E[x]^2, which
        # cancels (the batch_norm divergence); a Keras user standardizing data has both
        mean = ops.mean(x, axis=axis, keepdims=True)
        variance = ops.var(x, axis=axis, keepdims=True)
        if ddof:
            n = ops.shape(x)[axis]
            variance = variance * (n / (n - ddof))
        # a constant lane maps to 0 (x - mean is 0 exactly; with epsilon 0, the spec's and
        # scikit-learn's StandardScaler's rule): its rounded mean need not be its value, nor
        # its rounded variance 0
        constant = ops.max(x, axis=axis, keepdims=True) == ops.min(x, axis=axis, keepdims=True)
        spread = variance + epsilon
        flat = constant | (spread == 0)
        safe = ops.where(flat, ops.ones_like(spread), spread)
        return ops.where(flat, ops.zeros_like(x), (x - mean) / ops.sqrt(safe))

    def batch_norm(
        x: Tensor,
        running_mean: Tensor,
        running_variance: Tensor,
        weight: Tensor,
        bias: Tensor,
        *,
        training: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Tensor:
        dtype = keras.backend.standardize_dtype(x.dtype)
        layer = layers.BatchNormalization(momentum=momentum, epsilon=eps, dtype=dtype)
        layer.build(ops.shape(x))
        trainable = by_name(layer.trainable_variables, {"gamma": weight, "beta": bias})
        statistics = by_name(
            layer.non_trainable_variables,
            {"moving_mean": running_mean, "moving_variance": running_variance},
        )
        out, (new_mean, new_variance) = layer.stateless_call(
            trainable, statistics, x, training=training
        )
        return ops.concatenate([out, new_mean[None, :], new_variance[None, :]])

    def layer_norm(x: Tensor, weight: Tensor, bias: Tensor, *, eps: float = 1e-5) -> Tensor:
        dtype = keras.backend.standardize_dtype(x.dtype)
        layer = layers.LayerNormalization(epsilon=eps, dtype=dtype)
        layer.build(ops.shape(x))
        trainable = by_name(layer.trainable_variables, {"gamma": weight, "beta": bias})
        out, _ = layer.stateless_call(trainable, [], x)
        return out

    return {
        "min_max_scale": min_max_scale,
        "standardize": standardize,
        "batch_norm": batch_norm,
        "layer_norm": layer_norm,
    }
