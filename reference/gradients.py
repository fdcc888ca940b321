r"""Gradients: the analytic derivative of every differentiable concept, as a vector-Jacobian product.

``<concept>_grad(*arguments, cotangent, **parameters)`` is :math:`\bar g^\top \partial f / \partial a`
for the concept ``f``, its argument ``a`` named by the catalogue's ``wrt``, and the cotangent
:math:`\bar g` of ``f``'s result's shape (a number for a reduced loss): what reverse-mode autodiff
(backpropagation) hands to the layer below. A cotangent of ones gives the gradient of a sum; the
cotangent 1 of a scalar loss gives its gradient.

Spec pages: the concept's, section "Gradient". Each derivative is written out from the textbook
formula (no automatic differentiation here) and evaluated like the rest of the reference at
``PRECISION_BITS``. Where the concept has a kink (ReLU at 0, |x| at 0) the value taken there is a
variant, and the forward concept's guard regions (the BCE clamp, softplus' linear region) are the
frameworks' conventions too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import mpmath
from mpmath import fsum, mpf

from . import activations, regularization
from . import losses as losses_
from ._core import (
    DomainError,
    Tensor,
    as_tensor,
    check_axis,
    check_base,
    check_choice,
    check_distributions,
    check_in_unit_interval,
    check_ndim,
    check_same_shape,
    check_tensor,
    exact,
    exact_product,
    exact_sum,
    guarded,
    log_base,
    require,
    rows,
    scaled_deviations,
)

AT_ZERO: Final = ("zero", "one")


# ---------------------------------------------------------------- shared pieces


def _cotangent(concept: str, cotangent: Any, shape: tuple[int, ...]) -> Tensor:
    """The checked cotangent: the shape of the concept's result."""
    cotangent = as_tensor(cotangent)
    if cotangent.shape != shape:
        raise DomainError(
            concept,
            "cotangent",
            f"must have the result's shape {shape}, got {cotangent.shape}",
        )
    if any(mpmath.isnan(v) for v in cotangent.values):
        raise DomainError(concept, "cotangent", "must not contain NaN")
    return cotangent


def _pointwise(concept: str, x: Any, cotangent: Any, derivative: Callable[[mpf], mpf]) -> Tensor:
    """``cotangent * f'(x)`` elementwise: the VJP of an elementwise function."""
    x = as_tensor(x)
    check_tensor(concept, "x", x)
    g = _cotangent(concept, cotangent, x.shape)
    return Tensor(
        x.shape, tuple(gi * derivative(v) for v, gi in zip(x.values, g.values, strict=True))
    )


def _sign(v: mpf, at_zero: str) -> mpf:
    """sign(v), with the value ``at_zero`` names at 0 (``"zero"``: 0, ``"one"``: 1)."""
    if v == 0:
        return mpf(0) if at_zero == "zero" else mpf(1)
    return mpf(1) if v > 0 else mpf(-1)


def _reduction_scale(
    concept: str, cotangent: Any, shape: tuple[int, ...], reduction: str
) -> list[mpf]:
    """Per element of a loss's terms, the cotangent reaching it through the reduction: the
    cotangent itself (``"none"``), the scalar cotangent (``"sum"``) or that over n (``"mean"``)."""
    check_choice(concept, "reduction", reduction, losses_.REDUCTIONS)
    n = 1
    for side in shape:
        n *= side
    if reduction == "none":
        return list(_cotangent(concept, cotangent, shape).values)
    (g,) = _cotangent(concept, cotangent, ()).values
    return [g / n if reduction == "mean" else g] * n


def _loss_grad(
    concept: str,
    first: str,
    a: Any,
    target: Any,
    cotangent: Any,
    reduction: str,
    derivative: Callable[[mpf, mpf], mpf],
) -> Tensor:
    """The VJP of a reduced elementwise loss: ``scale_i * d term(a_i, t_i) / d a_i``."""
    a, target = losses_.checked_pair(concept, first, a, target)
    scales = _reduction_scale(concept, cotangent, a.shape, reduction)
    return Tensor(
        a.shape,
        tuple(
            s * derivative(v, t) for v, t, s in zip(a.values, target.values, scales, strict=True)
        ),
    )


# ---------------------------------------------------------------- information


@exact
def entropy_grad(p: Any, cotangent: Any, *, base: float | None = None, axis: int = -1) -> Tensor:
    r""":math:`\partial H / \partial p_i = -(\log p_i + 1) / \log b`, times the lane's cotangent.

    The gradient in the ambient coordinates (each :math:`p_i` free, not along the simplex). It is
    :math:`+\infty` at :math:`p_i = 0`, so the domain is :math:`p > 0`.
    """
    concept = "entropy_grad"
    p = as_tensor(p)
    check_tensor(concept, "p", p, min_ndim=1)
    check_axis(concept, p, axis)
    check_base(concept, base)
    check_distributions(concept, "p", p, axis)
    require(concept, "p", "a zero entry", all(v > 0 for v in p.values), "positive everywhere")
    lane_shape = p.shape[: axis % p.ndim] + p.shape[axis % p.ndim + 1 :]
    g = _cotangent(concept, cotangent, lane_shape)
    scale = log_base(base)

    def term(pi: mpf, gi: mpf) -> mpf:
        # log p + 1 cancels near p = 1/e (up to 54 bits for a float64 p): 64 bits more for it
        with mpmath.extraprec(64):
            return -gi * (mpmath.log(pi) + 1) / scale

    return _broadcast_lanes(p, g, axis, term)


def _broadcast_lanes(
    x: Tensor, g: Tensor, axis: int, term: Callable[[mpf, mpf], mpf], *others: Tensor
) -> Tensor:
    """``term(x_i, g_lane, *others_i)`` where ``g`` has one value per lane along ``axis``."""
    out: list[mpf] = list(x.values)
    for lane, gi in zip(x.lanes(axis), g.values, strict=True):
        for i in lane:
            out[i] = term(x.values[i], gi, *(o.values[i] for o in others))
    return Tensor(x.shape, tuple(out))


def _model_side(
    concept: str, p: Any, q: Any, cotangent: Any, base: float | None, axis: int
) -> Tensor:
    p, q = as_tensor(p), as_tensor(q)
    for name, t in (("p", p), ("q", q)):
        check_tensor(concept, name, t, min_ndim=1)
    check_same_shape(concept, ("p", p), ("q", q))
    check_axis(concept, p, axis)
    check_base(concept, base)
    check_distributions(concept, "p", p, axis)
    check_distributions(concept, "q", q, axis)
    require(concept, "q", "a zero entry", all(v > 0 for v in q.values), "positive everywhere")
    lane_shape = p.shape[: axis % p.ndim] + p.shape[axis % p.ndim + 1 :]
    g = _cotangent(concept, cotangent, lane_shape)
    scale = log_base(base)
    return _broadcast_lanes(q, g, axis, lambda qi, gi, pi: -gi * pi / (qi * scale), p)


@exact
def cross_entropy_grad(
    p: Any, q: Any, cotangent: Any, *, base: float | None = None, axis: int = -1
) -> Tensor:
    r""":math:`\partial H(P, Q) / \partial q_i = -p_i / (q_i \log b)`, times the lane's cotangent;
    the domain is :math:`q > 0`."""
    return _model_side("cross_entropy_grad", p, q, cotangent, base, axis)


@exact
def kl_divergence_grad(
    p: Any, q: Any, cotangent: Any, *, base: float | None = None, axis: int = -1
) -> Tensor:
    r""":math:`\partial D(P \| Q) / \partial q_i = -p_i / (q_i \log b)`: the same as the cross
    entropy's, since :math:`D = H(P, Q) - H(P)` and :math:`H(P)` does not depend on ``q``."""
    return _model_side("kl_divergence_grad", p, q, cotangent, base, axis)


# ---------------------------------------------------------------- activations


@exact
def relu_grad(x: Any, cotangent: Any, *, at_zero: str = "zero") -> Tensor:
    r""":math:`\mathrm{ReLU}'(x) = [x > 0]`; at 0 (and -0), where there is none, ``at_zero``:
    0 (every framework) or 1."""
    check_choice("relu_grad", "at_zero", at_zero, AT_ZERO)
    at = mpf(0) if at_zero == "zero" else mpf(1)
    return _pointwise(
        "relu_grad", x, cotangent, lambda v: mpf(1) if v > 0 else at if v == 0 else mpf(0)
    )


@exact
def leaky_relu_grad(
    x: Any, cotangent: Any, *, negative_slope: float = 0.01, at_zero: str = "negative_slope"
) -> Tensor:
    r"""1 for :math:`x > 0`, the slope ``a`` for :math:`x < 0`; at 0 ``at_zero``: ``a``
    (PyTorch) or 1 (JAX)."""
    check_choice("leaky_relu_grad", "at_zero", at_zero, ("negative_slope", "one"))
    slope = mpf(negative_slope)
    at = slope if at_zero == "negative_slope" else mpf(1)
    return _pointwise(
        "leaky_relu_grad", x, cotangent, lambda v: mpf(1) if v > 0 else at if v == 0 else slope
    )


@exact
def sigmoid_grad(x: Any, cotangent: Any) -> Tensor:
    r""":math:`\sigma'(x) = \sigma(x)(1 - \sigma(x)) = \sigma(x)\sigma(-x)`."""
    return _pointwise(
        "sigmoid_grad", x, cotangent, lambda v: activations._sigmoid(v) * activations._sigmoid(-v)
    )


@exact
def tanh_grad(x: Any, cotangent: Any) -> Tensor:
    r""":math:`\tanh'(x) = 1 - \tanh^2 x = \mathrm{sech}^2 x`."""
    return _pointwise("tanh_grad", x, cotangent, lambda v: mpmath.sech(v) ** 2)


@exact
def softplus_grad(
    x: Any,
    cotangent: Any,
    *,
    beta: float = 1.0,
    threshold: float = 20.0,
    linear_region: str = "linear_above_threshold",
) -> Tensor:
    r""":math:`\sigma(\beta x)`, independent of :math:`\beta`'s scale; where the forward is the
    identity (``linear_region="linear_above_threshold"`` and :math:`\beta x >` ``threshold``),
    exactly 1."""
    require("softplus_grad", "beta", beta, beta > 0, "positive")
    check_choice("softplus_grad", "linear_region", linear_region, activations.SOFTPLUS_THRESHOLDS)
    b = mpf(beta)

    def derivative(v: mpf) -> mpf:
        if linear_region == "linear_above_threshold" and b * v > threshold:
            return mpf(1)
        return activations._sigmoid(b * v)

    return _pointwise("softplus_grad", x, cotangent, derivative)


GELU_CUBIC: Final = activations.GELU_CUBIC


@exact
@guarded
def gelu_grad(
    x: Any, cotangent: Any, *, approximate: str | None = None, default_form: str = "none"
) -> Tensor:
    r"""Exact form: :math:`\Phi(x) + x\varphi(x)`. Tanh form, with
    :math:`u = \sqrt{2/\pi}(x + c x^3)` and :math:`c = 0.044715`:
    :math:`\tfrac12(1 + \tanh u) + \tfrac12 x (1 - \tanh^2 u)\sqrt{2/\pi}(1 + 3 c x^2)`."""
    check_choice("gelu_grad", "default_form", default_form, activations.GELU_APPROXIMATIONS)
    approximate = default_form if approximate is None else approximate
    check_choice("gelu_grad", "approximate", approximate, activations.GELU_APPROXIMATIONS)
    root_two_over_pi = mpmath.sqrt(2 / mpmath.pi)

    def exact_form(v: mpf) -> mpf:
        cdf = mpmath.erfc(-v / mpmath.sqrt(2)) / 2  # no 1 + erf cancellation
        pdf = mpmath.exp(-(v**2) / 2) / mpmath.sqrt(2 * mpmath.pi)
        return cdf + v * pdf

    def tanh_form(v: mpf) -> mpf:
        u = root_two_over_pi * (v + GELU_CUBIC * v**3)
        # (1 + tanh u)/2 = sigma(2u) and 1 - tanh^2 u = sech^2 u, without cancellation
        return activations._sigmoid(2 * u) + v / 2 * mpmath.sech(u) ** 2 * root_two_over_pi * (
            1 + 3 * GELU_CUBIC * v**2
        )

    return _pointwise("gelu_grad", x, cotangent, exact_form if approximate == "none" else tanh_form)


@exact
@guarded
def silu_grad(x: Any, cotangent: Any) -> Tensor:
    r""":math:`\frac{d}{dx} x\sigma(x) = \sigma(x)(1 + x(1 - \sigma(x)))`."""

    def derivative(v: mpf) -> mpf:
        s = activations._sigmoid(v)
        return s * (1 + v * activations._sigmoid(-v))

    return _pointwise("silu_grad", x, cotangent, derivative)


@exact
def elu_grad(x: Any, cotangent: Any, *, alpha: float = 1.0, at_zero: str = "alpha") -> Tensor:
    r"""1 for :math:`x > 0`, :math:`\alpha e^x` for :math:`x < 0`; at 0 ``at_zero``:
    :math:`\alpha` (the exponential branch, PyTorch and JAX) or 1."""
    check_choice("elu_grad", "at_zero", at_zero, ("alpha", "one"))
    a = mpf(alpha)
    at = a if at_zero == "alpha" else mpf(1)
    return _pointwise(
        "elu_grad", x, cotangent, lambda v: mpf(1) if v > 0 else at if v == 0 else a * mpmath.exp(v)
    )


def _softmax_family(concept: str, x: Any, cotangent: Any, axis: int) -> tuple[Tensor, Tensor]:
    x = as_tensor(x)
    check_tensor(concept, "x", x, min_ndim=1)
    check_axis(concept, x, axis)
    return x, _cotangent(concept, cotangent, x.shape)


def _lanewise(
    x: Tensor, g: Tensor, axis: int, function: Callable[[list[mpf], list[mpf]], list[mpf]]
) -> Tensor:
    """``function(x_lane, g_lane)`` on every lane along ``axis``."""
    out: list[mpf] = list(x.values)
    for lane in x.lanes(axis):
        result = function([x.values[i] for i in lane], [g.values[i] for i in lane])
        for i, value in zip(lane, result, strict=True):
            out[i] = value
    return Tensor(x.shape, tuple(out))


@exact
@guarded
def softmax_grad(x: Any, cotangent: Any, *, axis: int = -1) -> Tensor:
    r"""With :math:`s = \mathrm{softmax}(x)`, :math:`\partial s_i / \partial x_j = s_i(\delta_{ij} - s_j)`,
    so the VJP is :math:`s \odot (\bar g - \langle \bar g, s\rangle)` per lane.

    Evaluated as :math:`s_i \sum_j s_j (\bar g_i - \bar g_j)` (the same, as :math:`\sum_j s_j = 1`):
    :math:`\bar g_i - \langle \bar g, s\rangle` cancels where one :math:`s_j` is within the
    working precision of 1 (``softmax_grad([0, -300], [1, 0])[0]`` is 5.1e-131, not 0), while each
    difference :math:`\bar g_i - \bar g_j` of two floats is exact. Each term
    :math:`w_j(\bar g_i - \bar g_j)` is taken as :func:`activations.weighted_difference` takes
    it (the weights :math:`w = W s`), so nearly equal logits do not cancel it either."""
    x, g = _softmax_family("softmax_grad", x, cotangent, axis)

    def lane(z: list[mpf], gl: list[mpf]) -> list[mpf]:
        w, e, total = activations.softmax_weights(z)
        return [
            w[i]
            / (total * total)
            * fsum(
                part
                for j in range(len(z))
                for part in activations.weighted_difference(w[j], e[j], gl[i], w[j], e[j], gl[j])
            )
            for i in range(len(z))
        ]

    return _lanewise(x, g, axis, lane)


@exact
@guarded
def log_softmax_grad(x: Any, cotangent: Any, *, axis: int = -1) -> Tensor:
    r""":math:`\partial \log s_i / \partial x_j = \delta_{ij} - s_j`, so the VJP is
    :math:`\bar g - s \sum_i \bar g_i` per lane.

    Evaluated as :math:`\sum_j (\bar g_i s_j - s_i \bar g_j)` (the same, as
    :math:`\sum_j s_j = 1`): :math:`\bar g_i - s_i \sum \bar g` cancels where :math:`s_i` is
    within the working precision of 1; each term :math:`\bar g_i w_j - w_i \bar g_j` (the weights
    :math:`w = W s`) is taken as :func:`activations.weighted_difference` takes it."""
    x, g = _softmax_family("log_softmax_grad", x, cotangent, axis)

    def lane(z: list[mpf], gl: list[mpf]) -> list[mpf]:
        w, e, total = activations.softmax_weights(z)
        return [
            fsum(
                part
                for j in range(len(z))
                for part in activations.weighted_difference(w[j], e[j], gl[i], w[i], e[i], gl[j])
            )
            / total
            for i in range(len(z))
        ]

    return _lanewise(x, g, axis, lane)


# ---------------------------------------------------------------- losses


@exact
def mse_loss_grad(
    prediction: Any, target: Any, cotangent: Any, *, reduction: str = "mean"
) -> Tensor:
    r""":math:`\partial (p - t)^2 / \partial p = 2(p - t)`, through the reduction (``/n`` for
    the mean)."""
    return _loss_grad(
        "mse_loss_grad",
        "prediction",
        prediction,
        target,
        cotangent,
        reduction,
        lambda p, t: 2 * (p - t),
    )


@exact
def mae_loss_grad(
    prediction: Any, target: Any, cotangent: Any, *, reduction: str = "mean", at_zero: str = "zero"
) -> Tensor:
    r""":math:`\mathrm{sign}(p - t)` through the reduction; at :math:`p = t` ``at_zero``: 0
    (PyTorch, NumPy's sign) or 1 (JAX's abs)."""
    check_choice("mae_loss_grad", "at_zero", at_zero, AT_ZERO)
    return _loss_grad(
        "mae_loss_grad",
        "prediction",
        prediction,
        target,
        cotangent,
        reduction,
        lambda p, t: _sign(p - t, at_zero),
    )


def _huber_derivative(difference: mpf, delta: mpf) -> mpf:
    """``d`` inside ``|d| <= delta``, ``delta sign(d)`` outside: continuous at ``|d| = delta``
    (Huber is C1), so the kink needs no convention."""
    return difference if abs(difference) <= delta else delta * mpmath.sign(difference)


@exact
@guarded
def huber_loss_grad(
    prediction: Any, target: Any, cotangent: Any, *, delta: float = 1.0, reduction: str = "mean"
) -> Tensor:
    r""":math:`p - t` for :math:`|p - t| \le \delta`, :math:`\delta\,\mathrm{sign}(p - t)`
    beyond, through the reduction. Both branches give :math:`\pm\delta` at the kink."""
    require("huber_loss_grad", "delta", delta, delta > 0, "positive")
    return _loss_grad(
        "huber_loss_grad",
        "prediction",
        prediction,
        target,
        cotangent,
        reduction,
        lambda p, t: _huber_derivative(p - t, mpf(delta)),
    )


BCE_GRADIENT_GUARDS: Final = ("clamp_denominator_1e-12f", "none")
BCE_DENOMINATOR_CLAMP: Final = mpf(float.fromhex("0x1.197998p-40"))
"""``1e-12`` rounded to float32, as PyTorch's ``constexpr float EPSILON = 1e-12``."""


def _bce_derivative(p: mpf, y: mpf, guard: str) -> mpf:
    if guard == "clamp_denominator_1e-12f":
        return (p - y) / max(p * (1 - p), BCE_DENOMINATOR_CLAMP)
    # the bare derivative -y/p + (1 - y)/(1 - p); a zero weight contributes 0 (0 log 0 = 0)
    positive = mpf(0) if y == 0 else (-y / p if p > 0 else mpf("-inf"))
    negative = mpf(0) if y == 1 else ((1 - y) / (1 - p) if p < 1 else mpf("inf"))
    return positive + negative


@exact
@guarded
def binary_cross_entropy_grad(
    probability: Any,
    target: Any,
    cotangent: Any,
    *,
    reduction: str = "mean",
    guard: str = "clamp_denominator_1e-12f",
) -> Tensor:
    r""":math:`\partial / \partial p\,[-(y \log p + (1 - y)\log(1 - p))] = (p - y) / (p(1 - p))`,
    through the reduction. ``guard``: ``"clamp_denominator_1e-12f"`` (PyTorch) divides by
    :math:`\max(p(1 - p), \epsilon)` with :math:`\epsilon` = 1e-12 rounded to float32;
    ``"none"`` is the bare derivative, :math:`\mp\infty` at ``p`` in {0, 1}."""
    concept = "binary_cross_entropy_grad"
    check_choice(concept, "guard", guard, BCE_GRADIENT_GUARDS)
    probability, target = losses_.checked_pair(concept, "probability", probability, target)
    check_in_unit_interval(concept, "probability", probability)
    check_in_unit_interval(concept, "target", target)
    return _loss_grad(
        concept,
        "probability",
        probability,
        target,
        cotangent,
        reduction,
        lambda p, y: _bce_derivative(p, y, guard),
    )


def _logit_loss_derivative(z: mpf, a: mpf, b: mpf) -> mpf:
    """``a sigmoid(z) - b sigmoid(-z)`` for ``a, b >= 0``, as ``-a expm1(log(b/a) - z)
    sigmoid(z)``: no cancellation but in ``z - log(b/a)``, which is exact where the root is 0."""
    sigmoid = activations._sigmoid
    if a == 0 or b == 0:
        return a * sigmoid(z) - b * sigmoid(-z)
    return -a * mpmath.expm1(mpmath.log(b / a) - z) * sigmoid(z)


@exact
@guarded
def binary_cross_entropy_with_logits_grad(
    logits: Any,
    target: Any,
    cotangent: Any,
    *,
    pos_weight: float = 1.0,
    reduction: str = "mean",
) -> Tensor:
    r""":math:`(1 - y)\sigma(z) - w y (1 - \sigma(z))`, which is :math:`\sigma(z) - y` for
    :math:`w = 1`, through the reduction.

    Evaluated as :math:`-A\,\mathrm{expm1}(z^* - z)\,\sigma(z)` with :math:`A = 1 - y`,
    :math:`B = w y` and the root :math:`z^* = \log(B / A)` (the plain difference where
    :math:`A` or :math:`B` is 0): the two sigmoid terms cancel near the root, without bound where
    it is rational (:math:`z^* = 0` for ``y = 1/2``, ``w = 1``: the gradient is
    :math:`\tanh(z/2)/2`).
    """
    concept = "binary_cross_entropy_with_logits_grad"
    logits, target = losses_.checked_pair(concept, "logits", logits, target)
    check_in_unit_interval(concept, "target", target)
    require(concept, "pos_weight", pos_weight, pos_weight >= 0, "non-negative")
    w = mpf(pos_weight)
    return _loss_grad(
        concept,
        "logits",
        logits,
        target,
        cotangent,
        reduction,
        lambda z, y: _logit_loss_derivative(z, mpf(1) - y, exact_product(w, y)),
    )


@exact
@guarded
def softmax_cross_entropy_grad(
    logits: Any,
    target: Any,
    cotangent: Any,
    *,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> Tensor:
    r""":math:`\partial \ell / \partial z_c = s_c \sum_j y'_j - y'_c` per sample, with
    :math:`s = \mathrm{softmax}(z)`, through the reduction over samples (``/N`` for the mean).

    This is the VJP of the forward as written, :math:`-\sum_c y'_c \log s_c`, for any target:
    the familiar :math:`s - y'` holds only where :math:`y'` sums to exactly 1, and a target may
    miss 1 by ``DISTRIBUTION_TOLERANCE`` (torch and JAX differentiate the forward, so they give
    :math:`s \sum y' - y'`). Evaluated as :math:`\sum_j (s_c y'_j - y'_c s_j)` (the same, as
    :math:`\sum_j s_j = 1`), which does not cancel where :math:`s_c` is within the working
    precision of 1 and :math:`y'_c = 1`."""
    concept = "softmax_cross_entropy_grad"
    logits, samples, targets = losses_.classification(concept, logits, target, label_smoothing)
    scales = _reduction_scale(concept, cotangent, logits.shape[:-1], reduction)
    out: list[mpf] = []
    for z, y, scale in zip(samples, targets, scales, strict=True):
        # each term w_c y_j - y_c w_j (w = W s) as weighted_difference takes it: logits
        # [8.8e-110, 0] with target [1/2, 1/2] give 2.2e-110, which rounded weights lose
        w, e, total = activations.softmax_weights(z)
        out += [
            scale
            * fsum(
                part
                for j in range(len(z))
                for part in activations.weighted_difference(w[c], e[c], y[j], w[j], e[j], y[c])
            )
            / total
            for c in range(len(z))
        ]
    return Tensor(logits.shape, tuple(out))


@exact
@guarded
def multi_target_loss_grad(
    prediction: Any,
    target: Any,
    cotangent: Any,
    *,
    losses: Sequence[str],
    weights: Sequence[float],
    at_zero: str = "zero",
) -> Tensor:
    r"""Column ``t`` receives :math:`(w_t \bar g_0 + \bar g_t)\,\partial L_t / \partial p_{:,t}`:
    the total :math:`L = \sum_t w_t L_t` and the logged :math:`L_t` both depend on it. Each
    :math:`L_t` is a mean, so each column's derivative is its single loss's over ``n``."""
    concept = "multi_target_loss_grad"
    check_choice(concept, "at_zero", at_zero, AT_ZERO)
    prediction, target = losses_.check_multi_target(concept, prediction, target, losses, weights)
    n, n_targets = prediction.shape
    g = _cotangent(concept, cotangent, (n_targets + 1,)).values
    one = mpf(1)
    single = {
        "mse": lambda p, t: mse_loss_grad(p, t, one),
        "mae": lambda p, t: mae_loss_grad(p, t, one, at_zero=at_zero),
        "huber": lambda p, t: huber_loss_grad(p, t, one),
        "bce_with_logits": lambda p, t: binary_cross_entropy_with_logits_grad(p, t, one),
    }
    columns = list(zip(*rows(prediction), strict=True)), list(zip(*rows(target), strict=True))
    out = [[mpf(0)] * n_targets for _ in range(n)]
    for t, (name, p, y) in enumerate(zip(losses, *columns, strict=True)):
        upstream = mpf(weights[t]) * g[0] + g[t + 1]
        for i, d in enumerate(single[name](list(p), list(y)).values):
            out[i][t] = upstream * d
    return Tensor((n, n_targets), tuple(v for row in out for v in row))


# ---------------------------------------------------------------- regularization


def _penalty_grad(
    concept: str, weights: Any, cotangent: Any, strength: float, derivative: Callable[[mpf], mpf]
) -> Tensor:
    weights = regularization.checked_weights(concept, weights, strength)
    (g,) = _cotangent(concept, cotangent, ()).values
    return weights.map(lambda w: g * mpf(strength) * derivative(w))


@exact
def l1_penalty_grad(
    weights: Any, cotangent: Any, *, strength: float, at_zero: str = "zero"
) -> Tensor:
    r""":math:`\lambda\,\mathrm{sign}(w)`; at :math:`w = 0` ``at_zero``: 0 (PyTorch, NumPy) or
    1 (JAX's abs)."""
    check_choice("l1_penalty_grad", "at_zero", at_zero, AT_ZERO)
    return _penalty_grad(
        "l1_penalty_grad", weights, cotangent, strength, lambda w: _sign(w, at_zero)
    )


@exact
def l2_penalty_grad(
    weights: Any, cotangent: Any, *, strength: float, scale: str = "half"
) -> Tensor:
    r""":math:`\lambda w` (``scale="half"``) or :math:`2 \lambda w` (``"full"``)."""
    check_choice("l2_penalty_grad", "scale", scale, ("half", "full"))
    factor = mpf(1) if scale == "half" else mpf(2)
    return _penalty_grad("l2_penalty_grad", weights, cotangent, strength, lambda w: factor * w)


# ---------------------------------------------------------------- normalization


def standardized_vjp(lane: list[mpf], g: list[mpf], ddof: int, epsilon: mpf) -> list[mpf]:
    r"""The VJP of :math:`z = (x - \mu) / \hat\sigma` along one lane, with
    :math:`\hat\sigma^2 = \sum (x - \mu)^2 / (n - \mathrm{ddof}) + \epsilon`:

    .. math:: \bar x_j = \frac{1}{\hat\sigma}\Big(\bar g_j - \overline{\bar g}
              - z_j \frac{\sum_i \bar g_i z_i}{n - \mathrm{ddof}}\Big)

    Evaluated exactly but for its last two roundings: with the exact scaled deviations
    :math:`C_j = n x_j - \sum x`, :math:`A_j = n \bar g_j - \sum \bar g`,
    :math:`G = \sum \bar g_i C_i` and :math:`D = \sum C^2 + n^2 (n - \mathrm{ddof}) \epsilon`
    (so :math:`\hat\sigma^2 = D / (n^2 (n - \mathrm{ddof}))`), it is
    :math:`\bar x_j = (A_j D - n C_j G) / (n D \hat\sigma)`. The three terms cancel where the
    cotangent is nearly constant or nearly along :math:`z` (a truth of 5e-97 came out as 7e-49
    from the formula above at 160 bits: the precision-doubling check found it).
    """
    n, free = len(lane), len(lane) - ddof
    c = scaled_deviations(lane)
    a = scaled_deviations(g)
    projection = exact_sum(exact_product(gi, ci) for gi, ci in zip(g, c, strict=True))
    d = mpmath.fadd(
        exact_sum(exact_product(ci, ci) for ci in c),
        exact_product(n * n * free, epsilon),
        exact=True,
    )
    spread = mpmath.sqrt(d / (n * n * free))
    return [
        mpmath.fsub(exact_product(aj, d), exact_product(n, cj, projection), exact=True)
        / (n * d * spread)
        for aj, cj in zip(a, c, strict=True)
    ]


def _non_constant(concept: str, x: Tensor, axis: int, epsilon: float) -> None:
    if epsilon > 0:
        return
    for lane in x.lanes(axis):
        if len({x.values[i] for i in lane}) == 1:
            raise DomainError(
                concept,
                "x",
                "has a constant lane: with epsilon = 0 the gradient is undefined there",
            )


@exact
def standardize_grad(
    x: Any, cotangent: Any, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0
) -> Tensor:
    r"""See :func:`standardized_vjp`, per lane along ``axis``. Undefined on a constant lane when
    ``epsilon = 0`` (the spread is 0): outside the domain."""
    concept = "standardize_grad"
    x = as_tensor(x)
    check_tensor(concept, "x", x)
    check_axis(concept, x, axis)
    require(concept, "ddof", ddof, ddof in (0, 1), "0 or 1")
    require(concept, "epsilon", epsilon, epsilon >= 0, "non-negative")
    if x.shape[axis] - ddof < 1:
        raise DomainError(concept, "x", f"needs more than ddof={ddof} elements along axis {axis}")
    _non_constant(concept, x, axis, epsilon)
    g = _cotangent(concept, cotangent, x.shape)
    return _lanewise(x, g, axis, lambda lane, gl: standardized_vjp(lane, gl, ddof, mpf(epsilon)))


def _affine_normalized(
    concept: str, x: Any, weight: Any, bias: Any, cotangent: Any, eps: float, axis: int
) -> Tensor:
    """The VJP in ``x`` of ``weight * standardize(x) + bias`` along ``axis``: the cotangent
    scaled by the weight, through :func:`standardized_vjp` (ddof 0, epsilon ``eps``)."""
    x = as_tensor(x)
    check_tensor(concept, "x", x)
    check_ndim(concept, "x", x, 2)
    require(concept, "eps", eps, eps > 0, "positive")
    features = x.shape[1] if axis == 0 else x.shape[-1]
    weight = as_tensor(weight)
    as_tensor(bias)
    if weight.shape != (features,):
        raise DomainError(concept, "weight", f"must have shape ({features},), got {weight.shape}")
    g = _cotangent(concept, cotangent, x.shape)
    width = x.shape[1]
    scaled = Tensor(  # exact: the VJP's differences of these must not cancel a rounding
        x.shape,
        tuple(exact_product(gi, weight.values[i % width]) for i, gi in enumerate(g.values)),
    )
    return _lanewise(x, scaled, axis, lambda lane, gl: standardized_vjp(lane, gl, 0, mpf(eps)))


@exact
def layer_norm_grad(x: Any, weight: Any, bias: Any, cotangent: Any, *, eps: float = 1e-5) -> Tensor:
    r"""The VJP in ``x`` of layer normalization over the last axis (``x`` of shape (N, D)):
    :func:`standardized_vjp` of :math:`\gamma \odot \bar g` with ddof 0 and :math:`\epsilon`."""
    return _affine_normalized("layer_norm_grad", x, weight, bias, cotangent, eps, -1)


@exact
def batch_norm_grad(x: Any, weight: Any, bias: Any, cotangent: Any, *, eps: float = 1e-5) -> Tensor:
    r"""The VJP in ``x`` of batch normalization in training mode (``x`` of shape (N, C)): the
    batch statistics depend on ``x``, so each channel's column goes through
    :func:`standardized_vjp` of :math:`\gamma_c \bar g` over the batch (ddof 0: the biased
    variance normalizes). The running statistics are buffers, not outputs: no gradient."""
    return _affine_normalized("batch_norm_grad", x, weight, bias, cotangent, eps, 0)
