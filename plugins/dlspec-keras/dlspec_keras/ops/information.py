"""Information theory: ``keras.losses.kl_divergence``; entropy and cross entropy composed from
``keras.ops`` (see :mod:`..ops`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Tensor = Any


def table(keras: Any) -> dict[str, Callable[..., Any]]:
    ops = keras.ops

    def in_base(nats: Tensor, base: float | None) -> Tensor:
        return nats if base is None else nats / math.log(base)

    def entropy(p: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        # Keras has no entropy: -sum p log p with 0 log 0 = 0
        terms = ops.where(p > 0, -p * ops.log(ops.where(p > 0, p, ops.ones_like(p))), 0)
        return in_base(ops.sum(terms, axis=axis), base)

    def cross_entropy(p: Tensor, q: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        # keras.losses.categorical_crossentropy renormalises q and clips it into
        # [1e-7, 1 - 1e-7], which is not the cross entropy of q: composed instead.
        safe_q = ops.where(p > 0, q, ops.ones_like(q))
        terms = ops.where(p > 0, -p * ops.log(safe_q), 0)
        return in_base(ops.sum(terms, axis=axis), base)

    def kl_divergence(p: Tensor, q: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        # keras.losses.kl_divergence sums over the last axis (the Keras convention)
        divergence = keras.losses.kl_divergence(
            ops.moveaxis(p, axis, -1), ops.moveaxis(q, axis, -1)
        )
        return in_base(divergence, base)

    return {"entropy": entropy, "cross_entropy": cross_entropy, "kl_divergence": kl_divergence}
