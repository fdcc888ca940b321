"""Optimizers as k-step trajectories (spec/concepts/<id>.md)."""

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlspec import reference
from dlspec import strategies as dst
from dlspec.checks import (
    as_read_by,
    check_close,
    check_oracle,
    check_relation,
    declared_convention,
    input_text,
    needs_concepts,
    optimizer_state,
    run_backend,
    run_with_allowance,
)
from dlspec.numerics import FORMATS
from dlspec.plugin import each_concept

RATES = st.sampled_from([0.1, 0.01, 0.5, 1.0, 1e-3])
DECAYS = st.sampled_from([0.0, 0.01, 0.1])


@st.composite
def trajectories(draw, max_steps=8, max_params=8, low=-10.0, high=10.0):
    """Initial parameters (d,) and a gradient sequence (k, d)."""
    d = draw(st.integers(1, max_params))
    k = draw(st.integers(1, max_steps))
    values = st.floats(low, high, allow_nan=False, allow_infinity=False)
    params = draw(hnp.arrays(np.float64, (d,), elements=st.floats(-10.0, 10.0)))
    return params, draw(hnp.arrays(np.float64, (k, d), elements=values))


@st.composite
def sgd_settings(draw):
    momentum = draw(st.sampled_from([0.0, 0.9, 0.5]))
    nesterov = momentum > 0 and draw(st.booleans())
    dampening = 0.0 if nesterov else draw(st.sampled_from([0.0, 0.1, 0.5]))
    return {
        "lr": draw(RATES),
        "momentum": momentum,
        "dampening": dampening,
        "nesterov": nesterov,
        "weight_decay": draw(DECAYS),
    }


@st.composite
def adam_settings(draw, decay=DECAYS):
    return {
        "lr": draw(RATES),
        "beta1": draw(st.sampled_from([0.9, 0.0, 0.5])),
        "beta2": draw(st.sampled_from([0.999, 0.9, 0.99])),
        "eps": draw(st.sampled_from([1e-8, 1e-3, 1e-7])),
        "weight_decay": draw(decay),
        "amsgrad": draw(st.booleans()),
    }


def _cast(pair, dtype):
    return tuple(a.astype(dtype) for a in pair)


TRAJECTORY_EDGES = {
    "zero gradients": (np.array([1.0, -2.0, 0.0]), np.zeros((4, 3))),
    # 1e15, not more: Adam squares gradients, and float32 overflows above 1.8e19 squared.
    "huge gradients": (np.array([1.0, -1.0]), np.array([[1e15, -1e15], [1e15, 1e15]])),
    "tiny gradients": (np.array([1.0, -1.0]), np.array([[1e-30, -1e-30], [1e-30, 1e-30]])),
    "one step, one parameter": (np.array([0.5]), np.array([[2.0]])),
    "sign flips": (np.array([0.0, 0.0]), np.array([[1.0, -1.0], [-1.0, 1.0]] * 5)),
    # float16 squares of 256 and more are infinite (optax squares g before scaling it)
    "squares past float16's range": (
        np.array([1.0, -1.0]),
        np.array([[300.0, 1.0], [1.0, -300.0]]),
    ),
    "1000 parameters": (
        np.linspace(-1.0, 1.0, 1000),
        np.linspace(-3.0, 3.0, 3000).reshape(3, 1000),
    ),
}


# ---------------------------------------------------------------- sgd


@pytest.mark.concept("sgd")
@given(problem=trajectories(), settings=sgd_settings())
@example(
    problem=(np.array([1.0, 2.0]), np.array([[1.0, 1.0], [1.0, 1.0]])),
    settings={"lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
)
def test_sgd_matches_reference(backend, dtype, problem, settings):
    check_oracle("sgd", backend, *_cast(problem, dtype), **settings)


@pytest.mark.concept("sgd")
@given(problem=trajectories(), settings=sgd_settings())
@example(
    problem=(np.array([1.0]), np.array([[1.0], [1.0], [1.0]])),
    settings={"lr": 0.1, "momentum": 0.9, "dampening": 0.5, "nesterov": False, "weight_decay": 0.0},
)
def test_sgd_first_step_is_the_plain_gradient_step_under_its_buffer_rule(
    backend, dtype, problem, settings
):
    """Whatever the momentum, step 1 moves by lr (g + wd theta) when the buffer starts as the
    gradient; with a dampened first buffer it moves by lr (1 - dampening) (...) (without Nesterov)."""
    params, gradients = _cast(problem, dtype)
    out, allowed = run_with_allowance("sgd", backend, params, gradients, **settings)
    rule = declared_convention("sgd", backend, "first_step_buffer")
    g = gradients[0].astype(np.float64) + settings["weight_decay"] * params
    factor = 1.0
    if settings["momentum"] and rule == "dampened":
        factor = (1 - settings["dampening"]) * (
            1 + settings["momentum"] if settings["nesterov"] else 1
        )
    elif settings["momentum"] and settings["nesterov"]:
        factor = 1 + settings["momentum"]
    expected = params - settings["lr"] * factor * g
    check_close(
        "sgd",
        backend,
        dtype,
        f"theta_1 == theta_0 - lr * {factor:g} * (g_1 + wd theta_0) ({rule} buffer)",
        out[0],
        expected,
        allowed[0] + 4 * np.finfo(np.float64).eps * np.abs(settings["lr"] * factor * g),
        inputs=input_text("sgd", params, gradients, **settings),
    )


@pytest.mark.concept("sgd")
@given(problem=trajectories(), lr=RATES)
def test_plain_sgd_is_the_cumulative_sum_of_its_steps(backend, dtype, problem, lr):
    params, gradients = _cast(problem, dtype)
    out, allowed = run_with_allowance("sgd", backend, params, gradients, lr=lr)
    expected = params.astype(np.float64) - lr * np.cumsum(gradients.astype(np.float64), axis=0)
    check_close(
        "sgd",
        backend,
        dtype,
        "theta_t == theta_0 - lr * sum_{j<=t} g_j",
        out,
        expected,
        allowed,
        inputs=input_text("sgd", params, gradients, lr=lr),
    )


@pytest.mark.concept("sgd")
@given(problem=trajectories(), lr=RATES, decay=st.sampled_from([0.01, 0.1, 0.5]))
def test_weight_decay_is_the_gradient_of_half_lambda_norm_squared(
    backend, dtype, problem, lr, decay
):
    """SGD's coupled weight_decay=lambda on a zero loss gradient takes the step of the penalty
    (lambda/2)||w||^2, whose gradient is lambda w (the l2_penalty "half" convention)."""
    params = problem[0].astype(dtype)
    zeros = np.zeros((1, params.size), dtype=dtype)
    out, allowed = run_with_allowance("sgd", backend, params, zeros, lr=lr, weight_decay=decay)
    gradient = reference.l2_penalty_grad(params.tolist(), 1, strength=decay, scale="half")
    expected = params - lr * np.array([float(g) for g in gradient.values])
    check_close(
        "sgd",
        backend,
        dtype,
        "sgd(theta, 0, weight_decay=l) == theta - lr grad((l/2)||theta||^2)",
        out[0],
        expected,
        allowed[0],
        inputs=input_text("sgd", params, zeros, lr=lr, weight_decay=decay),
    )


@each_concept("sgd", "adam", "adamw", "frozen_parameters")
@pytest.mark.parametrize("edge", TRAJECTORY_EDGES)
def test_optimizer_edge_inputs(backend, dtype, concept_id, edge):
    params, gradients = (np.asarray(a, dtype=dtype) for a in TRAJECTORY_EDGES[edge])
    settings = {
        "sgd": {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01},
        "adam": {"lr": 0.01},
        "adamw": {"lr": 0.01},
        "frozen_parameters": {
            "lr": 0.1,
            "momentum": 0.9,
            "weight_decay": 0.1,
            "frozen": tuple(i % 2 == 0 for i in range(params.size)),
        },
    }[concept_id]
    check_oracle(concept_id, backend, params, gradients, kind="edge", **settings)


# ---------------------------------------------------------------- adam, adamw


@pytest.mark.concept("adam")
@given(problem=trajectories(), settings=adam_settings())
@example(
    problem=(np.array([1.0]), np.array([[1.0], [1.0]])),
    settings={
        "lr": 0.1,
        "beta1": 0.9,
        "beta2": 0.999,
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
    },
)
def test_adam_matches_reference(backend, dtype, problem, settings):
    check_oracle("adam", backend, *_cast(problem, dtype), **settings)


@pytest.mark.concept("adamw")
@given(problem=trajectories(), settings=adam_settings(decay=st.sampled_from([0.0, 0.01, 0.1])))
def test_adamw_matches_reference(backend, dtype, problem, settings):
    check_oracle("adamw", backend, *_cast(problem, dtype), **settings)


@each_concept("adam", "adamw")
@given(problem=trajectories(low=0.5, high=8.0), power=st.integers(-6, 6), data=st.data())
def test_adam_without_eps_is_invariant_to_gradient_scale(
    backend, dtype, concept_id, problem, power, data
):
    """With eps = 0, m_hat / sqrt(v_hat) does not change when every gradient is multiplied by 2^k
    (exactly, in floating point too); gradients are kept away from 0 so that v > 0."""
    params, gradients = _cast(problem, dtype)
    signs = data.draw(
        hnp.arrays(np.float64, gradients.shape, elements=st.sampled_from([-1.0, 1.0])),
        label="signs",
    )
    gradients = gradients * signs.astype(dtype)
    settings = {
        "lr": 0.01,
        "eps": 0.0,
        "weight_decay": 0.0,
        "amsgrad": data.draw(st.booleans(), label="amsgrad"),
    }
    plain, allowed = run_with_allowance(concept_id, backend, params, gradients, **settings)
    scaled_gradients = gradients * np.asarray(2.0**power, dtype=dtype)
    # squares that overflow the dtype (float16 past 256) are the oracle's: a written-up hazard
    assume(np.max(np.square(scaled_gradients.astype(np.float64))) <= FORMATS[dtype].largest)
    scaled, allowed_scaled = run_with_allowance(
        concept_id, backend, params, scaled_gradients, **settings
    )
    check_close(
        concept_id,
        backend,
        dtype,
        f"{concept_id}(theta, 2^{power} g; eps=0) == {concept_id}(theta, g; eps=0)",
        scaled,
        plain,
        allowed + allowed_scaled,
        inputs=input_text(concept_id, params, gradients, **settings),
    )


@each_concept("adam", "adamw")
@given(problem=trajectories(max_steps=1), settings=adam_settings(decay=st.just(0.0)))
def test_adam_first_step_is_at_most_lr(backend, dtype, concept_id, problem, settings):
    """Bias correction makes the first update lr * g / (|g| + eps'): never longer than lr."""
    params, gradients = _cast(problem, dtype)
    out, allowed = run_with_allowance(concept_id, backend, params, gradients, **settings)
    step = np.abs(out[0].astype(np.float64) - params)
    check_relation(
        concept_id,
        backend,
        dtype,
        "|theta_1 - theta_0| <= lr",
        step <= settings["lr"] + allowed[0],
        actual=step,
        expected=settings["lr"],
        inputs=input_text(concept_id, params, gradients, **settings),
    )


@pytest.mark.concept("adam")
@given(problem=trajectories(), settings=adam_settings(decay=st.just(0.0)))
def test_amsgrad_changes_nothing_while_the_second_moment_grows(backend, dtype, problem, settings):
    """A repeated gradient makes v grow every step, so its running maximum is v itself."""
    params, gradients = _cast(problem, dtype)
    repeated = np.repeat(gradients[:1], len(gradients), axis=0)
    settings = {**settings, "amsgrad": False}
    plain, allowed = run_with_allowance("adam", backend, params, repeated, **settings)
    ams, allowed_ams = run_with_allowance(
        "adam", backend, params, repeated, **{**settings, "amsgrad": True}
    )
    check_close(
        "adam",
        backend,
        dtype,
        "amsgrad == adam for a constant gradient",
        ams,
        plain,
        allowed + allowed_ams,
        inputs=input_text("adam", params, repeated, **settings),
    )


@pytest.mark.concept("adamw")
@given(problem=trajectories(), settings=adam_settings(decay=st.just(0.0)))
def test_adamw_without_decay_is_adam(backend, dtype, problem, settings):
    needs_concepts(backend, "adam")
    params, gradients = _cast(problem, dtype)
    w, allowed_w = run_with_allowance("adamw", backend, params, gradients, **settings)
    a, allowed_a = run_with_allowance("adam", backend, params, gradients, **settings)
    check_close(
        "adamw",
        backend,
        dtype,
        "adamw(weight_decay=0) == adam(weight_decay=0)",
        w,
        a,
        allowed_w + allowed_a,
        inputs=input_text("adamw", params, gradients, **settings),
    )


@pytest.mark.concept("adamw")
@given(problem=trajectories(), lr=RATES, decay=st.sampled_from([0.01, 0.1, 0.5]))
def test_adamw_decay_is_decoupled_from_the_gradient(backend, dtype, problem, lr, decay):
    """On zero gradients Adam's update is 0, so AdamW only decays: theta_t = (1 - lr wd)^t theta_0;
    a coupled decay would instead take Adam steps of length ~lr towards 0."""
    params = problem[0].astype(dtype)
    zeros = np.zeros((len(problem[1]), params.size), dtype=dtype)
    out, allowed = run_with_allowance("adamw", backend, params, zeros, lr=lr, weight_decay=decay)
    steps = np.arange(1, len(zeros) + 1)[:, None]
    expected = params.astype(np.float64) * (1 - lr * decay) ** steps
    check_close(
        "adamw",
        backend,
        dtype,
        "adamw(theta, 0) == (1 - lr wd)^t theta",
        out,
        expected,
        allowed,
        inputs=input_text("adamw", params, zeros, lr=lr, weight_decay=decay),
    )


@each_concept("adam", "adamw")
@pytest.mark.dtypes("float16")
def test_adam_keeps_its_second_moment_where_it_declares(backend, dtype, concept_id):
    """float16 holds (1 - beta2) g^2 = 1.5e-8, at g = 2^-8, only as 0 (below half its smallest
    subnormal, 2^-25), while eps = 1e-3 keeps the denominator away from 0. A state kept in the
    dtype (``optimizer_state = "dtype"``) then divides the first moment by eps alone, a step of
    lr g / eps = 3.9e-3; one kept in float32, or exactly, by |g| + eps: 8.0e-4."""
    settings = {"lr": 1e-3, "eps": 1e-3, "amsgrad": False}
    decay = 0.0 if concept_id == "adam" else 1e-2  # adamw's default
    params, gradients = np.array([1.0], dtype=dtype), np.array([[2.0**-8]], dtype=dtype)
    out = run_backend(concept_id, backend, params, gradients, **settings)
    state = optimizer_state(backend)
    g, lr, eps = 2.0**-8, settings["lr"], settings["eps"]
    step = lr * g / (eps if state == "dtype" else g + eps)
    expected = 1.0 - lr * decay - step
    # half the spacing of float16 below 1 (2^-12), the step's few roundings and the decay,
    # which float16 cannot hold at 1 (lr wd = 1e-5)
    allowed = np.array([2.0**-12 + 8 * 2.0**-11 * step + lr * decay])
    check_close(
        concept_id,
        backend,
        dtype,
        f"theta_1 == 1 - {step:.3g} (optimizer_state = {state!r})",
        out[0],
        [expected],
        allowed,
        inputs=input_text(concept_id, params, gradients, **settings),
    )


@pytest.mark.concept("adam")
@pytest.mark.dtypes("bfloat16")
@given(
    magnitude=st.floats(2.0**-10, 2.0**10),
    sign=st.sampled_from([-1.0, 1.0]),
    steps=st.integers(1, 8),
)
def test_bfloat16_adam_loses_updates_below_half_an_ulp(backend, dtype, magnitude, sign, steps):
    """A constant gradient makes each exact Adam update lr |g| / (|g| + eps), just below
    lr = 1e-3, which is below half of bfloat16's spacing at 1.0 (2^-9 below it, 2^-8 above): a
    parameter stored in bfloat16 (``optimizer_state`` ``dtype`` or ``float32``) never leaves 1.0,
    while the exact trajectory, rounded once (``exact``: the reference), reaches 0.99609375 at
    the third step."""
    params = np.array([1.0], dtype=dtype)
    gradients = np.full((steps, 1), sign * magnitude).astype(dtype)
    g = abs(float(gradients[0, 0]))
    out = run_backend("adam", backend, params, gradients, lr=1e-3).astype(np.float64)[:, 0]
    state = optimizer_state(backend)
    exact = 1.0 - sign * 1e-3 * g / (g + 1e-8) * np.arange(1, steps + 1)
    expected = exact if state == "exact" else np.ones(steps)
    check_close(
        "adam",
        backend,
        dtype,
        f"theta_t == {'round(1 - 1e-3 t)' if state == 'exact' else '1'} "
        f"(optimizer_state = {state!r})",
        out,
        expected,
        # the exact trajectory rounded once: half of bfloat16's spacing there
        np.full(steps, 2.0**-9 if sign > 0 else 2.0**-8) if state == "exact" else np.zeros(steps),
        inputs=input_text("adam", params, gradients, lr=1e-3),
    )


# ---------------------------------------------------------------- gradient_accumulation


@st.composite
def accumulations(draw):
    k = draw(st.integers(1, 4))
    steps = draw(st.integers(1, 4))
    d = draw(st.integers(1, 6))
    params = draw(hnp.arrays(np.float64, (d,), elements=st.floats(-10.0, 10.0)))
    micro = draw(hnp.arrays(np.float64, (k * steps, d), elements=st.floats(-10.0, 10.0)))
    return params, micro, k


@pytest.mark.concept("gradient_accumulation")
@given(problem=accumulations(), lr=RATES)
@example(problem=(np.array([1.0]), np.array([[1.0], [3.0]]), 2), lr=0.5)  # one step of 2: 0
def test_gradient_accumulation_matches_reference(backend, dtype, problem, lr):
    params, micro, k = problem
    check_oracle(
        "gradient_accumulation",
        backend,
        params.astype(dtype),
        micro.astype(dtype),
        lr=lr,
        accumulation_steps=k,
    )


ACCUMULATION_EDGES = {
    "k = 1": (np.array([1.0, 2.0]), np.array([[1.0, -1.0], [2.0, 0.5]]), 1),
    "one step of 8": (np.array([0.0]), np.arange(8.0)[:, None], 8),
    "cancelling micro-batches": (np.array([1.0]), np.array([[1e8], [-1e8], [1.0], [-1.0]]), 4),
}


@pytest.mark.concept("gradient_accumulation")
@pytest.mark.parametrize("edge", ACCUMULATION_EDGES)
def test_gradient_accumulation_edge_inputs(backend, dtype, edge):
    params, micro, k = ACCUMULATION_EDGES[edge]
    check_oracle(
        "gradient_accumulation",
        backend,
        params.astype(dtype),
        micro.astype(dtype),
        kind="edge",
        lr=0.1,
        accumulation_steps=k,
    )


@pytest.mark.concept("gradient_accumulation")
@given(problem=accumulations(), lr=RATES)
def test_accumulation_equals_full_batch_sgd(backend, dtype, problem, lr):
    """k micro-batches of a mean loss accumulated == one SGD step on the full batch's gradient
    (the mean of the micro-batch gradients)."""
    needs_concepts(backend, "sgd")
    params, micro, k = problem
    params, micro = params.astype(dtype), micro.astype(dtype)
    accumulated, allowed = run_with_allowance(
        "gradient_accumulation", backend, params, micro, lr=lr, accumulation_steps=k
    )
    full_batch = micro.reshape(-1, k, params.size).astype(np.float64).mean(axis=1)
    full_batch_rounded = full_batch.astype(dtype)
    sgd, allowed_sgd = run_with_allowance("sgd", backend, params, full_batch_rounded, lr=lr)
    rounding = lr * np.cumsum(np.abs(full_batch - full_batch_rounded), axis=0)
    check_close(
        "gradient_accumulation",
        backend,
        dtype,
        "accumulate k micro-batches == sgd on the full batch",
        accumulated,
        sgd,
        allowed + allowed_sgd + rounding,
        inputs=input_text("gradient_accumulation", params, micro, lr=lr, accumulation_steps=k),
    )


@pytest.mark.concept("gradient_accumulation")
@given(problem=accumulations(), lr=RATES, data=st.data())
def test_accumulation_ignores_micro_batch_order(backend, dtype, problem, lr, data):
    params, micro, k = problem
    params, micro = params.astype(dtype), micro.astype(dtype)
    order = np.concatenate(
        [
            start + np.asarray(data.draw(st.permutations(range(k)), label="order"))
            for start in range(0, len(micro), k)
        ]
    )
    out, allowed = run_with_allowance(
        "gradient_accumulation", backend, params, micro, lr=lr, accumulation_steps=k
    )
    shuffled, allowed_s = run_with_allowance(
        "gradient_accumulation", backend, params, micro[order].copy(), lr=lr, accumulation_steps=k
    )
    check_close(
        "gradient_accumulation",
        backend,
        dtype,
        "the order of micro-batches within a step does not matter",
        shuffled,
        out,
        allowed + allowed_s,
        inputs=input_text("gradient_accumulation", params, micro, lr=lr, accumulation_steps=k),
    )


# ---------------------------------------------------------------- clip_grad_norm

MAX_NORMS = st.sampled_from([1.0, 0.5, 5.0, 100.0])
GRADIENT_LENGTHS = st.sampled_from([1, 2, 3, 5, 16, 64]).map(lambda n: (n,))
"""A menu of lengths, not every length to 64: a compiling backend compiles once per shape."""


@pytest.mark.concept("clip_grad_norm")
@given(
    gradients=st.one_of(
        hnp.arrays(np.float64, GRADIENT_LENGTHS, elements=st.floats(-10.0, 10.0)),
        hnp.arrays(np.float64, dst.shapes(min_dims=2, max_dims=2), elements=st.floats(-1e3, 1e3)),
    ),
    max_norm=MAX_NORMS,
)
@example(gradients=np.array([3.0, 4.0]), max_norm=1.0)  # norm 5: scaled by 1 / (5 + 1e-6)
def test_clip_grad_norm_matches_reference(backend, dtype, gradients, max_norm):
    check_oracle("clip_grad_norm", backend, gradients.astype(dtype), max_norm=max_norm)


CLIP_EDGES = {
    "zero gradient": [0.0, 0.0, 0.0],
    "norm exactly max_norm": [0.6, 0.8],
    "huge": [1e30, -1e30],
    "1000 elements": np.linspace(-1.0, 1.0, 1000),
}


@pytest.mark.concept("clip_grad_norm")
@pytest.mark.parametrize("edge", CLIP_EDGES)
def test_clip_grad_norm_edge_inputs(backend, dtype, edge):
    check_oracle(
        "clip_grad_norm",
        backend,
        np.asarray(CLIP_EDGES[edge], dtype=dtype),
        kind="edge",
        max_norm=1.0,
    )


@pytest.mark.concept("clip_grad_norm")
@given(
    gradients=hnp.arrays(np.float64, GRADIENT_LENGTHS, elements=st.floats(-1e3, 1e3)),
    max_norm=MAX_NORMS,
)
def test_clipping_bounds_the_norm_and_keeps_the_direction(backend, dtype, gradients, max_norm):
    g = gradients.astype(dtype)
    read = as_read_by(backend, g)  # a backend that flushes subnormals may read them as 0
    assume(np.any(read != 0))
    out, allowed = run_with_allowance("clip_grad_norm", backend, g, max_norm=max_norm)
    text = input_text("clip_grad_norm", g, max_norm=max_norm)
    norm = float(np.linalg.norm(out.astype(np.float64)))
    check_relation(
        "clip_grad_norm",
        backend,
        dtype,
        "||clip(g)|| <= max_norm",
        norm <= max_norm + float(np.linalg.norm(allowed)),
        actual=norm,
        expected=max_norm,
        inputs=text,
    )
    top = int(np.argmax(np.abs(read)))
    scale = out[top].astype(np.float64) / read[top]
    check_close(
        "clip_grad_norm",
        backend,
        dtype,
        "clip(g) == s g for one scale s in (0, 1]",
        out,
        scale * read.astype(np.float64),
        allowed + allowed[top] / abs(read[top]) * np.abs(read),
        inputs=text,
    )
    check_relation(
        "clip_grad_norm",
        backend,
        dtype,
        "0 < s <= 1",
        0 < scale <= 1 + allowed[top] / abs(read[top]),
        actual=scale,
        expected="(0, 1]",
        inputs=text,
    )


# ---------------------------------------------------------------- frozen_parameters


@st.composite
def frozen_problems(draw):
    params, gradients = draw(trajectories())
    frozen = tuple(draw(st.lists(st.booleans(), min_size=params.size, max_size=params.size)))
    return params, gradients, frozen


FROZEN_SETTINGS = st.fixed_dictionaries(
    {"lr": RATES, "momentum": st.sampled_from([0.0, 0.9]), "weight_decay": DECAYS}
)


@pytest.mark.concept("frozen_parameters")
@given(problem=frozen_problems(), settings=FROZEN_SETTINGS)
def test_frozen_parameters_matches_reference(backend, dtype, problem, settings):
    params, gradients, frozen = problem
    check_oracle(
        "frozen_parameters",
        backend,
        params.astype(dtype),
        gradients.astype(dtype),
        frozen=frozen,
        **settings,
    )


@pytest.mark.concept("frozen_parameters")
@given(problem=frozen_problems(), settings=FROZEN_SETTINGS)
def test_frozen_parameters_do_not_move_at_all(backend, dtype, problem, settings):
    params, gradients, frozen = problem
    params, gradients = params.astype(dtype), gradients.astype(dtype)
    out = run_backend("frozen_parameters", backend, params, gradients, frozen=frozen, **settings)
    mask = np.asarray(frozen)
    check_relation(
        "frozen_parameters",
        backend,
        dtype,
        "frozen parameters keep their initial values exactly, at every step (a backend that "
        "flushes subnormals may read a subnormal one as zero; Keras on JAX does not)",
        (out[:, mask] == params[mask]) | (out[:, mask] == as_read_by(backend, params)[mask]),
        actual=out[:, mask],
        expected=as_read_by(backend, params)[mask],
        inputs=input_text("frozen_parameters", params, gradients, frozen=frozen, **settings),
    )


@pytest.mark.concept("frozen_parameters")
@given(problem=frozen_problems(), settings=FROZEN_SETTINGS)
def test_trainable_parameters_follow_sgd_as_if_alone(backend, dtype, problem, settings):
    needs_concepts(backend, "sgd")
    params, gradients, frozen = problem
    params, gradients = params.astype(dtype), gradients.astype(dtype)
    trainable = ~np.asarray(frozen)
    assume(trainable.any())
    out, allowed = run_with_allowance(
        "frozen_parameters", backend, params, gradients, frozen=frozen, **settings
    )
    alone, allowed_alone = run_with_allowance(
        "sgd", backend, params[trainable].copy(), gradients[:, trainable].copy(), **settings
    )
    check_close(
        "frozen_parameters",
        backend,
        dtype,
        "trainable parameters == sgd on them alone",
        out[:, trainable],
        alone,
        allowed[:, trainable] + allowed_alone,
        inputs=input_text("frozen_parameters", params, gradients, frozen=frozen, **settings),
    )
