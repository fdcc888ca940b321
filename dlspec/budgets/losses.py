"""The error models of losses, each beside its gradient's: the derived term ``s`` of each
budget, and the underflow models (the method: :mod:`dlspec.budgets`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

import dlspec.budgets._shared as shared
from dlspec.budgets._registry import Inputs, error_model, underflow_model


@underflow_model("binary_cross_entropy_with_logits")
def _weighted_softplus(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Softplus terms that underflow (``softplus(-100)`` in float32) weighted by ``w y`` and
    ``1 - y``, then reduced: ``4 (w |y| + |1 - y|)`` per term, summed where the loss is."""
    y = np.asarray(inputs["target"], dtype=np.float64)
    terms = 4 * (params.get("pos_weight", 1.0) * np.abs(y) + np.abs(1 - y))
    reduction = params.get("reduction", "mean")
    if reduction == "none":
        return terms
    total = np.sum(terms) + y.size
    return np.asarray(total if reduction == "sum" else total / y.size)


@error_model
def mse_loss(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Terms :math:`d_i^2`, :math:`d = \hat y - y`, with condition :math:`2|d_i|(|\hat y_i| + |y_i|)`."""
    a = np.asarray(inputs["prediction"], dtype=np.float64)
    b = np.asarray(inputs["target"], dtype=np.float64)
    d = a - b
    return shared.reduce_terms(
        d * d, 2 * np.abs(d) * (np.abs(a) + np.abs(b)), params.get("reduction", "mean")
    )


@error_model
def binary_cross_entropy(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Terms :math:`t = -y L_1 - (1 - y) L_2` with :math:`L_1 = \log p`, :math:`L_2 = \log(1-p)`
    as guarded; condition :math:`y + (1 - y) p / (1 - p) + |L_1| + |L_2|`, where a log the guard
    holds constant contributes no :math:`p` derivative.
    """
    p = np.asarray(inputs["probability"], dtype=np.float64)
    y = np.asarray(inputs["target"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.maximum(np.log(p), -100.0)
        log_not_p = np.maximum(np.log1p(-p), -100.0)
        odds = np.where(log_not_p > -100.0, p / (1.0 - p), 0.0)
    terms = np.abs(shared.xlogy(y, np.exp(log_p))) + np.abs((1 - y) * log_not_p)
    condition = np.abs(y) + np.abs(1 - y) * odds + np.abs(log_p) + np.abs(log_not_p)
    return shared.reduce_terms(terms, condition, params.get("reduction", "mean"))


def _pair(inputs: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = shared.argument(inputs, "prediction"), shared.argument(inputs, "target")
    return a, b, a - b


@error_model
def mae_loss(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Terms :math:`|d_i|` with condition :math:`|\hat y_i| + |y_i|`."""
    a, b, d = _pair(inputs)
    return shared.reduce_terms(np.abs(d), np.abs(a) + np.abs(b), params.get("reduction", "mean"))


def _huber_terms(d: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    z = np.abs(d)
    terms = np.where(z <= delta, 0.5 * z * z, delta * (z - 0.5 * delta))
    slope = np.minimum(z, delta)
    return terms, slope


@error_model
def huber_loss(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Terms :math:`h(d_i)`; condition :math:`|h'(d_i)| (|\hat y_i| + |y_i|)` plus :math:`\delta^2`
    for the linear branch's subtraction :math:`\delta (z - \delta / 2)`."""
    a, b, d = _pair(inputs)
    delta = params.get("delta", 1.0)
    terms, slope = _huber_terms(d, delta)
    condition = slope * (np.abs(a) + np.abs(b)) + np.where(np.abs(d) > delta, delta * delta, 0.0)
    return shared.reduce_terms(terms, condition, params.get("reduction", "mean"))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(x, 0.0)


def _bce_logit_terms(x: np.ndarray, y: np.ndarray, w: float) -> tuple[np.ndarray, np.ndarray]:
    terms = w * y * _softplus(-x) + (1 - y) * _softplus(x)
    # The documented stable form (1 - y) x + (1 + (w - 1) y) softplus(-x) adds terms of these
    # sizes, which cancel for confident correct logits; each is a product of three rounded
    # factors.
    parts = 3 * (np.abs((1 - y) * x) + np.abs((1 + (w - 1) * y) * _softplus(-x)))
    slope = np.abs(-w * y * shared.sigmoid(-x) + (1 - y) * shared.sigmoid(x))
    return terms, np.abs(x) * slope + parts + terms


@error_model
def binary_cross_entropy_with_logits(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Terms :math:`w y\,\mathrm{sp}(-x) + (1 - y)\,\mathrm{sp}(x)`; condition :math:`|x| |t'(x)|`
    plus the sizes of the two terms of the documented form :math:`(1 - y) x + (1 + (w - 1) y)
    \mathrm{sp}(-x)`, whose sum cancels."""
    x, y = shared.argument(inputs, "logits"), shared.argument(inputs, "target")
    terms, condition = _bce_logit_terms(x, y, params.get("pos_weight", 1.0))
    return shared.reduce_terms(terms, condition, params.get("reduction", "mean"))


def _class_distribution(logits: np.ndarray, target: np.ndarray, smoothing: float) -> np.ndarray:
    classes = logits.shape[-1]
    if target.shape != logits.shape:
        target = np.eye(classes)[np.asarray(target, dtype=np.int64)]
    return (1 - smoothing) * np.asarray(target, dtype=np.float64) + smoothing / classes


@error_model
def softmax_cross_entropy(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Per sample :math:`\sum_c y'_c (|z_c| + \sum_j \mathrm{softmax}_j |z_j| + C - 1) + C
    \sum_c |y'_c \log \mathrm{softmax}_c|` (the log-softmax model weighted by the smoothed
    target, and the sum over classes), then the reduction over samples."""
    z = shared.argument(inputs, "logits")
    y = _class_distribution(z, np.asarray(inputs["target"]), params.get("label_smoothing", 0.0))
    log_p = shared.log_softmax64(z)
    with np.errstate(under="ignore"):
        weighted = np.sum(np.exp(log_p) * np.abs(z), axis=-1, keepdims=True)
    classes = z.shape[-1]
    log_terms = np.abs(y * log_p)
    condition = np.sum(y * (np.abs(z) + weighted + classes - 1), axis=-1) + classes * np.sum(
        log_terms, axis=-1
    )
    return shared.reduce_terms(
        np.sum(log_terms, axis=-1), condition, params.get("reduction", "mean")
    )


@error_model
def multi_target_loss(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Each target's loss by its own model (mean reduction), and the total :math:`\sum_t w_t L_t`
    with :math:`|w_t| s_t` and the :math:`T`-term sum of :math:`|w_t L_t|`."""
    a, b = shared.argument(inputs, "prediction"), shared.argument(inputs, "target")
    per_target = []
    for t, name in enumerate(params["losses"]):
        column = {"prediction": a[:, t], "target": b[:, t]}
        model = {"mse": mse_loss, "mae": mae_loss, "huber": huber_loss}.get(name)
        if model is not None:
            per_target.append(float(model(column, {"reduction": "mean"}, result[t + 1])))
        else:
            per_target.append(
                float(
                    binary_cross_entropy_with_logits(
                        {"logits": a[:, t], "target": b[:, t]}, {"reduction": "mean"}, result[t + 1]
                    )
                )
            )
    w = np.abs(np.asarray(params["weights"], dtype=np.float64))
    losses = np.abs(result[1:])
    total = float(np.sum(w * np.asarray(per_target)) + len(w) * np.sum(w * losses))
    return np.asarray([total, *per_target])


def _through_reduction(
    inputs: Inputs, params: Mapping[str, Any], shape: tuple[int, ...]
) -> np.ndarray:
    """|cotangent| reaching each term of a reduced loss: itself, the scalar, or the scalar / n."""
    g = shared.abs_cotangent(inputs)
    reduction = params.get("reduction", "mean")
    if reduction == "none":
        return np.broadcast_to(g, shape)
    n = int(np.prod(shape))
    return np.full(shape, float(g) / (n if reduction == "mean" else 1))


@error_model
def pointwise_loss_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r""":math:`4|r|`: a difference of exact inputs (one rounding) and up to three products or
    quotients (the cotangent, the reduction's ``1/n``, a factor 2, a strength): relative errors."""
    return 4 * np.abs(result)


@error_model
def binary_cross_entropy_grad(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r""":math:`4|r| + 3\bar g_i(|y|/p + |1 - y|/(1 - p))`: the relative errors of
    :math:`(p - y)/(p(1 - p))`, and the cancellation of the two-term form
    :math:`-y/p + (1 - y)/(1 - p)` near :math:`p = y` (``xlogy`` and ``xlog1py`` differentiated
    apart)."""
    p, y = shared.argument(inputs, "probability"), shared.argument(inputs, "target")
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
    z, y = shared.argument(inputs, "logits"), shared.argument(inputs, "target")
    w = params.get("pos_weight", 1.0)
    upstream = _through_reduction(inputs, params, z.shape)
    s = shared.sigmoid(z)
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
    z = shared.argument(inputs, "logits")
    target = _class_distribution(
        z, np.asarray(inputs["target"]), params.get("label_smoothing", 0.0)
    )
    upstream = _through_reduction(inputs, params, z.shape[:-1])[..., None]
    o = shared.log_softmax64(z)
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
    p, y = shared.argument(inputs, "prediction"), shared.argument(inputs, "target")
    g = shared.abs_cotangent(inputs)
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


def _loss_upstream(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""A loss's cotangent over ``n`` may underflow before the product by the derivative ``d``
    (``(g / n) * d``, up to 1e12 in the BCE clamp): :math:`4(1 + |d|)`, at most the largest
    float64 ``M``. The cotangent loses at most one unit of the underflow (the smallest normal
    where it flushes, half the smallest subnormal where it does not), the gradient ``d`` times
    that, so any amplification of at least ``|d|`` covers it, and ``min(4(1 + |d|), M)`` is
    that for every ``|d| <= M``: the Huber, MAE and BCE derivatives are bounded by ``delta``, 1
    and the clamp, and MSE's ``2 |p - t|`` passes ``M`` only where ``|p - t| > M / 2``. Uncapped,
    a float64 MSE gradient with ``|p - t|`` near ``M`` and a subnormal cotangent overflowed the
    amplification (and a RuntimeWarning): an infinite allowance, which let any value pass."""
    first = next(iter(inputs))
    upstream = _through_reduction(inputs, params, np.shape(inputs[first]))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        derivative = np.where(upstream > 0, np.abs(result) / upstream, 0.0)
        return np.minimum(4 * (1 + derivative), np.finfo(np.float64).max)


@underflow_model("binary_cross_entropy_grad")
def _bce_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""As :func:`_loss_upstream`, or ``g (p - y)`` underflowing before the division by
    :math:`\max(p(1 - p), 10^{-12})` (PyTorch's order): :math:`4(1 + |d| + 1/\max(p(1-p), 10^{-12}))`."""
    p = shared.argument(inputs, "probability")
    return _loss_upstream(inputs, params, result) + 4 / np.maximum(p * (1 - p), 1e-12)


underflow_model("softmax_cross_entropy_grad")(shared.times_upstream)
underflow_model("multi_target_loss_grad")(shared.times_upstream)
underflow_model("pointwise_loss_grad")(_loss_upstream)
underflow_model("binary_cross_entropy_with_logits_grad")(_loss_upstream)
