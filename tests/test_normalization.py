"""Feature scaling and normalization layers (spec/concepts/<id>.md)."""

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlspec import strategies as dst
from dlspec.checks import (
    check_close,
    check_oracle,
    check_relation,
    declared_convention,
    input_text,
    needs_concepts,
    run_backend,
    run_with_allowance,
)
from dlspec.numerics import float_format
from dlspec.plugin import each_concept

MATRICES = dst.float_arrays(
    min_value=-1e3, max_value=1e3, shape=dst.shapes(min_dims=1, max_dims=2), min_magnitude=1e-6
)
"""Values of at least 1e-6 in magnitude: squared deviations of subnormal inputs underflow in
float32 (spec/concepts/standardize.md, "Domain")."""
RANGES = st.sampled_from([(0.0, 1.0), (-1.0, 1.0), (0.0, 255.0)])
SCALING_EDGES = {
    "constant feature": [[1.5, 0.1], [1.5, 0.2], [1.5, 0.3]],
    "one sample": [[3.0, -2.0]],
    "large and tiny": [[1e15, 1e-15], [-1e15, -1e-15], [0.0, 0.0]],
    "1000 samples": np.linspace(-7.0, 7.0, 2000).reshape(1000, 2),
}


def _affine_dyadic(draw_data, x, dtype, *, scale=True):
    """``(x, x * 2^k + c, text)`` for small k and integer c, with a dyadic x (|x| <= 64) on the
    grid where both are exact in ``dtype``: every value of ``x * 2^k + c`` below 2^10 (2^7 with
    no scaling) keeps ``p - 10`` (``p - 7``) fraction bits of the dtype's ``p`` significand bits,
    multiples of 4 in bfloat16, float32's 3 unchanged. (A layer's eps breaks invariance under
    scaling: those properties shift only.)"""
    grid = 2.0 ** (float_format(dtype).significand_bits - (10 if scale else 7))
    x = (np.round(x * grid) / grid).astype(dtype)
    power = draw_data.draw(st.integers(-3, 3), label="power") if scale else 0
    shift = draw_data.draw(st.integers(-16, 16), label="shift")
    moved = x * np.asarray(2.0**power, dtype=dtype) + np.asarray(shift, dtype=dtype)
    return x, moved, f"x * 2^{power} + {shift}"


# ---------------------------------------------------------------- min_max_scale


@pytest.mark.concept("min_max_scale")
@given(x=MATRICES, feature_range=RANGES, data=st.data())
@example(x=np.array([[0.0], [5.0], [10.0]]), feature_range=(0.0, 1.0), data=None)
# found by `make report` (thorough): a + (b - a)(x - min)/R cancels to -4.5e-16 near the range's
# middle; the reference's precision-doubling check failed there until the numerator was exact
@example(x=np.array([0.0, 500.0, 249.9999999999999]), feature_range=(-1.0, 1.0), data=None)
def test_min_max_scale_matches_reference(backend, dtype, x, feature_range, data):
    axis = 0 if data is None else data.draw(dst.axes_for(x), label="axis")
    a, b = feature_range
    check_oracle("min_max_scale", backend, x.astype(dtype), axis=axis, feature_min=a, feature_max=b)


@pytest.mark.concept("min_max_scale")
@pytest.mark.parametrize("edge", SCALING_EDGES)
def test_min_max_scale_edge_inputs(backend, dtype, edge):
    x = np.asarray(SCALING_EDGES[edge], dtype=dtype)
    check_oracle("min_max_scale", backend, x, kind="edge", axis=0)


@pytest.mark.concept("min_max_scale")
@given(x=MATRICES, feature_range=RANGES)
def test_min_max_scale_maps_the_extremes_to_the_range(backend, dtype, x, feature_range):
    x = x.astype(dtype)
    a, b = feature_range
    out = run_backend("min_max_scale", backend, x, axis=0, feature_min=a, feature_max=b)
    text = input_text("min_max_scale", x, axis=0, feature_min=a, feature_max=b)
    low, high = x == x.min(axis=0), x == x.max(axis=0)
    constant = (x.max(axis=0) == x.min(axis=0))[None, :] if x.ndim == 2 else x.max() == x.min()
    check_relation(
        "min_max_scale",
        backend,
        dtype,
        f"each feature's min maps to {a}, its max to {b} (constant: {a})",
        np.where(low | constant, out == a, np.where(high, out == b, True)),
        actual=out,
        expected=f"{a} at the minima, {b} at the maxima",
        inputs=text,
    )
    check_relation(
        "min_max_scale",
        backend,
        dtype,
        f"values lie in [{a}, {b}]",
        (out >= a) & (out <= b),
        actual=out,
        expected=f"[{a}, {b}]",
        inputs=text,
    )


@each_concept("min_max_scale", "standardize")
@given(x=dst.dyadic_arrays(bound=64, shape=dst.shapes(min_dims=2, max_dims=2)), data=st.data())
def test_scalers_ignore_positive_affine_maps(backend, dtype, concept_id, x, data):
    x, moved, how = _affine_dyadic(data, x, dtype)
    plain, allowed = run_with_allowance(concept_id, backend, x, axis=0)
    shifted, allowed_s = run_with_allowance(concept_id, backend, moved, axis=0)
    check_close(
        concept_id,
        backend,
        dtype,
        f"{concept_id}({how}) == {concept_id}(x)",
        shifted,
        plain,
        allowed + allowed_s,
        inputs=input_text(concept_id, x, axis=0) | input_text(concept_id, moved, axis=0),
    )


# ---------------------------------------------------------------- standardize


@pytest.mark.concept("standardize")
@given(
    x=MATRICES, ddof=st.sampled_from([0, 1]), epsilon=st.sampled_from([0.0, 1e-5]), data=st.data()
)
@example(x=np.array([[1.0], [3.0]]), ddof=0, epsilon=0.0, data=None)  # [[-1], [1]]
def test_standardize_matches_reference(backend, dtype, x, ddof, epsilon, data):
    axis = 0 if data is None else data.draw(dst.axes_for(x), label="axis")
    assume(x.shape[axis] > ddof)
    check_oracle("standardize", backend, x.astype(dtype), axis=axis, ddof=ddof, epsilon=epsilon)


@pytest.mark.concept("standardize")
@given(lanes=dst.three_d_lanes(st.floats(-100.0, 100.0)), ddof=st.sampled_from([0, 1]))
def test_standardize_along_any_axis_of_a_3d_input(backend, dtype, lanes, ddof):
    """Each lane along ``axis`` of a 3-D input whose sides all differ is standardized by its own
    statistics: statistics taken along another axis, or over all, fail."""
    x, axis = lanes
    check_oracle("standardize", backend, x.astype(dtype), axis=axis, ddof=ddof, epsilon=1e-5)


def _tiny_range() -> np.ndarray:
    """Seed 4 (ci): a lane whose range, 5.3e-247, has a square that underflows float64."""
    x = np.full((2, 3, 5), 5.3249728962030956e-247)
    x[1, 1, :2] = [1.1125369292536007e-308, 0.0]
    return x


@pytest.mark.concept("min_max_scale")
@given(lanes=dst.three_d_lanes(st.floats(-100.0, 100.0)))
@example(lanes=(_tiny_range(), -1))
def test_min_max_scale_along_any_axis_of_a_3d_input(backend, dtype, lanes):
    x, axis = lanes
    check_oracle("min_max_scale", backend, x.astype(dtype), axis=axis)


@pytest.mark.concept("standardize")
@pytest.mark.parametrize("edge", SCALING_EDGES)
@pytest.mark.parametrize("epsilon", [0.0, 1e-5])
def test_standardize_edge_inputs(backend, dtype, edge, epsilon):
    x = np.asarray(SCALING_EDGES[edge], dtype=dtype)
    check_oracle("standardize", backend, x, kind="edge", axis=0, ddof=0, epsilon=epsilon)


@pytest.mark.concept("standardize")
@given(
    x=dst.float_arrays(min_value=-100.0, max_value=100.0, shape=dst.shapes(min_dims=2, max_dims=2))
)
def test_standardized_features_have_mean_0_and_variance_1(backend, dtype, x):
    x = np.concatenate([x, x[:1] + 1.0]).astype(dtype)  # every feature spreads by >= 1
    z, allowed = run_with_allowance("standardize", backend, x, axis=0)
    z64, n = z.astype(np.float64), x.shape[0]
    text = input_text("standardize", x, axis=0)
    check_close(
        "standardize",
        backend,
        dtype,
        "mean of each feature == 0",
        z64.mean(axis=0),
        np.zeros(x.shape[1]),
        allowed.mean(axis=0),
        inputs=text,
    )
    check_close(
        "standardize",
        backend,
        dtype,
        "biased variance of each feature == 1",
        (z64 * z64).mean(axis=0),
        np.ones(x.shape[1]),
        (2 * np.abs(z64) * allowed + allowed**2).mean(axis=0) + n * np.finfo(np.float64).eps,
        inputs=text,
    )


# ---------------------------------------------------------------- batch_norm, layer_norm


@st.composite
def batches(draw, min_rows=2):
    n, c = draw(st.integers(min_rows, 12)), draw(st.integers(1, 6))
    values = st.floats(-100.0, 100.0)
    x = draw(hnp.arrays(np.float64, (n, c), elements=values))
    mean = draw(hnp.arrays(np.float64, (c,), elements=st.floats(-5.0, 5.0)))
    var = draw(hnp.arrays(np.float64, (c,), elements=st.floats(0.0, 10.0)))
    weight = draw(hnp.arrays(np.float64, (c,), elements=st.floats(-3.0, 3.0)))
    bias = draw(hnp.arrays(np.float64, (c,), elements=st.floats(-3.0, 3.0)))
    return x, mean, var, weight, bias


def _cast_all(arrays, dtype):
    return [a.astype(dtype) for a in arrays]


@pytest.mark.concept("batch_norm")
@given(batch=batches(), training=st.booleans(), momentum=st.sampled_from([0.1, 0.99, 0.0, 1.0]))
def test_batch_norm_matches_reference(backend, dtype, batch, training, momentum):
    check_oracle(
        "batch_norm", backend, *_cast_all(batch, dtype), training=training, momentum=momentum
    )


BATCH_EDGES = {
    "constant channel": ([[2.0, 1.0], [2.0, 3.0]], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [0.0, 0.0]),
    "two samples": ([[1.0], [-1.0]], [5.0], [4.0], [2.0], [1.0]),
    "large values": (
        [[1e10, 1.0], [-1e10, 2.0], [3e9, 3.0]],
        [0.0] * 2,
        [1.0] * 2,
        [1.0] * 2,
        [0.0] * 2,
    ),
}


@pytest.mark.concept("batch_norm")
@pytest.mark.parametrize("edge", BATCH_EDGES)
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_edge_inputs(backend, dtype, edge, training):
    arrays = [np.asarray(a, dtype=dtype) for a in BATCH_EDGES[edge]]
    check_oracle("batch_norm", backend, *arrays, kind="edge", training=training)


@pytest.mark.concept("batch_norm")
@given(batch=batches())
def test_batch_norm_in_training_is_standardize_scaled_and_shifted(backend, dtype, batch):
    needs_concepts(backend, "standardize")
    x, mean, var, weight, bias = _cast_all(batch, dtype)
    out, allowed = run_with_allowance("batch_norm", backend, x, mean, var, weight, bias)
    z, allowed_z = run_with_allowance("standardize", backend, x, axis=0, epsilon=1e-5)
    n = x.shape[0]
    check_close(
        "batch_norm",
        backend,
        dtype,
        "batch_norm(x) == weight * standardize(x, eps) + bias",
        out[:n],
        weight.astype(np.float64) * z + bias,
        allowed[:n]
        + np.abs(weight) * allowed_z
        + np.finfo(np.float64).eps * (np.abs(weight * z) + np.abs(bias)),
        # the relation holds by the input of both sides: standardize's departs where a backend's
        # variance cancels (JAX's jax.nn.standardize), batch norm's where its layer's does
        # (Keras's BatchNormalization on torch); a divergence of either explains it
        inputs=input_text("standardize", x, axis=0, epsilon=1e-5)
        | input_text("batch_norm", x, mean, var, weight, bias),
    )


@pytest.mark.concept("batch_norm")
@given(batch=batches(), momentum=st.sampled_from([0.1, 0.5, 0.99]))
def test_batch_norm_running_statistics_move_towards_the_batch(backend, dtype, batch, momentum):
    """The new running mean is the declared convex combination of the old one and the batch
    mean; evaluation mode leaves the running statistics exactly as they were."""
    x, mean, var, weight, bias = _cast_all(batch, dtype)
    out, allowed = run_with_allowance(
        "batch_norm", backend, x, mean, var, weight, bias, momentum=momentum
    )
    rule = declared_convention("batch_norm", backend, "momentum_convention")
    new = momentum if rule == "weights_batch" else 1 - momentum
    n = x.shape[0]
    batch_mean = x.astype(np.float64).mean(axis=0)
    text = input_text("batch_norm", x, mean, var, weight, bias, momentum=momentum)
    check_close(
        "batch_norm",
        backend,
        dtype,
        f"running_mean <- (1 - {new:g}) running_mean + {new:g} batch_mean ({rule})",
        out[n],
        (1 - new) * mean.astype(np.float64) + new * batch_mean,
        allowed[n],
        inputs=text,
    )
    frozen = run_backend(
        "batch_norm", backend, x, mean, var, weight, bias, training=False, momentum=momentum
    )
    check_relation(
        "batch_norm",
        backend,
        dtype,
        "evaluation mode leaves the running statistics unchanged",
        (frozen[n] == mean) & (frozen[n + 1] == var),
        actual=frozen[n:],
        expected=np.stack([mean, var]),
        inputs=text,
    )


@st.composite
def layers(draw):
    shape = draw(dst.shapes(min_dims=1, max_dims=3, max_side=8))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(-100.0, 100.0)))
    weight = draw(hnp.arrays(np.float64, shape[-1:], elements=st.floats(-3.0, 3.0)))
    bias = draw(hnp.arrays(np.float64, shape[-1:], elements=st.floats(-3.0, 3.0)))
    return x, weight, bias


@pytest.mark.concept("layer_norm")
@given(layer=layers(), eps=st.sampled_from([1e-5, 1e-6, 1e-3]))
def test_layer_norm_matches_reference(backend, dtype, layer, eps):
    check_oracle("layer_norm", backend, *_cast_all(layer, dtype), eps=eps)


@pytest.mark.concept("layer_norm")
@pytest.mark.parametrize("edge", ["constant row", "one feature", "1024 features"])
def test_layer_norm_edge_inputs(backend, dtype, edge):
    x = {
        "constant row": [[3.0, 3.0, 3.0], [1.0, 2.0, 3.0]],
        "one feature": [[5.0], [-1.0]],
        "1024 features": np.linspace(-9.0, 9.0, 1024)[None, :],
    }[edge]
    x = np.asarray(x, dtype=dtype)
    ones, zeros = np.ones(x.shape[-1], dtype=dtype), np.zeros(x.shape[-1], dtype=dtype)
    check_oracle("layer_norm", backend, x, ones, zeros, kind="edge", eps=1e-5)


@pytest.mark.concept("layer_norm")
@given(layer=layers())
def test_layer_norm_is_standardize_along_the_last_axis(backend, dtype, layer):
    needs_concepts(backend, "standardize")
    x, weight, bias = _cast_all(layer, dtype)
    out, allowed = run_with_allowance("layer_norm", backend, x, weight, bias)
    z, allowed_z = run_with_allowance("standardize", backend, x, axis=-1, epsilon=1e-5)
    check_close(
        "layer_norm",
        backend,
        dtype,
        "layer_norm(x) == weight * standardize(x, axis=-1, eps) + bias",
        out,
        weight.astype(np.float64) * z + bias,
        allowed
        + np.abs(weight) * allowed_z
        + np.finfo(np.float64).eps * (np.abs(weight * z) + np.abs(bias)),
        inputs=input_text("layer_norm", x, weight, bias),
    )


@pytest.mark.concept("layer_norm")
@given(x=dst.dyadic_arrays(bound=64, shape=dst.shapes(min_dims=2, max_dims=2)), data=st.data())
def test_layer_norm_ignores_shifts_of_a_row(backend, dtype, x, data):
    x, moved, how = _affine_dyadic(data, x, dtype, scale=False)
    ones, zeros = np.ones(x.shape[-1], dtype=dtype), np.zeros(x.shape[-1], dtype=dtype)
    plain, allowed = run_with_allowance("layer_norm", backend, x, ones, zeros)
    shifted, allowed_s = run_with_allowance("layer_norm", backend, moved, ones, zeros)
    check_close(
        "layer_norm",
        backend,
        dtype,
        f"layer_norm({how}) == layer_norm(x)",
        shifted,
        plain,
        allowed + allowed_s,
        inputs=input_text("layer_norm", x, ones, zeros),
    )
