"""Normalization: the torch backends' entries of its concepts (see :mod:`..torch_ops`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Tensor = Any


def table(torch: Any, device: str) -> dict[str, Callable[..., Any]]:
    F = torch.nn.functional

    def min_max_scale(
        x: Tensor, *, axis: int = 0, feature_min: float = 0.0, feature_max: float = 1.0
    ) -> Tensor:
        low, high = x.amin(dim=axis, keepdim=True), x.amax(dim=axis, keepdim=True)
        span = high - low
        scaled = feature_min + (feature_max - feature_min) * ((x - low) / span)
        return torch.where(span == 0, torch.full_like(x, feature_min), scaled)

    def standardize(x: Tensor, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0) -> Tensor:
        variance, mean = torch.var_mean(x, dim=axis, correction=ddof, keepdim=True)
        z = (x - mean) / torch.sqrt(variance + epsilon)
        constant = x.amax(dim=axis, keepdim=True) == x.amin(dim=axis, keepdim=True)
        return torch.where(constant & (epsilon == 0), torch.zeros_like(x), z)

    def batch_norm(
        x: Tensor,
        running_mean: Tensor,
        running_variance: Tensor,
        weight: Tensor,
        bias: Tensor,
        *,
        training: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Tensor:
        mean, var = running_mean.clone(), running_variance.clone()  # updated in place
        out = F.batch_norm(
            x, mean, var, weight, bias, training=training, momentum=momentum, eps=eps
        )
        return torch.cat([out, mean[None, :], var[None, :]])

    def layer_norm(x: Tensor, weight: Tensor, bias: Tensor, *, eps: float = 1e-5) -> Tensor:
        return F.layer_norm(x, (x.shape[-1],), weight, bias, eps=eps)

    return {
        "min_max_scale": min_max_scale,
        "standardize": standardize,
        "batch_norm": batch_norm,
        "layer_norm": layer_norm,
    }
