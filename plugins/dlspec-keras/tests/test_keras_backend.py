"""The process's Keras backend: the one ``KERAS_BACKEND`` asks for (Keras reads it once, when it
is first imported). Run it in either backend's process:
``KERAS_BACKEND=jax pytest plugins/dlspec-keras/tests`` (or ``torch``)."""

from __future__ import annotations

import os

import pytest

keras = pytest.importorskip("keras")


def test_the_process_backend_is_the_one_asked_for() -> None:
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", keras.backend.backend())
