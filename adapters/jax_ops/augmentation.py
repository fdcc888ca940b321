"""Data augmentation: the jax backends' entries of its concepts (see :mod:`..jax_ops`):
``jnp.flip``, ``jnp.rot90``, ``jax.image.resize``, and for ``align_corners=True`` (which
``resize`` does not offer) ``jax.image.scale_and_translate`` with the scale
``(n_out - 1)/(n_in - 1)`` and the translation ``(1 - scale)/2`` that put the corner pixels'
centres on each other; the rotation as ``jax.scipy.ndimage.map_coordinates`` (order 0 or 1,
``mode="constant"``: SciPy's ``grid-constant``, the fill read per tap) at the source points of
the spec's formula, in the image's dtype (float32 for an integer image, which map_coordinates
rounds half away from zero; ``jax.image.resize`` returns float32 for one, a written-up
divergence); sampling at given points as ``map_coordinates`` at them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def _corner_aligned(n_in: int, n_out: int) -> tuple[float, float]:
    """scale_and_translate's scale and translation for align_corners: its source coordinate is
    ``(i + 1/2 - t)/s - 1/2``, which is ``i (n_in - 1)/(n_out - 1)`` for ``s = (n_out - 1)/(n_in
    - 1)`` and ``t = (1 - s)/2``. One output pixel reads input pixel 0 (``s = 1``, ``t = 0``); one
    input pixel is read by all, at a scale large enough to keep every coordinate within its half
    pixel (its other taps fall off the image and are dropped)."""
    if n_out == 1 or n_in == n_out:
        return 1.0, 0.0
    scale = (n_out - 1) / (n_in - 1) if n_in > 1 else 2.0 * n_out
    return scale, (1.0 - scale) / 2


def table(jax: Any, optax: Any) -> dict[str, Callable[..., Any]]:
    jnp = jax.numpy

    def geometry_dtype(image: Any) -> Any:
        """The dtype of coordinates and factors: the image's, float32 for an integer image."""
        return image.dtype if jnp.issubdtype(image.dtype, jnp.floating) else jnp.float32

    def resize(
        image: Any,
        *,
        size: Sequence[int],
        method: str = "bilinear",
        align_corners: bool = False,
        antialias: bool = True,
    ) -> Any:
        shape = (*image.shape[:-2], *size)
        if not align_corners:
            return jax.image.resize(image, shape, method, antialias=antialias)
        (s_h, t_h), (s_w, t_w) = (
            _corner_aligned(n_in, n_out) for n_in, n_out in zip(image.shape[-2:], size, strict=True)
        )
        return jax.image.scale_and_translate(
            image,
            shape,
            (image.ndim - 2, image.ndim - 1),
            jnp.array([s_h, s_w], geometry_dtype(image)),
            jnp.array([t_h, t_w], geometry_dtype(image)),
            "cubic" if method == "bicubic" else "linear",
            antialias=False,
        )

    def pixel_grid(image: Any) -> tuple[Any, ...]:
        """Every pixel's row and column, and their offsets from the image's centre."""
        *_, height, width = image.shape
        i, j = jnp.meshgrid(
            jnp.arange(height, dtype=geometry_dtype(image)),
            jnp.arange(width, dtype=geometry_dtype(image)),
            indexing="ij",
        )
        return i, j, i - (height - 1) / 2, j - (width - 1) / 2

    def rotate(image: Any, *, angle: float, method: str = "bilinear", fill: float = 0.0) -> Any:
        *_, height, width = image.shape
        theta = jnp.deg2rad(jnp.asarray(angle, geometry_dtype(image)))
        cos, sin = jnp.cos(theta), jnp.sin(theta)
        _, _, d_row, d_column = pixel_grid(image)
        centre_row, centre_column = (height - 1) / 2, (width - 1) / 2
        source = [
            centre_row + cos * d_row + sin * d_column,
            centre_column - sin * d_row + cos * d_column,
        ]
        return sampled(image, source, method, fill)

    def shear(
        image: Any,
        *,
        shear_x: float = 0.0,
        shear_y: float = 0.0,
        method: str = "bilinear",
        fill: float = 0.0,
    ) -> Any:
        # JAX has none: map_coordinates at the spec's source points, the factors in the dtype
        i, j, d_row, d_column = pixel_grid(image)
        source = [
            i + jnp.asarray(shear_y, geometry_dtype(image)) * d_column,
            j + jnp.asarray(shear_x, geometry_dtype(image)) * d_row,
        ]
        return sampled(image, source, method, fill)

    def sampled(image: Any, source: list[Any], method: str, fill: float) -> Any:
        """Every image of the batch read at the ``(rows, columns)`` of ``source`` by
        map_coordinates, the fill read per tap off the image (mode="constant")."""
        *batch, height, width = image.shape
        order = 0 if method == "nearest" else 1

        def sample(one: Any) -> Any:
            return jax.scipy.ndimage.map_coordinates(one, source, order, mode="constant", cval=fill)

        out = jax.vmap(sample)(image.reshape(-1, height, width))
        return out.reshape(*batch, height, width)

    def grid_sample(image: Any, points: Any, *, fill: float = 0.0) -> Any:
        # map_coordinates reads pixel coordinates (row, column) as they are, each image at its
        # own points
        *_, height, width = image.shape

        def sample(one: Any, at: Any) -> Any:
            coordinates = [at[:, 0], at[:, 1]]
            return jax.scipy.ndimage.map_coordinates(
                one, coordinates, 1, mode="constant", cval=fill
            )

        images = image.reshape(-1, height, width)
        out = jax.vmap(sample)(images, points.reshape(images.shape[0], -1, 2))
        return out.reshape(points.shape[:-1])

    def grayscale(image: Any) -> Any:
        # dm_pix's rgb_to_grayscale (MATLAB's weights): JAX has none
        weights = jnp.array([0.2989, 0.5870, 0.1140], image.dtype)
        return jnp.tensordot(jnp.moveaxis(image, -3, -1), weights, axes=1)[..., None, :, :]

    def adjust_contrast(
        image: Any, *, factor: float, value_range: Sequence[float] | None = None
    ) -> Any:
        # dm_pix's adjust_contrast (tf.image's formula, each channel's mean), which does not
        # clip; jnp.clip to the value_range asked, if any
        mean = jnp.mean(image, axis=(-2, -1), keepdims=True)
        out = jnp.asarray(factor, image.dtype) * (image - mean) + mean
        return out if value_range is None else jnp.clip(out, *value_range)

    def adjust_brightness(
        image: Any, *, factor: float, value_range: Sequence[float] | None = None
    ) -> Any:
        # dm_pix's adjust_brightness (tf.image's): the delta in the image's dtype, added; it
        # does not clip: jnp.clip to the value_range asked, if any
        out = image + jnp.asarray(factor, image.dtype)
        return out if value_range is None else jnp.clip(out, *value_range)

    def normalize_channels(image: Any, *, mean: Sequence[float], std: Sequence[float]) -> Any:
        # JAX has none: torchvision's formula, the mean and std in the image's dtype
        def column(values: Sequence[float]) -> Any:
            return jnp.asarray(values, image.dtype)[:, None, None]

        return (image - column(mean)) / column(std)

    return {
        "horizontal_flip": lambda image: jnp.flip(image, -1),
        "vertical_flip": lambda image: jnp.flip(image, -2),
        "rot90": lambda image, *, k=1: jnp.rot90(image, k, axes=(-2, -1)),
        "resize": resize,
        "rotate": rotate,
        "shear": shear,
        "grid_sample": grid_sample,
        "grayscale": grayscale,
        "normalize_channels": normalize_channels,
        "adjust_contrast": adjust_contrast,
        "adjust_brightness": adjust_brightness,
    }
