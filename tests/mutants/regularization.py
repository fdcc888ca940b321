"""Mutants of the regularization concepts (Regularization) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import regularization as reg

from ._registry import mutant


@mutant("L1WithoutAbs", "l1_penalty", "lambda sum(w): negative weights lower the penalty.")
def _l1_without_abs(weights, *, strength):
    return weights.dtype.type(strength) * np.sum(weights)


@mutant("L2FullScale", "l2_penalty", "lambda ||w||^2 while declaring the half convention.")
def _l2_full_scale(weights, *, strength):
    return weights.dtype.type(strength) * np.sum(weights * weights)  # Keras', declared "half"


@mutant("L2GradFullScale", "l2_penalty_grad", "2 lambda w while declaring the half scale.")
def _l2_grad_full_scale(weights, cotangent, *, strength):
    return 2 * reg.l2_penalty_grad(weights, cotangent, strength=strength)


@mutant("L1GradWithoutStrength", "l1_penalty_grad", "sign(w): the strength lambda left out.")
def _l1_grad_without_strength(weights, cotangent, *, strength):
    return cotangent * np.sign(weights)
