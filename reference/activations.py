"""Activation functions, elementwise, and the softmax family along an axis.

Spec pages: ``spec/concepts/<id>.md``. mpmath has no overflow at float range, but its working precision is
finite: where a formula would cancel (``x - log(exp(x))`` for a tiny ``x``), the reference takes
the form that does not, so that every digit it returns is right.
"""

from __future__ import annotations

from typing import Any

import mpmath
from mpmath import fsum, mpf

from ._core import Tensor, along_axis, as_tensor, check_axis, check_tensor, exact


@exact
def relu(x: Any) -> Tensor:
    r"""Rectified linear unit :math:`\mathrm{ReLU}(x) = \max(0, x)`; ``relu(-0.0) == 0``."""
    x = as_tensor(x)
    check_tensor("relu", "x", x)
    return x.map(lambda v: max(mpf(0), v))


@exact
def sigmoid(x: Any) -> Tensor:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, in (0, 1); ``sigmoid(0) == 1/2``."""
    x = as_tensor(x)
    check_tensor("sigmoid", "x", x)
    return x.map(lambda v: 1 / (1 + mpmath.exp(-v)))


def _shifted(z: list[mpf]) -> list[mpf]:
    """``z_i - max(z)``, computed exactly: both are floats, so the difference has finitely many
    bits, and a rounded difference would make ``log_softmax`` of a tiny lone input non-zero."""
    top = max(z)
    return [mpmath.fsub(zi, top, exact=True) for zi in z]


def _softmax_lane(z: list[mpf]) -> list[mpf]:
    weights = [mpmath.exp(d) for d in _shifted(z)]
    total = fsum(weights)
    return [w / total for w in weights]


def _log_softmax_lane(z: list[mpf]) -> list[mpf]:
    shifted = _shifted(z)
    log_total = mpmath.log(fsum(mpmath.exp(d) for d in shifted))
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
    return along_axis(_log_softmax_lane, x, axis)
