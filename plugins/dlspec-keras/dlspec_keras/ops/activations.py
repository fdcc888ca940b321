"""Activations: ``keras.activations`` (see :mod:`..ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Tensor = Any


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    activations = keras.activations

    def softplus(x: Tensor, *, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        del beta, threshold  # Keras has neither: declared limits
        return activations.softplus(x)

    def gelu(x: Tensor, *, approximate: str | None = None) -> Tensor:
        if approximate is None:  # keras.activations.gelu's own default: the exact form
            return activations.gelu(x)
        return activations.gelu(x, approximate=approximate == "tanh")

    return {
        "relu": lambda x: activations.relu(x),
        "leaky_relu": lambda x, *, negative_slope=0.01: activations.leaky_relu(x, negative_slope),
        "sigmoid": activations.sigmoid,
        "tanh": activations.tanh,
        "softplus": softplus,
        "gelu": gelu,
        "silu": activations.silu,
        "elu": lambda x, *, alpha=1.0: activations.elu(x, alpha),
        "softmax": lambda x, *, axis=-1: activations.softmax(x, axis=axis),
        "log_softmax": lambda x, *, axis=-1: activations.log_softmax(x, axis=axis),
    }
