"""Training bookkeeping: the jax backends' entries of its concepts (see :mod:`..jax_ops`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..numpy_ops import training

Array = Any


def table(jax: Any, optax: Any) -> dict[str, Callable[..., Any]]:
    jnp = jax.numpy

    def permutations(seed: int, n: int) -> Iterator[np.ndarray]:
        key = jax.random.key(seed)
        while True:
            key, subkey = jax.random.split(key)
            yield np.asarray(jax.random.permutation(subkey, n))

    def minibatches(
        *,
        n: int,
        batch_size: int,
        epochs: int = 1,
        drop_last: bool = False,
        shuffle: bool = False,
        seed: int = 0,
    ) -> np.ndarray:
        # JAX has no data loader: jax.random permutations, cut into batches.
        shuffled = permutations(seed, n)
        orders = (next(shuffled) if shuffle else np.arange(n) for _ in range(epochs))
        return training.batched(orders, batch_size, drop_last)

    def train_val_test_split(
        *, n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
    ) -> np.ndarray:
        return training.split(next(permutations(seed, n)), fractions)

    def accuracy(prediction: Array, target: Array, *, threshold: float = 0.5) -> Array:
        if prediction.ndim == 1:
            predicted = (prediction > threshold).astype(jnp.int64)
        else:
            predicted = jnp.argmax(prediction, axis=-1)
        correct = jnp.sum(predicted == target.astype(jnp.int64))
        return correct.astype(prediction.dtype) / target.size

    return {
        "minibatches": minibatches,
        "train_val_test_split": train_val_test_split,
        "early_stopping": training.early_stopping,  # plain bookkeeping: shared with NumPy
        "accuracy": accuracy,
    }
