"""Mutant adapters: copies of the NumPy adapter with one realistic bug each, and broken adapters
that violate the interface. ``test_mutants.py`` asserts the conformance suite catches every one.

Each mutant names the concept whose tests must catch it (``caught_by``).
"""

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from dlspec.adapters.numpy_adapter import NumpyAdapter
from dlspec.adapters.numpy_ops import activations as act
from dlspec.adapters.numpy_ops import information as info
from dlspec.adapters.numpy_ops import losses as loss


class Mutant(NumpyAdapter):
    """The NumPy adapter with ``replacements`` swapped into its table."""

    caught_by: ClassVar[str]
    replacements: ClassVar[Mapping[str, Callable[..., Any]]]

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        return {**super().implementations(), **self.replacements}


def _softmax_without_max_shift(x, *, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_of_softmax(x, *, axis=-1):
    with np.errstate(divide="ignore"):
        return np.log(act.softmax(x, axis=axis))


def _log_softmax_on_axis_0(x, *, axis=-1):
    return act.log_softmax(x, axis=0)


def _entropy_in_bits(p, *, base=None, axis=-1):
    return info.entropy(p, base=2.0 if base is None else base, axis=axis)


def _entropy_without_zero_guard(p, *, base=None, axis=-1):
    with np.errstate(divide="ignore", invalid="ignore"):
        return info.in_base(-np.sum(p * np.log(p), axis=axis), base)


def _cross_entropy_swapped(p, q, *, base=None, axis=-1):
    return info.cross_entropy(q, p, base=base, axis=axis)


def _bce_without_clamp(probability, target, *, reduction="mean"):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -(target * np.log(probability) + (1 - target) * np.log1p(-probability))
    return loss.reduce(terms, reduction)


def _bce_clamped_after_weighting(probability, target, *, reduction="mean"):
    # The clamp applied to the weighted term rather than to each log.
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.maximum(np.nan_to_num(target * np.log(probability), nan=0.0), -100)
        negative = np.maximum(np.nan_to_num((1 - target) * np.log1p(-probability), nan=0.0), -100)
    return loss.reduce(-(positive + negative), reduction)


def _mse_summed(prediction, target, *, reduction="mean"):
    return loss.reduce((prediction - target) ** 2, "sum" if reduction == "mean" else reduction)


def _softmax_through_float32(x, *, axis=-1):
    # A float32 cast in the middle of a float64 computation.
    e = np.exp((x - np.max(x, axis=axis, keepdims=True)).astype(np.float32)).astype(x.dtype)
    return e / np.sum(e, axis=axis, keepdims=True)


def _sigmoid_through_tanh(x):
    return (0.5 * (1 + np.tanh(0.5 * x))).astype(x.dtype)


def _relu_leaking(x):
    return np.where(x > 0, x, x.dtype.type(0.01) * x)


def _relu_upcasting(x):
    # NumPy 1's value-based casting habit: a float64 zero promotes the result.
    return np.maximum(x, np.zeros((), dtype=np.float64))


def _mse_per_sample(prediction, target, *, reduction="mean"):
    # Keras' convention (mean over the last axis first) presented as PyTorch's.
    terms = np.mean((prediction - target) ** 2, axis=-1)
    return loss.reduce(terms, reduction)


def _mutant(name: str, concept: str, function: Callable[..., Any], doc: str) -> type[Mutant]:
    return type(
        name,
        (Mutant,),
        {
            "name": f"mutant-{name}",
            "caught_by": concept,
            "replacements": {concept: function},
            "__doc__": doc,
        },
    )


MUTANTS: list[type[Mutant]] = [
    _mutant(
        "SoftmaxWithoutMaxShift",
        "softmax",
        _softmax_without_max_shift,
        "exp(x) / sum(exp(x)): overflows to inf/inf = NaN at large logits.",
    ),
    _mutant(
        "LogSoftmaxAsLogOfSoftmax",
        "log_softmax",
        _log_of_softmax,
        "log(softmax(x)): -inf where softmax underflows.",
    ),
    _mutant(
        "LogSoftmaxWrongAxis",
        "log_softmax",
        _log_softmax_on_axis_0,
        "normalises along axis 0 whatever axis is asked for.",
    ),
    _mutant("EntropyInBits", "entropy", _entropy_in_bits, "log base 2 where nats are asked for."),
    _mutant(
        "EntropyWithoutZeroGuard",
        "entropy",
        _entropy_without_zero_guard,
        "p log p with 0 log 0 = NaN.",
    ),
    _mutant(
        "CrossEntropySwapped",
        "cross_entropy",
        _cross_entropy_swapped,
        "H(Q, P) instead of H(P, Q).",
    ),
    _mutant(
        "BceWithoutClamp",
        "binary_cross_entropy",
        _bce_without_clamp,
        "no guard: inf at p in {0, 1}.",
    ),
    _mutant(
        "BceClampAfterWeighting",
        "binary_cross_entropy",
        _bce_clamped_after_weighting,
        "clamps y log p at -100 instead of log p: wrong for soft targets at tiny p.",
    ),
    _mutant("MseSummedNotAveraged", "mse_loss", _mse_summed, "'mean' returns the sum."),
    _mutant(
        "MsePerSampleMean",
        "mse_loss",
        _mse_per_sample,
        "averages over the last axis first, so reduction='none' has the wrong shape.",
    ),
    _mutant(
        "SoftmaxThroughFloat32",
        "softmax",
        _softmax_through_float32,
        "exp evaluated in float32 inside a float64 computation.",
    ),
    _mutant(
        "SigmoidThroughTanh",
        "sigmoid",
        _sigmoid_through_tanh,
        "(1 + tanh(x/2)) / 2: cancels for negative x.",
    ),
    _mutant("ReluLeaking", "relu", _relu_leaking, "a leaky ReLU where ReLU is asked for."),
    _mutant("ReluUpcasting", "relu", _relu_upcasting, "returns float64 for float32 input."),
]


# Bind each mutant to its class name, so that ``--adapter mutants:<Name>`` finds it.
globals().update({mutant.__name__: mutant for mutant in MUTANTS})


# ---------------------------------------------------------------- broken adapters


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


BROKEN: list[type] = [
    BrokenRaises,
    BrokenWrongShape,
    BrokenWrongDtype,
    BrokenNaN,
    BrokenNotAnArray,
    BrokenMissingRun,
    BrokenConstructor,
    BrokenNoConvention,
]
