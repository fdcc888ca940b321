"""Training: the ``EarlyStopping`` callback driven through ``on_epoch_end`` with the logs a
``fit`` would pass, and ``keras.metrics`` accuracies. Keras has no data loader or split outside
``tf.data`` (``keras.utils.split_dataset`` builds ``tf.data`` datasets): ``minibatches`` and
``train_val_test_split`` are unsupported (see :mod:`..ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Tensor = Any


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    ops, accuracies = keras.ops, keras.metrics

    def early_stopping(
        metrics: Tensor, *, patience: int, min_delta: float = 0.0, mode: str = "min"
    ) -> np.ndarray:
        model = keras.Sequential()
        callback = keras.callbacks.EarlyStopping(
            monitor="val_loss", min_delta=min_delta, patience=patience, mode=mode
        )
        callback.set_model(model)
        model.stop_training = False
        callback.on_train_begin()
        for epoch, value in enumerate(ops.convert_to_numpy(metrics)):
            callback.on_epoch_end(epoch, {"val_loss": float(value)})
            if model.stop_training:
                break
        stop = callback.stopped_epoch if model.stop_training else -1
        return np.array([stop, callback.best_epoch], dtype=np.int64)

    def accuracy(prediction: Tensor, target: Tensor, *, threshold: float = 0.5) -> Tensor:
        # the metric classes, as model.compile(metrics=...) makes them: total / count
        dtype = keras.backend.standardize_dtype(prediction.dtype)
        if ops.ndim(prediction) == 1:
            metric = accuracies.BinaryAccuracy(threshold=threshold, dtype=dtype)
            metric.update_state(ops.cast(target, dtype)[:, None], prediction[:, None])
        else:
            metric = accuracies.SparseCategoricalAccuracy(dtype=dtype)
            metric.update_state(target, prediction)
        return metric.result()

    return {
        "early_stopping": early_stopping,
        "accuracy": accuracy,
    }
