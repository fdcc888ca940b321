"""Broken adapters: each violates the adapter interface one way (raises, wrong shape or dtype,
NaN, not an array, no run method, a constructor that fails, a convention not declared, an
input written into); the suite must report each clearly and still write a complete report."""

from __future__ import annotations

import os
from typing import ClassVar

import numpy as np
from dlspec.adapters.numpy_adapter import NumpyAdapter
from dlspec.adapters.numpy_ops import activations as act
from dlspec.adapters.numpy_ops import losses as loss

from ._registry import Mutant


class BrokenRaises(Mutant):
    name = "broken-raises"
    caught_by = "relu"
    replacements: ClassVar = {
        "relu": lambda x: (_ for _ in ()).throw(RuntimeError("kernel exploded"))
    }


class BrokenWrongShape(Mutant):
    name = "broken-wrong-shape"
    caught_by = "softmax"
    replacements: ClassVar = {
        "softmax": lambda x, *, axis=-1: act.softmax(x, axis=axis).ravel()[:1]
    }


class BrokenWrongDtype(Mutant):
    name = "broken-wrong-dtype"
    caught_by = "sigmoid"
    replacements: ClassVar = {"sigmoid": lambda x: act.sigmoid(x).astype(np.float16)}


class BrokenNaN(Mutant):
    name = "broken-nan"
    caught_by = "mse_loss"
    replacements: ClassVar = {
        "mse_loss": lambda prediction, target, *, reduction="mean": np.full_like(
            loss.mse_loss(prediction, target, reduction=reduction), np.nan
        )
    }


class BrokenNotAnArray(NumpyAdapter):
    """Returns a Python float (the ``.item()`` habit) instead of an array."""

    name = "broken-not-an-array"
    caught_by = "entropy"

    def run(self, concept, *arrays, **params):
        return float(np.ravel(super().run(concept, *arrays, **params))[0])


class BrokenMissingRun:
    """Declares everything the protocol asks but the method that runs a concept."""

    name = "broken-missing-run"
    caught_by = "relu"
    device = "cpu"
    dtypes = ("float32", "float64")
    conventions: ClassVar = {}

    def supports(self, concept):
        return True


class BrokenConstructor(NumpyAdapter):
    name = "broken-constructor"
    caught_by = "softmax"

    def implementations(self):
        raise ImportError("libframework.so: cannot open shared object file")


class BrokenNoConvention(Mutant):
    """Implements BCE but does not declare which guard it follows."""

    name = "broken-no-convention"
    caught_by = "binary_cross_entropy"
    conventions: ClassVar = {}
    replacements: ClassVar = {}


class BrokenWritesIntoInput(Mutant):
    """ReLU in place (PyTorch's ``inplace=True`` habit): the right values, written into the
    caller's array."""

    name = "broken-writes-into-input"
    caught_by = "relu"
    replacements: ClassVar = {"relu": lambda x: np.maximum(x, 0, out=x)}


class BrokenCrashes(Mutant):
    """Kills its process (a segfault or an abort inside a framework's kernel does the same): run
    only under pytest-xdist, whose controller outlives the worker and reports the test."""

    name = "broken-crashes"
    caught_by = "relu"
    replacements: ClassVar = {"relu": lambda x: os.abort()}


BROKEN: list[type] = [
    BrokenRaises,
    BrokenWrongShape,
    BrokenWrongDtype,
    BrokenNaN,
    BrokenNotAnArray,
    BrokenMissingRun,
    BrokenConstructor,
    BrokenNoConvention,
    BrokenWritesIntoInput,
]

CRASHING: list[type] = [BrokenCrashes]
"""Broken adapters that kill their process: never run in the process that runs the suite."""
