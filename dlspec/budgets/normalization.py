"""The error models of normalization (standardize, min-max, layer and batch norm), each beside its gradient's: the derived term ``s`` of each
budget, and the underflow models (the method: :mod:`dlspec.budgets`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

import dlspec.budgets._shared as shared
from dlspec.budgets._registry import UNIT_ROUNDOFF, Inputs, error_model, underflow_model


def along_axis_model(
    inputs: Inputs, params: Mapping[str, Any], lane_model: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """``lane_model`` of ``x`` with the lanes along ``params["axis"]`` (default 0) last, its
    result moved back to that axis: the frame of the models of standardize and its gradient."""
    axis = params.get("axis", 0)
    return np.moveaxis(lane_model(shared.lane_last(inputs["x"], axis)), -1, axis)


def _lanes_statistics(
    x: np.ndarray, ddof: int, epsilon: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Along the last axis: the largest magnitude ``M``, ``sd = sqrt(var + eps)``, the z-scores."""
    n = x.shape[-1]
    mean = np.mean(x, axis=-1, keepdims=True)
    variance = np.sum((x - mean) ** 2, axis=-1, keepdims=True) / max(n - ddof, 1)
    sd = np.sqrt(variance + epsilon)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 0, (x - mean) / sd, 0.0)
    return np.max(np.abs(x), axis=-1, keepdims=True), sd, z, n


def _standardized(x: np.ndarray, ddof: int, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    r"""z-scores along the last axis and their model :math:`(|x_i| + nM)/sd + |z_i|(2nM/sd + n)`
    (the mean's ``n``-term sum, the variance's sum of squares, the root); 0 where ``sd = 0``: a
    constant lane must map to exactly 0."""
    big, sd, z, n = _lanes_statistics(x, ddof, epsilon)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = np.where(sd > 0, (np.abs(x) + n * big) / sd + np.abs(z) * (2 * n * big / sd + n), 0.0)
    return z, s


@error_model
def standardize(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""See :func:`_standardized`, along ``axis``."""
    axis = params.get("axis", 0)
    x = shared.lane_last(inputs["x"], axis)
    _, s = _standardized(x, params.get("ddof", 0), params.get("epsilon", 0.0))
    return np.moveaxis(s, -1, axis)


@error_model
def min_max_scale(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|b - a| ((|x| + |m|) / R + |x - m| (|M| + |m|) / R^2) + |a| + |r|` for the lane's
    minimum ``m``, maximum ``M`` and range ``R``: the two differences and the quotient; 0 on a
    constant lane, which maps exactly to ``a``. The last term is evaluated as
    :math:`(|x - m| / R)((|M| + |m|) / R)`: :math:`R^2` underflows for a range below 1e-154
    (seed 4 found R = 5.3e-247, where 0 / 0 made the allowance NaN, hence 0)."""
    axis = params.get("axis", 0)
    x = shared.lane_last(inputs["x"], axis)
    low, high = np.min(x, axis=-1, keepdims=True), np.max(x, axis=-1, keepdims=True)
    span = high - low
    a, b = params.get("feature_min", 0.0), params.get("feature_max", 1.0)
    r = shared.lane_last(result, axis)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = abs(b - a) * (
            (np.abs(x) + np.abs(low)) / span
            + (np.abs(x - low) / span) * ((np.abs(high) + np.abs(low)) / span)
        )
        s = np.where(span > 0, s + abs(a) + np.abs(r), 0.0)
    return np.moveaxis(s, -1, axis)


@error_model
def layer_norm(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|\gamma| s_z + |\gamma z| + |r|`: the z-score model, the scale and the shift."""
    x = shared.argument(inputs)
    gamma = np.abs(shared.argument(inputs, "weight"))
    z, s = _standardized(x, 0, params.get("eps", 1e-5))
    return gamma * s + gamma * np.abs(z) + np.abs(result)


@error_model
def batch_norm(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Output rows as :func:`layer_norm` (per channel, over the batch; in evaluation the running
    statistics, rounded once, normalize); running statistics: the convex combination of the old
    value and the batch statistic, whose own error is the mean's ``n``-term sum and the variance's
    relative :math:`2n + 4 + 4nM/\sigma_B` (plus :math:`(nM)^2 u` where it is 0)."""
    x = shared.argument(inputs).T  # channels first: lanes are the batch
    gamma = np.abs(shared.argument(inputs, "weight"))[:, None]
    eps = params.get("eps", 1e-5)
    n = x.shape[-1]
    m = params.get("momentum", 0.1)
    new, old = (
        (m, 1 - m)
        if params.get("momentum_convention", "weights_batch") == "weights_batch"
        else (1 - m, m)
    )
    out = result[:n].T
    if params.get("training", True):
        z, s = _standardized(x, 0, eps)
        big, sd_eps, _, _ = _lanes_statistics(x, 0, 0.0)
        # the momentum itself rounded to the dtype moves 1 - m by m u: a relative error of both
        # weights, hence |old| + |batch statistic| once more
        batch_mean = np.abs(np.mean(x, axis=-1))
        mean_error = (
            new * n * big[:, 0]
            + old * np.abs(shared.argument(inputs, "running_mean"))
            + np.abs(shared.argument(inputs, "running_mean"))
            + batch_mean
        )
        variance = np.var(x, axis=-1)
        if params.get("running_var", "unbiased") == "unbiased":
            variance = variance * n / (n - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(sd_eps[:, 0] > 0, 2 * n + 4 + 4 * n * big[:, 0] / sd_eps[:, 0], 0.0)
        variance_error = (
            # a variance of a rounded mean is off by its squared error: u (n M)^2 u
            new * (variance * relative + (n * big[:, 0]) ** 2 * params[UNIT_ROUNDOFF])
            + old * np.abs(shared.argument(inputs, "running_variance"))
            + np.abs(shared.argument(inputs, "running_variance"))
            + variance
        )
    else:
        mean, var = (
            shared.argument(inputs, "running_mean")[:, None],
            shared.argument(inputs, "running_variance")[:, None],
        )
        sd = np.sqrt(var + eps)
        z = (x - mean) / sd
        s = (np.abs(x) + np.abs(mean)) / sd + 2 * np.abs(z)
        mean_error = variance_error = np.zeros(x.shape[0])
    rows = (gamma * s + gamma * np.abs(z) + np.abs(out)).T
    return np.vstack(
        [
            rows,
            mean_error[None, :] + np.abs(result[n]),
            variance_error[None, :] + np.abs(result[n + 1]),
        ]
    )


def _inverse_spread(x: np.ndarray, epsilon: float) -> np.ndarray:
    """``1 / sqrt(var + eps)`` along the last axis, 0 where that is infinite (constant lanes,
    which map to 0 exactly)."""
    _, sd, _, _ = _lanes_statistics(x, 0, epsilon)
    with np.errstate(divide="ignore"):
        return np.where(sd > 0, 1 / np.where(sd > 0, sd, 1), 0.0)


@underflow_model("standardize")
def _standardize_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """A subnormal mean or deviation, divided by the spread: ``4 / sd``."""
    epsilon = params.get("epsilon", 0.0)
    return along_axis_model(
        inputs, params, lambda x: 4 * _inverse_spread(x, epsilon) * np.ones_like(x)
    )


@underflow_model("layer_norm")
def _layer_norm_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """As standardize, scaled by the weight, and a subnormal ``gamma / sd`` times the deviation
    (a kernel may fold the weight into the inverse spread first): ``4 |gamma| / sd + 4 |x - mu| + 1``."""
    x = shared.argument(inputs)
    gamma = np.abs(shared.argument(inputs, "weight"))
    deviation = np.abs(x - np.mean(x, axis=-1, keepdims=True))
    return 4 * gamma * _inverse_spread(x, params.get("eps", 1e-5)) + 4 * deviation + 1


@underflow_model("batch_norm")
def _batch_norm_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """Output rows as layer_norm's, per channel (PyTorch folds the weight into the inverse spread,
    whose subnormal product is then multiplied by the deviation); the running statistics: 4."""
    x = shared.argument(inputs).T
    gamma = np.abs(shared.argument(inputs, "weight"))[:, None]
    if params.get("training", True):
        inverse = _inverse_spread(x, params.get("eps", 1e-5))
    else:
        inverse = (
            1
            / np.sqrt(shared.argument(inputs, "running_variance") + params.get("eps", 1e-5))[
                :, None
            ]
        )
    centre = (
        np.mean(x, axis=-1, keepdims=True)
        if params.get("training", True)
        else (shared.argument(inputs, "running_mean")[:, None])
    )
    rows = 4 * gamma * inverse + 4 * np.abs(x - centre) + 1
    return np.vstack([rows.T, np.full((2, x.shape[0]), 4.0)])


@underflow_model("min_max_scale")
def _min_max_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """A subnormal difference divided by the range: ``4 |b - a| / R``, at most the largest
    float64. A range near or below the smallest normal would overflow it (make report's
    thorough run drew a subnormal range): flushed, such a range is 0 and the lane becomes ``a``,
    at most ``|b - a|`` from the truth, and the capped amplification times the smallest normal
    allows 4; gradual, the lane is exact to within the derived model, and it allows 2^-51.
    Uncapped, the amplification was infinite and every value passed in such a lane."""
    axis = params.get("axis", 0)
    x = shared.lane_last(inputs["x"], axis)
    span = np.ptp(x, axis=-1, keepdims=True)
    width = abs(params.get("feature_max", 1.0) - params.get("feature_min", 0.0))
    biggest = np.finfo(np.float64).max
    with np.errstate(divide="ignore", over="ignore"):
        amplification = np.minimum(4 * width / np.where(span > 0, span, np.inf), biggest)
    return np.moveaxis(amplification * np.ones_like(x), -1, axis)


def _standardized_vjp_model(x: np.ndarray, g: np.ndarray, ddof: int, epsilon: float) -> np.ndarray:
    r"""Along the last axis, for :math:`(\bar g - \overline{\bar g} - z Q / (n - d)) / \hat\sigma`
    with :math:`Q = \sum \bar g_i z_i`: the three terms' rounding and the sums' bounds,
    :math:`(n + 4)(|\bar g_j| + \overline{|\bar g|} + |z_j| \sum|\bar g_i z_i| / (n - d))`, the
    z-scores' error :math:`s_z` (the standardize model) through :math:`Q` and :math:`z_j`, and
    :math:`\hat\sigma`'s relative error :math:`2nM/\hat\sigma + n` on the whole; over
    :math:`\hat\sigma`."""
    big, sd, z, n = _lanes_statistics(x, ddof, epsilon)
    _, s_z = _standardized(x, ddof, epsilon)
    m = max(n - ddof, 1)
    q = np.abs(np.sum(g * z, axis=-1, keepdims=True))
    terms = (
        np.abs(g)
        + np.mean(np.abs(g), axis=-1, keepdims=True)
        + np.abs(z) * np.sum(np.abs(g * z), axis=-1, keepdims=True) / m
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        spread_relative = np.where(sd > 0, 2 * n * big / sd + n, 0.0)
        s = (
            (n + 4) * terms
            + np.abs(z) * np.sum(np.abs(g) * s_z, axis=-1, keepdims=True) / m
            + q * s_z / m
            + terms * spread_relative
        ) / sd
    return np.where(sd > 0, s, np.inf)


@error_model
def standardize_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""See :func:`_standardized_vjp_model`, along ``axis``."""
    axis = params.get("axis", 0)
    x = shared.lane_last(inputs["x"], axis)
    g = shared.lane_last(inputs["cotangent"], axis)
    s = _standardized_vjp_model(x, g, params.get("ddof", 0), params.get("epsilon", 0.0))
    return np.moveaxis(s, -1, axis) + 2 * np.abs(result)


@error_model
def layer_norm_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""As :func:`standardize_grad` over the last axis, on :math:`\gamma \odot \bar g`."""
    g = shared.argument(inputs, "cotangent") * shared.argument(inputs, "weight")
    s = _standardized_vjp_model(shared.argument(inputs), g, 0, params.get("eps", 1e-5))
    return s + 2 * np.abs(result)


@error_model
def batch_norm_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""As :func:`standardize_grad` over the batch (axis 0), on :math:`\gamma_c \bar g`."""
    g = (shared.argument(inputs, "cotangent") * shared.argument(inputs, "weight")).T
    s = _standardized_vjp_model(shared.argument(inputs).T, g, 0, params.get("eps", 1e-5))
    return s.T + 2 * np.abs(result)


def _standardized_underflow(x: np.ndarray, ddof: int, epsilon: float) -> np.ndarray:
    r"""The products :math:`\gamma \odot \bar g` (a subnormal weight or cotangent) and the
    sums of the VJP may underflow, each losing up to the underflow unit, which the VJP's linear
    map then carries: its gain per unit of cotangent bounds the amplification, and that gain is
    :func:`_standardized_vjp_model` on a cotangent of ones (its terms bound the map's, and its
    :math:`n + 4` counts the operations that can underflow)."""
    return _standardized_vjp_model(x, np.ones_like(x), ddof, epsilon)


@underflow_model("standardize_grad")
def _standardize_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """:func:`_standardized_underflow` along ``axis``."""
    ddof, epsilon = params.get("ddof", 0), params.get("epsilon", 0.0)
    return along_axis_model(inputs, params, lambda x: _standardized_underflow(x, ddof, epsilon))


@underflow_model("layer_norm_grad")
def _layer_norm_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """:func:`_standardized_underflow` over the last axis (found at seed 1, ``ci``: torch
    float64, weight 2.2e-313, 9 ulp where 8 were allowed)."""
    return _standardized_underflow(shared.argument(inputs), 0, params.get("eps", 1e-5))


@underflow_model("batch_norm_grad")
def _batch_norm_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """:func:`_standardized_underflow` over the batch."""
    return _standardized_underflow(shared.argument(inputs).T, 0, params.get("eps", 1e-5)).T
