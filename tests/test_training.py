"""Training bookkeeping: mini-batches, splits, early stopping, accuracy (spec/concepts/<id>.md)."""

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlspec.checks import (
    allowance_for,
    check_close,
    check_oracle,
    check_relation,
    declared_convention,
    input_text,
    run_backend,
)


@st.composite
def batching(draw):
    n = draw(st.integers(1, 60))
    batch_size = draw(st.integers(1, 24))
    drop_last = batch_size <= n and draw(st.booleans())
    return {
        "n": n,
        "batch_size": batch_size,
        "epochs": draw(st.integers(1, 3)),
        "drop_last": drop_last,
        "shuffle": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }


@pytest.mark.concept("minibatches")
@given(settings=batching())
@example(
    settings={"n": 10, "batch_size": 3, "epochs": 2, "drop_last": False, "shuffle": True, "seed": 0}
)
def test_minibatches_match_the_reference_structure(backend, dtype, settings):
    """ceil(n / B) batches an epoch (floor with drop_last), the last one short; iterations =
    epochs x batches. The rows' contents are the properties' business."""
    check_oracle("minibatches", backend, **settings)


MINIBATCH_EDGES = {
    "one sample": {"n": 1, "batch_size": 1},
    "batch larger than the data": {"n": 3, "batch_size": 8},
    "drop_last drops the short batch": {"n": 10, "batch_size": 4, "drop_last": True},
    "exact multiple": {"n": 12, "batch_size": 4, "drop_last": True, "epochs": 3},
    "10000 samples": {"n": 10000, "batch_size": 64, "shuffle": True},
}


@pytest.mark.concept("minibatches")
@pytest.mark.parametrize("edge", MINIBATCH_EDGES)
def test_minibatches_edge_inputs(backend, dtype, edge):
    check_oracle("minibatches", backend, kind="edge", **MINIBATCH_EDGES[edge])


@pytest.mark.concept("minibatches")
@given(settings=batching())
def test_every_epoch_visits_each_sample_once(backend, dtype, settings):
    out = run_backend("minibatches", backend, **settings)
    n, b = settings["n"], settings["batch_size"]
    per_epoch = n // b if settings["drop_last"] else -(-n // b)
    text = input_text("minibatches", **settings)
    for epoch in range(settings["epochs"]):
        rows = out[epoch * per_epoch : (epoch + 1) * per_epoch]
        seen = rows[rows >= 0]
        kept = n - n % b if settings["drop_last"] else n
        check_relation(
            "minibatches",
            backend,
            dtype,
            f"epoch {epoch}: {kept} distinct samples of range({n})",
            seen.size == kept and np.unique(seen).size == kept and bool(np.all(seen < n)),
            actual=np.sort(seen),
            expected=f"{kept} distinct indices in [0, {n})",
            inputs=text,
        )
        if not settings["shuffle"]:
            check_relation(
                "minibatches",
                backend,
                dtype,
                f"epoch {epoch} without shuffle: samples in order",
                np.array_equal(seen, np.arange(kept)),
                actual=seen,
                expected=np.arange(kept),
                inputs=text,
            )


@pytest.mark.concept("minibatches")
@given(settings=batching())
def test_the_same_seed_gives_the_same_batches(backend, dtype, settings):
    first = run_backend("minibatches", backend, **settings)
    second = run_backend("minibatches", backend, **settings)
    check_relation(
        "minibatches",
        backend,
        dtype,
        "deterministic for a given seed",
        np.array_equal(first, second),
        actual=second,
        expected=first,
        inputs=input_text("minibatches", **settings),
    )


SHUFFLED = 20
"""Samples in the randomness tests: two independent uniform permutations of 20 coincide, or one
is the identity, with probability 1/20! = 4e-19, so a correct shuffle never fails them and a
missing or repeated one always does, whatever the seed."""


def _epoch_orders(batches: np.ndarray, epochs: int) -> np.ndarray:
    """Each epoch's order of the samples, read from the padded batch rows."""
    rows = batches.reshape(epochs, -1, batches.shape[-1])
    return np.stack([r[r >= 0] for r in rows])


@pytest.mark.concept("minibatches")
@given(batch_size=st.integers(1, SHUFFLED), seed=st.integers(0, 2**16))
def test_shuffled_epochs_are_fresh_permutations(backend, dtype, batch_size, seed):
    """With ``shuffle``, each epoch visits the samples in a new order: none is the identity and
    no two epochs repeat one (a loader that shuffles once, or never, fails)."""
    settings = {"n": SHUFFLED, "batch_size": batch_size, "epochs": 3, "shuffle": True}
    orders = _epoch_orders(run_backend("minibatches", backend, seed=seed, **settings), 3)
    distinct = {tuple(o) for o in orders.tolist()} | {tuple(range(SHUFFLED))}
    check_relation(
        "minibatches",
        backend,
        dtype,
        "shuffled epochs: 3 orders, all different, none the identity",
        len(distinct) == 4,
        actual=orders,
        expected="three different permutations",
        inputs=input_text("minibatches", seed=seed, **settings),
    )


@pytest.mark.concept("minibatches")
@given(seeds=st.lists(st.integers(0, 2**16), min_size=2, max_size=2, unique=True))
def test_different_seeds_shuffle_differently(backend, dtype, seeds):
    settings = {"n": SHUFFLED, "batch_size": 4, "shuffle": True}
    first, second = (run_backend("minibatches", backend, seed=s, **settings) for s in seeds)
    check_relation(
        "minibatches",
        backend,
        dtype,
        f"seeds {seeds[0]} and {seeds[1]} give different orders",
        not np.array_equal(first, second),
        actual=second,
        expected=f"anything but {first.tolist()}",
        inputs=input_text("minibatches", **settings) + f", seeds = {seeds}",
    )


@pytest.mark.concept("train_val_test_split")
@given(seeds=st.lists(st.integers(0, 2**16), min_size=2, max_size=2, unique=True))
def test_splits_are_random_and_reproducible(backend, dtype, seeds):
    """A split is a random permutation cut into pieces: not the identity, another for another
    seed, the same for the same seed."""
    split = {s: run_backend("train_val_test_split", backend, n=SHUFFLED, seed=s) for s in seeds}
    again = run_backend("train_val_test_split", backend, n=SHUFFLED, seed=seeds[0])
    orders = [tuple(v[v >= 0].tolist()) for v in split.values()]
    text = input_text("train_val_test_split", n=SHUFFLED) + f", seeds = {seeds}"
    check_relation(
        "train_val_test_split",
        backend,
        dtype,
        "random: neither split is the identity order, and the two seeds' differ",
        len(set(orders) | {tuple(range(SHUFFLED))}) == 3,
        actual=np.array(orders),
        expected="two different permutations",
        inputs=text,
    )
    check_relation(
        "train_val_test_split",
        backend,
        dtype,
        "reproducible: the same seed gives the same split",
        np.array_equal(again, split[seeds[0]]),
        actual=again,
        expected=split[seeds[0]],
        inputs=text,
    )


FRACTIONS = st.sampled_from(
    [
        (0.8, 0.1, 0.1),
        (0.7, 0.15, 0.15),
        (0.6, 0.2, 0.2),
        (0.5, 0.5),
        (0.9, 0.1),
        (1 / 3, 1 / 3, 1 / 3),
        (0.29, 0.71),
    ]
)


@pytest.mark.concept("train_val_test_split")
@given(n=st.integers(1, 300), fractions=FRACTIONS, seed=st.integers(0, 2**16))
@example(n=10, fractions=(0.7, 0.15, 0.15), seed=0)  # floor: 7, 1, 1; remainder to the first
@example(n=100, fractions=(0.29, 0.71), seed=0)  # 100 * 0.29 = 28.999999999999996: floor 28
def test_split_sizes_follow_the_rounding_rule(backend, dtype, n, fractions, seed):
    check_oracle("train_val_test_split", backend, n=n, fractions=fractions, seed=seed)


@pytest.mark.concept("train_val_test_split")
@pytest.mark.parametrize("n", [1, 2, 3, 7, 1000])
def test_split_edge_inputs(backend, dtype, n):
    check_oracle(
        "train_val_test_split", backend, kind="edge", n=n, fractions=(0.8, 0.1, 0.1), seed=1
    )


@pytest.mark.concept("train_val_test_split")
@given(n=st.integers(1, 300), fractions=FRACTIONS, seed=st.integers(0, 2**16))
def test_split_subsets_are_disjoint_and_cover_the_data(backend, dtype, n, fractions, seed):
    out = run_backend("train_val_test_split", backend, n=n, fractions=fractions, seed=seed)
    members = out[out >= 0]
    check_relation(
        "train_val_test_split",
        backend,
        dtype,
        "every sample in exactly one subset",
        members.size == n and np.array_equal(np.sort(members), np.arange(n)),
        actual=np.sort(members),
        expected=np.arange(n),
        inputs=input_text("train_val_test_split", n=n, fractions=fractions, seed=seed),
    )
    again = run_backend("train_val_test_split", backend, n=n, fractions=fractions, seed=seed)
    check_relation(
        "train_val_test_split",
        backend,
        dtype,
        "deterministic for a given seed",
        np.array_equal(out, again),
        actual=again,
        expected=out,
        inputs=input_text("train_val_test_split", n=n, fractions=fractions, seed=seed),
    )


# ---------------------------------------------------------------- early_stopping

METRIC_SERIES = st.lists(st.integers(0, 40).map(lambda k: k / 8), min_size=1, max_size=30)
PATIENCE = st.integers(1, 5)
DELTAS = st.sampled_from([0.0, 0.125, 0.5])


@pytest.mark.concept("early_stopping")
@given(
    metrics=METRIC_SERIES, patience=PATIENCE, min_delta=DELTAS, mode=st.sampled_from(["min", "max"])
)
@example(metrics=[3.0, 2.0, 2.0, 2.0, 1.0], patience=2, min_delta=0.0, mode="min")  # [3, 1]
def test_early_stopping_matches_reference(backend, dtype, metrics, patience, min_delta, mode):
    check_oracle(
        "early_stopping",
        backend,
        np.asarray(metrics, dtype=dtype),
        patience=patience,
        min_delta=min_delta,
        mode=mode,
    )


EARLY_EDGES = {
    "one epoch": [1.0],
    "never improves after the first": [1.0, 1.0, 1.0, 1.0],
    "improves by exactly min_delta": [1.0, 0.5, 0.0, -0.5],
    "always improves": [5.0, 4.0, 3.0, 2.0, 1.0],
}


@pytest.mark.concept("early_stopping")
@pytest.mark.parametrize("edge", EARLY_EDGES)
def test_early_stopping_edge_inputs(backend, dtype, edge):
    metrics = np.asarray(EARLY_EDGES[edge], dtype=dtype)
    check_oracle(
        "early_stopping", backend, metrics, kind="edge", patience=2, min_delta=0.5, mode="min"
    )


@pytest.mark.concept("early_stopping")
@given(metrics=METRIC_SERIES, patience=PATIENCE, min_delta=DELTAS)
def test_early_stopping_waits_patience_epochs_after_the_best(
    backend, dtype, metrics, patience, min_delta
):
    metrics = np.asarray(metrics, dtype=dtype)
    stop, best = run_backend(
        "early_stopping", backend, metrics, patience=patience, min_delta=min_delta
    )
    text = input_text("early_stopping", metrics, patience=patience, min_delta=min_delta)
    if stop >= 0:
        check_relation(
            "early_stopping",
            backend,
            dtype,
            "stop_epoch == best_epoch + patience",
            stop == best + patience,
            actual=[stop, best],
            expected=f"stop = best + {patience}",
            inputs=text,
        )
        truncated = run_backend(
            "early_stopping",
            backend,
            metrics[: stop + 1].copy(),
            patience=patience,
            min_delta=min_delta,
        )
        check_relation(
            "early_stopping",
            backend,
            dtype,
            "epochs after the stop do not matter",
            np.array_equal(truncated, [stop, best]),
            actual=truncated,
            expected=[stop, best],
            inputs=text,
        )
    else:
        check_relation(
            "early_stopping",
            backend,
            dtype,
            "no stop: fewer than patience epochs since the best",
            len(metrics) - 1 - best < patience,
            actual=[stop, best],
            expected=f"last epoch - best < {patience}",
            inputs=text,
        )


@pytest.mark.concept("early_stopping")
@given(
    steps=st.lists(st.integers(1, 8).map(lambda k: k / 4), min_size=1, max_size=20),
    patience=PATIENCE,
)
def test_a_steadily_improving_metric_never_stops(backend, dtype, steps, patience):
    metrics = (100 - np.cumsum(steps)).astype(dtype)
    out = run_backend("early_stopping", backend, metrics, patience=patience, min_delta=0.125)
    check_relation(
        "early_stopping",
        backend,
        dtype,
        "never stops, best is the last epoch",
        np.array_equal(out, [-1, len(metrics) - 1]),
        actual=out,
        expected=[-1, len(metrics) - 1],
        inputs=input_text("early_stopping", metrics, patience=patience, min_delta=0.125),
    )


# ---------------------------------------------------------------- accuracy

THRESHOLDS = st.sampled_from([0.5, 0.25, 0.75])
SAMPLE_COUNTS = st.sampled_from([1, 2, 3, 5, 7, 10, 16, 30, 40])
"""Sample counts from a menu (``dlspec.strategies.SHAPES``' reason: one compilation per shape):
small ones, and n for which k / n is inexact in binary (3, 5, 7, 10, 30, 40)."""


@st.composite
def binary_predictions(draw):
    n = draw(SAMPLE_COUNTS)
    grid = st.one_of(st.sampled_from([0.25, 0.5, 0.75]), st.floats(0.0, 1.0))
    return (
        draw(hnp.arrays(np.float64, (n,), elements=grid)),
        draw(hnp.arrays(np.float64, (n,), elements=st.sampled_from([0.0, 1.0]))),
    )


@st.composite
def multiclass_predictions(draw):
    n, c = draw(SAMPLE_COUNTS), draw(st.sampled_from([1, 2, 3, 5, 8]))
    scores = draw(hnp.arrays(np.float64, (n, c), elements=st.integers(-3, 3).map(float)))  # ties
    return scores, draw(hnp.arrays(np.int64, (n,), elements=st.integers(0, c - 1)))


@pytest.mark.concept("accuracy")
@given(problem=binary_predictions(), threshold=THRESHOLDS)
@example(problem=(np.array([0.5, 0.7, 0.2]), np.array([0.0, 1.0, 1.0])), threshold=0.5)
def test_binary_accuracy_matches_reference(backend, dtype, problem, threshold):
    prediction, target = (a.astype(dtype) for a in problem)
    check_oracle("accuracy", backend, prediction, target, threshold=threshold)


@pytest.mark.concept("accuracy")
@given(problem=multiclass_predictions())
@example(problem=(np.array([[0.1, 0.9], [0.5, 0.5]]), np.array([1, 1])))  # a tie goes to class 0
def test_multiclass_accuracy_matches_reference(backend, dtype, problem):
    scores, labels = problem
    check_oracle("accuracy", backend, scores.astype(dtype), labels)


@pytest.mark.concept("accuracy")
@pytest.mark.parametrize("edge", ["all right", "all wrong", "at the threshold", "10000 samples"])
def test_accuracy_edge_inputs(backend, dtype, edge):
    prediction, target = {
        "all right": ([0.9, 0.1, 0.6], [1.0, 0.0, 1.0]),
        "all wrong": ([0.1, 0.9], [1.0, 0.0]),
        "at the threshold": ([0.5, 0.5, 0.5], [0.0, 1.0, 0.0]),
        "10000 samples": (np.linspace(0.0, 1.0, 10000), (np.arange(10000) % 3 == 0).astype(float)),
    }[edge]
    check_oracle(
        "accuracy",
        backend,
        np.asarray(prediction, dtype=dtype),
        np.asarray(target, dtype=dtype),
        kind="edge",
    )


@pytest.mark.concept("accuracy")
@given(problem=binary_predictions(), threshold=THRESHOLDS, data=st.data())
def test_accuracy_counts_and_ignores_sample_order(backend, dtype, problem, threshold, data):
    prediction, target = (a.astype(dtype) for a in problem)
    out = run_backend("accuracy", backend, prediction, target, threshold=threshold)
    order = np.asarray(data.draw(st.permutations(range(len(target))), label="order"))
    shuffled = run_backend(
        "accuracy", backend, prediction[order], target[order], threshold=threshold
    )
    n = len(target)
    text = input_text("accuracy", prediction, target, threshold=threshold)
    nearest = round(float(out) * n) / n
    check_close(
        "accuracy",
        backend,
        dtype,
        f"accuracy == k / n for an integer k (n = {n})",
        out,
        nearest,
        allowance_for(
            "accuracy", backend, [prediction, target], np.asarray(nearest), threshold=threshold
        ),
        inputs=text,
    )
    check_relation(
        "accuracy",
        backend,
        dtype,
        "0 <= accuracy <= 1",
        0 <= out <= 1,
        actual=out,
        expected="[0, 1]",
        inputs=text,
    )
    check_relation(
        "accuracy",
        backend,
        dtype,
        "the order of the samples does not matter",
        shuffled == out,
        actual=shuffled,
        expected=out,
        inputs=text,
    )


@pytest.mark.concept("accuracy")
@given(target=hnp.arrays(np.float64, st.integers(1, 40), elements=st.sampled_from([0.0, 1.0])))
def test_a_probability_at_the_threshold_follows_the_declared_rule(backend, dtype, target):
    assume(0 < target.sum() < target.size)
    rule = declared_convention("accuracy", backend, "threshold_rule")
    prediction = np.full(target.shape, 0.5, dtype=dtype)
    out = run_backend("accuracy", backend, prediction, target.astype(dtype), threshold=0.5)
    # correct where the target is the class a probability at the threshold is given: k / n
    expected = np.count_nonzero(target == (rule == "inclusive")) / target.size
    arrays = [prediction, target.astype(dtype)]
    check_close(
        "accuracy",
        backend,
        dtype,
        f"p == threshold predicts class {int(rule == 'inclusive')} ({rule})",
        out,
        expected,
        allowance_for("accuracy", backend, arrays, np.asarray(expected), threshold=0.5),
        inputs=input_text("accuracy", *arrays, threshold=0.5),
    )
