"""Information theory: entropy, cross entropy, Kullback-Leibler divergence.

Spec pages: ``spec/concepts/<id>.md``. Distributions lie
along ``axis`` (default the last), so a batch of distributions gives a batch of results.
"""

from __future__ import annotations

from typing import Any

import mpmath
from mpmath import fsum, mpf

from ._core import (
    Tensor,
    as_tensor,
    check_axis,
    check_base,
    check_distributions,
    check_same_shape,
    check_tensor,
    exact,
    log_base,
    reduce_axis,
    xlogy,
)


@exact
def entropy(p: Any, *, base: float | None = None, axis: int = -1) -> Tensor | mpf:
    r"""Shannon entropy :math:`H(p) = -\sum_i p_i \log_b p_i`, with :math:`0 \log 0 = 0`.

    ``base=None`` measures in nats (natural log); ``base=2`` in bits. A fair coin has one bit:
    ``entropy([0.5, 0.5], base=2) == 1``; a 0.9/0.1 coin has about 0.469 bits.
    """
    p = as_tensor(p)
    check_tensor("entropy", "p", p, min_ndim=1)
    check_axis("entropy", p, axis)
    check_base("entropy", base)
    check_distributions("entropy", "p", p, axis)
    return reduce_axis(lambda lane: -fsum(xlogy(pi, pi) for pi in lane) / log_base(base), axis, p)


def _two_distributions(
    concept: str, p: Any, q: Any, base: float | None, axis: int
) -> tuple[Tensor, Tensor]:
    """``p`` and ``q`` as tensors of one shape whose lanes along ``axis`` are distributions."""
    p, q = as_tensor(p), as_tensor(q)
    check_tensor(concept, "p", p, min_ndim=1)
    check_tensor(concept, "q", q, min_ndim=1)
    check_same_shape(concept, ("p", p), ("q", q))
    check_axis(concept, p, axis)
    check_base(concept, base)
    check_distributions(concept, "p", p, axis)
    check_distributions(concept, "q", q, axis)
    return p, q


@exact
def cross_entropy(p: Any, q: Any, *, base: float | None = None, axis: int = -1) -> Tensor | mpf:
    r"""Cross entropy :math:`H(P, Q) = -\sum_i p_i \log_b q_i`, with :math:`0 \log q = 0`.

    ``p`` is the true distribution, ``q`` the predicted one. Where ``p_i > 0`` and ``q_i = 0`` the
    result is :math:`+\infty`. Gibbs' inequality: :math:`H(P, Q) \ge H(P)`, equal iff ``P = Q``.
    """
    p, q = _two_distributions("cross_entropy", p, q, base, axis)
    return reduce_axis(
        lambda p_lane, q_lane: -fsum(map(xlogy, p_lane, q_lane)) / log_base(base), axis, p, q
    )


def _kl_term(pi: mpf, qi: mpf) -> mpf:
    """``p log(p / q)``: 0 where ``p = 0``, ``+inf`` where only ``q = 0``.

    Where ``p / q`` lies in [1/2, 3/2], evaluated as ``p log1p((p - q) / q)`` with ``p - q``
    exact: ``log p - log q`` cancels where ``p`` is close to ``q`` (53 of the working precision's
    bits lost at ``p = 1/3``, ``q = 1/3 + 2**-54``), which the precision-doubling check found.
    Elsewhere ``log(p / q)`` of the once-rounded quotient, whose log is at least 0.4 in size."""
    if pi == 0:
        return mpf(0)
    if qi == 0:
        return mpf("inf")
    difference = mpmath.fsub(pi, qi, exact=True)
    if 2 * abs(difference) <= qi:
        return pi * mpmath.log1p(difference / qi)
    return pi * mpmath.log(pi / qi)


@exact
def kl_divergence(p: Any, q: Any, *, base: float | None = None, axis: int = -1) -> Tensor | mpf:
    r"""Kullback-Leibler divergence :math:`D(P \| Q) = \sum_i p_i \log_b (p_i / q_i)`.

    Equals :math:`H(P, Q) - H(P)` and is :math:`\ge 0`, zero iff ``P = Q`` (Gibbs' inequality);
    :math:`+\infty` where some ``p_i > 0`` has ``q_i = 0``. ``kl_divergence([1, 0], [0.5, 0.5],
    base=2) == 1``.
    """
    p, q = _two_distributions("kl_divergence", p, q, base, axis)
    return reduce_axis(
        lambda p_lane, q_lane: fsum(map(_kl_term, p_lane, q_lane)) / log_base(base), axis, p, q
    )
