"""The torch backends' table: one entry per concept, through PyTorch's own API.

Imported only by ``torch_adapter`` once torch is known to be importable; ``table(torch, device)``
binds every entry to a device. Arguments arrive as tensors on that device, parameters by the
reference's names.

One module per concept group, each with its ``table``; :func:`table` merges them in
the catalogue's order."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..base import group_modules

Tensor = Any


def vjp(torch: Any) -> Callable[[Callable[..., Any], int], Callable[..., Any]]:
    """``torch.autograd``'s vector-Jacobian product of ``function`` in its argument ``wrt``."""

    def differentiate(function: Callable[..., Any], wrt: int) -> Callable[..., Any]:
        def gradient(*arrays: Tensor, **params: Any) -> Tensor:
            *inputs, cotangent = arrays
            inputs[wrt] = inputs[wrt].detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(
                function(*inputs, **params), inputs[wrt], grad_outputs=cotangent
            )
            return grad

        return gradient

    return differentiate


def table(torch: Any, device: str) -> Mapping[str, Callable[..., Any]]:
    """Every concept's entry, group by group."""
    return {
        k: v for group in group_modules(__name__) for k, v in group.table(torch, device).items()
    }
