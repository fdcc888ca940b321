"""Information theory: entropy, cross entropy, Kullback-Leibler divergence.

Spec pages: ``spec/concepts/<id>.md``. Distributions lie
along ``axis`` (default the last), so a batch of distributions gives a batch of results.
"""

from __future__ import annotations

from collections.abc import Callable
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
    checked_cotangent,
    exact,
    log_base,
    reduce_axis,
    require,
    stored,
    xlogy,
)

KL_CLIPS = ("none", "clip_1e-7")
KL_GRADIENT_CLIPS = ("none", "clip_1e-7", "clip_1e-7_split_at_bounds")
KERAS_EPSILON = 1e-7
"""Keras' ``epsilon()``, a Python float; its KL divergence clips both arguments into
``[epsilon, 1]``, the bound as the inputs' dtype stores it."""


def _clipped(value: mpf, low: mpf | None) -> mpf:
    return value if low is None else min(max(value, low), mpf(1))


def _kl_clip(clip: str, input_dtype: str) -> mpf | None:
    """The lower bound of the ``"clip_1e-7"`` variant in the inputs' dtype, or None."""
    return stored(KERAS_EPSILON, input_dtype) if clip == "clip_1e-7" else None


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
def kl_divergence(
    p: Any,
    q: Any,
    *,
    base: float | None = None,
    axis: int = -1,
    clip: str = "none",
    input_dtype: str = "float64",
) -> Tensor | mpf:
    r"""Kullback-Leibler divergence :math:`D(P \| Q) = \sum_i p_i \log_b (p_i / q_i)`.

    Equals :math:`H(P, Q) - H(P)` and is :math:`\ge 0`, zero iff ``P = Q`` (Gibbs' inequality);
    :math:`+\infty` where some ``p_i > 0`` has ``q_i = 0``. ``kl_divergence([1, 0], [0.5, 0.5],
    base=2) == 1``.

    Variant ``clip``: ``"none"`` is the formula; ``"clip_1e-7"`` (Keras
    ``losses.kl_divergence``) first clips every :math:`p_i` and :math:`q_i` into
    :math:`[10^{-7}, 1]` (the bound as ``input_dtype`` stores it; the oracle passes it), so a
    zero :math:`p_i` adds :math:`10^{-7} \log(10^{-7} / q_i)` and a zero :math:`q_i` is finite.
    """
    require("kl_divergence", "clip", clip, clip in KL_CLIPS, f"one of {KL_CLIPS}")
    p, q = _two_distributions("kl_divergence", p, q, base, axis)
    low = _kl_clip(clip, input_dtype)

    def lane(p_lane: list[mpf], q_lane: list[mpf]) -> mpf:
        terms = (
            _kl_term(_clipped(a, low), _clipped(b, low))
            for a, b in zip(p_lane, q_lane, strict=True)
        )
        return fsum(terms) / log_base(base)

    return reduce_axis(lane, axis, p, q)


# ---------------------------------------------------------------- gradients


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
    g = checked_cotangent(concept, cotangent, lane_shape)
    scale = log_base(base)

    def term(pi: mpf, gi: mpf) -> mpf:
        # log p + 1 cancels near p = 1/e (up to 54 bits for a float64 p): 64 bits more for it
        with mpmath.extraprec(64):
            return -gi * (mpmath.log(pi) + 1) / scale

    return _broadcast_lanes(p, g, axis, term)


def _broadcast_lanes(
    x: Tensor, g: Tensor, axis: int, term: Callable[..., mpf], *others: Tensor
) -> Tensor:
    """``term(x_i, g_lane, *others_i)`` where ``g`` has one value per lane along ``axis``."""
    out: list[mpf] = list(x.values)
    for lane, gi in zip(x.lanes(axis), g.values, strict=True):
        for i in lane:
            out[i] = term(x.values[i], gi, *(o.values[i] for o in others))
    return Tensor(x.shape, tuple(out))


def _model_side(
    concept: str,
    p: Any,
    q: Any,
    cotangent: Any,
    base: float | None,
    axis: int,
    low: mpf | None = None,
    split: bool = False,
) -> Tensor:
    """``-p_i / (q_i log b)`` times the lane's cotangent; with a clip's lower bound ``low``, that
    of the clipped ``p`` and ``q``, and 0 where ``q_i`` lies below ``low`` (the clip is flat);
    ``split``: half of it where ``q_i`` is at a bound (``low`` or 1), as JAX's ``clip`` (``min``
    and ``max`` share a tie)."""
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
    g = checked_cotangent(concept, cotangent, lane_shape)
    scale = log_base(base)

    def term(qi: mpf, gi: mpf, pi: mpf) -> mpf:
        if low is not None and qi < low:
            return mpf(0)
        derivative = -gi * _clipped(pi, low) / (qi * scale)
        return derivative / 2 if split and low is not None and qi in (low, 1) else derivative

    return _broadcast_lanes(q, g, axis, term, p)


@exact
def cross_entropy_grad(
    p: Any, q: Any, cotangent: Any, *, base: float | None = None, axis: int = -1
) -> Tensor:
    r""":math:`\partial H(P, Q) / \partial q_i = -p_i / (q_i \log b)`, times the lane's cotangent;
    the domain is :math:`q > 0`."""
    return _model_side("cross_entropy_grad", p, q, cotangent, base, axis)


@exact
def kl_divergence_grad(
    p: Any,
    q: Any,
    cotangent: Any,
    *,
    base: float | None = None,
    axis: int = -1,
    clip: str = "none",
    input_dtype: str = "float64",
) -> Tensor:
    r""":math:`\partial D(P \| Q) / \partial q_i = -p_i / (q_i \log b)`: the same as the cross
    entropy's, since :math:`D = H(P, Q) - H(P)` and :math:`H(P)` does not depend on ``q``.
    ``clip="clip_1e-7"``: the derivative of Keras's clipped form (:func:`kl_divergence`), which
    passes at a bound (torch's ``clamp``); ``"clip_1e-7_split_at_bounds"``: half of it at a bound
    (JAX's ``clip``, whose ``min`` and ``max`` share the derivative of a tie)."""
    concept = "kl_divergence_grad"
    require(concept, "clip", clip, clip in KL_GRADIENT_CLIPS, f"one of {KL_GRADIENT_CLIPS}")
    low = _kl_clip("clip_1e-7" if clip != "none" else "none", input_dtype)
    split = clip == "clip_1e-7_split_at_bounds"
    return _model_side(concept, p, q, cotangent, base, axis, low, split)
