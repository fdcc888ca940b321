"""Regularization: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Array = Any


def table(jax: Any, optax: Any) -> dict[str, Callable[..., Any]]:
    jnp = jax.numpy
    losses = optax.losses

    def l1_penalty(weights: Array, *, strength: float) -> Array:
        return strength * jnp.sum(jnp.abs(weights))

    def l2_penalty(weights: Array, *, strength: float) -> Array:
        # optax.l2_loss is w^2 / 2: the penalty whose gradient add_decayed_weights adds
        return strength * jnp.sum(losses.l2_loss(weights))

    return {
        "l1_penalty": l1_penalty,
        "l2_penalty": l2_penalty,
    }
