"""Data augmentation: the torch backends' entries of its concepts (see :mod:`..torch_ops`):
``torch.flip``, ``torch.rot90`` and ``F.interpolate`` (``nearest`` is its half-pixel
``nearest-exact``; its ``nearest`` mode is the asymmetric ``floor(i n_in / n_out)``), and the
rotation as ``F.affine_grid`` + ``F.grid_sample``, sampling at given points as ``F.grid_sample`` on
their normalised coordinates (``padding_mode="zeros"`` reads 0 off the
image; another fill as torchvision's ``rotate`` puts it, ``out + (1 - mask) fill`` with ``mask``
a sampled image of ones: the weight read inside).

An integer image's transform is float32; ``F.grid_sample`` refuses a uint8 image (a written-up
divergence), while ``F.interpolate`` resamples one as PIL does (the ``per_pass`` convention).

``affine_grid``'s ``theta`` maps the output's normalised coordinates ``(x, y)`` (x the column,
y the row, both in [-1, 1] across the image) to the input's: a rotation in pixels is
``[[cos, -sin H/W], [sin W/H, cos]]`` there, the aspect ratio put back (with ``align_corners=
False`` a pixel is ``2/W`` wide in x and ``2/H`` tall in y; the centre is 0 in both)."""

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

    def geometry_dtype(image: Any) -> Any:
        """The dtype of a transform's matrix: the image's, float32 for an integer image."""
        return image.dtype if image.is_floating_point() else torch.float32

    def rotate(image: Any, *, angle: float, method: str = "bilinear", fill: float = 0.0) -> Any:
        *_, height, width = image.shape
        theta = torch.deg2rad(torch.tensor(angle, dtype=geometry_dtype(image), device=image.device))
        cos, sin = torch.cos(theta), torch.sin(theta)
        zero = torch.zeros_like(cos)
        matrix = torch.stack(
            [
                torch.stack([cos, -sin * (height / width), zero]),
                torch.stack([sin * (width / height), cos, zero]),
            ]
        )
        return affine(image, matrix, method, fill)

    def shear(
        image: Any,
        *,
        shear_x: float = 0.0,
        shear_y: float = 0.0,
        method: str = "bilinear",
        fill: float = 0.0,
    ) -> Any:
        # theta on normalised (x, y) = (column, row): x' = x + s_x (H / W) y, y' = s_y (W / H) x
        # + y, the spec's point about the centre with the aspect ratio put back
        *_, height, width = image.shape
        matrix = torch.tensor(
            [[1.0, shear_x * (height / width), 0.0], [shear_y * (width / height), 1.0, 0.0]],
            dtype=geometry_dtype(image),
            device=image.device,
        )
        return affine(image, matrix, method, fill)

    def affine(image: Any, matrix: Any, method: str, fill: float) -> Any:
        """F.affine_grid with the 2 x 3 ``matrix`` and F.grid_sample (zeros padding, the fill
        blended in by the sampled mask of ones), every image of the batch alike."""
        *batch, height, width = image.shape
        images = image.reshape(-1, 1, height, width)  # (N, C, H, W)
        matrix = matrix.expand(images.shape[0], 2, 3)
        grid = torch.nn.functional.affine_grid(matrix, list(images.shape), align_corners=False)

        def sample(source: Any) -> Any:
            return torch.nn.functional.grid_sample(
                source, grid, mode=method, padding_mode="zeros", align_corners=False
            )

        out = sample(images)
        if fill != 0:
            out = out + (1 - sample(torch.ones_like(images))) * fill
        return out.reshape(*batch, height, width)

    def grid_sample(image: Any, points: Any, *, fill: float = 0.0) -> Any:
        # F.grid_sample reads normalised (x, y) = (column, row): with align_corners=False pixel
        # j's centre is at (2 j + 1)/W - 1; the fill as for the rotation, by the sampled mask
        *_, height, width = image.shape
        images = image.reshape(-1, 1, height, width)  # (N, C, H, W)
        flat = points.reshape(images.shape[0], 1, -1, 2)  # (N, 1, P, 2)
        grid = torch.stack(
            [(2 * flat[..., 1] + 1) / width - 1, (2 * flat[..., 0] + 1) / height - 1], dim=-1
        )

        def sample(source: Any) -> Any:
            return torch.nn.functional.grid_sample(
                source, grid, mode="bilinear", padding_mode="zeros", align_corners=False
            )

        out = sample(images)
        if fill != 0:
            out = out + (1 - sample(torch.ones_like(images))) * fill
        return out.reshape(points.shape[:-1])

    def grayscale(image: Any) -> Any:
        # torchvision's rgb_to_grayscale (MATLAB's weights), which torch itself lacks
        r, g, b = image.unbind(dim=-3)
        return r.mul(0.2989).add(g, alpha=0.587).add(b, alpha=0.114).unsqueeze(dim=-3)

    def adjust_contrast(
        image: Any, *, factor: float, value_range: Sequence[float] | None = None
    ) -> Any:
        # torchvision's adjust_contrast, which torch lacks: the mean luma of each image (one
        # channel: its own mean), blended as _blend does, f x + (1 - f) mu; torchvision clamps
        # a float image to [0, 1], here to the value_range asked, if any
        luma = grayscale(image) if image.shape[-3] == 3 else image
        mean = luma.mean(dim=(-3, -2, -1), keepdim=True)
        out = factor * image + (1.0 - factor) * mean
        return out if value_range is None else out.clamp(*value_range)

    def adjust_brightness(
        image: Any, *, factor: float, value_range: Sequence[float] | None = None
    ) -> Any:
        # torchvision's adjust_brightness, which torch lacks: _blend with black,
        # f x + (1 - f) 0; torchvision clamps a float image to [0, 1], here to the value_range
        # asked, if any
        out = factor * image + (1.0 - factor) * torch.zeros_like(image)
        return out if value_range is None else out.clamp(*value_range)

    def normalize_channels(image: Any, *, mean: Sequence[float], std: Sequence[float]) -> Any:
        # torchvision's normalize, which torch itself lacks: the mean and std as tensors of the
        # image's dtype, (C, 1, 1), subtracted and divided
        def column(values: Sequence[float]) -> Any:
            return torch.as_tensor(values, dtype=image.dtype, device=image.device)[:, None, None]

        return image.sub(column(mean)).div(column(std))

    return {
        "horizontal_flip": lambda image: torch.flip(image, [-1]),
        "vertical_flip": lambda image: torch.flip(image, [-2]),
        "rot90": lambda image, *, k=1: torch.rot90(image, k, [-2, -1]),
        "resize": resize,
        "rotate": rotate,
        "shear": shear,
        "grid_sample": grid_sample,
        "grayscale": grayscale,
        "normalize_channels": normalize_channels,
        "adjust_contrast": adjust_contrast,
        "adjust_brightness": adjust_brightness,
    }
