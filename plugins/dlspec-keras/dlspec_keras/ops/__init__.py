"""The Keras backends' table: one entry per concept, through Keras's own API.

``table(keras)`` returns functions of backend tensors (what ``keras.ops.convert_to_tensor``
makes) taking the reference's parameters by keyword; one module per concept group, each with
its ``table``, merged in the catalogue's order. Gradients are the running backend's autodiff of
those very functions (:func:`vjp`), as a Keras user's custom training step takes them
(``jax.grad`` or ``torch.autograd`` around Keras calls)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dlspec.adapters.base import Vjp, group_modules


def vjp(keras_backend: str) -> Vjp:
    """The backend's vector-Jacobian product (dlspec's JAX and torch helpers)."""
    if keras_backend == "jax":
        import jax
        from dlspec.adapters import jax_ops

        return jax_ops.vjp(jax)
    import torch
    from dlspec.adapters import torch_ops

    return torch_ops.vjp(torch)


def table(keras: Any) -> Mapping[str, Callable[..., Any]]:
    """Every concept's entry, group by group."""
    return {k: v for group in group_modules(__name__) for k, v in group.table(keras).items()}
