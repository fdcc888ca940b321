"""Mini-batches, splits, early stopping and accuracy."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "accuracy",
    "early_stopping",
    "minibatches",
    "train_val_test_split",
]  # the concepts; the adapter's table


PADDING = -1


def padded(groups: Sequence[Sequence[int] | np.ndarray], width: int) -> np.ndarray:
    out = np.full((len(groups), width), PADDING, dtype=np.int64)
    for row, group in zip(out, groups, strict=True):
        row[: len(group)] = group
    return out


def minibatches(
    *,
    n: int,
    batch_size: int,
    epochs: int = 1,
    drop_last: bool = False,
    shuffle: bool = False,
    seed: int = 0,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    orders = (rng.permutation(n) if shuffle else np.arange(n) for _ in range(epochs))
    return batched(orders, batch_size, drop_last)


def batched(orders: Iterable[np.ndarray], batch_size: int, drop_last: bool) -> np.ndarray:
    """Each epoch's order of the samples cut into batches of ``batch_size`` (the last one
    shorter, or dropped), one padded row per batch."""
    batches = []
    for order in orders:
        stop = len(order) - len(order) % batch_size if drop_last else len(order)
        batches += [order[i : min(i + batch_size, stop)] for i in range(0, stop, batch_size)]
    return padded(batches, batch_size)


def train_val_test_split(
    *, n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> np.ndarray:
    order = np.random.default_rng(seed).permutation(n)
    return split(order, fractions)


def split(order: np.ndarray, fractions: Sequence[float]) -> np.ndarray:
    """Consecutive pieces of a permutation, sized as PyTorch's ``random_split`` sizes them:
    floor each fraction's share, then hand out the remainder round-robin."""
    n = len(order)
    sizes = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    bounds = np.cumsum([0, *sizes])
    return padded([order[a:b] for a, b in itertools.pairwise(bounds)], n)


def early_stopping(
    metrics: np.ndarray, *, patience: int, min_delta: float = 0.0, mode: str = "min"
) -> np.ndarray:
    sign = 1 if mode == "min" else -1
    best, best_epoch, waited = math.inf, 0, 0
    for epoch, value in enumerate(metrics.tolist()):
        if sign * value < best - min_delta:
            best, best_epoch, waited = sign * value, epoch, 0
        else:
            waited += 1
        if waited >= patience:
            return np.array([epoch, best_epoch], dtype=np.int64)
    return np.array([-1, best_epoch], dtype=np.int64)


def accuracy(prediction: np.ndarray, target: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    if prediction.ndim == 1:
        predicted = prediction > prediction.dtype.type(threshold)  # strict, as Keras
    else:
        predicted = np.argmax(prediction, axis=-1)  # the first maximum on ties
    correct = np.count_nonzero(predicted == target.astype(np.int64))
    return np.asarray(correct / target.size, dtype=prediction.dtype)
