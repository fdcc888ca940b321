"""Mutants of the information concepts (Information theory) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import information as info

from ._registry import mutant


@mutant("EntropyAlongTheLastAxis", "entropy", "axis ignored: always the last.")
def _entropy_along_the_last_axis(p, *, base=None, axis=-1):
    return info.entropy(p, base=base, axis=-1)


@mutant("KlDivergenceAlongTheLastAxis", "kl_divergence", "axis ignored: always the last.")
def _kl_divergence_along_the_last_axis(p, q, *, base=None, axis=-1):
    return info.kl_divergence(p, q, base=base, axis=-1)


@mutant("EntropyInBits", "entropy", "log base 2 where nats are asked for.")
def _entropy_in_bits(p, *, base=None, axis=-1):
    return info.entropy(p, base=2.0 if base is None else base, axis=axis)


@mutant("EntropyWithoutZeroGuard", "entropy", "p log p with 0 log 0 = NaN.")
def _entropy_without_zero_guard(p, *, base=None, axis=-1):
    with np.errstate(divide="ignore", invalid="ignore"):
        return info.in_base(-np.sum(p * np.log(p), axis=axis), base)


@mutant("CrossEntropySwapped", "cross_entropy", "H(Q, P) instead of H(P, Q).")
def _cross_entropy_swapped(p, q, *, base=None, axis=-1):
    return info.cross_entropy(q, p, base=base, axis=axis)


@mutant("KlReversed", "kl_divergence", "D(Q || P) instead of D(P || Q).")
def _kl_reversed(p, q, *, base=None, axis=-1):
    return info.kl_divergence(q, p, base=base, axis=axis)


@mutant(
    "EntropyGradWithoutOne",
    "entropy_grad",
    "-log p, not -(log p + 1): invisible along the simplex, not to the oracle.",
)
def _entropy_grad_without_one(p, cotangent, *, base=None, axis=-1):
    g = np.expand_dims(cotangent, axis % p.ndim)
    return info._in_base(-g * np.log(p), base)


@mutant(
    "CrossEntropyGradInNatsOnly", "cross_entropy_grad", "the change of base's 1/log b left out."
)
def _cross_entropy_grad_in_nats_only(p, q, cotangent, *, base=None, axis=-1):
    return info.cross_entropy_grad(p, q, cotangent, axis=axis)  # the 1/log b factor left out


@mutant("KlGradInP", "kl_divergence_grad", "differentiated in p instead of q.")
def _kl_grad_in_p(p, q, cotangent, *, base=None, axis=-1):
    g = np.expand_dims(cotangent, axis % p.ndim)
    return info._in_base(g * (np.log(p / q) + 1), base)
