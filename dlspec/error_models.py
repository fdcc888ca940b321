r"""Error models: the derived part of each concept's error budget.

A backend value ``b`` of a result with exact value ``r`` conforms when

.. math:: |b - r| \le N \cdot \mathrm{ulp}(r) + u \cdot s

where ``N`` is the catalogue's budget in ulps for the dtype (the rounding of the last operations
and the error of the library's elementary functions), ``u = 2**-p`` is the dtype's unit roundoff,
and ``s`` is computed here, per element, from the inputs. ``s`` is the first-order bound of a
*backward-stable* algorithm: the exact result for inputs each perturbed by a relative ``u``
(the condition term :math:`\sum_j |\partial r / \partial x_j| |x_j|`), plus, for reductions, the
recursive-summation bound :math:`(n - 1) \sum_i |t_i|` of adding ``n`` terms ``t_i`` (Higham,
*Accuracy and Stability of Numerical Algorithms*, 2nd ed., §3.1 and §4.2). A spec must not require
one summation order, so no model assumes pairwise summation.

Each model receives the inputs and the result in float64 (the reference rounded; an
approximation of ``r`` is all a bound needs) and returns ``s`` with the result's shape. Models are
looked up by the name the catalogue gives (``error_model``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Inputs = Mapping[str, np.ndarray]
ErrorModel = Callable[[Inputs, Mapping[str, Any], np.ndarray], np.ndarray]

MODELS: dict[str, ErrorModel] = {}
UNDERFLOW: dict[str, ErrorModel] = {}
r"""Gradual underflow: each operation may also add an absolute error of half the smallest
subnormal, :math:`\mathrm{fl}(a \circ b) = (a \circ b)(1 + \delta) + \eta` (Higham §2.1). Where an
underflowing intermediate is amplified on its way to the result (``x * sigmoid(x)`` at
``x = -100`` in float32), the model named here gives the amplification ``a``, and the allowance
adds :math:`\eta_{min} a`; elsewhere the ulp of a subnormal result covers it."""


def error_model(function: ErrorModel) -> ErrorModel:
    MODELS[function.__name__] = function
    return function


def underflow_model(name: str) -> Callable[[ErrorModel], ErrorModel]:
    def register(function: ErrorModel) -> ErrorModel:
        UNDERFLOW[name] = function
        return function

    return register


@underflow_model("softplus")
def _divided_by_beta(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """``softplus(beta x) / beta``: the softplus underflows (``log1p`` of a tiny ``exp``) before
    the division by ``beta``, which amplifies its loss by ``1 / beta``; two operations of its own
    before that: ``2 / beta``."""
    return np.full(np.shape(result), 2.0 / float(params.get("beta", 1.0)))


@underflow_model("clip_grad_norm")
def _scaled_to_max_norm(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """A gradient divided by the global norm underflows before the product by ``max_norm`` (the
    order ``g / ||g|| * c`` of optax's ``clip_by_global_norm``): amplified by ``c``."""
    return np.full(np.shape(result), 1.0 + float(params["max_norm"]))


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


@underflow_model("sgd")
@underflow_model("gradient_accumulation")
@underflow_model("frozen_parameters")
@underflow_model("schedule")
@underflow_model("cosine_schedule")
def _per_step(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Trajectories and schedules: a few underflowing operations a step (and per micro-batch
    when accumulating), accumulated: ``4 k t`` at step ``t`` (rows of the result)."""
    result = np.asarray(result)
    steps = np.arange(1, result.shape[0] + 1, dtype=np.float64) if result.ndim else np.ones(())
    return (
        4
        * params.get("accumulation_steps", 1)
        * steps.reshape((-1,) + (1,) * (result.ndim - 1))
        * np.ones_like(result, np.float64)
    )


@underflow_model("silu")
@underflow_model("gelu")
def _scaled_by_x(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """``x * f(x)`` with ``f`` underflowing after two or three operations of its own: ``4|x| + 1``."""
    return 4 * np.abs(np.asarray(inputs["x"], dtype=np.float64)) + 1


def _lane_last(array: np.ndarray, axis: int) -> np.ndarray:
    return np.moveaxis(np.asarray(array, dtype=np.float64), axis, -1)


def along_axis_model(
    inputs: Inputs, params: Mapping[str, Any], lane_model: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """``lane_model`` of ``x`` with the lanes along ``params["axis"]`` (default 0) last, its
    result moved back to that axis: the frame of the models of standardize and its gradient."""
    axis = params.get("axis", 0)
    return np.moveaxis(lane_model(_lane_last(inputs["x"], axis)), -1, axis)


def _log_base_magnitude(base: float | None) -> float:
    return 1.0 if base is None else abs(float(np.log(base)))


def reduce_terms(terms: np.ndarray, condition: np.ndarray, reduction: str) -> np.ndarray:
    """``s`` of a loss reduced from per-element ``terms`` whose own condition terms are given."""
    if reduction == "none":
        return condition
    n = terms.size
    total = np.sum(condition) + (n - 1) * np.sum(np.abs(terms))
    return np.asarray(total if reduction == "sum" else total / n)


@error_model
def exact(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Results that are one of the inputs or a constant (ReLU, flips): no rounding at all."""
    return np.zeros_like(result, dtype=np.float64)


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
    x = np.abs(_lane_last(inputs["x"], axis))
    r = _lane_last(result, axis)
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
    x = np.abs(_lane_last(inputs["x"], axis))
    with np.errstate(under="ignore"):
        probabilities = np.exp(_lane_last(result, axis))
    weighted = np.sum(probabilities * x, axis=-1, keepdims=True)
    s = x + weighted + (x.shape[-1] - 1)
    return np.moveaxis(s, -1, axis)


def _xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))


@error_model
def entropy(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(\sum_i p_i |\ln p_i + 1| + (n - 1) \sum_i |p_i \ln p_i|) / |\ln b|`."""
    axis = params.get("axis", -1)
    p = _lane_last(inputs["p"], axis)
    terms = np.abs(_xlogy(p, p))
    condition = np.where(p == 0, 0.0, np.abs(p) * np.abs(np.log(np.where(p == 0, 1.0, p)) + 1))
    n = p.shape[-1]
    s = np.sum(condition, axis=-1) + (n - 1) * np.sum(terms, axis=-1)
    return s / _log_base_magnitude(params.get("base"))


@error_model
def cross_entropy(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(\sum_i (|p_i \ln q_i| + p_i) + (n - 1) \sum_i |p_i \ln q_i|) / |\ln b|`.

    :math:`\partial H / \partial p_i = -\ln q_i` and :math:`\partial H / \partial q_i = -p_i / q_i`.
    """
    axis = params.get("axis", -1)
    p, q = _lane_last(inputs["p"], axis), _lane_last(inputs["q"], axis)
    terms = np.abs(_xlogy(p, q))
    n = p.shape[-1]
    s = np.sum(terms + np.abs(p), axis=-1) + (n - 1) * np.sum(terms, axis=-1)
    return s / _log_base_magnitude(params.get("base"))


@error_model
def mse_loss(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Terms :math:`d_i^2`, :math:`d = \hat y - y`, with condition :math:`2|d_i|(|\hat y_i| + |y_i|)`."""
    a = np.asarray(inputs["prediction"], dtype=np.float64)
    b = np.asarray(inputs["target"], dtype=np.float64)
    d = a - b
    return reduce_terms(
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
    terms = np.abs(_xlogy(y, np.exp(log_p))) + np.abs((1 - y) * log_not_p)
    condition = np.abs(y) + np.abs(1 - y) * odds + np.abs(log_p) + np.abs(log_not_p)
    return reduce_terms(terms, condition, params.get("reduction", "mean"))


def _sigma(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


def _x(inputs: Inputs, name: str = "x") -> np.ndarray:
    return np.asarray(inputs[name], dtype=np.float64)


@error_model
def kl_divergence(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(\sum_i p_i (|\ln p_i| + |\ln q_i| + 2) + (n - 1) \sum_i (|p_i \ln p_i| + |p_i \ln q_i|)) / |\ln b|`.

    The condition of :math:`\sum p \ln(p/q)` plus the summation bound of *both* sums, so that the
    textbook evaluation :math:`H(P, Q) - H(P)` conforms as well as the termwise
    :math:`\sum p \ln(p / q)` (``rel_entr``), which is far more accurate near ``P = Q``.
    """
    axis = params.get("axis", -1)
    p, q = _lane_last(inputs["p"], axis), _lane_last(inputs["q"], axis)
    terms = np.abs(_xlogy(p, p)) + np.abs(_xlogy(p, q))
    n = p.shape[-1]
    s = np.sum(terms + 2 * np.abs(p), axis=-1) + (n - 1) * np.sum(terms, axis=-1)
    return s / _log_base_magnitude(params.get("base"))


@error_model
def leaky_relu(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|r|` below 0, 0 above: a kernel may round the slope to the dtype first (a relative
    ``u``) before the product's own rounding; the identity branch is exact."""
    return np.where(_x(inputs) < 0, np.abs(result), 0.0)


@error_model
def tanh(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x| (1 - \tanh^2 x)`: the condition of tanh."""
    return np.abs(_x(inputs)) * (1.0 - result * result)


@error_model
def softplus(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x| \sigma(\beta x)`: the condition of softplus (its derivative is :math:`\sigma(\beta x)`)."""
    x = _x(inputs)
    return np.abs(x) * _sigma(params.get("beta", 1.0) * x)


@error_model
def gelu(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x| (|\mathrm{gelu}'(x)| + 4.5)`: the condition, plus :math:`4.5 |x| u` for the
    documented formula (an erf or tanh within 4 ulp, 8 u near :math:`\pm 1`, and the sum's
    rounding, halved by the factor :math:`x / 2`) :math:`\tfrac x2 (1 + \mathrm{erf}(x/\sqrt2))` (or its tanh form), whose
    ``1 + erf`` cancels in the negative tail: a backend using ``erfc`` does better, and the
    accuracy table shows it, but the spec does not require it."""
    x = _x(inputs)
    with np.errstate(over="ignore", under="ignore"):
        phi = np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)
    cdf = np.where(x == 0, 0.5, result / np.where(x == 0, 1.0, x))
    # erf (or tanh) within 4 ulp of its value near +-1, i.e. 8 u, and the rounding of 1 + erf:
    # both are absolute errors that the cancellation of 1 + erf does not shrink, times |x| / 2
    return np.abs(x) * (np.abs(cdf + x * phi) + 4.5)


@error_model
def silu(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`|x| |\sigma(x) (1 + x (1 - \sigma(x)))|`: the condition of :math:`x \sigma(x)`."""
    x = _x(inputs)
    s = _sigma(x)
    return np.abs(x) * np.abs(s * (1.0 + x * (1.0 - s)))


@error_model
def elu(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\alpha |x| e^x` for :math:`x \le 0` (the condition of :math:`\alpha\,\mathrm{expm1}`), 0 above."""
    x = _x(inputs)
    with np.errstate(under="ignore"):
        return np.where(
            x > 0, 0.0, abs(params.get("alpha", 1.0)) * np.abs(x) * np.exp(np.minimum(x, 0))
        )


def _pair(inputs: Inputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    a, b = _x(inputs, "prediction"), _x(inputs, "target")
    return a, b, a - b


@error_model
def mae_loss(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Terms :math:`|d_i|` with condition :math:`|\hat y_i| + |y_i|`."""
    a, b, d = _pair(inputs)
    return reduce_terms(np.abs(d), np.abs(a) + np.abs(b), params.get("reduction", "mean"))


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
    return reduce_terms(terms, condition, params.get("reduction", "mean"))


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(x, 0.0)


def _bce_logit_terms(x: np.ndarray, y: np.ndarray, w: float) -> tuple[np.ndarray, np.ndarray]:
    terms = w * y * _softplus(-x) + (1 - y) * _softplus(x)
    # The documented stable form (1 - y) x + (1 + (w - 1) y) softplus(-x) adds terms of these
    # sizes, which cancel for confident correct logits; each is a product of three rounded
    # factors.
    parts = 3 * (np.abs((1 - y) * x) + np.abs((1 + (w - 1) * y) * _softplus(-x)))
    slope = np.abs(-w * y * _sigma(-x) + (1 - y) * _sigma(x))
    return terms, np.abs(x) * slope + parts + terms


@error_model
def binary_cross_entropy_with_logits(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Terms :math:`w y\,\mathrm{sp}(-x) + (1 - y)\,\mathrm{sp}(x)`; condition :math:`|x| |t'(x)|`
    plus the sizes of the two terms of the documented form :math:`(1 - y) x + (1 + (w - 1) y)
    \mathrm{sp}(-x)`, whose sum cancels."""
    x, y = _x(inputs, "logits"), _x(inputs, "target")
    terms, condition = _bce_logit_terms(x, y, params.get("pos_weight", 1.0))
    return reduce_terms(terms, condition, params.get("reduction", "mean"))


def _log_softmax64(z: np.ndarray) -> np.ndarray:
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


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
    z = _x(inputs, "logits")
    y = _class_distribution(z, np.asarray(inputs["target"]), params.get("label_smoothing", 0.0))
    log_p = _log_softmax64(z)
    with np.errstate(under="ignore"):
        weighted = np.sum(np.exp(log_p) * np.abs(z), axis=-1, keepdims=True)
    classes = z.shape[-1]
    log_terms = np.abs(y * log_p)
    condition = np.sum(y * (np.abs(z) + weighted + classes - 1), axis=-1) + classes * np.sum(
        log_terms, axis=-1
    )
    return reduce_terms(np.sum(log_terms, axis=-1), condition, params.get("reduction", "mean"))


@error_model
def multi_target_loss(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Each target's loss by its own model (mean reduction), and the total :math:`\sum_t w_t L_t`
    with :math:`|w_t| s_t` and the :math:`T`-term sum of :math:`|w_t L_t|`."""
    a, b = _x(inputs, "prediction"), _x(inputs, "target")
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


@error_model
def l1_penalty(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`\lambda ((n - 1) + 1) \sum |w_i|`: a sum of ``n`` exact terms, scaled once."""
    w = np.abs(_x(inputs, "weights")) * params["strength"]
    return reduce_terms(w, w, "sum")


@error_model
def l2_penalty(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Terms :math:`c w_i^2` (``c`` = :math:`\lambda/2` or :math:`\lambda`), condition :math:`2 c w_i^2`, summed."""
    w = _x(inputs, "weights")
    c = params["strength"] * (0.5 if params.get("scale", "half") == "half" else 1.0)
    return reduce_terms(c * w * w, 2 * c * w * w, "sum")


def _trajectory(
    theta: np.ndarray,
    step_errors: list[np.ndarray],
    growth: float | list[np.ndarray],
    result: np.ndarray,
    *,
    rounding: bool = True,
) -> np.ndarray:
    """Accumulate per-step errors: after step ``t`` the error is the previous one, amplified by
    ``growth`` (weight decay feeding the parameters' error back into the next update; a number or
    one array a step), plus the step's own error and, with ``rounding``, the rounding of the new
    parameters (all in units of ``u``, or of the underflow unit for amplifications)."""
    growths = growth if isinstance(growth, list) else [growth] * len(step_errors)
    accumulated = np.zeros_like(theta)
    out = []
    for t, (error, factor) in enumerate(zip(step_errors, growths, strict=True)):
        accumulated = accumulated * factor + error + (np.abs(result[t]) if rounding else 0.0)
        out.append(accumulated)
    return np.asarray(out).reshape(result.shape)


def _sgd_step_errors(
    theta: np.ndarray, gradients: np.ndarray, params: Mapping[str, Any], result: np.ndarray
) -> tuple[list[np.ndarray], float]:
    lr, momentum = params["lr"], params.get("momentum", 0.0)
    decay, dampening = params.get("weight_decay", 0.0), params.get("dampening", 0.0)
    buffer = None
    errors = []
    previous = np.abs(theta)
    for t, g in enumerate(np.abs(gradients), start=1):
        g = g + decay * previous
        if momentum:
            buffer = g if buffer is None else momentum * buffer + (1 - dampening) * g
            direction = g + momentum * buffer if params.get("nesterov") else buffer
        else:
            direction = g
        # the direction carries a relative error growing by ~2u a step through the buffer
        errors.append(lr * (2 * t + 3) * direction)
        previous = np.abs(result[t - 1])
    growth = 1 + lr * decay * (1 + momentum) / max(1 - momentum, 1e-3)
    return errors, growth


@error_model
def sgd(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Per step :math:`|\theta_t| + \eta (2t + 3) D_t`, where :math:`D_t` is the update direction
    run on :math:`|g| + \lambda|\theta|` (the momentum buffer's rounding accumulates about
    :math:`2u` a step), accumulated over the steps and amplified by the weight decay feedback."""
    theta = _x(inputs, "params")
    errors, growth = _sgd_step_errors(theta, _x(inputs, "gradients"), params, result)
    return _trajectory(theta, errors, growth, result)


@error_model
def frozen_parameters(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The :func:`sgd` model on the trainable parameters; 0 on the frozen ones, which must not
    move by a single bit."""
    theta = _x(inputs, "params")
    errors, growth = _sgd_step_errors(theta, _x(inputs, "gradients"), params, result)
    frozen = np.asarray(params["frozen"], dtype=bool)
    return np.where(frozen, 0.0, _trajectory(theta, errors, growth, result))


def _adam_model(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray, coupled: bool
) -> tuple[np.ndarray, np.ndarray]:
    r"""``s`` and the underflow amplification of an Adam trajectory (see :func:`adam`).

    Both are first-order error bounds propagated through the linearised recurrence, per element:
    an error in the parameters enters the next gradient through a coupled decay, an error in the
    gradient enters the first moment, and the first moment's error moves the parameters divided
    by :math:`(1 - \beta_1^t)(\sqrt{\hat v} + \epsilon)`, which is huge when :math:`g \ll \epsilon`.
    """
    theta = _x(inputs, "params")
    lr = params.get("lr", 1e-3)
    b1, b2, eps = params.get("beta1", 0.9), params.get("beta2", 0.999), params.get("eps", 1e-8)
    decay = params.get("weight_decay", 0.0 if coupled else 1e-2)
    m = v = v_max = np.zeros_like(theta)
    # (rounding in units of u, underflow in units of half the smallest subnormal)
    error_theta, error_m = [np.zeros_like(theta)] * 2, [np.zeros_like(theta)] * 2
    rounding_rows, underflow_rows = [], []
    previous = theta
    for t, gradient in enumerate(_x(inputs, "gradients"), start=1):
        g = gradient + (decay * previous if coupled else 0.0)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v) if params.get("amsgrad") else v
        c1, c2 = 1 - b1**t, 1 - b2**t
        denominator = np.sqrt(v_max / c2) + (
            eps if params.get("eps_placement") != "eps_hat" else eps / np.sqrt(c2)
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            sensitivity = np.where(denominator > 0, lr / c1 / denominator, 0.0)
        update = np.abs(m) * sensitivity
        # v, the square root and the division: (t + 8) u of the update; the bias corrections
        # 1 - beta^t, from a rounded beta^t, carry the condition beta^t / (1 - beta^t) of the
        # subtraction (500 for beta2 = 0.999 at t = 1: every Adam computes them so).
        corrections = b1**t / c1 + b2**t / (2 * c2)
        local = (
            # rounding: g (one addition), m (two products and a sum), theta and the update
            # (the decoupled decay rounds the parameters twice more: its factor and its product)
            (
                np.abs(g),
                3 * np.abs(m),
                (1 if coupled else 3) * np.abs(result[t - 1]) + (t + 8 + corrections) * update,
            ),
            # underflow: one each for g and m, four for the update and the new parameters, and
            # the rate times the moment before the division by the denominator (the order of
            # PyTorch's addcdiv) underflowing: divided by the denominator
            (np.ones_like(g), 2 * np.ones_like(m), 4 + 2 * sensitivity * c1 / max(lr, 1e-300)),
        )
        for kind, (local_g, local_m, local_theta) in enumerate(local):
            error_g = (decay * error_theta[kind] if coupled else 0.0) + local_g
            error_m[kind] = b1 * error_m[kind] + (1 - b1) * error_g + local_m
            decoupled = 0.0 if coupled else lr * decay * (np.abs(previous) if kind == 0 else 1.0)
            error_theta[kind] = (
                error_theta[kind] + sensitivity * error_m[kind] + local_theta + decoupled
            )
        rounding_rows.append(error_theta[0])
        underflow_rows.append(error_theta[1])
        previous = result[t - 1]
    shape = np.shape(result)
    return np.asarray(rounding_rows).reshape(shape), np.asarray(underflow_rows).reshape(shape)


@error_model
def adam(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The rounding of every step propagated through Adam's linearised recurrence
    (:func:`_adam_model`): per step the rounding of :math:`g`, of :math:`m` and of the new
    parameters, and :math:`(t + 8 + c_t)` u of the update, where
    :math:`c_t = \beta_1^t / (1 - \beta_1^t) + \beta_2^t / (2 (1 - \beta_2^t))` is the condition
    of the bias corrections."""
    return _adam_model(inputs, params, result, coupled=True)[0]


@error_model
def adamw(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The :func:`adam` model without coupled decay, plus :math:`\eta\lambda|\theta|` for the
    decoupled decay's product each step."""
    return _adam_model(inputs, params, result, coupled=False)[0]


@underflow_model("adam")
def _adam_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""A subnormal moment's absolute error, divided by :math:`(1 - \beta_1^t)(\sqrt{\hat v} + \epsilon)`
    and scaled by the rate, accumulated over the steps."""
    return _adam_model(inputs, params, result, coupled=True)[1].reshape(np.shape(result))


@underflow_model("adamw")
def _adamw_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """As Adam's."""
    return _adam_model(inputs, params, result, coupled=False)[1].reshape(np.shape(result))


@error_model
def gradient_accumulation(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    r"""Per optimizer step :math:`|\theta| + \eta (k + 2) \overline{|g|}`: a ``k``-term mean, a
    product and a subtraction, accumulated over the steps."""
    theta = _x(inputs, "params")
    k = params["accumulation_steps"]
    micro = np.abs(_x(inputs, "micro_gradients"))
    means = micro.reshape(-1, k, micro.shape[-1]).mean(axis=1)
    return _trajectory(theta, [params["lr"] * (k + 2) * g for g in means], 1.0, result)


@error_model
def clip_grad_norm(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`(n + 4)|r|`: the norm of ``n`` squares (the sum's bound and a square root), the
    quotient and the product are relative errors of the scale."""
    n = np.size(inputs["gradients"])
    return (n + 4) * np.abs(result)


@error_model
def schedule(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r""":math:`2(t + 1)(|\eta_t| + \eta_0)` at step ``t``: a schedule computed recursively (as
    PyTorch's are) rounds one ratio and one product a step, relative to the current rate for the
    multiplicative forms and to :math:`\eta_0` for the additive (cosine, linear) ones."""
    base = abs(float(np.asarray(inputs["base_lr"])))
    steps = np.arange(1, np.size(result) + 1, dtype=np.float64).reshape(np.shape(result))
    return 2 * steps * (np.abs(result) + base)


@error_model
def cosine_schedule(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""The :func:`schedule` term, plus :math:`|\eta_t - \eta_{min}| \sum_{j \le t} 2 / (1 + \cos(\pi j / T))`:
    PyTorch's recursive form multiplies :math:`\eta - \eta_{min}` by
    :math:`(1 + \cos(\pi t / T)) / (1 + \cos(\pi (t - 1) / T))` each step, and the cosines'
    absolute rounding is a relative error of that ratio as large as :math:`u / (1 + \cos)`
    near the bottom of each period (where the exact bottom itself is special-cased)."""
    t = np.arange(np.size(result), dtype=np.float64)
    with np.errstate(divide="ignore"):
        valley = 1 + np.cos(np.pi * t / params["t_max"])
        terms = np.where(valley > 1e-12, 2 / np.where(valley > 1e-12, valley, 1.0), 0.0)
    floor = params.get("eta_min", 0.0)
    return schedule(inputs, params, result) + np.abs(result - floor) * np.cumsum(terms)


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
    x = _lane_last(inputs["x"], axis)
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
    x = _lane_last(inputs["x"], axis)
    low, high = np.min(x, axis=-1, keepdims=True), np.max(x, axis=-1, keepdims=True)
    span = high - low
    a, b = params.get("feature_min", 0.0), params.get("feature_max", 1.0)
    r = _lane_last(result, axis)
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
    x = _x(inputs)
    gamma = np.abs(_x(inputs, "weight"))
    z, s = _standardized(x, 0, params.get("eps", 1e-5))
    return gamma * s + gamma * np.abs(z) + np.abs(result)


@error_model
def batch_norm(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    r"""Output rows as :func:`layer_norm` (per channel, over the batch; in evaluation the running
    statistics, rounded once, normalize); running statistics: the convex combination of the old
    value and the batch statistic, whose own error is the mean's ``n``-term sum and the variance's
    relative :math:`2n + 4 + 4nM/\sigma_B` (plus :math:`(nM)^2 u` where it is 0)."""
    x = _x(inputs).T  # channels first: lanes are the batch
    gamma = np.abs(_x(inputs, "weight"))[:, None]
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
            + old * np.abs(_x(inputs, "running_mean"))
            + np.abs(_x(inputs, "running_mean"))
            + batch_mean
        )
        variance = np.var(x, axis=-1)
        if params.get("running_var", "unbiased") == "unbiased":
            variance = variance * n / (n - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(sd_eps[:, 0] > 0, 2 * n + 4 + 4 * n * big[:, 0] / sd_eps[:, 0], 0.0)
        variance_error = (
            new * (variance * relative + (n * big[:, 0]) ** 2 * FLOAT32_UNIT_ROUNDOFF)
            + old * np.abs(_x(inputs, "running_variance"))
            + np.abs(_x(inputs, "running_variance"))
            + variance
        )
    else:
        mean, var = _x(inputs, "running_mean")[:, None], _x(inputs, "running_variance")[:, None]
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


FLOAT32_UNIT_ROUNDOFF = 2.0**-24
"""The larger unit roundoff of the two dtypes: ``u * (nM)^2 * 2**-24`` bounds the squared error
``(u n M)^2`` of a variance that is exactly 0 in float32, and over-covers it in float64."""


def _inverse_spread(x: np.ndarray, epsilon: float) -> np.ndarray:
    """``1 / sqrt(var + eps)`` along the last axis, 0 where that is infinite (constant lanes,
    which map to 0 exactly)."""
    _, sd, _, _ = _lanes_statistics(x, 0, epsilon)
    with np.errstate(divide="ignore"):
        return np.where(sd > 0, 1 / np.where(sd > 0, sd, 1), 0.0)


@underflow_model("l2_penalty")
def _l2_underflow(inputs: Inputs, params: Mapping[str, Any], result: np.ndarray) -> np.ndarray:
    """Each square may underflow (``|w| < 1.5e-154`` in float64): ``n`` of them, and the scale."""
    return np.asarray(np.size(inputs["weights"]) * (1 + params["strength"]) + 1)


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
    x = _x(inputs)
    gamma = np.abs(_x(inputs, "weight"))
    deviation = np.abs(x - np.mean(x, axis=-1, keepdims=True))
    return 4 * gamma * _inverse_spread(x, params.get("eps", 1e-5)) + 4 * deviation + 1


@underflow_model("batch_norm")
def _batch_norm_underflow(
    inputs: Inputs, params: Mapping[str, Any], result: np.ndarray
) -> np.ndarray:
    """Output rows as layer_norm's, per channel (PyTorch folds the weight into the inverse spread,
    whose subnormal product is then multiplied by the deviation); the running statistics: 4."""
    x = _x(inputs).T
    gamma = np.abs(_x(inputs, "weight"))[:, None]
    if params.get("training", True):
        inverse = _inverse_spread(x, params.get("eps", 1e-5))
    else:
        inverse = 1 / np.sqrt(_x(inputs, "running_variance") + params.get("eps", 1e-5))[:, None]
    centre = (
        np.mean(x, axis=-1, keepdims=True)
        if params.get("training", True)
        else (_x(inputs, "running_mean")[:, None])
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
    x = _lane_last(inputs["x"], axis)
    span = np.ptp(x, axis=-1, keepdims=True)
    width = abs(params.get("feature_max", 1.0) - params.get("feature_min", 0.0))
    biggest = np.finfo(np.float64).max
    with np.errstate(divide="ignore", over="ignore"):
        amplification = np.minimum(4 * width / np.where(span > 0, span, np.inf), biggest)
    return np.moveaxis(amplification * np.ones_like(x), -1, axis)


# The gradient concepts' models register themselves in MODELS on import.
from dlspec import gradient_models as _gradient_models  # noqa: E402, F401
