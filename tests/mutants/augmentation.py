"""Mutants of the augmentation concepts (Data augmentation) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import augmentation as aug

from ._registry import jax_mutant, mutant, torch_mutant


@mutant("HflipWrongAxis", "horizontal_flip", "flips the height axis.")
def _hflip_wrong_axis(image):
    return np.flip(image, axis=-2).copy()


@mutant("VflipBatchAxis", "vertical_flip", "flips axis 0: right for one image, wrong for a batch.")
def _vflip_batch_axis(image):
    return np.flip(image, axis=0).copy()


@mutant("Rot90Clockwise", "rot90", "turns clockwise.")
def _rot90_clockwise(image, *, k=1):
    return aug.rot90(image, k=-k)


@mutant(
    "ResizeAlignCornersFlipped",
    "resize",
    "reads align_corners the wrong way round: corner-aligned where half-pixel is asked, and back.",
)
def _resize_align_corners_flipped(
    image, *, size, method="bilinear", align_corners=False, antialias=False
):
    flipped = method != "nearest" and not antialias and not align_corners
    return aug.resize(image, size=size, method=method, align_corners=flipped, antialias=antialias)


@mutant(
    "ResizeBicubicKeysHalf",
    "resize",
    "bicubic with a = -1/2 where the declared (PyTorch) kernel is a = -3/4, edges repeated.",
)
def _resize_bicubic_keys_half(
    image, *, size, method="bilinear", align_corners=False, antialias=False
):
    if method != "bicubic" or antialias:
        return aug.resize(
            image, size=size, method=method, align_corners=align_corners, antialias=antialias
        )
    rows, columns = (
        aug._weights(n_in, n_out, method, align_corners, False, image.dtype, cubic_a=-0.5)
        for n_in, n_out in zip(image.shape[-2:], size, strict=True)
    )
    return np.einsum("ip,...pq,jq->...ij", rows, image, columns)


@mutant(
    "ResizeAntialiasForgotten",
    "resize",
    "ignores antialias: a downsample aliases where a low-pass filter was asked for.",
)
def _resize_antialias_forgotten(
    image, *, size, method="bilinear", align_corners=False, antialias=False
):
    return aug.resize(image, size=size, method=method, align_corners=align_corners)


@mutant(
    "ResizeNearestAsymmetric",
    "resize",
    "nearest as floor(i n_in / n_out), PyTorch's legacy mode='nearest', not the half-pixel rule.",
)
def _resize_nearest_asymmetric(
    image, *, size, method="bilinear", align_corners=False, antialias=False
):
    if method != "nearest":
        return aug.resize(
            image, size=size, method=method, align_corners=align_corners, antialias=antialias
        )
    rows = np.arange(size[0]) * image.shape[-2] // size[0]
    columns = np.arange(size[1]) * image.shape[-1] // size[1]
    return image[..., rows, :][..., columns].copy()


@mutant(
    "ResizeGradHalfPixelAlways",
    "resize_grad",
    "spreads the cotangent back on the half-pixel grid even when the forward aligned corners.",
)
def _resize_grad_half_pixel_always(
    image, cotangent, *, size, method="bilinear", align_corners=False, antialias=False
):
    return aug.resize_grad(image, cotangent, size=size, method=method, antialias=antialias)


@torch_mutant(
    "TorchResizeLegacyNearest",
    "resize",
    "F.interpolate(mode='nearest'), the asymmetric floor rule, for the half-pixel nearest.",
)
def _t_resize_legacy_nearest(
    image, *, size, method="bilinear", align_corners=False, antialias=False
):
    import torch.nn.functional as F

    *batch, height, width = image.shape
    images = image.reshape(-1, 1, height, width)
    if method == "nearest":
        out = F.interpolate(images, size=tuple(size), mode="nearest")
    else:
        out = F.interpolate(
            images, size=tuple(size), mode=method, align_corners=align_corners, antialias=antialias
        )
    return out.reshape(*batch, *size)


@jax_mutant(
    "JaxResizeCornersUntranslated",
    "resize",
    "align_corners through scale_and_translate with the scale right but no translation.",
)
def _j_resize_corners_untranslated(
    image, *, size, method="bilinear", align_corners=False, antialias=True
):
    import jax
    import jax.numpy as jnp

    shape = (*image.shape[:-2], *size)
    if not align_corners:
        return jax.image.resize(image, shape, method, antialias=antialias)
    scale = [
        (o - 1) / (i - 1) if i > 1 and o > 1 else 1.0
        for i, o in zip(image.shape[-2:], size, strict=True)
    ]
    return jax.image.scale_and_translate(
        image,
        shape,
        (image.ndim - 2, image.ndim - 1),
        jnp.array(scale, image.dtype),
        jnp.zeros(2, image.dtype),
        "cubic" if method == "bicubic" else "linear",
        antialias=False,
    )
