"""Data augmentation: ``keras.ops.flip`` and ``rot90`` (see :mod:`..ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    ops = keras.ops
    return {
        "horizontal_flip": lambda image: ops.flip(image, -1),
        "vertical_flip": lambda image: ops.flip(image, -2),
        "rot90": lambda image, *, k=1: ops.rot90(image, k, axes=(-2, -1)),
    }
