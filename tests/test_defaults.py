"""Every concept called with its defaults: the backend's defaults must be the spec's.

The other tests pass every parameter explicitly, so a wrong default (Keras' leaky ReLU slope 0.3
for 0.01, Flax's layer-norm epsilon 1e-6 for 1e-5, a softmax over axis 0) would pass them. Here
each concept with defaulted parameters is called with its required arguments only, and the
reference is evaluated with its own defaults, which a meta test holds to the catalogue's
``parameters``. The backend's declared conventions still choose the variants.
"""

import inspect
from typing import Any

import numpy as np
import pytest

from dlspec import catalogue, reference
from dlspec.checks import check_oracle
from dlspec.plugin import each_concept

X = [-3.0, -0.5, 0.0, 0.5, 3.0, 25.0]
ROWS = [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]]
P = [[0.2, 0.3, 0.5], [0.125, 0.125, 0.75]]
Q = [[0.5, 0.25, 0.25], [0.25, 0.5, 0.25]]
PREDICTION, TARGET = [0.5, -2.0, 3.0, 0.25], [0.0, 1.0, 0.5, 0.25]
PROBABILITY, LABEL = [0.2, 0.9, 0.5, 0.75], [0.0, 1.0, 1.0, 0.5]
GRADIENTS = [[0.5, -1.0, 2.0], [0.25, 0.5, -0.125], [1.0, 1.0, -3.0]]
PLATEAU = [1.0] + [0.9] * 13
"""The metric improves once, then stalls for 13 epochs: past the default patience of 10."""

CALLS: dict[str, tuple[list[Any], dict[str, Any]]] = {
    "leaky_relu": ([X], {}),
    "softplus": ([X], {}),
    "gelu": ([X], {}),
    "elu": ([X], {}),
    "softmax": ([ROWS], {}),
    "log_softmax": ([ROWS], {}),
    "entropy": ([P], {}),
    "cross_entropy": ([P, Q], {}),
    "kl_divergence": ([P, Q], {}),
    "mse_loss": ([PREDICTION, TARGET], {}),
    "mae_loss": ([PREDICTION, TARGET], {}),
    "huber_loss": ([PREDICTION, [0.0, 2.0, 0.5, 0.25]], {}),
    "binary_cross_entropy": ([PROBABILITY, LABEL], {}),
    "binary_cross_entropy_with_logits": ([PREDICTION, LABEL], {}),
    "softmax_cross_entropy": ([ROWS, np.array([2, 0])], {}),
    "sgd": ([[1.0, -2.0, 0.5], GRADIENTS], {"lr": 0.1}),
    "adam": ([[1.0, -2.0, 0.5], GRADIENTS], {}),
    "adamw": ([[1.0, -2.0, 0.5], GRADIENTS], {}),
    "frozen_parameters": (
        [[1.0, -2.0, 0.5], GRADIENTS],
        {"frozen": (True, False, False), "lr": 0.1},
    ),
    "step_lr": ([0.5], {"step_size": 2, "steps": 6}),
    "multistep_lr": ([0.5], {"milestones": (2, 4), "steps": 6}),
    "cosine_annealing_lr": ([0.5], {"t_max": 4, "steps": 6}),
    "linear_warmup": ([0.5], {"steps": 8}),
    "warmup_cosine": ([0.5], {"warmup_steps": 2, "decay_steps": 4, "steps": 8}),
    "reduce_lr_on_plateau": ([0.5, PLATEAU], {}),
    "min_max_scale": ([ROWS], {}),
    "standardize": ([ROWS], {}),
    "layer_norm": ([ROWS, [1.0, 0.5, 2.0], [0.0, 0.25, -1.0]], {}),
    "batch_norm": (
        [ROWS, [0.0, 0.5, -1.0], [1.0, 2.0, 0.5], [1.0, 0.5, 2.0], [0.0, 0.25, -1.0]],
        {},
    ),
    "minibatches": ([], {"n": 10, "batch_size": 3}),
    "train_val_test_split": ([], {"n": 10}),
    "early_stopping": ([[1.0, 0.9, 0.95, 0.97, 0.99]], {"patience": 2}),
    "accuracy": ([PROBABILITY, [0.0, 1.0, 1.0, 0.0]], {}),
    "rot90": ([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]], {}),
    "resize": ([np.arange(24.0).reshape(4, 6)], {"size": (2, 3)}),  # down: antialias matters
    "rotate": ([np.arange(12.0).reshape(3, 4)], {"angle": 30.0}),
    "shear": ([np.arange(12.0).reshape(3, 4)], {}),
    # two points off the image: a backend whose default fill is not 0 (or reflects) is caught
    "grid_sample": (
        [np.arange(12.0).reshape(3, 4), [[0.5, 1.25], [-0.5, 3.75], [2.5, -1.0]]],
        {},
    ),
    # beyond [0, 1]: a backend that clips by default (torchvision clamps to [0, 1]) is caught
    "adjust_contrast": ([np.arange(12.0).reshape(3, 2, 2) / 6 - 0.5], {"factor": 2.0}),
    "adjust_brightness": ([np.arange(12.0).reshape(3, 2, 2) / 6 - 0.5], {"factor": 2.0}),
}
"""Per concept with defaulted parameters: its inputs and its required parameters only."""


def _native(array: Any, dtype: str) -> np.ndarray:
    array = np.asarray(array)
    return array if array.dtype.kind == "i" else array.astype(dtype)


@pytest.mark.meta
def test_every_concept_with_defaults_is_called_with_them():
    """The table covers each forward concept whose reference has a defaulted keyword parameter
    (besides the variants, which the backend declares)."""
    cat = catalogue.load()
    wanted = set()
    for concept in cat.concepts.values():
        if concept.of is not None:
            continue
        parameters = inspect.signature(getattr(reference, concept.id)).parameters.values()
        if any(p.default is not p.empty and p.name not in concept.variants for p in parameters):
            wanted.add(concept.id)
    assert sorted(wanted - set(CALLS)) == [], "concepts with defaults but no call here"
    assert sorted(set(CALLS) - set(cat.concepts)) == []


@pytest.mark.meta
def test_the_references_defaults_are_the_catalogues():
    """The reference's keyword defaults are the catalogue's ``parameters`` (where the catalogue
    gives a value rather than a description), so the reference is the spec's defaults."""
    for concept in catalogue.load().concepts.values():
        signature = inspect.signature(getattr(reference, concept.id)).parameters
        for name, value in concept.parameters.items():
            if isinstance(value, str) or name not in signature:
                continue
            default = signature[name].default
            if isinstance(value, list):
                value = tuple(value)
            assert default == value, f"{concept.id}.{name}: reference {default!r}, spec {value!r}"


@each_concept(*CALLS)
def test_called_with_its_defaults(backend, dtype, concept_id):
    arrays, required = CALLS[concept_id]
    check_oracle(concept_id, backend, *(_native(a, dtype) for a in arrays), kind="edge", **required)


@pytest.mark.meta
def test_a_call_with_defaults_names_only_required_parameters():
    """A call here passes no parameter the catalogue gives a default for."""
    for concept_id, (_, required) in CALLS.items():
        defaults = {
            name
            for name, value in catalogue.load().concept(concept_id).parameters.items()
            if not ((isinstance(value, str) and value in ("required",)) or name in ("frozen",))
        }
        assert not set(required) & defaults, (concept_id, set(required) & defaults)
