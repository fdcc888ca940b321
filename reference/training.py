"""The bookkeeping of training: mini-batches and epochs, data splits, early stopping, accuracy.

Spec pages: ``spec/concepts/<id>.md``. Index sets are integer arrays padded with -1: row ``i``
holds the sample indices of batch (or subset) ``i``. Which samples land where is random by design,
so the reference fixes the *structure* (how many, how large) and the unshuffled order, and the
tests check the rest as properties (each epoch a permutation, subsets disjoint and covering,
shuffles fresh per epoch and per seed, reproducible for a seed). Where it shuffles, the reference
draws its permutations from Python's own ``random.Random(seed)`` (``shuffled``): a generator of
its own, as each framework has one, so that the properties of randomness hold on it too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from typing import Any, Final

from mpmath import mpf

from ._core import (
    DomainError,
    Tensor,
    as_tensor,
    check_choice,
    check_ndim,
    check_tensor,
    exact,
    require,
    rows,
)

THRESHOLD_RULES: Final = ("strict", "inclusive")
PADDING: Final = -1


def _padded(groups: Sequence[Sequence[int]], width: int) -> Tensor:
    values = [mpf(i) for group in groups for i in (*group, *[PADDING] * (width - len(group)))]
    return Tensor((len(groups), width), tuple(values))


def batch_sizes(n: int, batch_size: int, drop_last: bool) -> list[int]:
    """Sizes of the batches of one epoch: ``ceil(n / B)`` batches, the last one short, or
    ``floor(n / B)`` full ones with ``drop_last``."""
    full, rest = divmod(n, batch_size)
    return [batch_size] * full + ([rest] if rest and not drop_last else [])


def shuffled(n: int, seed: int) -> Iterator[list[int]]:
    """Successive uniform permutations of ``0..n-1`` from ``random.Random(seed)`` (Fisher-Yates
    on the Mersenne Twister): one per epoch, reproducible for a seed."""
    rng = random.Random(seed)
    while True:
        order = list(range(n))
        rng.shuffle(order)
        yield order


@exact
def minibatches(
    *,
    n: int,
    batch_size: int,
    epochs: int = 1,
    drop_last: bool = False,
    shuffle: bool = False,
    seed: int = 0,
) -> Tensor:
    r"""The mini-batches of ``epochs`` passes over ``n`` samples: shape ``(iterations,
    batch_size)``, one row per iteration (optimizer step), padded with -1.

    Batches per epoch :math:`\lceil n / B \rceil`, or :math:`\lfloor n / B \rfloor` with
    ``drop_last``; iterations = epochs × batches per epoch. Each epoch visits every sample once
    (with ``drop_last``, all but ``n mod B``), in order ``0..n-1`` without ``shuffle`` and in a
    fresh permutation per epoch with it; ``seed`` picks the permutation (framework-specific, so
    only the structure is compared across backends; the reference's are :func:`shuffled`'s).
    """
    concept = "minibatches"
    require(concept, "n", n, n >= 1, "a positive integer")
    require(concept, "batch_size", batch_size, batch_size >= 1, "a positive integer")
    require(concept, "epochs", epochs, epochs >= 1, "a positive integer")
    if drop_last:
        require(concept, "batch_size", batch_size, batch_size <= n, f"at most n={n} with drop_last")
    permutations = shuffled(n, seed)
    batches = []
    for _ in range(epochs):
        order, start = next(permutations) if shuffle else list(range(n)), 0
        for size in batch_sizes(n, batch_size, drop_last):
            batches.append(order[start : start + size])
            start += size
    return _padded(batches, batch_size)


def split_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """``floor(n * f)`` each, the product taken in float64 as the frameworks do, then the
    remainder handed out one at a time from the first subset on (PyTorch ``random_split``)."""
    sizes = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(sizes)):
        sizes[i % len(sizes)] += 1
    return sizes


@exact
def train_val_test_split(
    *, n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> Tensor:
    r"""Split ``n`` samples into disjoint subsets that cover them all, with sizes from
    ``fractions`` by :func:`split_sizes`: shape ``(len(fractions), n)``, row ``i`` the sample
    indices of subset ``i`` padded with -1, cut from one random permutation: which samples land
    where depends on ``seed`` and the framework (the reference's: :func:`shuffled`).
    """
    concept = "train_val_test_split"
    require(concept, "n", n, n >= 1, "a positive integer")
    require(
        concept,
        "fractions",
        tuple(fractions),
        all(0 <= f <= 1 for f in fractions),
        "in [0, 1] each",
    )
    require(
        concept,
        "fractions",
        tuple(fractions),
        math.isclose(math.fsum(fractions), 1.0) and math.fsum(fractions) <= 1.0,
        "summing to 1",
    )
    order, subsets, start = next(shuffled(n, seed)), [], 0
    for size in split_sizes(n, fractions):
        subsets.append(order[start : start + size])
        start += size
    return _padded(subsets, n)


@exact
def early_stopping(
    metrics: Any, *, patience: int, min_delta: float = 0.0, mode: str = "min"
) -> Tensor:
    r"""Early stopping on a monitored metric, one value per epoch: ``[stop_epoch, best_epoch]``.

    An epoch *improves* when its value beats the best so far by more than ``min_delta``
    (``mode="min"``: :math:`a < b - \delta`; ``"max"``: :math:`a > b + \delta`; the best starts at
    :math:`\pm\infty`, so epoch 0 improves). Training stops after the epoch at which ``patience``
    consecutive epochs have not improved; ``stop_epoch`` is that epoch's index, -1 if training
    runs through every epoch given. ``best_epoch`` is the last improving epoch up to the stop,
    the one whose weights ``restore_best_weights`` brings back.
    """
    concept = "early_stopping"
    check_choice(concept, "mode", mode, ("min", "max"))
    require(concept, "patience", patience, patience >= 1, "a positive integer")
    require(concept, "min_delta", min_delta, min_delta >= 0, "non-negative")
    metrics = as_tensor(metrics)
    check_tensor(concept, "metrics", metrics)
    check_ndim(concept, "metrics", metrics, 1)
    sign = 1 if mode == "min" else -1
    best, best_epoch, waited, stop = mpf("inf"), 0, 0, -1
    for epoch, value in enumerate(metrics.values):
        if sign * value < best - mpf(min_delta):
            best, best_epoch, waited = sign * value, epoch, 0
        else:
            waited += 1
        if waited >= patience:
            stop = epoch
            break
    return Tensor((2,), (mpf(stop), mpf(best_epoch)))


@exact
def accuracy(
    prediction: Any, target: Any, *, threshold: float = 0.5, threshold_rule: str = "strict"
) -> mpf:
    r"""The fraction of samples classified correctly.

    Binary (``prediction`` 1-D, probabilities or scores): the predicted class is 1 where
    :math:`p > t` (``threshold_rule="strict"``: Keras ``binary_accuracy``, torchmetrics) or
    :math:`p \ge t` (``"inclusive"``), for ``t = threshold``; ``target`` holds 0 and 1.
    Multiclass (``prediction`` of shape ``(n, C)``): the predicted class is the argmax, the
    *first* maximal index on ties; ``target`` holds class indices.
    """
    concept = "accuracy"
    check_choice(concept, "threshold_rule", threshold_rule, THRESHOLD_RULES)
    prediction, target = as_tensor(prediction), as_tensor(target)
    check_tensor(concept, "prediction", prediction, min_ndim=1)
    check_tensor(concept, "target", target)
    check_ndim(concept, "target", target, 1)
    if prediction.ndim > 2 or prediction.shape[0] != target.size:
        raise DomainError(
            concept,
            "prediction",
            f"must have shape ({target.size},) or ({target.size}, classes) for a target of "
            f"shape {target.shape}, got {prediction.shape}",
        )
    if prediction.ndim == 1:
        require(
            concept, "target", "values", all(y in (0, 1) for y in target.values), "0 or 1 (binary)"
        )
        t = mpf(threshold)
        predicted = [
            int(p > t if threshold_rule == "strict" else p >= t) for p in prediction.values
        ]
    else:
        classes = prediction.shape[1]
        require(
            concept,
            "target",
            "values",
            all(y == int(y) and 0 <= y < classes for y in target.values),
            f"class indices in [0, {classes})",
        )
        predicted = [row.index(max(row)) for row in rows(prediction)]
    correct = sum(int(p == y) for p, y in zip(predicted, target.values, strict=True))
    return mpf(correct) / target.size
