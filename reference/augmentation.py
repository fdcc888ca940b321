"""Geometric data augmentation of images laid out ``(..., height, width)`` (PyTorch's CHW and
NCHW): exact permutations of the pixels, so the labels stay with their images.

Spec pages: ``spec/concepts/<id>.md``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

from ._core import Tensor, as_tensor, check_tensor, exact, require


def _remap(
    concept: str, image: Any, source: Callable[[int, int, int, int], tuple[int, int]], swap: bool
) -> Tensor:
    """Output pixel ``(i, j)`` of every image is input pixel ``source(i, j, height, width)``;
    ``swap`` exchanges the output's height and width."""
    image = as_tensor(image)
    check_tensor(concept, "image", image, min_ndim=2)
    *batch, height, width = image.shape
    out_h, out_w = (width, height) if swap else (height, width)
    values = []
    for b in range(math.prod(batch)):
        offset = b * height * width
        for i, j in itertools.product(range(out_h), range(out_w)):
            si, sj = source(i, j, height, width)
            values.append(image.values[offset + si * width + sj])
    return Tensor((*batch, out_h, out_w), tuple(values))


@exact
def horizontal_flip(image: Any) -> Tensor:
    """Mirror left-right: ``out[..., i, j] = image[..., i, W - 1 - j]`` (``torch.flip(x, [-1])``,
    torchvision ``hflip``). An involution."""
    return _remap("horizontal_flip", image, lambda i, j, h, w: (i, w - 1 - j), swap=False)


@exact
def vertical_flip(image: Any) -> Tensor:
    """Mirror top-bottom: ``out[..., i, j] = image[..., H - 1 - i, j]`` (``torch.flip(x, [-2])``,
    torchvision ``vflip``). An involution."""
    return _remap("vertical_flip", image, lambda i, j, h, w: (h - 1 - i, j), swap=False)


@exact
def rot90(image: Any, *, k: int = 1) -> Tensor:
    """Rotate by ``k`` quarter turns counterclockwise (as displayed, row 0 on top):
    ``out[..., i, j] = image[..., j, W - 1 - i]`` for ``k = 1`` (``np.rot90`` and ``torch.rot90``
    on the last two axes). Order 4; ``k`` is taken modulo 4, negative ``k`` turns clockwise."""
    require("rot90", "k", k, isinstance(k, int), "an integer")
    turns = k % 4
    result = as_tensor(image)
    check_tensor("rot90", "image", result, min_ndim=2)
    for _ in range(turns):
        result = _remap("rot90", result, lambda i, j, h, w: (j, w - 1 - i), swap=True)
    return result
