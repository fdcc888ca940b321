"""Normalization: feature scaling of a data set, and the batch and layer normalization layers.

Spec pages: ``spec/concepts/<id>.md``. Statistics are taken along ``axis`` (the scalers: over the
samples of each feature), and the variance that normalizes is the *biased* (population) one
unless ``ddof`` says otherwise.
"""

from __future__ import annotations

from typing import Any, Final

import mpmath
from mpmath import fsum, mpf

from ._core import (
    DomainError,
    Tensor,
    along_axis,
    as_tensor,
    check_axis,
    check_choice,
    check_ndim,
    check_tensor,
    checked_cotangent,
    exact,
    exact_product,
    exact_sum,
    lanewise,
    require,
    rows,
    scaled_deviations,
)

RUNNING_VARIANCES: Final = ("unbiased", "biased")
MOMENTUM_CONVENTIONS: Final = ("weights_batch", "weights_running")


def _mean(lane: list[mpf]) -> mpf:
    return fsum(lane) / len(lane)


def _variance(lane: list[mpf], ddof: int = 0) -> mpf:
    """``sum (x - mean)^2 / (n - ddof)`` from the exact scaled deviations ``n (x - mean)``: one
    rounding, however close to constant the lane is."""
    n = len(lane)
    squares = exact_sum(exact_product(c, c) for c in scaled_deviations(lane))
    return squares / (n * n * (n - ddof))


def _normalized(lane: list[mpf], variance: mpf, epsilon: mpf, mean: mpf | None = None) -> list[mpf]:
    """``(v - mean) / sqrt(variance + epsilon)``, the deviations exact (the lane's own mean, from
    :func:`scaled_deviations`, or a given one); a lane with nothing to divide by maps to 0."""
    denominator = mpmath.sqrt(variance + epsilon)
    if denominator == 0:
        return [mpf(0)] * len(lane)
    if mean is None:
        n = len(lane)
        return [c / (n * denominator) for c in scaled_deviations(lane)]
    return [mpmath.fsub(v, mean, exact=True) / denominator for v in lane]


@exact
def min_max_scale(
    x: Any, *, axis: int = 0, feature_min: float = 0.0, feature_max: float = 1.0
) -> Tensor:
    r"""Min-max scaling :math:`a + (b - a)(x - \min x) / (\max x - \min x)` of each lane along
    ``axis`` into ``[a, b] = [feature_min, feature_max]``; a constant lane (max = min) maps to
    ``a``, as scikit-learn's ``MinMaxScaler`` does. ``min_max_scale([[0], [5], [10]]) ==
    [[0], [0.5], [1]]``.

    Evaluated as :math:`(a(\max x - x) + b(x - \min x)) / (\max x - \min x)`, its numerator
    exact: where the result is near 0 (``a < 0 < b``), ``a + ...`` cancels.
    """
    concept = "min_max_scale"
    x = as_tensor(x)
    check_tensor(concept, "x", x, min_ndim=1)
    check_axis(concept, x, axis)
    require(concept, "feature_max", feature_max, feature_max > feature_min, "above feature_min")
    a, b = mpf(feature_min), mpf(feature_max)

    def lane(values: list[mpf]) -> list[mpf]:
        low, high = min(values), max(values)
        if high == low:
            return [a] * len(values)
        span = mpmath.fsub(high, low, exact=True)
        return [
            exact_sum(
                [
                    exact_product(a, mpmath.fsub(high, v, exact=True)),
                    exact_product(b, mpmath.fsub(v, low, exact=True)),
                ]
            )
            / span
            for v in values
        ]

    return along_axis(lane, x, axis)


@exact
def standardize(x: Any, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0) -> Tensor:
    r"""Standardization (z-score) :math:`(x - \mu) / \sqrt{\sigma^2 + \epsilon}` of each lane along
    ``axis``, with :math:`\sigma^2 = \sum (x - \mu)^2 / (n - \mathrm{ddof})`.

    A constant lane maps to 0 when ``epsilon == 0`` (scikit-learn's ``StandardScaler``; with
    ``epsilon > 0``, as ``jax.nn.standardize`` has by default, that is the formula's own value).
    ``standardize([[1], [3]]) == [[-1], [1]]``.
    """
    concept = "standardize"
    x = as_tensor(x)
    check_tensor(concept, "x", x, min_ndim=1)
    check_axis(concept, x, axis)
    require(concept, "epsilon", epsilon, epsilon >= 0, "non-negative")
    length = x.shape[axis]
    require(concept, "ddof", ddof, 0 <= ddof < length, f"in [0, {length}) for lanes of {length}")
    return along_axis(lambda lane: _normalized(lane, _variance(lane, ddof), mpf(epsilon)), x, axis)


def _affine(values: list[mpf], weight: mpf, bias: mpf) -> list[mpf]:
    return [v * weight + bias for v in values]


def _batch_norm_arguments(
    x: Any,
    running_mean: Any,
    running_variance: Any,
    weight: Any,
    bias: Any,
    training: bool,
    momentum: float,
    eps: float,
    running_var: str,
    momentum_convention: str,
) -> tuple[Tensor, dict[str, tuple[mpf, ...]]]:
    """``x`` and the per-channel statistics, checked against batch norm's domain."""
    concept = "batch_norm"
    check_choice(concept, "running_var", running_var, RUNNING_VARIANCES)
    check_choice(concept, "momentum_convention", momentum_convention, MOMENTUM_CONVENTIONS)
    require(concept, "momentum", momentum, 0 <= momentum <= 1, "in [0, 1]")
    require(concept, "eps", eps, eps > 0, "positive")
    x = as_tensor(x)
    check_tensor(concept, "x", x)
    check_ndim(concept, "x", x, 2)
    channels = x.shape[1]
    statistics: dict[str, tuple[mpf, ...]] = {}
    for name, value in (
        ("running_mean", running_mean),
        ("running_variance", running_variance),
        ("weight", weight),
        ("bias", bias),
    ):
        tensor = as_tensor(value)
        check_tensor(concept, name, tensor)
        if tensor.shape != (channels,):
            raise DomainError(concept, name, f"must have shape ({channels},), got {tensor.shape}")
        statistics[name] = tensor.values
    if training and running_var == "unbiased":
        require(
            concept,
            "x",
            f"shape {x.shape}",
            x.shape[0] >= 2,
            "at least 2 samples per channel in training",
        )
    if any(v < 0 for v in statistics["running_variance"]):
        raise DomainError(concept, "running_variance", "must be non-negative")
    return x, statistics


@exact
def batch_norm(
    x: Any,
    running_mean: Any,
    running_variance: Any,
    weight: Any,
    bias: Any,
    *,
    training: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
    running_var: str = "unbiased",
    momentum_convention: str = "weights_batch",
) -> Tensor:
    r"""Batch normalization (Ioffe and Szegedy 2015) of ``x`` with shape ``(N, C)``.

    Training: :math:`y = \gamma (x - \mu_B) / \sqrt{\sigma_B^2 + \epsilon} + \beta` with the batch
    mean and *biased* batch variance per channel, and the running statistics move towards the
    batch's: :math:`r \leftarrow (1 - m) r + m s` (``momentum_convention="weights_batch"``,
    PyTorch's ``momentum=0.1``) or :math:`r \leftarrow m r + (1 - m) s` (``"weights_running"``,
    Keras and Flax, ``momentum=0.99``). The running variance takes the *unbiased* batch variance
    :math:`\sigma_B^2 N / (N - 1)` (``running_var="unbiased"``, PyTorch) or the biased one
    (``"biased"``, Keras, Flax). Evaluation (``training=False``) normalizes with the running
    statistics and leaves them unchanged.

    Returns shape ``(N + 2, C)``: the ``N`` output rows, then the new running mean and variance.
    """
    x, statistics = _batch_norm_arguments(
        x,
        running_mean,
        running_variance,
        weight,
        bias,
        training,
        momentum,
        eps,
        running_var,
        momentum_convention,
    )
    n = x.shape[0]
    m = mpf(momentum)
    new_weight, old_weight = (m, 1 - m) if momentum_convention == "weights_batch" else (1 - m, m)
    columns = list(zip(*rows(x), strict=True))
    out_columns, new_means, new_variances = [], [], []
    for c, column in enumerate(columns):
        lane = list(column)
        mean, variance = statistics["running_mean"][c], statistics["running_variance"][c]
        if training:
            batch_mean, batch_variance = _mean(lane), _variance(lane)
            normalized = _normalized(lane, batch_variance, mpf(eps))  # exact deviations
            estimate = batch_variance * n / (n - 1) if running_var == "unbiased" else batch_variance
            mean = old_weight * mean + new_weight * batch_mean
            variance = old_weight * variance + new_weight * estimate
        else:
            normalized = _normalized(lane, variance, mpf(eps), mean)
        out_columns.append(_affine(normalized, statistics["weight"][c], statistics["bias"][c]))
        new_means.append(mean)
        new_variances.append(variance)
    out_rows = [list(row) for row in zip(*out_columns, strict=True)] + [new_means, new_variances]
    return Tensor((n + 2, x.shape[1]), tuple(v for row in out_rows for v in row))


@exact
def layer_norm(x: Any, weight: Any, bias: Any, *, eps: float = 1e-5) -> Tensor:
    r"""Layer normalization (Ba et al. 2016) over the last axis:
    :math:`y = \gamma (x - \mu) / \sqrt{\sigma^2 + \epsilon} + \beta`, biased variance, the same in
    training and evaluation; ``weight`` and ``bias`` have the last axis' length.
    """
    concept = "layer_norm"
    require(concept, "eps", eps, eps > 0, "positive")
    x, weight, bias = as_tensor(x), as_tensor(weight), as_tensor(bias)
    check_tensor(concept, "x", x, min_ndim=1)
    features = x.shape[-1]
    for name, tensor in (("weight", weight), ("bias", bias)):
        check_tensor(concept, name, tensor)
        if tensor.shape != (features,):
            raise DomainError(concept, name, f"must have shape ({features},), got {tensor.shape}")

    def lane(values: list[mpf]) -> list[mpf]:
        normalized = _normalized(values, _variance(values), mpf(eps))
        return [v * g + b for v, g, b in zip(normalized, weight.values, bias.values, strict=True)]

    return along_axis(lane, x, -1)


# ---------------------------------------------------------------- gradients


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
    g = checked_cotangent(concept, cotangent, x.shape)
    return lanewise(x, g, axis, lambda lane, gl: standardized_vjp(lane, gl, ddof, mpf(epsilon)))


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
    g = checked_cotangent(concept, cotangent, x.shape)
    width = x.shape[1]
    scaled = Tensor(  # exact: the VJP's differences of these must not cancel a rounding
        x.shape,
        tuple(exact_product(gi, weight.values[i % width]) for i, gi in enumerate(g.values)),
    )
    return lanewise(x, scaled, axis, lambda lane, gl: standardized_vjp(lane, gl, 0, mpf(eps)))


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
