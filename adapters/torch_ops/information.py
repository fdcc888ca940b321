"""Information theory: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Tensor = Any


def table(torch: Any, device: str) -> dict[str, Callable[..., Any]]:
    F = torch.nn.functional

    def in_base(nats: Tensor, base: float | None) -> Tensor:
        return nats if base is None else nats / math.log(base)

    def entropy(p: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        return in_base(torch.special.entr(p).sum(dim=axis), base)

    def cross_entropy(p: Tensor, q: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        return in_base(-torch.special.xlogy(p, q).sum(dim=axis), base)

    def kl_divergence(p: Tensor, q: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        # F.kl_div takes the log of the *second* distribution first: kl_div(log q, p) = p log(p/q)
        pointwise = F.kl_div(torch.log(q), p, reduction="none")
        return in_base(pointwise.sum(dim=axis), base)

    return {
        "entropy": entropy,
        "cross_entropy": cross_entropy,
        "kl_divergence": kl_divergence,
    }
