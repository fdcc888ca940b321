"""The error models of activations, each beside its gradient's: the derived term ``s`` of each
budget, and the underflow models (the method: :mod:`dlspec.budgets`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import dlspec.budgets._shared as shared
from dlspec.budgets._registry import Inputs, error_model, underflow_model


@underflow_model("softplus")
def _divided_by_beta(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """``softplus(beta x) / beta``: the softplus underflows (``log1p`` of a tiny ``exp``) before
    the division by ``beta``, which amplifies its loss by ``1 / beta``; two operations of its own
    before that: ``2 / beta``."""
    return np.full(np.shape(result), 2.0 / float(params.get("beta", 1.0)))


@underflow_model("silu")
@underflow_model("gelu")
def _scaled_by_x(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """``x * f(x)`` with ``f`` underflowing after two or three operations of its own: ``4|x| + 1``."""
    return 4 * np.abs(np.asarray(inputs["x"], dtype=np.float64)) + 1


@error_model
def sigmoid(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x \sigma'(x)| = |x| \sigma(x)(1 - \sigma(x))`: the relative condition of exp."""
    x = np.asarray(inputs["x"], dtype=np.float64)
    return np.abs(x) * result * (1.0 - result)


@error_model
def softmax(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`r_i (|x_i| + \sum_j r_j |x_j| + n - 1)`.

    :math:`\partial r_i / \partial x_j = r_i(\delta_{ij} - r_j)` gives the condition term; the
    normalising sum of ``n`` positive terms adds :math:`(n - 1) r_i`.
    """
    axis = params.get("axis", -1)
    x = np.abs(shared.lane_last(inputs["x"], axis))
    r = shared.lane_last(result, axis)
    weighted = np.sum(r * x, axis=-1, keepdims=True)
    s = r * (x + weighted + (x.shape[-1] - 1))
    return np.moveaxis(s, -1, axis)


@error_model
def log_softmax(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x_i| + \sum_j \mathrm{softmax}_j |x_j| + n - 1`.

    :math:`\partial r_i / \partial x_j = \delta_{ij} - \mathrm{softmax}_j`; the log of a sum of ``n``
    positive terms, each rounded, is off by at most :math:`(n - 1) u` absolutely.
    """
    axis = params.get("axis", -1)
    x = np.abs(shared.lane_last(inputs["x"], axis))
    with np.errstate(under="ignore"):
        probabilities = np.exp(shared.lane_last(result, axis))
    weighted = np.sum(probabilities * x, axis=-1, keepdims=True)
    s = x + weighted + (x.shape[-1] - 1)
    return np.moveaxis(s, -1, axis)


@error_model
def leaky_relu(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|r|` below 0, 0 above: a kernel may round the slope to the dtype first (a relative
    ``u``) before the product's own rounding; the identity branch is exact."""
    return np.where(shared.argument(inputs) < 0, np.abs(result), 0.0)


@error_model
def tanh(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x| (1 - \tanh^2 x)`: the condition of tanh."""
    return np.abs(shared.argument(inputs)) * (1.0 - result * result)


@error_model
def softplus(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x| \sigma(\beta x)`: the condition of softplus (its derivative is :math:`\sigma(\beta x)`)."""
    x = shared.argument(inputs)
    return np.abs(x) * shared.sigmoid(params.get("beta", 1.0) * x)


@error_model
def gelu(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x| (|\mathrm{gelu}'(x)| + 4.5)`: the condition, plus :math:`4.5 |x| u` for the
    documented formula (an erf or tanh within 4 ulp, 8 u near :math:`\pm 1`, and the sum's
    rounding, halved by the factor :math:`x / 2`) :math:`\tfrac x2 (1 + \mathrm{erf}(x/\sqrt2))` (or its tanh form), whose
    ``1 + erf`` cancels in the negative tail: a backend using ``erfc`` does better, and the
    accuracy table shows it, but the spec does not require it."""
    x = shared.argument(inputs)
    with np.errstate(over="ignore", under="ignore"):
        phi = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    cdf = np.where(x == 0, 0.5, result / np.where(x == 0, 1.0, x))
    # erf (or tanh) within 4 ulp of its value near +-1, i.e. 8 u, and the rounding of 1 + erf:
    # both are absolute errors that the cancellation of 1 + erf does not shrink, times |x| / 2
    return np.abs(x) * (np.abs(cdf + x * phi) + 4.5)


@error_model
def silu(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x| |\sigma(x) (1 + x (1 - \sigma(x)))|`: the condition of :math:`x \sigma(x)`."""
    x = shared.argument(inputs)
    s = shared.sigmoid(x)
    return np.abs(x) * np.abs(s * (1.0 + x * (1.0 - s)))


@error_model
def elu(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\alpha |x| e^x` for :math:`x \le 0` (the condition of :math:`\alpha\,\mathrm{expm1}`), 0 above."""
    x = shared.argument(inputs)
    with np.errstate(under="ignore"):
        return np.where(
            x > 0, 0.0, abs(params.get("alpha", 1.0)) * np.abs(x) * np.exp(np.minimum(x, 0))
        )


@error_model
def leaky_relu_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|r|` where the slope multiplies (:math:`x \le 0`; the slope rounded to the dtype is
    a relative ``u``), 0 where the cotangent passes unchanged."""
    return np.where(shared.argument(inputs) > 0, 0.0, np.abs(result))


@error_model
def sigmoid_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|\bar g|\,y (6 + |x|(1 - y)) + 2|r|` with :math:`y = \sigma(x)`: ``y`` is rounded
    within 4 ulp plus its condition :math:`|x| y (1 - y)`, and :math:`y - y^2` (terms up to
    :math:`2y`) carries that absolute error whatever the cancellation in :math:`1 - y`."""
    x, g = shared.argument(inputs), shared.abs_cotangent(inputs)
    y = shared.sigmoid(x)
    return g * y * (6 + np.abs(x) * (1 - y)) + 2 * np.abs(result)


@error_model
def tanh_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|\bar g| (8 t^2 + 2|x||t|(1 - t^2) + 2) + 2|r|`: :math:`1 - t^2` from the rounded
    ``t`` (4 ulp and the condition :math:`|x|(1 - t^2)` of tanh, doubled by the square)."""
    x, g = shared.argument(inputs), shared.abs_cotangent(inputs)
    t = np.tanh(x)
    return g * (8 * t * t + 2 * np.abs(x * t) * (1 - t * t) + 2) + 2 * np.abs(result)


@error_model
def softplus_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|\bar g|\,\sigma(\beta x)(6 + |\beta x|(1 - \sigma(\beta x))) + 2|r|`: the
    sigmoid's model at :math:`\beta x` (the product :math:`\beta x` is one more rounding)."""
    z = params.get("beta", 1.0) * shared.argument(inputs)
    y = shared.sigmoid(z)
    return shared.abs_cotangent(inputs) * y * (6 + np.abs(z) * (1 - y)) + 2 * np.abs(result)


@error_model
def gelu_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Exact form :math:`\Phi + x\varphi`: the cdf from ``1 + erf`` carries an absolute
    :math:`4u`; :math:`x\varphi` its rounding and the condition :math:`|x|\varphi|2 - x^2|`:
    :math:`|\bar g|(4 + |x|\varphi(6 + x^2)) + 2|r|`. Tanh form: :math:`1 - \tanh^2 u` from the
    rounded tanh is off by :math:`8u` absolutely and multiplied by
    :math:`\tfrac12|x|\sqrt{2/\pi}(1 + 3c x^2)`: :math:`|\bar g|(6 + 4|x|(1 + 0.14 x^2)) + 2|r|`."""
    x, g = shared.argument(inputs), shared.abs_cotangent(inputs)
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
    x, g = shared.argument(inputs), shared.abs_cotangent(inputs)
    s = shared.sigmoid(x)
    condition = np.abs(x) * s * (1 - s) * np.abs(2 + x * (1 - 2 * s))
    return g * (s * (6 + 6 * np.abs(x)) + condition) + 2 * np.abs(result)


@error_model
def elu_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|r|(4 + |x|)` on the exponential branch (the exp's rounding and condition, or
    ``out + alpha`` from the rounded output), 0 on the identity branch."""
    x = shared.argument(inputs)
    return np.where(x > 0, 0.0, np.abs(result) * (4 + np.abs(x)))


@error_model
def softmax_grad(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""With the rounded softmax :math:`y` (error :math:`e_j = u(4 y_j + S_j)`, ``S`` the softmax
    model) and :math:`\langle\bar g, y\rangle`: :math:`|\bar g_i - \langle \bar g, y\rangle|(4y_i
    + S_i) + y_i\sum_j|\bar g_j|(4y_j + S_j) + 2 y_i(|\bar g_i| + n\sum_j|\bar g_j| y_j) + 2|r_i|`."""
    axis = params.get("axis", -1)
    x = shared.lane_last(inputs["x"], axis)
    g = shared.lane_last(inputs["cotangent"], axis)
    n = x.shape[-1]
    with np.errstate(under="ignore"):
        y = np.exp(shared.log_softmax64(x))
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
    x = shared.lane_last(inputs["x"], axis)
    g = shared.lane_last(inputs["cotangent"], axis)
    n = x.shape[-1]
    o = shared.log_softmax64(x)
    with np.errstate(under="ignore"):
        y = np.exp(o)
    total = np.abs(np.sum(g, axis=-1, keepdims=True))
    magnitude = np.sum(np.abs(g), axis=-1, keepdims=True)
    weighted = np.sum(y * np.abs(x), axis=-1, keepdims=True)
    s = y * total * (4 * np.abs(o) + np.abs(x) + weighted + n + 2) + y * n * magnitude + np.abs(g)
    return np.moveaxis(s, -1, axis) + 2 * np.abs(result)


underflow_model("sigmoid_grad")(shared.times_upstream)
underflow_model("tanh_grad")(shared.times_upstream)
underflow_model("softplus_grad")(shared.times_upstream)
underflow_model("gelu_grad")(shared.times_upstream)
underflow_model("silu_grad")(shared.times_upstream)
underflow_model("elu_grad")(shared.times_upstream)
underflow_model("softmax_grad")(shared.times_upstream)


@underflow_model("log_softmax_grad")
def log_softmax_grad_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r""":func:`shared.times_upstream`, and the lane's :math:`4|\sum_j \bar g_j|`: the
    derivative multiplies :math:`y_i = e^{o_i}`, which underflows first, by the sum of the
    cotangent (float16 ``x = [0, 15.375 x 7]``, ``g = [0, 2 x 7]``: ``y_0 = 2.1e-7`` rounded to
    a subnormal, times 14; found by the seed sweep)."""
    g = shared.lane_last(inputs["cotangent"], params.get("axis", -1))
    total = np.broadcast_to(np.abs(np.sum(g, axis=-1, keepdims=True)), g.shape)
    lanes = np.moveaxis(total, -1, params.get("axis", -1))
    return shared.times_upstream(inputs, params, result) + 4 * lanes
