"""Information theory: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Array = Any


def table(jax: Any, optax: Any) -> dict[str, Callable[..., Any]]:
    jnp = jax.numpy
    special = jax.scipy.special

    def in_base(nats: Array, base: float | None) -> Array:
        return nats if base is None else nats / math.log(base)

    def entropy(p: Array, *, base: float | None = None, axis: int = -1) -> Array:
        return in_base(jnp.sum(special.entr(p), axis=axis), base)

    def cross_entropy(p: Array, q: Array, *, base: float | None = None, axis: int = -1) -> Array:
        return in_base(-jnp.sum(special.xlogy(p, q), axis=axis), base)

    def kl_divergence(p: Array, q: Array, *, base: float | None = None, axis: int = -1) -> Array:
        return in_base(jnp.sum(special.rel_entr(p, q), axis=axis), base)

    return {
        "entropy": entropy,
        "cross_entropy": cross_entropy,
        "kl_divergence": kl_divergence,
    }
