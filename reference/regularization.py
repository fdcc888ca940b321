"""Regularization penalties on the weights, and their gradients.

Spec pages: ``spec/concepts/<id>.md``. A penalty is added to the training loss; its gradient is
what an optimizer's ``weight_decay`` adds to each parameter's gradient when the two coincide.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from mpmath import fsum, mpf

from ._core import (
    AT_ZERO,
    Tensor,
    as_tensor,
    check_choice,
    check_tensor,
    checked_cotangent,
    exact,
    kinked_sign,
    require,
)

L2_SCALES: Final = ("half", "full")


def checked_weights(concept: str, weights: Any, strength: float) -> Tensor:
    """A penalty's checked weights, and its strength checked non-negative."""
    weights = as_tensor(weights)
    check_tensor(concept, "weights", weights)
    require(concept, "strength", strength, strength >= 0, "non-negative")
    return weights


@exact
def l1_penalty(weights: Any, *, strength: float) -> mpf:
    r"""Lasso penalty :math:`\lambda \sum_i |w_i|` (Keras ``regularizers.L1(l1=λ)``).

    Its gradient is :math:`\lambda\,\mathrm{sign}(w)`, with a subgradient at 0 that frameworks
    choose differently (``l1_penalty_grad``). ``l1_penalty([1, -2], strength=0.5) == 1.5``.
    """
    weights = checked_weights("l1_penalty", weights, strength)
    return mpf(strength) * fsum(abs(w) for w in weights.values)


@exact
def l2_penalty(weights: Any, *, strength: float, scale: str = "half") -> mpf:
    r"""Ridge penalty on the squared norm, in one of two conventions (variant ``scale``):

    - ``"half"``: :math:`\tfrac12 \lambda \|w\|^2`, gradient :math:`\lambda w`: what PyTorch's
      ``weight_decay=λ`` adds to the gradient of SGD and Adam.
    - ``"full"``: :math:`\lambda \|w\|^2`, gradient :math:`2 \lambda w`: Keras
      ``regularizers.L2(l2=λ)``.

    ``l2_penalty([3, 4], strength=1) == 12.5``; ``scale="full"`` gives 25.
    """
    weights = checked_weights("l2_penalty", weights, strength)
    check_choice("l2_penalty", "scale", scale, L2_SCALES)
    factor = mpf(strength) / 2 if scale == "half" else mpf(strength)
    return factor * fsum(w * w for w in weights.values)


# ---------------------------------------------------------------- gradients


def _penalty_grad(
    concept: str, weights: Any, cotangent: Any, strength: float, derivative: Callable[[mpf], mpf]
) -> Tensor:
    weights = checked_weights(concept, weights, strength)
    (g,) = checked_cotangent(concept, cotangent, ()).values
    return weights.map(lambda w: g * mpf(strength) * derivative(w))


@exact
def l1_penalty_grad(
    weights: Any, cotangent: Any, *, strength: float, at_zero: str = "zero"
) -> Tensor:
    r""":math:`\lambda\,\mathrm{sign}(w)`; at :math:`w = 0` ``at_zero``: 0 (PyTorch, NumPy) or
    1 (JAX's abs)."""
    check_choice("l1_penalty_grad", "at_zero", at_zero, AT_ZERO)
    return _penalty_grad(
        "l1_penalty_grad", weights, cotangent, strength, lambda w: kinked_sign(w, at_zero)
    )


@exact
def l2_penalty_grad(
    weights: Any, cotangent: Any, *, strength: float, scale: str = "half"
) -> Tensor:
    r""":math:`\lambda w` (``scale="half"``) or :math:`2 \lambda w` (``"full"``)."""
    check_choice("l2_penalty_grad", "scale", scale, ("half", "full"))
    factor = mpf(1) if scale == "half" else mpf(2)
    return _penalty_grad("l2_penalty_grad", weights, cotangent, strength, lambda w: factor * w)
