"""Data augmentation: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def table(jax: Any, optax: Any) -> dict[str, Callable[..., Any]]:
    jnp = jax.numpy

    return {
        "horizontal_flip": lambda image: jnp.flip(image, -1),
        "vertical_flip": lambda image: jnp.flip(image, -2),
        "rot90": lambda image, *, k=1: jnp.rot90(image, k, axes=(-2, -1)),
    }
