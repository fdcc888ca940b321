"""Data augmentation: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def table(torch: Any, device: str) -> dict[str, Callable[..., Any]]:

    return {
        "horizontal_flip": lambda image: torch.flip(image, [-1]),
        "vertical_flip": lambda image: torch.flip(image, [-2]),
        "rot90": lambda image, *, k=1: torch.rot90(image, k, [-2, -1]),
    }
