"""Training bookkeeping: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..numpy_ops import training
from ..numpy_ops.training import padded

Tensor = Any


def table(torch: Any, device: str) -> dict[str, Callable[..., Any]]:

    def minibatches(
        *,
        n: int,
        batch_size: int,
        epochs: int = 1,
        drop_last: bool = False,
        shuffle: bool = False,
        seed: int = 0,
    ) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        loader = torch.utils.data.DataLoader(
            range(n),
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            generator=generator,
        )

        def batches() -> Iterator[list[int]]:
            for _ in range(epochs):
                yield from (batch.tolist() for batch in loader)

        return padded(list(batches()), batch_size)

    def train_val_test_split(
        *, n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
    ) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        with warnings.catch_warnings():  # "Length of split at index 1 is 0": an empty subset
            warnings.simplefilter("ignore", UserWarning)
            subsets = torch.utils.data.random_split(range(n), list(fractions), generator=generator)
        return padded([list(subset.indices) for subset in subsets], n)

    def accuracy(prediction: Tensor, target: Tensor, *, threshold: float = 0.5) -> Tensor:
        if prediction.ndim == 1:
            predicted = (prediction > threshold).to(torch.int64)
        else:
            predicted = prediction.argmax(dim=-1)
        correct = (predicted == target.to(torch.int64)).sum().to(prediction.dtype)
        return correct / target.numel()

    return {
        "minibatches": minibatches,
        "train_val_test_split": train_val_test_split,
        "early_stopping": training.early_stopping,  # plain bookkeeping: shared with NumPy
        "accuracy": accuracy,
    }
