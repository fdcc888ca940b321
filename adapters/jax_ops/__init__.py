"""The JAX backend's table: one entry per concept, through JAX's and optax's own API.

Imported only by ``jax_adapter`` once jax and optax are known to be importable;
``table(jax, optax)`` returns functions of ``jax.Array`` arguments taking the reference's
parameters by keyword. Those in :data:`EAGER` drive optax's stateful objects step by step in
Python and are never jitted as a whole; the rest are pure array functions.

One module per concept group, each with its ``table``; :func:`table` merges them in
the catalogue's order."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from ..base import group_modules

Array = Any


EAGER = frozenset(
    {
        "sgd",
        "adam",
        "adamw",
        "gradient_accumulation",
        "frozen_parameters",
        "step_lr",
        "multistep_lr",
        "exponential_lr",
        "cosine_annealing_lr",
        "linear_warmup",
        "warmup_cosine",
        "reduce_lr_on_plateau",
        "minibatches",
        "train_val_test_split",
        "early_stopping",
    }
)
"""Concepts run step by step as optax is used (``init``, ``update``, ``apply_updates``; a
schedule called with the step count) or plain bookkeeping; the others are jitted whole."""


def static_parameters(function: Callable[..., Any]) -> tuple[str, ...]:
    """The keyword-only parameters: static under ``jax.jit`` (one compilation per value)."""
    return tuple(
        name
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


def vjp(jax: Any) -> Callable[[Callable[..., Any], int], Callable[..., Any]]:
    """``jax.vjp``'s vector-Jacobian product of ``function`` in its argument ``wrt``. The result
    keeps ``function``'s keyword-only parameters in its signature (they are static under
    ``jax.jit``), with the cotangent as its last positional argument."""

    def differentiate(function: Callable[..., Any], wrt: int) -> Callable[..., Any]:
        def gradient(*arrays: Array, **params: Any) -> Array:
            *inputs, cotangent = arrays

            def of_wrt(value: Array) -> Array:
                return function(*inputs[:wrt], value, *inputs[wrt + 1 :], **params)

            out, pullback = jax.vjp(of_wrt, inputs[wrt])
            if out.dtype != cotangent.dtype:  # JAX takes the cotangent in the result's dtype
                cotangent = cotangent.astype(out.dtype)
            (grad,) = pullback(cotangent)
            return grad

        signature = inspect.signature(function)
        positional = [
            p for p in signature.parameters.values() if p.kind is not inspect.Parameter.KEYWORD_ONLY
        ]
        keyword = [
            p for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        cotangent = inspect.Parameter("cotangent", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        gradient.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*positional, cotangent, *keyword]
        )
        return gradient

    return differentiate


def table(jax: Any, optax: Any) -> Mapping[str, Callable[..., Any]]:
    """Every concept's entry, group by group."""
    return {k: v for group in group_modules(__name__) for k, v in group.table(jax, optax).items()}
