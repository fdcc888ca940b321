"""Regularization: ``keras.regularizers`` (see :mod:`..ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    regularizers = keras.regularizers
    return {
        "l1_penalty": lambda weights, *, strength: regularizers.L1(strength)(weights),
        "l2_penalty": lambda weights, *, strength: regularizers.L2(strength)(weights),
    }
