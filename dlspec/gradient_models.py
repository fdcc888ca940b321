r"""Error models of the gradient concepts (``<concept>_grad``): the derived part ``s`` of
:math:`|b - r| \le N\,\mathrm{ulp}(r) + u s`, as in :mod:`dlspec.error_models`.

A framework's backward pass evaluates the derivative's formula from *rounded* intermediates,
most often the forward result it saved (``sigmoid' = y (1 - y)`` from the rounded ``y``). So each
model is the first-order propagation of those intermediates' errors through the formula, plus the
a-priori bound :math:`k \sum |t_i|` of adding the formula's terms :math:`t_i` (Higham, *Accuracy
and Stability of Numerical Algorithms*, 2nd ed., §3.1). Where the exact derivative is much
smaller than its terms (``1 - y`` with ``y`` rounded near 1; ``softmax - y`` near the target),
that is the cancellation the bound must allow, and no more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from dlspec.error_models import (
    UNDERFLOW,
    Inputs,
    _class_distribution,
    _lane_last,
    _lanes_statistics,
    _log_base_magnitude,
    _log_softmax64,
    _sigma,
    _standardized,
    _x,
    along_axis_model,
    error_model,
    underflow_model,
)


def _g(inputs: Inputs) -> np.ndarray:
    return np.abs(_x(inputs, "cotangent"))


def _through_reduction(
    inputs: Inputs, params: Mapping[str, Any], shape: tuple[int, ...]
) -> np.ndarray:
    """|cotangent| reaching each term of a reduced loss: itself, the scalar, or the scalar / n."""
    g = _g(inputs)
    reduction = params.get("reduction", "mean")
    if reduction == "none":
        return np.broadcast_to(g, shape)
    n = int(np.prod(shape))
    return np.full(shape, float(g) / (n if reduction == "mean" else 1))


@error_model
def leaky_relu_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|r|` where the slope multiplies (:math:`x \le 0`; the slope rounded to the dtype is
    a relative ``u``), 0 where the cotangent passes unchanged."""
    return np.where(_x(inputs) > 0, 0.0, np.abs(result))


@error_model
def sigmoid_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|\bar g|\,y (6 + |x|(1 - y)) + 2|r|` with :math:`y = \sigma(x)`: ``y`` is rounded
    within 4 ulp plus its condition :math:`|x| y (1 - y)`, and :math:`y - y^2` (terms up to
    :math:`2y`) carries that absolute error whatever the cancellation in :math:`1 - y`."""
    x, g = _x(inputs), _g(inputs)
    y = _sigma(x)
    return g * y * (6 + np.abs(x) * (1 - y)) + 2 * np.abs(result)


@error_model
def tanh_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|\bar g| (8 t^2 + 2|x||t|(1 - t^2) + 2) + 2|r|`: :math:`1 - t^2` from the rounded
    ``t`` (4 ulp and the condition :math:`|x|(1 - t^2)` of tanh, doubled by the square)."""
    x, g = _x(inputs), _g(inputs)
    t = np.tanh(x)
    return g * (8 * t * t + 2 * np.abs(x * t) * (1 - t * t) + 2) + 2 * np.abs(result)


@error_model
def softplus_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|\bar g|\,\sigma(\beta x)(6 + |\beta x|(1 - \sigma(\beta x))) + 2|r|`: the
    sigmoid's model at :math:`\beta x` (the product :math:`\beta x` is one more rounding)."""
    z = params.get("beta", 1.0) * _x(inputs)
    y = _sigma(z)
    return _g(inputs) * y * (6 + np.abs(z) * (1 - y)) + 2 * np.abs(result)


@error_model
def gelu_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Exact form :math:`\Phi + x\varphi`: the cdf from ``1 + erf`` carries an absolute
    :math:`4u`; :math:`x\varphi` its rounding and the condition :math:`|x|\varphi|2 - x^2|`:
    :math:`|\bar g|(4 + |x|\varphi(6 + x^2)) + 2|r|`. Tanh form: :math:`1 - \tanh^2 u` from the
    rounded tanh is off by :math:`8u` absolutely and multiplied by
    :math:`\tfrac12|x|\sqrt{2/\pi}(1 + 3c x^2)`: :math:`|\bar g|(6 + 4|x|(1 + 0.14 x^2)) + 2|r|`."""
    x, g = _x(inputs), _g(inputs)
    form = params.get("approximate") or params.get("default_form", "none")
    if form == "tanh":
        return g * (6 + 4 * np.abs(x) * (1 + 0.14 * x * x)) + 2 * np.abs(result)
    with np.errstate(under="ignore", over="ignore"):
        phi = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
        return g * (4 + np.abs(x) * phi * (6 + x * x)) + 2 * np.abs(result)


@error_model
def silu_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\bar g \sigma(1 + x(1 - \sigma))` from the rounded :math:`\sigma`, bounded by
    :math:`|\bar g|\sigma(6 + 6|x|)` for the roundings (of :math:`\sigma`, :math:`1 - \sigma`,
    the products and the sum, each a few units of :math:`\sigma` or :math:`\sigma|x|`), plus
    :math:`|\bar g||x|\sigma(1 - \sigma)|2 + x(1 - 2\sigma)|` for the error :math:`\sigma`
    carries from its rounded argument (relative :math:`(1 - \sigma)|x|`) through the formula,
    whose derivative in :math:`\sigma` is :math:`1 + x(1 - 2\sigma)`, plus :math:`2|r|` for
    the result's own rounding."""
    x, g = _x(inputs), _g(inputs)
    s = _sigma(x)
    condition = np.abs(x) * s * (1 - s) * np.abs(2 + x * (1 - 2 * s))
    return g * (s * (6 + 6 * np.abs(x)) + condition) + 2 * np.abs(result)


@error_model
def elu_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|r|(4 + |x|)` on the exponential branch (the exp's rounding and condition, or
    ``out + alpha`` from the rounded output), 0 on the identity branch."""
    x = _x(inputs)
    return np.where(x > 0, 0.0, np.abs(result) * (4 + np.abs(x)))


@error_model
def softmax_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""With the rounded softmax :math:`y` (error :math:`e_j = u(4 y_j + S_j)`, ``S`` the softmax
    model) and :math:`\langle\bar g, y\rangle`: :math:`|\bar g_i - \langle \bar g, y\rangle|(4y_i
    + S_i) + y_i\sum_j|\bar g_j|(4y_j + S_j) + 2 y_i(|\bar g_i| + n\sum_j|\bar g_j| y_j) + 2|r_i|`."""
    axis = params.get("axis", -1)
    x = _lane_last(inputs["x"], axis)
    g = _lane_last(inputs["cotangent"], axis)
    n = x.shape[-1]
    with np.errstate(under="ignore"):
        y = np.exp(_log_softmax64(x))
    model = y * (np.abs(x) + np.sum(y * np.abs(x), axis=-1, keepdims=True) + n - 1)
    error_y = 4 * y + model
    dot = np.sum(g * y, axis=-1, keepdims=True)
    s = (
        np.abs(g - dot) * error_y
        + y * np.sum(np.abs(g) * error_y, axis=-1, keepdims=True)
        + 2 * y * (np.abs(g) + n * np.sum(np.abs(g) * y, axis=-1, keepdims=True))
    )
    return np.moveaxis(s, -1, axis) + 2 * np.abs(result)


@error_model
def log_softmax_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\bar g_i - y_i \sum \bar g` with :math:`y = e^{o}` from the rounded output ``o``
    (absolute error :math:`u(4|o_i| + |x_i| + \sum_j y_j|x_j| + n - 1)`, a relative error of
    :math:`y_i`): :math:`y_i|\sum\bar g|(4|o_i| + |x_i| + \sum_j y_j |x_j| + n + 2) +
    y_i n \sum|\bar g| + |\bar g_i| + 2|r_i|`."""
    axis = params.get("axis", -1)
    x = _lane_last(inputs["x"], axis)
    g = _lane_last(inputs["cotangent"], axis)
    n = x.shape[-1]
    o = _log_softmax64(x)
    with np.errstate(under="ignore"):
        y = np.exp(o)
    total = np.abs(np.sum(g, axis=-1, keepdims=True))
    magnitude = np.sum(np.abs(g), axis=-1, keepdims=True)
    weighted = np.sum(y * np.abs(x), axis=-1, keepdims=True)
    s = y * total * (4 * np.abs(o) + np.abs(x) + weighted + n + 2) + y * n * magnitude + np.abs(g)
    return np.moveaxis(s, -1, axis) + 2 * np.abs(result)


@error_model
def pointwise_loss_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r""":math:`4|r|`: a difference of exact inputs (one rounding) and up to three products or
    quotients (the cotangent, the reduction's ``1/n``, a factor 2, a strength): relative errors."""
    return 4 * np.abs(result)


@error_model
def penalty_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":func:`pointwise_loss_grad`'s :math:`4|r|`: ``lambda sign(w)`` or ``lambda w`` (times 2)
    times the cotangent, products only."""
    return pointwise_loss_grad(inputs, params, result)


@error_model
def binary_cross_entropy_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r""":math:`4|r| + 3\bar g_i(|y|/p + |1 - y|/(1 - p))`: the relative errors of
    :math:`(p - y)/(p(1 - p))`, and the cancellation of the two-term form
    :math:`-y/p + (1 - y)/(1 - p)` near :math:`p = y` (``xlogy`` and ``xlog1py`` differentiated
    apart)."""
    p, y = _x(inputs, "probability"), _x(inputs, "target")
    upstream = _through_reduction(inputs, params, p.shape)
    # |y| / p is inf at p = 0 and overflows for a subnormal p: an unbounded term, as it should be
    # (and so are its products with the cotangent and with 3)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        terms = np.where(y == 0, 0.0, np.abs(y) / p) + np.where(
            y == 1, 0.0, np.abs(1 - y) / (1 - p)
        )
        # a zero cotangent zeroes the gradient whatever the terms (inf at p in {0, 1}): 0, not
        # 0 * inf
        upstream, terms = np.broadcast_arrays(np.asarray(upstream, dtype=np.float64), terms)
        weighted = np.multiply(upstream, terms, out=np.zeros(terms.shape), where=upstream != 0)
        return 4 * np.abs(result) + 3 * weighted


@error_model
def binary_cross_entropy_with_logits_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r""":math:`\bar g_i\big((6 + |z|(1 - \sigma))\sigma\,(1 + w|y| + |1 - y|) + 3 w |y|\big) +
    2|r|`: the rounded sigmoid (its model) weighted by the terms it enters, and the sums'
    rounding relative to their terms."""
    z, y = _x(inputs, "logits"), _x(inputs, "target")
    w = params.get("pos_weight", 1.0)
    upstream = _through_reduction(inputs, params, z.shape)
    s = _sigma(z)
    weights = 1 + w * np.abs(y) + np.abs(1 - y)
    sigmoid_error = (6 + np.abs(z) * (1 - s)) * np.minimum(s, 1 - s + 2.0**-53)
    return upstream * (sigmoid_error * weights + 3 * w * np.abs(y) + 2 * s) + 2 * np.abs(result)


@error_model
def softmax_cross_entropy_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Per sample :math:`\bar g_n((4 + n)y_c + y_c(4|o_c| + |z_c| + \sum_j y_j|z_j|) + 2 y'_c)
    + 2|r|` with :math:`o = \log\mathrm{softmax}(z)`: the softmax taken as :math:`e^{o}` from the
    rounded log-softmax (PyTorch's and optax's form), whose 4 ulp of :math:`|o|` are a relative
    error of :math:`y`, the softmax model, and the difference with the smoothed target."""
    z = _x(inputs, "logits")
    target = _class_distribution(
        z, np.asarray(inputs["target"]), params.get("label_smoothing", 0.0)
    )
    upstream = _through_reduction(inputs, params, z.shape[:-1])[..., None]
    o = _log_softmax64(z)
    with np.errstate(under="ignore"):
        y = np.exp(o)
    n = z.shape[-1]
    weighted = np.sum(y * np.abs(z), axis=-1, keepdims=True)
    s = upstream * ((4 + n) * y + y * (4 * np.abs(o) + np.abs(z) + weighted) + 2 * target)
    return s + 2 * np.abs(result)


@error_model
def multi_target_loss_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Per column the single loss's model (:func:`pointwise_loss_grad`, or
    :func:`binary_cross_entropy_with_logits_grad` with the column's cotangent), plus the upstream
    :math:`w_t \bar g_0 + \bar g_t`'s product and sum: :math:`2|r|`."""
    p, y = _x(inputs, "prediction"), _x(inputs, "target")
    g = _g(inputs)
    columns = []
    for t, (name, w) in enumerate(zip(params["losses"], params["weights"], strict=True)):
        upstream = abs(w) * g[0] + g[t + 1]
        if name == "bce_with_logits":
            column = binary_cross_entropy_with_logits_grad(
                {"logits": p[:, t], "target": y[:, t], "cotangent": np.asarray(upstream)},
                {"reduction": "mean"},
                result[:, t],
            )
        else:
            column = 4 * np.abs(result[:, t])
        columns.append(column)
    return np.stack(columns, axis=-1) + 2 * np.abs(result)


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
    x = _lane_last(inputs["x"], axis)
    g = _lane_last(inputs["cotangent"], axis)
    s = _standardized_vjp_model(x, g, params.get("ddof", 0), params.get("epsilon", 0.0))
    return np.moveaxis(s, -1, axis) + 2 * np.abs(result)


@error_model
def layer_norm_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""As :func:`standardize_grad` over the last axis, on :math:`\gamma \odot \bar g`."""
    g = _x(inputs, "cotangent") * _x(inputs, "weight")
    s = _standardized_vjp_model(_x(inputs), g, 0, params.get("eps", 1e-5))
    return s + 2 * np.abs(result)


@error_model
def batch_norm_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""As :func:`standardize_grad` over the batch (axis 0), on :math:`\gamma_c \bar g`."""
    g = (_x(inputs, "cotangent") * _x(inputs, "weight")).T
    s = _standardized_vjp_model(_x(inputs).T, g, 0, params.get("eps", 1e-5))
    return s.T + 2 * np.abs(result)


def _lane_cotangent(inputs: Inputs, params: Mapping[str, Any], name: str) -> np.ndarray:
    """The per-lane cotangent of an information measure, broadcast back along ``axis``."""
    axis = params.get("axis", -1)
    x = _x(inputs, name)
    return np.expand_dims(np.abs(_x(inputs, "cotangent")), axis % x.ndim) * np.ones_like(x)


@error_model
def entropy_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\bar g(|\log p| + 3)/|\log b| + 2|r|`: the log within 1 ulp of itself, the sum
    :math:`\log p + 1` (cancelling near :math:`p = 1/e`) relative to its terms, the quotient."""
    p = _x(inputs, "p")
    g = _lane_cotangent(inputs, params, "p")
    with np.errstate(divide="ignore"):
        return g * (np.abs(np.log(p)) + 3) / _log_base_magnitude(params.get("base")) + 2 * np.abs(
            result
        )


@error_model
def cross_entropy_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`2|r|`: a quotient and up to two products, relative errors."""
    return 2 * np.abs(result)


def _times_upstream(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""A derivative of a few operations may underflow before its last factors, the cotangent
    among them (``g * s * (1 + x (1 - s))`` with a subnormal ``s``): :math:`4(1 + |x|)(1 + |\bar g|)`
    for the elementwise derivatives, whose factors are at most :math:`1 + |x|` (silu, gelu) or 1."""
    x = inputs.get("x")
    base = np.ones(np.shape(result)) if x is None else 1 + np.abs(np.asarray(x, np.float64))
    g = _g(inputs)
    if g.shape != np.shape(result):  # a cotangent per lane or sample: its largest bounds each
        g = np.max(g, initial=0.0)
    return 4 * base * (1 + g) * np.ones(np.shape(result))


def _loss_upstream(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""A loss's cotangent over ``n`` may underflow before the product by the derivative ``d``
    (``(g / n) * d``, up to 1e12 in the BCE clamp): :math:`4(1 + |d|)`."""
    first = next(iter(inputs))
    upstream = _through_reduction(inputs, params, np.shape(inputs[first]))
    with np.errstate(divide="ignore", invalid="ignore"):
        derivative = np.where(upstream > 0, np.abs(result) / upstream, 0.0)
    return 4 * (1 + derivative)


for _name in ("pointwise_loss_grad", "binary_cross_entropy_with_logits_grad"):
    UNDERFLOW[_name] = _loss_upstream


@underflow_model("binary_cross_entropy_grad")
def _bce_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""As :func:`_loss_upstream`, or ``g (p - y)`` underflowing before the division by
    :math:`\max(p(1 - p), 10^{-12})` (PyTorch's order): :math:`4(1 + |d| + 1/\max(p(1-p), 10^{-12}))`."""
    p = _x(inputs, "probability")
    return _loss_upstream(inputs, params, result) + 4 / np.maximum(p * (1 - p), 1e-12)


@underflow_model("cross_entropy_grad")
def _information_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""``g p`` (or ``g / q``) underflowing before the other factor: :math:`4(1 + p/q + 1/q)`,
    over :math:`|\log b|`."""
    q = _x(inputs, "q")
    amplification = 4 * (1 + (_x(inputs, "p") + 1) / q)
    return amplification / _log_base_magnitude(params.get("base"))


@underflow_model("penalty_grad")
def _penalty_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""``g lambda w`` (times 2) in any order, the first product underflowing:
    :math:`4(1 + 2|w| + 2\lambda)(1 + \lambda)`."""
    w = np.abs(_x(inputs, "weights"))
    strength = abs(params.get("strength", 0.0))
    return 4 * (1 + 2 * w + 2 * strength) * (1 + strength)


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
    return _standardized_underflow(_x(inputs), 0, params.get("eps", 1e-5))


@underflow_model("batch_norm_grad")
def _batch_norm_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """:func:`_standardized_underflow` over the batch."""
    return _standardized_underflow(_x(inputs).T, 0, params.get("eps", 1e-5)).T


for _name in (
    "sigmoid_grad",
    "tanh_grad",
    "softplus_grad",
    "gelu_grad",
    "silu_grad",
    "elu_grad",
    "softmax_grad",
    "log_softmax_grad",
    "softmax_cross_entropy_grad",
    "multi_target_loss_grad",
    "entropy_grad",
):
    UNDERFLOW[_name] = _times_upstream
