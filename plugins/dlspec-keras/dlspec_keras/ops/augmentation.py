"""Data augmentation: ``keras.ops.flip``, ``rot90``, ``keras.ops.image.resize`` (see
:mod:`..ops`) and ``keras.layers.RandomRotation`` with its factor fixed at ``angle / 360`` (a
fraction of a turn; ``ops.random.uniform`` between equal bounds gives the bound), which builds
its own rotation matrix about the centre ``((W - 1)/2, (H - 1)/2)`` and calls
``ops.image.affine_transform``; ``fill_mode="constant"`` (its default is ``"reflect"``);
``keras.ops.image.affine_transform`` with a shear's matrix about the centre;
``keras.ops.image.map_coordinates`` (order 1) at given points;
``keras.layers.RandomBrightness`` with its factor fixed at the shift over the value range's
width; ``keras.layers.Normalization`` with the channels' mean and variance given (``axis=-3``), which
divides by ``max(sqrt(variance), 1e-7)``. Keras'
resize has no ``align_corners``, nor its rotation factors beyond a turn (``adapter.LIMITS``)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any


def sampled_at_points(ops: Any, image: Any, points: Any, order: int, fill: float) -> Any:
    """``keras.ops.image.map_coordinates`` (``fill_mode="constant"``), which reads the pixel
    coordinates (row, column) of one array: each image of the batch at its own points,
    stacked."""
    *_, height, width = image.shape
    images = ops.reshape(image, (-1, height, width))
    at = ops.reshape(points, (images.shape[0], -1, 2))
    out = ops.stack(
        [
            ops.image.map_coordinates(
                images[b], [at[b, :, 0], at[b, :, 1]], order, "constant", fill
            )
            for b in range(images.shape[0])
        ]
    )
    return ops.reshape(out, points.shape[:-1])


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

    def shear(
        image: Any,
        *,
        shear_x: float = 0.0,
        shear_y: float = 0.0,
        method: str = "bilinear",
        fill: float = 0.0,
    ) -> Any:
        # keras.ops.image.affine_transform maps an output (x, y) = (column, row) to the input
        # point (x + s_x y - s_x c_r, s_y x + y - s_y c_c): the shear about the centre.
        # RandomShear cannot be fixed: it draws the sign at random and shears about the corner
        # One row per image: the documented single vector of 8 raises for a batch of more than
        # one image in keras 3.15.1 (its reshape to (N, 3, 3) gets 9 numbers), on both backends
        *batch, height, width = image.shape
        images = ops.reshape(image, (-1, 1, height, width))
        centre_row, centre_column = (height - 1) / 2, (width - 1) / 2
        row = [1.0, shear_x, -shear_x * centre_row, shear_y, 1.0, -shear_y * centre_column, 0, 0]
        floating = keras.backend.is_float_dtype(keras.backend.standardize_dtype(image.dtype))
        transform = ops.convert_to_tensor(
            [row] * images.shape[0], dtype=image.dtype if floating else "float32"
        )  # an integer image's matrix in float32
        out = ops.image.affine_transform(
            images,
            transform,
            interpolation=method,
            fill_mode="constant",
            fill_value=fill,
            data_format="channels_first",
        )
        return ops.reshape(out, (*batch, height, width))

    def grid_sample(image: Any, points: Any, *, fill: float = 0.0) -> Any:
        return sampled_at_points(ops, image, points, 1, fill)

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

    def adjust_brightness(
        image: Any, *, factor: float, value_range: Sequence[float] | None = None
    ) -> Any:
        # RandomBrightness adds U(lower, upper) times the width of its value range, which it
        # always clips to (adapter.LIMITS): (t, t) with t = f / width fixes the shift f
        assert value_range is not None
        low, high = value_range
        *batch, channels, height, width = image.shape
        layer = keras.layers.RandomBrightness(
            factor=(factor / (high - low),) * 2,
            value_range=(low, high),
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
        "shear": shear,
        "grid_sample": grid_sample,
        "grayscale": grayscale,
        "normalize_channels": normalize_channels,
        "adjust_contrast": adjust_contrast,
        "adjust_brightness": adjust_brightness,
    }
