"""Geometric augmentation of (..., H, W) images: flips, quarter turns and resizing
(spec/concepts/<id>.md)."""

from typing import Any

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dlspec import catalogue, reference
from dlspec import strategies as dst
from dlspec.checks import (
    allowance_for,
    as_read_by,
    check_close,
    check_oracle,
    check_relation,
    divergence_at,
    input_text,
    needs_concepts,
    run_backend,
)
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


# ---------------------------------------------------------------- resize

RESIZE_SIDES = st.sampled_from([1, 2, 3, 4, 5, 7, 8])
OUTPUT_SIDES = st.sampled_from([1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 16, 32])
"""Output sides up to 32 from inputs up to 8: no half-pixel nearest tie is decided differently in
float32 there (checked exhaustively; larger sizes are the written-up divergence
``resize-nearest-tie``, spec/concepts/resize.md); 1 and the x16 / 32 extremes included."""


@st.composite
def resize_cases(draw: st.DrawFn) -> tuple[np.ndarray, dict[str, Any]]:
    """An image ``(..., H, W)`` and every parameter of resize, explicit."""
    batch = draw(st.lists(st.sampled_from([1, 2]), max_size=2))
    shape = (*batch, draw(RESIZE_SIDES), draw(RESIZE_SIDES))
    image = draw(dst.arrays_of(shape, st.floats(-1e3, 1e3)))
    method = draw(st.sampled_from(["nearest", "bilinear", "bicubic"]))
    align_corners = method != "nearest" and draw(st.booleans())
    antialias = method != "nearest" and not align_corners and draw(st.booleans())
    size = (draw(OUTPUT_SIDES), draw(OUTPUT_SIDES))
    params = {"size": size, "method": method, "align_corners": align_corners}
    return image, {**params, "antialias": antialias}


RESIZE_EDGES: dict[str, tuple[Any, dict[str, Any]]] = {
    "1 x 1 to 1 x 1": ([[2.5]], {"size": (1, 1)}),
    "1 x 1 to 5 x 3": ([[2.5]], {"size": (5, 3)}),
    "to one pixel": (np.arange(12.0).reshape(3, 4), {"size": (1, 1)}),
    "x16 up": ([[0.0, 1.0], [-2.0, 4.0]], {"size": (32, 32)}),
    "/16 down": (np.sin(np.arange(32.0 * 32).reshape(32, 32)), {"size": (2, 2)}),
    "a step": ([[0.0, 0.0, 1.0, 1.0]] * 2, {"size": (3, 7)}),
    "signed zeros": ([[0.0, -0.0], [-0.0, 0.0]], {"size": (3, 3)}),
    "huge and tiny": ([[1e38, -1e38], [1e-38, 1e-45]], {"size": (3, 3)}),
}
METHOD_SETTINGS = {
    "nearest": {"method": "nearest", "align_corners": False, "antialias": False},
    "bilinear": {"method": "bilinear", "align_corners": False, "antialias": False},
    "bilinear, corners": {"method": "bilinear", "align_corners": True, "antialias": False},
    "bilinear, antialias": {"method": "bilinear", "align_corners": False, "antialias": True},
    "bicubic": {"method": "bicubic", "align_corners": False, "antialias": False},
    "bicubic, corners": {"method": "bicubic", "align_corners": True, "antialias": False},
    "bicubic, antialias": {"method": "bicubic", "align_corners": False, "antialias": True},
}


@pytest.mark.concept("resize")
@given(case=resize_cases())
@example(case=(np.array([[0.0, 1.0], [2.0, 3.0]]), METHOD_SETTINGS["bilinear"] | {"size": (3, 3)}))
def test_resize_matches_reference(backend, dtype, case):
    image, params = case
    check_oracle("resize", backend, image.astype(dtype), **params)


@pytest.mark.concept("resize")
@pytest.mark.parametrize("settings", METHOD_SETTINGS)
@pytest.mark.parametrize("edge", RESIZE_EDGES)
def test_resize_edge_inputs(backend, dtype, edge, settings):
    image, size = RESIZE_EDGES[edge]
    image = np.asarray(image, dtype=dtype)
    check_oracle("resize", backend, image, kind="edge", **size, **METHOD_SETTINGS[settings])


@pytest.mark.concept("resize")
@given(case=resize_cases(), value=st.floats(-1e3, 1e3))
def test_resizing_a_constant_image_gives_the_constant(backend, dtype, case, value):
    image, params = case
    constant = np.full(image.shape, value, dtype=dtype)
    out = run_backend("resize", backend, constant, **params)
    allowed = allowance_for("resize", backend, [constant], out, **params)
    check_close(
        "resize",
        backend,
        dtype,
        "resize(c) == c",
        out.astype(np.float64),
        np.full(out.shape, float(constant.flat[0])),
        allowed,
        inputs=input_text("resize", constant, **params),
    )


@pytest.mark.concept("resize")
@given(case=resize_cases())
def test_resizing_to_the_same_size_gives_the_image(backend, dtype, case):
    """Every kernel interpolates (1 at its centre, 0 at the other pixels), so the identity size
    reads each pixel with weight exactly 1: the image, bit for bit (as the backend reads it,
    where it flushes subnormals and the pixel meets arithmetic)."""
    image, params = case
    image = image.astype(dtype)
    params = {**params, "size": image.shape[-2:]}
    out = run_backend("resize", backend, image, **params)
    check_relation(
        "resize",
        backend,
        dtype,
        "resize(x, x.shape[-2:]) == x",
        _same_pixels(out, image, backend),
        actual=out,
        expected=image,
        inputs=input_text("resize", image, **params),
    )


def _same_pixels(out: np.ndarray, pixels: np.ndarray, backend: Any) -> np.ndarray:
    """``out`` is ``pixels`` bit for bit, each either as stored or as the backend reads it."""
    signs_agree = np.signbit(out) == np.signbit(pixels)
    return (out.shape == pixels.shape) and np.all(
        ((out == pixels) & signs_agree) | (out == as_read_by(backend, pixels))
    )


INTEGERS = st.integers(-1000, 1000).map(float)
"""Integer-valued pixels, whose combinations below are exact in every float dtype."""


@pytest.mark.concept("resize")
@given(case=resize_cases(), other=st.data(), scale=st.sampled_from([-2.0, 0.5, 4.0]))
def test_resize_is_linear_in_the_image(backend, dtype, case, other, scale):
    image, params = case
    image = np.round(image).astype(dtype)
    second = other.draw(dst.arrays_of(image.shape, INTEGERS), label="y").astype(dtype)
    combined = (scale * image + second).astype(dtype)  # exact: integers and a power of 2
    parts = [run_backend("resize", backend, a, **params) for a in (combined, image, second)]
    allowed = sum(
        (abs(scale) if a is image else 1.0) * allowance_for("resize", backend, [a], p, **params)
        for a, p in zip((combined, image, second), parts, strict=True)
    )
    check_close(
        "resize",
        backend,
        dtype,
        f"resize({scale:g} x + y) == {scale:g} resize(x) + resize(y)",
        parts[0].astype(np.float64),
        scale * parts[1].astype(np.float64) + parts[2],
        allowed,
        inputs=input_text("resize", image, **params),
    )


@pytest.mark.concept("resize")
@given(case=resize_cases())
def test_resize_commutes_with_a_transpose(backend, dtype, case):
    """Height and width are resized alike: swapping them first and resizing to the swapped size
    is resizing, then swapping (a mirror would not do for nearest, whose ties go right)."""
    image, params = case
    image = image.astype(dtype)
    height, width = params["size"]
    swapped = np.swapaxes(image, -2, -1).copy()
    swapped_params = {**params, "size": (width, height)}
    # the side that departs may be the swapped one, which the relation does not name: an input
    # where either side lies in a written-up divergence of the backend is left out
    if catalogue.load().divergences_of(backend.name, "resize", dtype):
        assume(divergence_at("resize", backend, [image], params) is None)
        assume(divergence_at("resize", backend, [swapped], swapped_params) is None)
    out = run_backend("resize", backend, image, **params)
    resized = run_backend("resize", backend, swapped, **swapped_params)
    allowed = allowance_for("resize", backend, [image], out, **params)
    check_close(
        "resize",
        backend,
        dtype,
        "resize(x^T, (W, H)) == resize(x, (H, W))^T",
        resized.astype(np.float64),
        np.swapaxes(out, -2, -1).astype(np.float64),
        2 * np.swapaxes(allowed, -2, -1),
        inputs=input_text("resize", image, **params),
    )


@pytest.mark.concept("resize")
@given(image=IMAGES, factor=st.integers(1, 4))
def test_nearest_upsampling_by_an_integer_factor_repeats_each_pixel(backend, dtype, image, factor):
    image = image.astype(dtype)
    params = {
        "size": (factor * image.shape[-2], factor * image.shape[-1]),
        "method": "nearest",
        "align_corners": False,
        "antialias": False,
    }
    out = run_backend("resize", backend, image, **params)
    repeated = np.repeat(np.repeat(image, factor, axis=-2), factor, axis=-1)
    check_relation(
        "resize",
        backend,
        dtype,
        f"nearest x{factor} == each pixel repeated {factor} x {factor}",
        _same_pixels(out, repeated, backend),
        actual=out,
        expected=repeated,
        inputs=input_text("resize", image, **params),
    )


BAD_RESIZE = {
    "size of three": ({"size": (2, 2, 2)}, "size"),
    "size zero": ({"size": (0, 2)}, "size"),
    "unknown method": ({"size": (2, 2), "method": "lanczos3"}, "method"),
    "nearest with corners": (
        {"size": (2, 2), "method": "nearest", "align_corners": True},
        "align_corners",
    ),
    "antialias with corners": (
        {"size": (2, 2), "align_corners": True, "antialias": True},
        "antialias",
    ),
}


@pytest.mark.meta
@pytest.mark.parametrize("bad", BAD_RESIZE)
def test_reference_resize_rejects_bad_input_naming_the_argument(bad):
    params, argument = BAD_RESIZE[bad]
    with pytest.raises(reference.DomainError, match=f"^resize: {argument}"):
        reference.resize([[1.0, 2.0], [3.0, 4.0]], **params)


@pytest.mark.meta
def test_reference_resize_rejects_a_nan_pixel_and_a_one_dimensional_image():
    with pytest.raises(reference.DomainError, match=r"^resize: image must not contain NaN"):
        reference.resize([[1.0, float("nan")]], size=(2, 2))
    with pytest.raises(reference.DomainError, match=r"^resize: image must have at least 2"):
        reference.resize([1.0, 2.0], size=(2, 2))
