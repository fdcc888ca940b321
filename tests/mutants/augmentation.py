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


@mutant(
    "ResizeLevelsTruncated",
    "resize",
    "an integer image resampled in float32, then cast back with astype: truncated toward zero "
    "where the nearest level is asked (121.625 gives 121), saturation forgotten.",
)
def _resize_levels_truncated(
    image, *, size, method="bilinear", align_corners=False, antialias=False
):
    if np.issubdtype(image.dtype, np.floating):
        return aug.resize(
            image, size=size, method=method, align_corners=align_corners, antialias=antialias
        )
    resized = aug.resize.__wrapped__(
        image.astype(np.float32),
        size=size,
        method=method,
        align_corners=align_corners,
        antialias=antialias,
    )
    return resized.astype(image.dtype)


@mutant(
    "GridSampleLevelsFloored",
    "grid_sample",
    "an integer image's samples taken down to the level below (np.floor) where the nearest "
    "level is asked: 96.5 gives 96 (a tie, right), 127.75 gives 127 (wrong).",
)
def _grid_sample_levels_floored(image, points, *, fill=0.0):
    if np.issubdtype(image.dtype, np.floating):
        return aug.grid_sample(image, points, fill=fill)
    sampled = aug.grid_sample.__wrapped__(
        image.astype(np.float32), points.astype(np.float32), fill=fill
    )
    return np.floor(sampled).astype(image.dtype)


@torch_mutant(
    "TorchResizeUint8ThroughFloat",
    "resize",
    "a uint8 image converted to float32, interpolated and rounded once: not what the declared "
    "per_pass convention (F.interpolate's own uint8 kernels) computes.",
)
def _t_resize_uint8_through_float(
    image, *, size, method="bilinear", align_corners=False, antialias=False
):
    import torch
    import torch.nn.functional as F

    *batch, height, width = image.shape
    images = image.reshape(-1, 1, height, width)
    floating = images.is_floating_point()
    mode = {"nearest": "nearest-exact"}.get(method, method)
    out = F.interpolate(
        images if floating else images.to(torch.float32),
        size=tuple(size),
        mode=mode,
        align_corners=None if method == "nearest" else align_corners,
        antialias=antialias and method != "nearest",
    )
    if not floating:
        out = out.round().clamp(0, 255).to(image.dtype)
    return out.reshape(*batch, *size)


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


@mutant(
    "RotateAboutTheCorner",
    "rotate",
    "turns about pixel (0, 0), the array's origin, instead of the image's centre.",
)
def _rotate_about_the_corner(image, *, angle, method="bilinear", fill=0.0):
    sampling = aug._sampling(image.shape, angle, method, image.dtype, centre=(0, 0))
    return aug._resampled(image, sampling, fill)


@mutant(
    "RotateClockwise",
    "rotate",
    "reads the angle clockwise (the source point turned the wrong way, y pointing up).",
)
def _rotate_clockwise(image, *, angle, method="bilinear", fill=0.0):
    return aug.rotate(image, angle=-angle, method=method, fill=fill)


@mutant(
    "RotateGradTurnsBack",
    "rotate_grad",
    "spreads the cotangent back by rotating it by -angle, which is the transpose only where the "
    "sampling is a permutation.",
)
def _rotate_grad_turns_back(image, cotangent, *, angle, method="bilinear", fill=0.0):
    return aug.rotate(cotangent, angle=-angle, method=method, fill=0.0)


@torch_mutant(
    "TorchRotateThetaInPixels",
    "rotate",
    "puts the pixel rotation matrix into affine_grid's theta as it is, forgetting that theta "
    "works in normalised coordinates: a non-square image is sheared.",
)
def _t_rotate_theta_in_pixels(image, *, angle, method="bilinear", fill=0.0):
    import torch

    theta = torch.deg2rad(torch.tensor(angle, dtype=image.dtype))
    cos, sin, zero = torch.cos(theta), torch.sin(theta), torch.zeros((), dtype=image.dtype)
    matrix = torch.stack([torch.stack([cos, -sin, zero]), torch.stack([sin, cos, zero])])
    return _t_affine(image, matrix, method, fill)


def _t_affine(image, matrix, method, fill):
    """F.affine_grid with the 2 x 3 ``matrix`` and F.grid_sample, the fill blended in by the
    sampled mask of ones, as the torch adapter samples."""
    import torch
    import torch.nn.functional as F

    *batch, height, width = image.shape
    images = image.reshape(-1, 1, height, width)
    grid = F.affine_grid(
        matrix.expand(images.shape[0], 2, 3), list(images.shape), align_corners=False
    )
    out = F.grid_sample(images, grid, mode=method, padding_mode="zeros", align_corners=False)
    if fill != 0:
        ones = F.grid_sample(
            torch.ones_like(images), grid, mode=method, padding_mode="zeros", align_corners=False
        )
        out = out + (1 - ones) * fill
    return out.reshape(*batch, height, width)


@jax_mutant(
    "JaxRotateCoordinatesSwapped",
    "rotate",
    "hands map_coordinates the source point as (x, y), column first, where it takes the array's "
    "axis order (row, column).",
)
def _j_rotate_coordinates_swapped(image, *, angle, method="bilinear", fill=0.0):
    import jax
    import jax.numpy as jnp

    *batch, height, width = image.shape
    theta = jnp.deg2rad(jnp.asarray(angle, image.dtype))
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    i, j = jnp.meshgrid(
        jnp.arange(height, dtype=image.dtype), jnp.arange(width, dtype=image.dtype), indexing="ij"
    )
    d_row, d_column = i - (height - 1) / 2, j - (width - 1) / 2
    source = [
        (width - 1) / 2 - sin * d_row + cos * d_column,
        (height - 1) / 2 + cos * d_row + sin * d_column,
    ]
    order = 0 if method == "nearest" else 1

    def sample(one):
        return jax.scipy.ndimage.map_coordinates(one, source, order, mode="constant", cval=fill)

    return jax.vmap(sample)(image.reshape(-1, height, width)).reshape(*batch, height, width)


@mutant(
    "GrayscaleBgr",
    "grayscale",
    "reads the channels as blue, green, red (OpenCV's order): the red weight on the blue channel.",
)
def _grayscale_bgr(image):
    return aug.grayscale(np.flip(image, axis=-3))


@mutant(
    "GrayscaleChannelMean",
    "grayscale",
    "takes the mean of the three channels for the luma.",
)
def _grayscale_channel_mean(image):
    return np.mean(image, axis=-3, keepdims=True)


@mutant(
    "GrayscaleGradUnweighted",
    "grayscale_grad",
    "copies the luma's cotangent to every channel, forgetting the weights.",
)
def _grayscale_grad_unweighted(image, cotangent):
    return np.broadcast_to(cotangent, image.shape).copy()


@jax_mutant(
    "JaxGrayscaleBt709",
    "grayscale",
    "BT.709's luma weights 0.2126, 0.7152, 0.0722 (scikit-image's) for the declared MATLAB ones.",
)
def _j_grayscale_bt709(image):
    import jax.numpy as jnp

    weights = jnp.array([0.2126, 0.7152, 0.0722], image.dtype)
    return jnp.tensordot(jnp.moveaxis(image, -3, -1), weights, axes=1)[..., None, :, :]


@mutant(
    "NormalizeChannelsByVariance",
    "normalize_channels",
    "divides by the std squared: the std passed where a layer takes the variance, or back.",
)
def _normalize_channels_by_variance(image, *, mean, std):
    return aug.normalize_channels(image, mean=mean, std=[s * s for s in std])


@mutant(
    "NormalizeChannelsReversed",
    "normalize_channels",
    "applies RGB statistics to a BGR image (OpenCV's order): the channels' means and stds reversed.",
)
def _normalize_channels_reversed(image, *, mean, std):
    return aug.normalize_channels(image, mean=mean[::-1], std=std[::-1])


@mutant(
    "NormalizeChannelsGradShifted",
    "normalize_channels_grad",
    "subtracts the mean from the cotangent too, as the forward map does to the image.",
)
def _normalize_channels_grad_shifted(image, cotangent, *, mean, std):
    return aug.normalize_channels(cotangent, mean=mean, std=std)


@torch_mutant(
    "TorchNormalizeStatsInFloat32",
    "normalize_channels",
    "makes the mean and std torch.tensor(values), torch's default float32, before a float64 "
    "image: the statistics rounded to float32.",
)
def _t_normalize_stats_in_float32(image, *, mean, std):
    import torch

    mean_c = torch.tensor(mean)[:, None, None]
    std_c = torch.tensor(std)[:, None, None]
    return image.sub(mean_c).div(std_c)


@mutant(
    "ContrastImageMean",
    "adjust_contrast",
    "blends towards the mean of the raw channels and pixels together, not the mean luma.",
)
def _contrast_image_mean(image, *, factor, value_range=None):
    mean = image.mean(axis=(-3, -2, -1), keepdims=True)
    out = np.asarray(factor, image.dtype) * image + np.asarray(1.0 - factor, image.dtype) * mean
    return out if value_range is None else np.clip(out, *value_range).astype(image.dtype)


@mutant(
    "ContrastBlendSwapped",
    "adjust_contrast",
    "blends the other way round, f mu + (1 - f) x: _blend(mean, img, ratio) for (img, mean, ratio).",
)
def _contrast_blend_swapped(image, *, factor, value_range=None):
    return aug.adjust_contrast(image, factor=1.0 - factor, value_range=value_range)


@mutant(
    "ContrastGradMeanDetached",
    "adjust_contrast_grad",
    "takes the level as a constant (computed under torch.no_grad): f g, without (1 - f) times "
    "the level's share.",
)
def _contrast_grad_mean_detached(image, cotangent, *, factor, value_range=None):
    if value_range is not None:
        blended = aug.adjust_contrast(image, factor=factor)
        inside = (blended >= value_range[0]) & (blended <= value_range[1])
        cotangent = np.where(inside, cotangent, 0).astype(image.dtype)
    return np.asarray(factor, image.dtype) * cotangent


@torch_mutant(
    "TorchContrastClampAlways",
    "adjust_contrast",
    "clamps to [0, 1] whatever is asked, as torchvision does for a float image, where the "
    "spec (and tf.image) leave an unclipped result.",
)
def _t_contrast_clamp_always(image, *, factor, value_range=None):
    if image.shape[-3] == 3:
        r, g, b = image.unbind(dim=-3)
        luma = r.mul(0.2989).add(g, alpha=0.587).add(b, alpha=0.114).unsqueeze(dim=-3)
    else:
        luma = image
    mean = luma.mean(dim=(-3, -2, -1), keepdim=True)
    low, high = (0.0, 1.0) if value_range is None else value_range
    return (factor * image + (1.0 - factor) * mean).clamp(low, high)


@mutant(
    "BrightnessBlendSwapped",
    "adjust_brightness",
    "blends the other way round, (1 - f) x: _blend(zeros, img, ratio) for (img, zeros, ratio).",
)
def _brightness_blend_swapped(image, *, factor, value_range=None):
    out = np.asarray(1.0 - factor, image.dtype) * image
    return out if value_range is None else np.clip(out, *value_range).astype(image.dtype)


@mutant(
    "BrightnessGradUnclipped",
    "adjust_brightness_grad",
    "forgets the clipping's derivative: f g where the pixel was clipped too.",
)
def _brightness_grad_unclipped(image, cotangent, *, factor, value_range=None):
    return np.asarray(factor, image.dtype) * cotangent


@torch_mutant(
    "TorchBrightnessClampAlways",
    "adjust_brightness",
    "clamps to [0, 1] whatever is asked, as torchvision does for a float image, where the "
    "spec (and tf.image) leave an unclipped result.",
)
def _t_brightness_clamp_always(image, *, factor, value_range=None):
    low, high = (0.0, 1.0) if value_range is None else value_range
    return (factor * image).clamp(low, high)


@mutant(
    "ShearAboutTheCorner",
    "shear",
    "shears about pixel (0, 0), as keras.layers.RandomShear's matrix does, instead of the "
    "image's centre.",
)
def _shear_about_the_corner(image, *, shear_x=0.0, shear_y=0.0, method="bilinear", fill=0.0):
    sampling = aug._shearing(image.shape, shear_x, shear_y, method, image.dtype, centre=(0, 0))
    return aug._resampled(image, sampling, fill)


@mutant(
    "ShearGradUnsheared",
    "shear_grad",
    "spreads the cotangent back by shearing it by -s, which is the transpose only where the "
    "sampling is a permutation.",
)
def _shear_grad_unsheared(
    image, cotangent, *, shear_x=0.0, shear_y=0.0, method="bilinear", fill=0.0
):
    return aug.shear(cotangent, shear_x=-shear_x, shear_y=-shear_y, method=method, fill=0.0)


@torch_mutant(
    "TorchShearWithoutAspect",
    "shear",
    "puts the pixel shear into affine_grid's theta as it is, [[1, s_x], [s_y, 1]], forgetting "
    "the aspect ratio of the normalised coordinates: a non-square image is sheared by s H / W.",
)
def _t_shear_without_aspect(image, *, shear_x=0.0, shear_y=0.0, method="bilinear", fill=0.0):
    import torch

    matrix = torch.tensor([[1.0, shear_x, 0.0], [shear_y, 1.0, 0.0]], dtype=image.dtype)
    return _t_affine(image, matrix, method, fill)


@mutant(
    "GridSampleCoordinatesSwapped",
    "grid_sample",
    "reads each point as (x, y), column first (grid_sample's order), where the spec's points are "
    "(row, column).",
)
def _grid_sample_coordinates_swapped(image, points, *, fill=0.0):
    return aug.grid_sample(image, np.ascontiguousarray(points[..., ::-1]), fill=fill)


@mutant(
    "GridSampleGradCellBelow",
    "grid_sample_grad",
    "on a pixel boundary takes the derivative of the cell that ends there (ceil(s) - 1), the "
    "derivative from below, where floor's cell (from above) is the convention.",
)
def _grid_sample_grad_cell_below(image, points, cotangent, *, fill=0.0):
    on_boundary = points == np.floor(points)
    # a point nudged below each integer coordinate by less than any cell: the cell below it
    nudged = np.where(on_boundary, np.nextafter(points, -np.inf), points)
    return aug.grid_sample_grad(image, nudged, cotangent, fill=fill)


@mutant(
    "GridSampleGradFillForgotten",
    "grid_sample_grad",
    "differentiates the samples as if the pixels off the image were 0 whatever the fill: the "
    "fill's own blend, (1 - mask) fill, is left out of the derivative.",
)
def _grid_sample_grad_fill_forgotten(image, points, cotangent, *, fill=0.0):
    return aug.grid_sample_grad(image, points, cotangent, fill=0.0)


@torch_mutant(
    "TorchGridSampleAlignCorners",
    "grid_sample",
    "F.grid_sample(align_corners=True) on the half-pixel normalised points: the corner pixels' "
    "centres at -1 and 1, so every point is read a fraction of a pixel off.",
)
def _t_grid_sample_align_corners(image, points, *, fill=0.0):
    import torch
    import torch.nn.functional as F

    *_, height, width = image.shape
    images = image.reshape(-1, 1, height, width)
    flat = points.reshape(images.shape[0], 1, -1, 2)
    grid = torch.stack(
        [(2 * flat[..., 1] + 1) / width - 1, (2 * flat[..., 0] + 1) / height - 1], dim=-1
    )
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
    if fill != 0:
        ones = F.grid_sample(
            torch.ones_like(images), grid, mode="bilinear", padding_mode="zeros", align_corners=True
        )
        out = out + (1 - ones) * fill
    return out.reshape(points.shape[:-1])


@jax_mutant(
    "JaxGridSampleNearestMode",
    "grid_sample",
    "map_coordinates(mode='nearest'): SciPy's name for repeating the edge pixel, taken for the "
    "constant fill; a point off the image reads the border.",
)
def _j_grid_sample_nearest_mode(image, points, *, fill=0.0):
    import jax

    *_, height, width = image.shape

    def sample(one, at):
        return jax.scipy.ndimage.map_coordinates(one, [at[:, 0], at[:, 1]], 1, mode="nearest")

    images = image.reshape(-1, height, width)
    out = jax.vmap(sample)(images, points.reshape(images.shape[0], -1, 2))
    return out.reshape(points.shape[:-1])
