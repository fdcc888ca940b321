"""Data augmentation: ``keras.ops.flip``, ``rot90``, ``keras.ops.image.resize`` (see
:mod:`..ops`) and ``keras.layers.RandomRotation`` with its factor fixed at ``angle / 360`` (a
fraction of a turn; ``ops.random.uniform`` between equal bounds gives the bound), which builds
its own rotation matrix about the centre ``((W - 1)/2, (H - 1)/2)`` and calls
``ops.image.affine_transform``; ``fill_mode="constant"`` (its default is ``"reflect"``);
``keras.layers.Normalization`` with the channels' mean and variance given (``axis=-3``), which
divides by ``max(sqrt(variance), 1e-7)``. Keras'
resize has no ``align_corners``, nor its rotation factors beyond a turn (``adapter.LIMITS``)."""

from __future__ import annotations

import math
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

    def rotate(image: Any, *, angle: float, method: str = "bilinear", fill: float = 0.0) -> Any:
        *batch, height, width = image.shape
        images = ops.reshape(image, (-1, 1, height, width))
        layer = keras.layers.RandomRotation(
            factor=(angle / 360, angle / 360),
            fill_mode="constant",
            interpolation=method,
            fill_value=fill,
            data_format="channels_first",
            dtype=keras.backend.standardize_dtype(image.dtype),
        )
        return ops.reshape(layer(images, training=True), (*batch, height, width))

    def grayscale(image: Any) -> Any:
        *batch, channels, height, width = image.shape
        images = ops.reshape(image, (-1, channels, height, width))
        out = ops.image.rgb_to_grayscale(images, data_format="channels_first")
        return ops.reshape(out, (*batch, 1, height, width))

    def adjust_contrast(
        image: Any, *, factor: float, value_range: Sequence[float] | None = None
    ) -> Any:
        # RandomContrast draws 1 + U(-lower, upper) from its factor (lower, upper), sorted:
        # (1 - f, f - 1) fixes f >= 1 (adapter.LIMITS)
        *batch, channels, height, width = image.shape
        layer = keras.layers.RandomContrast(
            factor=(1 - factor, factor - 1),
            value_range=(-math.inf, math.inf) if value_range is None else tuple(value_range),
            data_format="channels_first",
            dtype=keras.backend.standardize_dtype(image.dtype),
        )
        images = ops.reshape(image, (-1, channels, height, width))
        return ops.reshape(layer(images, training=True), (*batch, channels, height, width))

    def normalize_channels(image: Any, *, mean: Sequence[float], std: Sequence[float]) -> Any:
        layer = keras.layers.Normalization(
            axis=-3,
            mean=list(mean),
            variance=[s * s for s in std],  # Keras takes the variance, a port squares the std
            dtype=keras.backend.standardize_dtype(image.dtype),
        )
        return layer(image)

    return {
        "horizontal_flip": lambda image: ops.flip(image, -1),
        "vertical_flip": lambda image: ops.flip(image, -2),
        "rot90": lambda image, *, k=1: ops.rot90(image, k, axes=(-2, -1)),
        "resize": resize,
        "rotate": rotate,
        "grayscale": grayscale,
        "normalize_channels": normalize_channels,
        "adjust_contrast": adjust_contrast,
    }
