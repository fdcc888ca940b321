"""Activations: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Tensor = Any


def table(torch: Any, device: str) -> dict[str, Callable[..., Any]]:
    F = torch.nn.functional

    def softmax(x: Tensor, *, axis: int = -1) -> Tensor:
        return F.softmax(x, dim=axis)

    def log_softmax(x: Tensor, *, axis: int = -1) -> Tensor:
        return F.log_softmax(x, dim=axis)

    return {
        "relu": F.relu,
        "leaky_relu": lambda x, *, negative_slope=0.01: F.leaky_relu(x, negative_slope),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softplus": lambda x, *, beta=1.0, threshold=20.0: F.softplus(x, beta, threshold),
        "gelu": lambda x, *, approximate="none": F.gelu(x, approximate=approximate),
        "silu": F.silu,
        "elu": lambda x, *, alpha=1.0: F.elu(x, alpha),
        "softmax": softmax,
        "log_softmax": log_softmax,
    }
