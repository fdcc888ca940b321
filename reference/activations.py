"""Activation functions, elementwise, and the softmax family along an axis.

Spec pages: ``spec/concepts/<id>.md``. mpmath has no overflow at float range, but its working precision is
finite: where a formula would cancel (``x - log(exp(x))`` for a tiny ``x``), the reference takes
the form that does not, so that every digit it returns is right.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import mpmath
from mpmath import fsum, mpf

from ._core import (
    AT_ZERO,
    Tensor,
    along_axis,
    as_tensor,
    check_axis,
    check_choice,
    check_tensor,
    checked_cotangent,
    elementwise,
    exact,
    guarded,
    lanewise,
    require,
)


@exact
def relu(x: Any) -> Tensor:
    r"""Rectified linear unit :math:`\mathrm{ReLU}(x) = \max(0, x)`; ``relu(-0.0) == 0``."""
    return elementwise("relu", x, lambda v: max(mpf(0), v))


def logistic(v: mpf) -> mpf:
    return 1 / (1 + mpmath.exp(-v))


@exact
def sigmoid(x: Any) -> Tensor:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, in (0, 1); ``sigmoid(0) == 1/2``."""
    return elementwise("sigmoid", x, logistic)


@exact
def leaky_relu(x: Any, *, negative_slope: float = 0.01) -> Tensor:
    r""":math:`x` for :math:`x \ge 0`, :math:`a x` below, with slope ``a = negative_slope``.

    The slope is the binary value of the argument (0.01 is not exactly 1/100).
    ``leaky_relu([-2, 3], negative_slope=0.5) == [-1, 3]``.
    """
    slope = mpf(negative_slope)
    return elementwise("leaky_relu", x, lambda v: v if v >= 0 else slope * v)


@exact
def tanh(x: Any) -> Tensor:
    r"""Hyperbolic tangent :math:`(e^x - e^{-x}) / (e^x + e^{-x}) = 2\sigma(2x) - 1`, odd, in (-1, 1)."""
    return elementwise("tanh", x, mpmath.tanh)


SOFTPLUS_THRESHOLDS = ("linear_above_threshold", "none")


@exact
def softplus(
    x: Any,
    *,
    beta: float = 1.0,
    threshold: float = 20.0,
    linear_region: str = "linear_above_threshold",
) -> Tensor:
    r"""Softplus :math:`\frac{1}{\beta} \log(1 + e^{\beta x})`, a smooth ReLU above it.

    Variant ``linear_region``: ``"linear_above_threshold"`` (PyTorch) returns ``x`` itself where
    :math:`\beta x >` ``threshold``; ``"none"`` (JAX's ``logaddexp(x, 0)``) never does.
    ``softplus([0]) == [log 2]``.
    """
    require("softplus", "beta", beta, beta > 0, "positive")
    check_choice("softplus", "linear_region", linear_region, SOFTPLUS_THRESHOLDS)
    b = mpf(beta)

    def term(v: mpf) -> mpf:
        if linear_region == "linear_above_threshold" and b * v > threshold:
            return v
        return mpmath.log1p(mpmath.exp(b * v)) / b

    return elementwise("softplus", x, term)


GELU_APPROXIMATIONS = ("none", "tanh")
GELU_CUBIC: Final = mpf(0.044715)
"""The tanh form's cubic coefficient: the float64 nearest 0.044715, as a framework's source
writes it (a double literal; a float32 kernel rounds it once more, within its error model). Every
decimal constant inside a formula is read so (spec/README.md, "Decimal constants")."""


@exact
def gelu(x: Any, *, approximate: str | None = None, default_form: str = "none") -> Tensor:
    r"""Gaussian error linear unit :math:`x \Phi(x) = \frac{x}{2}(1 + \mathrm{erf}(x / \sqrt 2))`.

    ``approximate="tanh"``: :math:`\frac{x}{2}(1 + \tanh(\sqrt{2/\pi}(x + 0.044715 x^3)))`
    (Hendrycks and Gimpel 2016). ``gelu([0]) == [0]``.

    Variant ``default_form``: the form used when ``approximate`` is not given, ``"none"``
    (PyTorch) or ``"tanh"`` (``jax.nn.gelu``).
    """
    check_choice("gelu", "default_form", default_form, GELU_APPROXIMATIONS)
    approximate = default_form if approximate is None else approximate
    check_choice("gelu", "approximate", approximate, GELU_APPROXIMATIONS)
    if approximate == "none":
        # erfc(-v / sqrt 2) = 1 + erf(v / sqrt 2), without the cancellation for negative v.
        return elementwise("gelu", x, lambda v: v / 2 * mpmath.erfc(-v / mpmath.sqrt(2)))
    scale, cubic = mpmath.sqrt(2 / mpmath.pi), GELU_CUBIC
    # 1 + tanh(y) = 2 sigma(2y), again without cancellation.
    return elementwise("gelu", x, lambda v: v * logistic(2 * scale * (v + cubic * v**3)))


@exact
def silu(x: Any) -> Tensor:
    r"""Sigmoid linear unit (swish) :math:`x \sigma(x)`; ``silu([0]) == [0]``."""
    return elementwise("silu", x, lambda v: v * logistic(v))


@exact
def elu(x: Any, *, alpha: float = 1.0) -> Tensor:
    r"""Exponential linear unit: :math:`x` for :math:`x > 0`, :math:`\alpha (e^x - 1)` otherwise.

    Tends to :math:`-\alpha` as :math:`x \to -\infty`; ``elu([0]) == [0]``.
    """
    a = mpf(alpha)
    return elementwise("elu", x, lambda v: v if v > 0 else a * mpmath.expm1(v))


def _shifted(z: list[mpf]) -> list[mpf]:
    """``z_i - max(z)``, computed exactly: both are floats, so the difference has finitely many
    bits, and a rounded difference would make ``log_softmax`` of a tiny lone input non-zero."""
    top = max(z)
    return [mpmath.fsub(zi, top, exact=True) for zi in z]


def softmax_weights(z: list[mpf]) -> tuple[list[mpf], list[mpf], mpf]:
    """``w_j = exp(z_j - max z)``, ``e_j = w_j - 1`` (``expm1`` of the exact shift) and
    ``W = sum w``, so that ``softmax(z) = w / W``. Differences of softmax values keep their
    digits in one form or the other: ``e`` where a weight is near 1 (``softmax([8.8e-110, 0])``
    is 1/2 + 2.2e-110, which a rounded ``w`` loses), ``w`` where it is tiny (``e`` is then -1 to
    the working precision)."""
    shifted = _shifted(z)
    return (
        [mpmath.exp(d) for d in shifted],
        [mpmath.expm1(d) for d in shifted],
        fsum(mpmath.exp(d) for d in shifted),
    )


def weighted_difference(w_a: mpf, e_a: mpf, a: mpf, w_b: mpf, e_b: mpf, b: mpf) -> list[mpf]:
    """The parts of ``w_a a - b w_b`` for two weights given as ``w`` and ``e = w - 1``
    (:func:`softmax_weights`), in whichever form rounds less: directly, or as
    ``(a - b) + e_a a - b e_b`` with the exact difference ``a - b`` of two floats first. This is
    the term the softmax family's derivatives are sums of; a caller adds all parts of all terms
    in one ``fsum``, which rounds once, so that nothing cancels a rounding."""
    if abs(e_a * a) + abs(b * e_b) < abs(w_a * a) + abs(b * w_b):
        return [mpmath.fsub(a, b, exact=True), e_a * a, -b * e_b]
    return [w_a * a, -b * w_b]


def _softmax_lane(z: list[mpf]) -> list[mpf]:
    weights = [mpmath.exp(d) for d in _shifted(z)]
    total = fsum(weights)
    return [w / total for w in weights]


def log_sum_exp_shifted(shifted: list[mpf]) -> mpf:
    """``log sum_j exp(d_j)`` for a lane shifted by its maximum (one ``d_j`` is 0), as
    ``log1p`` of the other terms: their sum is 1 plus something that may lie below the working
    precision (``[0, -120]``: 1 + 7.7e-53), which ``log`` of the rounded sum would lose."""
    rest = list(shifted)
    rest.remove(mpf(0))
    return mpmath.log1p(fsum(mpmath.exp(d) for d in rest))


def log_softmax_lane(z: list[mpf]) -> list[mpf]:
    shifted = _shifted(z)
    log_total = log_sum_exp_shifted(shifted)
    return [d - log_total for d in shifted]


@exact
def softmax(x: Any, *, axis: int = -1) -> Tensor:
    r"""Softmax :math:`\mathrm{softmax}(x)_i = e^{x_i} / \sum_j e^{x_j}` along ``axis``.

    Each lane sums to 1; adding a constant to a lane leaves it unchanged.
    ``softmax([0, 0]) == [1/2, 1/2]``.
    """
    x = as_tensor(x)
    check_tensor("softmax", "x", x, min_ndim=1)
    check_axis("softmax", x, axis)
    return along_axis(_softmax_lane, x, axis)


@exact
def log_softmax(x: Any, *, axis: int = -1) -> Tensor:
    r"""Log-softmax :math:`x_i - \log \sum_j e^{x_j}` along ``axis``, the log of :func:`softmax`.

    ``log_softmax([0, 0]) == [-log 2, -log 2]``.
    """
    x = as_tensor(x)
    check_tensor("log_softmax", "x", x, min_ndim=1)
    check_axis("log_softmax", x, axis)
    return along_axis(log_softmax_lane, x, axis)


# ---------------------------------------------------------------- gradients


def _pointwise(concept: str, x: Any, cotangent: Any, derivative: Callable[[mpf], mpf]) -> Tensor:
    """``cotangent * f'(x)`` elementwise: the VJP of an elementwise function."""
    x = as_tensor(x)
    check_tensor(concept, "x", x)
    g = checked_cotangent(concept, cotangent, x.shape)
    return Tensor(
        x.shape, tuple(gi * derivative(v) for v, gi in zip(x.values, g.values, strict=True))
    )


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
    return _pointwise("sigmoid_grad", x, cotangent, lambda v: logistic(v) * logistic(-v))


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
    check_choice("softplus_grad", "linear_region", linear_region, SOFTPLUS_THRESHOLDS)
    b = mpf(beta)

    def derivative(v: mpf) -> mpf:
        if linear_region == "linear_above_threshold" and b * v > threshold:
            return mpf(1)
        return logistic(b * v)

    return _pointwise("softplus_grad", x, cotangent, derivative)


@exact
@guarded
def gelu_grad(
    x: Any, cotangent: Any, *, approximate: str | None = None, default_form: str = "none"
) -> Tensor:
    r"""Exact form: :math:`\Phi(x) + x\varphi(x)`. Tanh form, with
    :math:`u = \sqrt{2/\pi}(x + c x^3)` and :math:`c = 0.044715`:
    :math:`\tfrac12(1 + \tanh u) + \tfrac12 x (1 - \tanh^2 u)\sqrt{2/\pi}(1 + 3 c x^2)`."""
    check_choice("gelu_grad", "default_form", default_form, GELU_APPROXIMATIONS)
    approximate = default_form if approximate is None else approximate
    check_choice("gelu_grad", "approximate", approximate, GELU_APPROXIMATIONS)
    root_two_over_pi = mpmath.sqrt(2 / mpmath.pi)

    def exact_form(v: mpf) -> mpf:
        cdf = mpmath.erfc(-v / mpmath.sqrt(2)) / 2  # no 1 + erf cancellation
        pdf = mpmath.exp(-(v**2) / 2) / mpmath.sqrt(2 * mpmath.pi)
        return cdf + v * pdf

    def tanh_form(v: mpf) -> mpf:
        u = root_two_over_pi * (v + GELU_CUBIC * v**3)
        # (1 + tanh u)/2 = sigma(2u) and 1 - tanh^2 u = sech^2 u, without cancellation
        return logistic(2 * u) + v / 2 * mpmath.sech(u) ** 2 * root_two_over_pi * (
            1 + 3 * GELU_CUBIC * v**2
        )

    return _pointwise("gelu_grad", x, cotangent, exact_form if approximate == "none" else tanh_form)


@exact
@guarded
def silu_grad(x: Any, cotangent: Any) -> Tensor:
    r""":math:`\frac{d}{dx} x\sigma(x) = \sigma(x)(1 + x(1 - \sigma(x)))`."""

    def derivative(v: mpf) -> mpf:
        s = logistic(v)
        return s * (1 + v * logistic(-v))

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
    return x, checked_cotangent(concept, cotangent, x.shape)


@exact
@guarded
def softmax_grad(x: Any, cotangent: Any, *, axis: int = -1) -> Tensor:
    r"""With :math:`s = \mathrm{softmax}(x)`, :math:`\partial s_i / \partial x_j = s_i(\delta_{ij} - s_j)`,
    so the VJP is :math:`s \odot (\bar g - \langle \bar g, s\rangle)` per lane.

    Evaluated as :math:`s_i \sum_j s_j (\bar g_i - \bar g_j)` (the same, as :math:`\sum_j s_j = 1`):
    :math:`\bar g_i - \langle \bar g, s\rangle` cancels where one :math:`s_j` is within the
    working precision of 1 (``softmax_grad([0, -300], [1, 0])[0]`` is 5.1e-131, not 0), while each
    difference :math:`\bar g_i - \bar g_j` of two floats is exact. Each term
    :math:`w_j(\bar g_i - \bar g_j)` is taken as :func:`weighted_difference` takes
    it (the weights :math:`w = W s`), so nearly equal logits do not cancel it either."""
    x, g = _softmax_family("softmax_grad", x, cotangent, axis)

    def lane(z: list[mpf], gl: list[mpf]) -> list[mpf]:
        w, e, total = softmax_weights(z)
        return [
            w[i]
            / (total * total)
            * fsum(
                part
                for j in range(len(z))
                for part in weighted_difference(w[j], e[j], gl[i], w[j], e[j], gl[j])
            )
            for i in range(len(z))
        ]

    return lanewise(x, g, axis, lane)


@exact
@guarded
def log_softmax_grad(x: Any, cotangent: Any, *, axis: int = -1) -> Tensor:
    r""":math:`\partial \log s_i / \partial x_j = \delta_{ij} - s_j`, so the VJP is
    :math:`\bar g - s \sum_i \bar g_i` per lane.

    Evaluated as :math:`\sum_j (\bar g_i s_j - s_i \bar g_j)` (the same, as
    :math:`\sum_j s_j = 1`): :math:`\bar g_i - s_i \sum \bar g` cancels where :math:`s_i` is
    within the working precision of 1; each term :math:`\bar g_i w_j - w_i \bar g_j` (the weights
    :math:`w = W s`) is taken as :func:`weighted_difference` takes it."""
    x, g = _softmax_family("log_softmax_grad", x, cotangent, axis)

    def lane(z: list[mpf], gl: list[mpf]) -> list[mpf]:
        w, e, total = softmax_weights(z)
        return [
            fsum(
                part
                for j in range(len(z))
                for part in weighted_difference(w[j], e[j], gl[i], w[i], e[i], gl[j])
            )
            / total
            for i in range(len(z))
        ]

    return lanewise(x, g, axis, lane)
