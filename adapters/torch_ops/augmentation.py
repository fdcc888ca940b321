"""Data augmentation: the torch backends' entries of its concepts (see :mod:`..torch_ops`):
``torch.flip``, ``torch.rot90`` and ``F.interpolate`` (``nearest`` is its half-pixel
``nearest-exact``; its ``nearest`` mode is the asymmetric ``floor(i n_in / n_out)``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

MODES = {"nearest": "nearest-exact", "bilinear": "bilinear", "bicubic": "bicubic"}


def table(torch: Any, device: str) -> dict[str, Callable[..., Any]]:
    interpolate = torch.nn.functional.interpolate

    def resize(
        image: Any,
        *,
        size: Sequence[int],
        method: str = "bilinear",
        align_corners: bool = False,
        antialias: bool = False,
    ) -> Any:
        *batch, height, width = image.shape
        images = image.reshape(-1, 1, height, width)  # (N, C, H, W)
        out = interpolate(
            images,
            size=tuple(size),
            mode=MODES[method],
            align_corners=None if method == "nearest" else align_corners,
            antialias=antialias and method != "nearest",
        )
        return out.reshape(*batch, *size)

    return {
        "horizontal_flip": lambda image: torch.flip(image, [-1]),
        "vertical_flip": lambda image: torch.flip(image, [-2]),
        "rot90": lambda image, *, k=1: torch.rot90(image, k, [-2, -1]),
        "resize": resize,
    }
