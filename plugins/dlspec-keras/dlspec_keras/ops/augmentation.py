"""Data augmentation: ``keras.ops.flip``, ``rot90`` and ``keras.ops.image.resize`` (see
:mod:`..ops`). Keras' resize has no ``align_corners`` (``adapter.LIMITS``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    ops = keras.ops

    def resize(
        image: Any,
        *,
        size: Sequence[int],
        method: str = "bilinear",
        align_corners: bool = False,
        antialias: bool = False,
    ) -> Any:
        *batch, height, width = image.shape
        images = ops.reshape(image, (-1, 1, height, width))
        out = ops.image.resize(
            images,
            tuple(size),
            interpolation=method,
            antialias=antialias,
            data_format="channels_first",
        )
        return ops.reshape(out, (*batch, *size))

    return {
        "horizontal_flip": lambda image: ops.flip(image, -1),
        "vertical_flip": lambda image: ops.flip(image, -2),
        "rot90": lambda image, *, k=1: ops.rot90(image, k, axes=(-2, -1)),
        "resize": resize,
    }
