"""Activation functions, elementwise, and the softmax family along an axis.

Spec pages: ``spec/concepts/<id>.md``. mpmath has no overflow at float range, but its working precision is
finite: where a formula would cancel (``x - log(exp(x))`` for a tiny ``x``), the reference takes
the form that does not, so that every digit it returns is right.
"""

from __future__ import annotations

from typing import Any, Final

import mpmath
from mpmath import fsum, mpf

from ._core import (
    Tensor,
    along_axis,
    as_tensor,
    check_axis,
    check_choice,
    check_tensor,
    elementwise,
    exact,
    require,
)


@exact
def relu(x: Any) -> Tensor:
    r"""Rectified linear unit :math:`\mathrm{ReLU}(x) = \max(0, x)`; ``relu(-0.0) == 0``."""
    return elementwise("relu", x, lambda v: max(mpf(0), v))


def _sigmoid(v: mpf) -> mpf:
    return 1 / (1 + mpmath.exp(-v))


@exact
def sigmoid(x: Any) -> Tensor:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, in (0, 1); ``sigmoid(0) == 1/2``."""
    return elementwise("sigmoid", x, _sigmoid)


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
    return elementwise("gelu", x, lambda v: v * _sigmoid(2 * scale * (v + cubic * v**3)))


@exact
def silu(x: Any) -> Tensor:
    r"""Sigmoid linear unit (swish) :math:`x \sigma(x)`; ``silu([0]) == [0]``."""
    return elementwise("silu", x, lambda v: v * _sigmoid(v))


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
