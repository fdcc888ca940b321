"""Mutants of the augmentation concepts (Data augmentation) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import augmentation as aug

from ._registry import mutant


@mutant("HflipWrongAxis", "horizontal_flip", "flips the height axis.")
def _hflip_wrong_axis(image):
    return np.flip(image, axis=-2).copy()


@mutant("VflipBatchAxis", "vertical_flip", "flips axis 0: right for one image, wrong for a batch.")
def _vflip_batch_axis(image):
    return np.flip(image, axis=0).copy()


@mutant("Rot90Clockwise", "rot90", "turns clockwise.")
def _rot90_clockwise(image, *, k=1):
    return aug.rot90(image, k=-k)
