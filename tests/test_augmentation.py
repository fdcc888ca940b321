"""Geometric augmentation of (..., H, W) images (spec/concepts/<id>.md)."""

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlspec import strategies as dst
from dlspec.checks import check_oracle, check_relation, input_text, needs_concepts, run_backend
from dlspec.plugin import each_concept

IMAGES = hnp.arrays(
    np.float64,
    dst.shapes(min_dims=2, max_dims=4, max_side=7),
    elements=st.floats(-1e3, 1e3, allow_nan=False),
)
FLIPS = ("horizontal_flip", "vertical_flip")
EDGES = {
    "1 x 1": [[5.0]],
    "one row": [[1.0, 2.0, 3.0]],
    "one column": [[1.0], [2.0], [3.0]],
    "batch of RGB images": np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5),
    "signed zeros": [[0.0, -0.0], [-0.0, 0.0]],
}


@pytest.mark.concept("horizontal_flip")
@given(image=IMAGES)
@example(image=np.array([[1.0, 2.0], [3.0, 4.0]]))  # [[2, 1], [4, 3]]
def test_horizontal_flip_matches_reference(backend, dtype, image):
    check_oracle("horizontal_flip", backend, image.astype(dtype))


@pytest.mark.concept("vertical_flip")
@given(image=IMAGES)
def test_vertical_flip_matches_reference(backend, dtype, image):
    check_oracle("vertical_flip", backend, image.astype(dtype))


@pytest.mark.concept("rot90")
@given(image=IMAGES, k=st.integers(-5, 5))
@example(image=np.array([[1.0, 2.0], [3.0, 4.0]]), k=1)  # [[2, 4], [1, 3]]
def test_rot90_matches_reference(backend, dtype, image, k):
    check_oracle("rot90", backend, image.astype(dtype), k=k)


@each_concept("horizontal_flip", "vertical_flip", "rot90")
@pytest.mark.parametrize("edge", EDGES)
def test_augmentation_edge_inputs(backend, dtype, concept_id, edge):
    check_oracle(concept_id, backend, np.asarray(EDGES[edge], dtype=dtype), kind="edge")


@each_concept(*FLIPS)
@given(image=IMAGES)
def test_flips_are_involutions_that_keep_the_pixels(backend, dtype, concept_id, image):
    image = image.astype(dtype)
    once = run_backend(concept_id, backend, image)
    twice = run_backend(concept_id, backend, once)
    text = input_text(concept_id, image)
    check_relation(
        concept_id,
        backend,
        dtype,
        "flip(flip(x)) == x",
        np.array_equal(twice, image),
        actual=twice,
        expected=image,
        inputs=text,
    )
    check_relation(
        concept_id,
        backend,
        dtype,
        "the multiset of pixel values is kept",
        np.array_equal(np.sort(once, axis=None), np.sort(image, axis=None)),
        actual=np.sort(once, axis=None),
        expected=np.sort(image, axis=None),
        inputs=text,
    )


@pytest.mark.concept("rot90")
@given(image=IMAGES, k=st.integers(-3, 3))
def test_rot90_has_order_4_and_composes(backend, dtype, image, k):
    image = image.astype(dtype)
    turned = image
    for _ in range(4):
        turned = run_backend("rot90", backend, turned, k=1)
    text = input_text("rot90", image, k=k)
    check_relation(
        "rot90",
        backend,
        dtype,
        "rot90^4 == identity",
        np.array_equal(turned, image),
        actual=turned,
        expected=image,
        inputs=text,
    )
    direct = run_backend("rot90", backend, image, k=k)
    stepwise = image
    for _ in range(k % 4):
        stepwise = run_backend("rot90", backend, stepwise, k=1)
    check_relation(
        "rot90",
        backend,
        dtype,
        f"rot90(x, {k}) == rot90 applied {k % 4} times",
        np.array_equal(direct, stepwise),
        actual=direct,
        expected=stepwise,
        inputs=text,
    )


@pytest.mark.concept("rot90")
@given(image=IMAGES)
def test_a_half_turn_is_both_flips(backend, dtype, image):
    needs_concepts(backend, *FLIPS)
    image = image.astype(dtype)
    half = run_backend("rot90", backend, image, k=2)
    flipped = run_backend("vertical_flip", backend, run_backend("horizontal_flip", backend, image))
    check_relation(
        "rot90",
        backend,
        dtype,
        "rot90(x, 2) == vflip(hflip(x))",
        np.array_equal(half, flipped),
        actual=half,
        expected=flipped,
        inputs=input_text("rot90", image, k=2),
    )


@each_concept("horizontal_flip", "vertical_flip", "rot90")
@given(
    batch=hnp.arrays(
        np.float64,
        st.tuples(st.integers(2, 5), st.integers(1, 3), st.integers(1, 5), st.integers(1, 5)),
        elements=st.floats(-10.0, 10.0),
    )
)
def test_a_batch_is_augmented_image_by_image_so_labels_stay_aligned(
    backend, dtype, concept_id, batch
):
    """Sample i of the augmented batch is the augmentation of sample i: the label at index i
    still describes it."""
    batch = batch.astype(dtype)
    whole = run_backend(concept_id, backend, batch)
    one_by_one = np.stack([run_backend(concept_id, backend, image.copy()) for image in batch])
    check_relation(
        concept_id,
        backend,
        dtype,
        "augment(batch)[i] == augment(batch[i])",
        np.array_equal(whole, one_by_one),
        actual=whole,
        expected=one_by_one,
        inputs=input_text(concept_id, batch),
    )
