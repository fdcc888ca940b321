"""Mutants of the training concepts (Training bookkeeping) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import itertools

import numpy as np
from dlspec.adapters.numpy_ops import training as train

from ._registry import mutant


@mutant("MinibatchesNeverShuffled", "minibatches", "shuffle ignored: every epoch in order 0..n-1.")
def _minibatches_never_shuffled(*, n, batch_size, epochs=1, drop_last=False, shuffle=False, seed=0):
    return train.minibatches(n=n, batch_size=batch_size, epochs=epochs, drop_last=drop_last)


@mutant("MinibatchesShuffledOnce", "minibatches", "one permutation drawn and replayed every epoch.")
def _minibatches_shuffled_once(*, n, batch_size, epochs=1, drop_last=False, shuffle=False, seed=0):
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    return train.batched([order] * epochs, batch_size, drop_last)


@mutant(
    "SplitWithAFixedSeed", "train_val_test_split", "the seed ignored: every call splits as seed 0."
)
def _split_with_a_fixed_seed(*, n, fractions=(0.8, 0.1, 0.1), seed=0):
    return train.train_val_test_split(n=n, fractions=fractions, seed=0)


@mutant("MinibatchesIgnoringDropLast", "minibatches", "keeps the short last batch.")
def _minibatches_ignoring_drop_last(
    *, n, batch_size, epochs=1, drop_last=False, shuffle=False, seed=0
):
    return train.minibatches(
        n=n, batch_size=batch_size, epochs=epochs, drop_last=False, shuffle=shuffle, seed=seed
    )


@mutant(
    "SplitRoundingToNearest",
    "train_val_test_split",
    "round(n f) per subset: sizes that do not add up.",
)
def _split_rounding_to_nearest(*, n, fractions=(0.8, 0.1, 0.1), seed=0):
    sizes = [round(n * f) for f in fractions]
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *sizes])
    return train.padded([order[a:b] for a, b in itertools.pairwise(bounds)], n)


@mutant("EarlyStoppingOneEpochLate", "early_stopping", "waited > patience instead of >=.")
def _early_stopping_one_epoch_late(metrics, *, patience, min_delta=0.0, mode="min"):
    return train.early_stopping(metrics, patience=patience + 1, min_delta=min_delta, mode=mode)


@mutant("AccuracyInclusive", "accuracy", "p >= threshold while declaring strict.")
def _accuracy_inclusive(prediction, target, *, threshold=0.5):
    if prediction.ndim == 1:
        correct = np.count_nonzero((prediction >= threshold) == target.astype(bool))
        return np.asarray(correct / target.size, dtype=prediction.dtype)
    return train.accuracy(prediction, target, threshold=threshold)
