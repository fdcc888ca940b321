"""Learning-rate schedules over steps 0..n (spec/concepts/<id>.md)."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

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
from dlspec.plugin import each_concept

BASE_RATES = st.sampled_from([0.1, 1.0, 0.01, 3e-4, 0.05])
GAMMAS = st.sampled_from([0.1, 0.5, 0.9, 0.99])
STEPS = st.integers(0, 60)


def _base(rate, dtype):
    return np.asarray(rate, dtype=dtype)


# ---------------------------------------------------------------- step, multistep, exponential


@pytest.mark.concept("step_lr")
@given(base=BASE_RATES, step_size=st.integers(1, 12), gamma=GAMMAS, steps=STEPS)
@example(base=0.1, step_size=2, gamma=0.1, steps=5)  # 0.1 0.1 0.01 0.01 0.001 0.001
def test_step_lr_matches_reference(backend, dtype, base, step_size, gamma, steps):
    check_oracle(
        "step_lr", backend, _base(base, dtype), step_size=step_size, gamma=gamma, steps=steps
    )


@pytest.mark.concept("multistep_lr")
@given(
    base=BASE_RATES,
    milestones=st.lists(st.integers(0, 50), max_size=5).map(tuple),
    gamma=GAMMAS,
    steps=STEPS,
)
@example(base=1.0, milestones=(3, 3, 5), gamma=0.5, steps=6)  # a repeated milestone decays twice
def test_multistep_lr_matches_reference(backend, dtype, base, milestones, gamma, steps):
    check_oracle(
        "multistep_lr", backend, _base(base, dtype), milestones=milestones, gamma=gamma, steps=steps
    )


@pytest.mark.concept("exponential_lr")
@given(base=BASE_RATES, gamma=GAMMAS, steps=STEPS)
def test_exponential_lr_matches_reference(backend, dtype, base, gamma, steps):
    check_oracle("exponential_lr", backend, _base(base, dtype), gamma=gamma, steps=steps)


SCHEDULE_EDGES = {
    "step_lr": {"step_size": 1, "gamma": 0.5, "steps": 1100},
    "multistep_lr": {"milestones": (0, 0, 1000), "gamma": 0.5, "steps": 1001},
    "exponential_lr": {"gamma": 0.5, "steps": 1100},
    "cosine_annealing_lr": {"t_max": 1, "eta_min": 0.0, "steps": 5},
    "linear_warmup": {"start_factor": 1.0, "end_factor": 1.0, "total_steps": 1, "steps": 3},
    "warmup_cosine": {"warmup_steps": 0, "decay_steps": 1, "steps": 3},
}
"""Past the smallest normal (0.5^1100), a single step, constant schedules."""


@each_concept(*SCHEDULE_EDGES)
def test_schedule_edge_inputs(backend, dtype, concept_id):
    check_oracle(concept_id, backend, _base(1.0, dtype), kind="edge", **SCHEDULE_EDGES[concept_id])


@pytest.mark.concept("step_lr")
@given(base=BASE_RATES, step_size=st.integers(1, 12), gamma=GAMMAS, steps=STEPS)
def test_step_lr_is_multistep_at_every_multiple(backend, dtype, base, step_size, gamma, steps):
    needs_concepts(backend, "multistep_lr")
    lr = _base(base, dtype)
    step, allowed = run_with_allowance(
        "step_lr", backend, lr, step_size=step_size, gamma=gamma, steps=steps
    )
    milestones = tuple(range(step_size, steps + 1, step_size))
    multi, allowed_m = run_with_allowance(
        "multistep_lr", backend, lr, milestones=milestones, gamma=gamma, steps=steps
    )
    check_close(
        "step_lr",
        backend,
        dtype,
        "StepLR(s) == MultiStepLR(s, 2s, 3s, ...)",
        step,
        multi,
        allowed + allowed_m,
        inputs=input_text("step_lr", lr, step_size=step_size, gamma=gamma, steps=steps),
    )


@each_concept("step_lr", "multistep_lr", "exponential_lr")
@given(base=BASE_RATES, gamma=GAMMAS, steps=STEPS, data=st.data())
def test_decays_are_monotone_by_factors_of_gamma(
    backend, dtype, concept_id, base, gamma, steps, data
):
    """Each step keeps the rate or multiplies it by gamma^j (j >= 1): non-increasing for gamma < 1."""
    params = {"gamma": gamma, "steps": steps}
    if concept_id == "step_lr":
        params["step_size"] = data.draw(st.integers(1, 12), label="step_size")
    if concept_id == "multistep_lr":
        params["milestones"] = tuple(
            data.draw(st.lists(st.integers(0, 50), max_size=5), label="milestones")
        )
    lr = _base(base, dtype)
    out, allowed = run_with_allowance(concept_id, backend, lr, **params)
    text = input_text(concept_id, lr, **params)
    check_relation(
        concept_id,
        backend,
        dtype,
        "non-increasing",
        np.diff(out) <= allowed[1:] + allowed[:-1],
        actual=out,
        expected="non-increasing",
        inputs=text,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        powers = np.round(np.log(out[1:] / out[:-1].astype(np.float64)) / np.log(gamma))
    powers = np.nan_to_num(powers, nan=0.0, posinf=0.0, neginf=0.0)
    check_close(
        concept_id,
        backend,
        dtype,
        "lr_{t+1} == lr_t * gamma^j for a whole j >= 0",
        out[1:],
        out[:-1].astype(np.float64) * gamma**powers,
        allowed[1:] + gamma**powers * allowed[:-1],
        inputs=text,
    )
    check_relation(
        concept_id,
        backend,
        dtype,
        "j >= 0",
        powers >= 0,
        actual=powers,
        expected="non-negative powers",
        inputs=text,
    )


# ---------------------------------------------------------------- cosine annealing


@pytest.mark.concept("cosine_annealing_lr")
@given(
    base=BASE_RATES,
    t_max=st.integers(1, 30),
    eta_min=st.sampled_from([0.0, 1e-4, 0.001]),
    steps=STEPS,
)
@example(base=1.0, t_max=4, eta_min=0.0, steps=12)  # past the horizon: periodic or clamped
def test_cosine_annealing_lr_matches_reference(backend, dtype, base, t_max, eta_min, steps):
    check_oracle(
        "cosine_annealing_lr",
        backend,
        _base(base, dtype),
        t_max=t_max,
        eta_min=eta_min,
        steps=steps,
    )


@pytest.mark.concept("cosine_annealing_lr")
@given(base=BASE_RATES, t_max=st.integers(1, 30), eta_min=st.sampled_from([0.0, 1e-4, 0.001]))
def test_cosine_annealing_is_symmetric_about_half_the_period(backend, dtype, base, t_max, eta_min):
    """lr_t + lr_{T-t} == lr_0 + eta_min, and lr_0 == base, lr_T == eta_min."""
    lr = _base(base, dtype)
    out, allowed = run_with_allowance(
        "cosine_annealing_lr", backend, lr, t_max=t_max, eta_min=eta_min, steps=t_max
    )
    text = input_text("cosine_annealing_lr", lr, t_max=t_max, eta_min=eta_min, steps=t_max)
    check_close(
        "cosine_annealing_lr",
        backend,
        dtype,
        "lr_t + lr_(T - t) == base + eta_min",
        out + out[::-1],
        np.full(out.shape, float(lr) + eta_min),
        allowed + allowed[::-1],
        inputs=text,
    )
    check_close(
        "cosine_annealing_lr",
        backend,
        dtype,
        "lr_0 == base and lr_T == eta_min",
        out[[0, -1]],
        np.array([float(lr), eta_min]),
        allowed[[0, -1]],
        inputs=text,
    )


@pytest.mark.concept("cosine_annealing_lr")
@given(base=BASE_RATES, t_max=st.integers(1, 20))
def test_cosine_annealing_past_the_horizon_follows_the_declared_convention(
    backend, dtype, base, t_max
):
    lr = _base(base, dtype)
    out, allowed = run_with_allowance(
        "cosine_annealing_lr", backend, lr, t_max=t_max, steps=3 * t_max
    )
    rule = declared_convention("cosine_annealing_lr", backend, "past_horizon")
    later = np.arange(t_max + 1, 3 * t_max + 1)
    if rule == "periodic":  # period 2T, mirrored about T: lr_t == lr_s for s = t mod 2T folded
        folded = later % (2 * t_max)
        folded = np.where(folded > t_max, 2 * t_max - folded, folded)
        expected, slack = out[folded].astype(np.float64), allowed[folded]
    else:
        expected, slack = np.full(later.shape, 0.0), 0.0
    check_close(
        "cosine_annealing_lr",
        backend,
        dtype,
        f"past T_max: {rule}",
        out[later],
        expected,
        allowed[later] + slack,
        inputs=input_text("cosine_annealing_lr", lr, t_max=t_max, steps=3 * t_max),
    )


# ---------------------------------------------------------------- linear warmup, warmup + cosine


@pytest.mark.concept("linear_warmup")
@given(
    base=BASE_RATES,
    start_factor=st.sampled_from([1 / 3, 0.1, 0.5, 1.0, 0.01]),
    end_factor=st.sampled_from([1.0, 0.5, 0.0]),
    total_steps=st.integers(1, 20),
    steps=STEPS,
)
def test_linear_warmup_matches_reference(
    backend, dtype, base, start_factor, end_factor, total_steps, steps
):
    check_oracle(
        "linear_warmup",
        backend,
        _base(base, dtype),
        start_factor=start_factor,
        end_factor=end_factor,
        total_steps=total_steps,
        steps=steps,
    )


@pytest.mark.concept("linear_warmup")
@given(
    base=BASE_RATES, start_factor=st.sampled_from([1 / 3, 0.1, 0.5]), total_steps=st.integers(1, 20)
)
def test_linear_warmup_is_linear_then_flat(backend, dtype, base, start_factor, total_steps):
    lr = _base(base, dtype)
    steps = 2 * total_steps
    params = {"start_factor": start_factor, "total_steps": total_steps, "steps": steps}
    out, allowed = run_with_allowance("linear_warmup", backend, lr, **params)
    t = np.arange(steps + 1)
    expected = float(lr) * (
        start_factor + (1 - start_factor) * np.minimum(t, total_steps) / total_steps
    )
    check_close(
        "linear_warmup",
        backend,
        dtype,
        "lr_t == base (s + (1 - s) min(t, T) / T)",
        out,
        expected,
        allowed,
        inputs=input_text("linear_warmup", lr, **params),
    )
    check_relation(
        "linear_warmup",
        backend,
        dtype,
        "lr_t == base for t >= T",
        out[total_steps:] == out[-1],
        actual=out[total_steps:],
        expected=base,
        inputs=input_text("linear_warmup", lr, **params),
    )


@st.composite
def warmup_cosine_settings(draw):
    warmup = draw(st.integers(0, 10))
    return {
        "warmup_steps": warmup,
        "decay_steps": warmup + draw(st.integers(1, 30)),
        "start_lr": draw(st.sampled_from([0.0, 1e-4])),
        "end_lr": draw(st.sampled_from([0.0, 1e-5, 1e-3])),
        "steps": draw(STEPS),
    }


@pytest.mark.concept("warmup_cosine")
@given(base=BASE_RATES, settings=warmup_cosine_settings())
@example(
    base=1.0,
    settings={"warmup_steps": 2, "decay_steps": 6, "start_lr": 0.0, "end_lr": 0.0, "steps": 9},
)
@example(  # a zero peak: all zeros (optax 0.1.9 divided end_value by peak_value, giving NaN)
    base=0.0,
    settings={"warmup_steps": 2, "decay_steps": 6, "start_lr": 0.0, "end_lr": 0.0, "steps": 9},
)
def test_warmup_cosine_matches_reference(backend, dtype, base, settings):
    check_oracle("warmup_cosine", backend, _base(base, dtype), **settings)


@pytest.mark.concept("warmup_cosine")
@given(base=st.sampled_from([0.1, 1.0, 0.01]), settings=warmup_cosine_settings())
def test_warmup_cosine_rises_to_the_peak_then_decays_to_the_end(backend, dtype, base, settings):
    lr = _base(base, dtype)
    settings = {**settings, "steps": settings["decay_steps"] + settings["warmup_steps"] + 5}
    out, allowed = run_with_allowance("warmup_cosine", backend, lr, **settings)
    w = settings["warmup_steps"]
    text = input_text("warmup_cosine", lr, **settings)
    slack = allowed[1:] + allowed[:-1]
    check_relation(
        "warmup_cosine",
        backend,
        dtype,
        "non-decreasing up to the warmup's end, non-increasing after",
        np.where(np.arange(len(slack)) < w, np.diff(out) >= -slack, np.diff(out) <= slack),
        actual=out,
        expected="rise then fall",
        inputs=text,
    )
    check_close(
        "warmup_cosine",
        backend,
        dtype,
        "lr_0 == start (== peak without warmup), lr_W == peak, lr_end == end_lr",
        out[[0, w, -1]],
        np.array([settings["start_lr"] if w else float(lr), float(lr), settings["end_lr"]]),
        allowed[[0, w, -1]],
        inputs=text,
    )


# ---------------------------------------------------------------- reduce on plateau

METRICS = st.lists(st.integers(0, 64).map(lambda k: k / 8), min_size=1, max_size=40)


@st.composite
def plateau_settings(draw):
    return {
        "mode": draw(st.sampled_from(["min", "max"])),
        "factor": draw(st.sampled_from([0.1, 0.5])),
        "patience": draw(st.integers(1, 5)),
        "threshold": draw(st.sampled_from([0.0, 0.125, 1e-4])),
        "threshold_mode": draw(st.sampled_from(["rel", "abs"])),
        "cooldown": draw(st.integers(0, 3)),
        "min_lr": draw(st.sampled_from([0.0, 1e-3])),
    }


@pytest.mark.concept("reduce_lr_on_plateau")
@given(base=BASE_RATES, metrics=METRICS, settings=plateau_settings())
@example(
    base=1.0,
    metrics=[1.0] * 5,
    settings={
        "mode": "min",
        "factor": 0.1,
        "patience": 2,
        "threshold": 1e-4,
        "threshold_mode": "rel",
        "cooldown": 0,
        "min_lr": 0.0,
    },
)
@example(  # the rate falls below eps / (1 - factor): small_decrease decides (found on optax)
    base=0.05,
    metrics=[3.125, 7.0, 1.125, 6.625, 6.5] * 2,
    settings={
        "mode": "min",
        "factor": 0.1,
        "patience": 1,
        "threshold": 0.125,
        "threshold_mode": "abs",
        "cooldown": 0,
        "min_lr": 0.0,
    },
)
def test_reduce_lr_on_plateau_matches_reference(backend, dtype, base, metrics, settings):
    check_oracle(
        "reduce_lr_on_plateau",
        backend,
        _base(base, dtype),
        np.asarray(metrics, dtype=dtype),
        **settings,
    )


@pytest.mark.concept("reduce_lr_on_plateau")
@pytest.mark.parametrize("patience", [1, 3])
def test_a_flat_metric_first_reduces_per_the_declared_patience_rule(backend, dtype, patience):
    lr = _base(1.0, dtype)
    metrics = np.ones(12, dtype=dtype)
    out = run_backend("reduce_lr_on_plateau", backend, lr, metrics, patience=patience)
    rule = declared_convention("reduce_lr_on_plateau", backend, "patience_rule")
    # epoch 0 improves on +inf; then every epoch is bad
    first = patience + 1 if rule == "more_than_patience" else patience
    reduced = np.flatnonzero(out < 1.0)
    check_relation(
        "reduce_lr_on_plateau",
        backend,
        dtype,
        f"the first reduction comes at epoch {first} ({rule})",
        reduced.size > 0 and reduced[0] == first,
        actual=out,
        expected=f"first reduction at epoch {first}",
        inputs=input_text("reduce_lr_on_plateau", lr, metrics, patience=patience),
    )


@pytest.mark.concept("reduce_lr_on_plateau")
@pytest.mark.parametrize("eps", [1e-8, 1e-3])
def test_a_decrease_of_at_most_eps_is_made_per_the_declared_rule(backend, dtype, eps):
    # a flat metric reaches the patience at once; halving 1.5 eps would lower it by 0.75 eps
    lr = _base(1.5 * eps, dtype)
    metrics = np.ones(6, dtype=dtype)
    settings = {"factor": 0.5, "patience": 1, "eps": eps}
    out = run_backend("reduce_lr_on_plateau", backend, lr, metrics, **settings)
    rule = declared_convention("reduce_lr_on_plateau", backend, "small_decrease")
    check_relation(
        "reduce_lr_on_plateau",
        backend,
        dtype,
        f"a decrease of at most eps is {'not ' if rule == 'skipped' else ''}made ({rule})",
        bool(np.all(out == lr)) if rule == "skipped" else bool(np.any(out < lr)),
        actual=out,
        expected="the rate unchanged" if rule == "skipped" else "a reduction",
        inputs=input_text("reduce_lr_on_plateau", lr, metrics, **settings),
    )


@pytest.mark.concept("reduce_lr_on_plateau")
@given(base=BASE_RATES, metrics=METRICS, settings=plateau_settings())
def test_plateau_only_ever_multiplies_by_factor_and_respects_min_lr(
    backend, dtype, base, metrics, settings
):
    lr = _base(base, dtype)
    metrics = np.asarray(metrics, dtype=dtype)
    out, allowed = run_with_allowance("reduce_lr_on_plateau", backend, lr, metrics, **settings)
    previous = np.concatenate([[lr], out[:-1]])  # the rate in the dtype under test
    floor = max(settings["min_lr"], 0.0)
    expected_if_changed = np.maximum(previous * settings["factor"], floor)
    text = input_text("reduce_lr_on_plateau", lr, metrics, **settings)
    unchanged = out == previous
    reduced = (
        np.abs(out - expected_if_changed)
        <= allowed + np.abs(expected_if_changed) * np.finfo(np.float64).eps
    )
    check_relation(
        "reduce_lr_on_plateau",
        backend,
        dtype,
        "each epoch keeps the rate or sets max(rate * factor, min_lr)",
        unchanged | reduced,
        actual=out,
        expected=expected_if_changed,
        inputs=text,
    )
    improving = np.arange(len(metrics), 0, -1, dtype=dtype) * (
        1 if settings["mode"] == "min" else -1
    )
    # improving by 1 each epoch beats any threshold below 1/40 (rel) or 1 (abs)
    strict_settings = {**settings, "threshold": 1e-4}
    strict = run_backend("reduce_lr_on_plateau", backend, lr, improving, **strict_settings)
    check_relation(
        "reduce_lr_on_plateau",
        backend,
        dtype,
        "a metric that improves every epoch never reduces the rate",
        strict == lr,
        actual=strict,
        expected=base,
        inputs=input_text("reduce_lr_on_plateau", lr, improving, **strict_settings),
    )
