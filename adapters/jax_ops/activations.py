"""Activations: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Array = Any


def table(jax: Any, optax: Any) -> dict[str, Callable[..., Any]]:
    jnp = jax.numpy

    def softplus(x: Array, *, beta: float = 1.0, threshold: float = 20.0) -> Array:
        # jax.nn.softplus is logaddexp(x, 0): no beta and no linear region (the threshold is
        # PyTorch's), so beta scales in and out as the formula softplus(beta x) / beta says.
        del threshold
        return jax.nn.softplus(x) if beta == 1.0 else jax.nn.softplus(beta * x) / beta

    def gelu(x: Array, *, approximate: str | None = None) -> Array:
        if approximate is None:  # jax.nn.gelu's own default: the tanh form
            return jax.nn.gelu(x)
        return jax.nn.gelu(x, approximate=approximate == "tanh")

    return {
        "relu": jax.nn.relu,
        "leaky_relu": lambda x, *, negative_slope=0.01: jax.nn.leaky_relu(x, negative_slope),
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "softplus": softplus,
        "gelu": gelu,
        "silu": jax.nn.silu,
        "elu": lambda x, *, alpha=1.0: jax.nn.elu(x, alpha),
        "softmax": lambda x, *, axis=-1: jax.nn.softmax(x, axis=axis),
        "log_softmax": lambda x, *, axis=-1: jax.nn.log_softmax(x, axis=axis),
    }
