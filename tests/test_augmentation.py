"""Augmentation of images: flips, quarter turns, resizing, rotation, shear and sampling at points of
(..., H, W) images, grayscale of (..., 3, H, W) ones, per-channel normalisation, contrast and
brightness of (..., C, H, W) ones (spec/concepts/<id>.md)."""

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
    declared_convention,
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


PIXELS = st.floats(-1e3, 1e3)
"""A real-valued image's pixels."""
LEVELS = st.integers(0, 255).map(float)
"""A uint8 image's levels, drawn as floats (the tests cast an image to their dtype)."""


@st.composite
def resize_cases(
    draw: st.DrawFn, pixels: st.SearchStrategy[float] = PIXELS
) -> tuple[np.ndarray, dict[str, Any]]:
    """An image ``(..., H, W)`` and every parameter of resize, explicit."""
    batch = draw(st.lists(st.sampled_from([1, 2]), max_size=2))
    shape = (*batch, draw(RESIZE_SIDES), draw(RESIZE_SIDES))
    image = draw(dst.arrays_of(shape, pixels))
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


def check_linear(
    concept_id: str,
    backend: Any,
    dtype: str,
    image: np.ndarray,
    other: st.DataObject,
    scale: float,
    **params: Any,
) -> None:
    """``f(a x + y) == a f(x) + f(y)`` on integer images ``x`` (rounded) and ``y`` (drawn), where
    ``a x + y`` is exact; within the sum of the three results' allowances."""
    image = np.round(image).astype(dtype)
    second = other.draw(dst.arrays_of(image.shape, INTEGERS), label="y").astype(dtype)
    combined = (scale * image + second).astype(dtype)  # exact: integers and a power of 2
    parts = [run_backend(concept_id, backend, a, **params) for a in (combined, image, second)]
    allowed = sum(
        (abs(scale) if a is image else 1.0) * allowance_for(concept_id, backend, [a], p, **params)
        for a, p in zip((combined, image, second), parts, strict=True)
    )
    check_close(
        concept_id,
        backend,
        dtype,
        f"{concept_id}({scale:g} x + y) == {scale:g} {concept_id}(x) + {concept_id}(y)",
        parts[0].astype(np.float64),
        scale * parts[1].astype(np.float64) + parts[2],
        allowed,
        inputs=input_text(concept_id, image, **params),
    )


SCALES = st.sampled_from([-2.0, 0.5, 4.0])


@pytest.mark.concept("resize")
@given(case=resize_cases(), other=st.data(), scale=SCALES)
def test_resize_is_linear_in_the_image(backend, dtype, case, other, scale):
    image, params = case
    check_linear("resize", backend, dtype, image, other, scale, **params)


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


# ---------------------------------------------------------------- rotate

ROTATE_SIDES = st.sampled_from([1, 2, 3, 4, 5, 7])
ANGLES = st.one_of(
    st.sampled_from([0.0, 90.0, 180.0, 270.0, 360.0, -90.0, 30.0, 45.0, 1e-6, -1e-3, 720.0]),
    st.floats(-360.0, 360.0),
)
"""Quarter and whole turns, angles whose sine is rational (30: ties of nearest), tiny angles
and every angle of a turn either way; 720 (two turns) beyond Keras' factor (its declared
limit)."""


FILLS = st.sampled_from([0.0, 0.0, 1.5, -250.0])
"""A real-valued image's fills."""
LEVEL_FILLS = st.sampled_from([0.0, 0.0, 255.0, 128.0])
"""A uint8 image's fills: levels."""


def _resampling_case(
    draw: st.DrawFn,
    own: dict[str, st.SearchStrategy],
    square: bool = False,
    pixels: st.SearchStrategy[float] = PIXELS,
    fills: st.SearchStrategy[float] = FILLS,
) -> tuple[np.ndarray, dict[str, Any]]:
    """An image ``(..., H, W)``, the concept's ``own`` parameters, and the method and fill every
    resampling takes, all explicit."""
    batch = draw(st.lists(st.sampled_from([1, 2]), max_size=2))
    height = draw(ROTATE_SIDES)
    width = height if square else draw(ROTATE_SIDES)
    image = draw(dst.arrays_of((*batch, height, width), pixels))
    params = {name: draw(strategy) for name, strategy in own.items()}
    params["method"] = draw(st.sampled_from(["nearest", "bilinear"]))
    params["fill"] = draw(fills)
    return image, params


@st.composite
def rotate_cases(
    draw: st.DrawFn, square: bool = False, **image: st.SearchStrategy[float]
) -> tuple[np.ndarray, dict[str, Any]]:
    """An image ``(..., H, W)`` and every parameter of rotate, explicit (``image``: its
    ``pixels`` and ``fills``, if not real-valued)."""
    return _resampling_case(draw, {"angle": ANGLES}, square, **image)


ROTATE_EDGES: dict[str, tuple[Any, dict[str, Any]]] = {
    "1 x 1 by 45": ([[2.5]], {"angle": 45.0}),
    "one row by 90": ([[1.0, 2.0, 3.0, 4.0]], {"angle": 90.0}),
    "non-square by 90": (np.arange(12.0).reshape(3, 4), {"angle": 90.0}),
    "by 180": (np.arange(12.0).reshape(3, 4), {"angle": 180.0}),
    "by 360": (np.arange(12.0).reshape(3, 4), {"angle": 360.0}),
    "by a tiny angle": (np.arange(16.0).reshape(4, 4), {"angle": 1e-7}),
    "by 30, ties of nearest": (np.arange(25.0).reshape(5, 5), {"angle": 30.0}),
    "a step by 45": ([[0.0, 0.0, 1.0, 1.0]] * 4, {"angle": 45.0}),
    "16 x 16 by 10": (np.sin(np.arange(256.0)).reshape(16, 16), {"angle": 10.0}),
    "huge and tiny": ([[1e38, -1e38], [1e-38, 1e-45]], {"angle": 20.0}),
    "signed zeros": ([[0.0, -0.0], [-0.0, 0.0]], {"angle": 90.0}),
}
ROTATE_SETTINGS = {
    "nearest": {"method": "nearest", "fill": 0.0},
    "bilinear": {"method": "bilinear", "fill": 0.0},
    "bilinear, fill": {"method": "bilinear", "fill": -3.0},
}


@pytest.mark.concept("rotate")
@given(case=rotate_cases())
@example(case=(np.arange(20.0).reshape(4, 5), {"angle": 30.0, "method": "bilinear", "fill": 0.0}))
def test_rotate_matches_reference(backend, dtype, case):
    image, params = case
    check_oracle("rotate", backend, image.astype(dtype), **params)


def _resampled_close(
    concept: str,
    backend: Any,
    dtype: str,
    relation: str,
    out: np.ndarray,
    expected: np.ndarray,
    allowed: np.ndarray,
    image: np.ndarray,
    params: dict[str, Any],
) -> None:
    check_close(
        concept,
        backend,
        dtype,
        relation,
        out.astype(np.float64),
        expected.astype(np.float64),
        allowed,
        inputs=input_text(concept, image, **params),
    )


@pytest.mark.concept("rotate")
@given(case=rotate_cases(), turns=st.sampled_from([0, 1, -1]))
def test_rotating_by_whole_turns_gives_the_image(backend, dtype, case, turns):
    """A whole turn samples every pixel at its own centre: the image, within what the source
    point's rounding moves it (exactly on the reference)."""
    image, params = case
    image = image.astype(dtype)
    params = {**params, "angle": 360.0 * turns}
    out = run_backend("rotate", backend, image, **params)
    allowed = allowance_for("rotate", backend, [image], image.astype(np.float64), **params)
    _resampled_close(
        "rotate",
        backend,
        dtype,
        f"rotate(x, {360 * turns}) == x",
        out,
        image,
        allowed,
        image,
        params,
    )


@pytest.mark.concept("rotate")
@given(case=rotate_cases(square=True), turns=st.integers(-2, 2))
def test_rotating_a_square_by_quarter_turns_is_rot90(backend, dtype, case, turns):
    """On a square image a quarter turn about the centre maps pixel centres onto pixel centres:
    ``rot90`` (the same direction: counterclockwise as displayed)."""
    needs_concepts(backend, "rot90")
    image, params = case
    image = image.astype(dtype)
    params = {**params, "angle": 90.0 * turns}
    out = run_backend("rotate", backend, image, **params)
    turned = run_backend("rot90", backend, image, k=turns)
    allowed = allowance_for("rotate", backend, [image], turned.astype(np.float64), **params)
    relation = f"rotate(x, {90 * turns}) == rot90(x, {turns})"
    _resampled_close("rotate", backend, dtype, relation, out, turned, allowed, image, params)


@pytest.mark.concept("rotate")
@given(case=rotate_cases())
def test_a_half_turn_rotation_is_both_flips(backend, dtype, case):
    """About the centre, 180 degrees sends ``(i, j)`` to ``(H - 1 - i, W - 1 - j)`` for any
    shape."""
    needs_concepts(backend, *FLIPS)
    image, params = case
    image = image.astype(dtype)
    params = {**params, "angle": 180.0}
    out = run_backend("rotate", backend, image, **params)
    flipped = run_backend("vertical_flip", backend, run_backend("horizontal_flip", backend, image))
    allowed = allowance_for("rotate", backend, [image], flipped.astype(np.float64), **params)
    _resampled_close(
        "rotate",
        backend,
        dtype,
        "rotate(x, 180) == vflip(hflip(x))",
        out,
        flipped,
        allowed,
        image,
        params,
    )


@pytest.mark.concept("rotate")
@given(case=rotate_cases(square=True))
def test_rotation_composes_with_a_quarter_turn(backend, dtype, case):
    """Rotations about one centre compose: turning a square image a quarter first and then by
    the angle is turning it by the angle plus 90 degrees (nearest and bilinear interpolation
    are symmetric under the square's quarter turns)."""
    needs_concepts(backend, "rot90")
    image, params = case
    image = image.astype(dtype)
    angle = params["angle"]
    assume(-360 <= angle + 90 <= 360)
    turned = run_backend("rot90", backend, image, k=1)
    then_rotated = run_backend("rotate", backend, turned, **params)
    summed = {**params, "angle": angle + 90.0}
    direct = run_backend("rotate", backend, image, **summed)
    allowed = allowance_for("rotate", backend, [turned], then_rotated, **params) + allowance_for(
        "rotate", backend, [image], direct, **summed
    )
    relation = f"rotate(rot90(x), {angle!r}) == rotate(x, {angle!r} + 90)"
    _resampled_close(
        "rotate", backend, dtype, relation, then_rotated, direct, allowed, image, params
    )


@pytest.mark.meta
def test_reference_rotate_rejects_non_finite_pixels_and_a_one_dimensional_image():
    with pytest.raises(reference.DomainError, match=r"^rotate: image=.* must be finite"):
        reference.rotate([[1.0, float("inf")]], angle=10.0)
    with pytest.raises(reference.DomainError, match=r"^rotate: image must not contain NaN"):
        reference.rotate([[1.0, float("nan")]], angle=10.0)
    with pytest.raises(reference.DomainError, match=r"^rotate: image must have at least 2"):
        reference.rotate([1.0, 2.0], angle=10.0)


# ---------------------------------------------------------------- shear

SHEARS = st.one_of(
    st.sampled_from([0.0, 0.0, 0.5, -0.5, 1.0, -1.0, 0.25, 2.0, 1e-7]),
    st.floats(-2.0, 2.0),
)
"""No shear, halves (ties of nearest on odd offsets), whole ones (pixel centres onto pixel
centres), a tiny one and every factor up to 2 either way."""


@st.composite
def shear_cases(
    draw: st.DrawFn, **image: st.SearchStrategy[float]
) -> tuple[np.ndarray, dict[str, Any]]:
    """An image ``(..., H, W)`` and every parameter of shear, explicit (``image`` as for
    :func:`rotate_cases`)."""
    return _resampling_case(draw, {"shear_x": SHEARS, "shear_y": SHEARS}, **image)


SHEAR_EDGES: dict[str, tuple[Any, dict[str, Any]]] = {
    "1 x 1": ([[2.5]], {"shear_x": 0.5}),
    "one row, vertically": ([[1.0, 2.0, 3.0, 4.0]], {"shear_y": 1.0}),
    "one column, horizontally": ([[1.0], [2.0], [3.0]], {"shear_x": 1.0}),
    "whole pixels, both ways": (np.arange(12.0).reshape(3, 4), {"shear_x": 1.0, "shear_y": -1.0}),
    "halves, ties of nearest": (np.arange(25.0).reshape(5, 5), {"shear_x": 0.5}),
    "a tiny shear": (np.arange(16.0).reshape(4, 4), {"shear_x": 1e-7, "shear_y": -1e-7}),
    "a steep shear": (np.arange(20.0).reshape(4, 5), {"shear_x": 16.0}),
    "16 x 16": (np.sin(np.arange(256.0)).reshape(16, 16), {"shear_x": 0.3, "shear_y": 0.2}),
    "huge and tiny": ([[1e38, -1e38], [1e-38, 1e-45]], {"shear_y": 0.75}),
}


@pytest.mark.concept("shear")
@given(case=shear_cases())
@example(
    case=(
        np.arange(12.0).reshape(3, 4),
        {"shear_x": 0.5, "shear_y": 0.0, "method": "bilinear", "fill": 0.0},
    )
)
def test_shear_matches_reference(backend, dtype, case):
    image, params = case
    check_oracle("shear", backend, image.astype(dtype), **params)


RESAMPLING_EDGES = {"rotate": ROTATE_EDGES, "shear": SHEAR_EDGES}
"""Each resampling concept's edge inputs: an image and the concept's own parameters."""


@pytest.mark.parametrize("settings", ROTATE_SETTINGS)
@pytest.mark.parametrize(
    ("concept_id", "edge"),
    [
        pytest.param(concept, edge, marks=pytest.mark.concept(concept), id=f"{concept}-{edge}")
        for concept, edges in RESAMPLING_EDGES.items()
        for edge in edges
    ],
)
def test_resampling_edge_inputs(backend, dtype, concept_id, edge, settings):
    image, own = RESAMPLING_EDGES[concept_id][edge]
    image = np.asarray(image, dtype=dtype)
    check_oracle(concept_id, backend, image, kind="edge", **own, **ROTATE_SETTINGS[settings])


@pytest.mark.concept("shear")
@given(case=shear_cases())
def test_no_shear_gives_the_image(backend, dtype, case):
    """Factors of 0 sample every pixel at its own centre: the image."""
    image, params = case
    image = image.astype(dtype)
    params = {**params, "shear_x": 0.0, "shear_y": 0.0}
    out = run_backend("shear", backend, image, **params)
    allowed = allowance_for("shear", backend, [image], image.astype(np.float64), **params)
    _resampled_close(
        "shear", backend, dtype, "shear(x, 0, 0) == x", out, image, allowed, image, params
    )


@pytest.mark.concept("shear")
@given(case=shear_cases())
def test_a_shear_keeps_its_centre_line(backend, dtype, case):
    """A horizontal shear slides each row by ``-s_x (i - c_r)``: the centre row of an image of
    odd height stays where it is (a shear about the corner moves it); the centre column under a
    vertical shear likewise."""
    image, params = case
    image = image.astype(dtype)
    height, width = image.shape[-2:]
    for factors, line, size in [
        (
            {"shear_x": params["shear_x"], "shear_y": 0.0},
            (Ellipsis, height // 2, slice(None)),
            height,
        ),
        (
            {"shear_x": 0.0, "shear_y": params["shear_y"]},
            (Ellipsis, slice(None), width // 2),
            width,
        ),
    ]:
        if size % 2 == 0:
            continue
        sheared = {**params, **factors}
        out = run_backend("shear", backend, image, **sheared)
        allowed = allowance_for("shear", backend, [image], image.astype(np.float64), **sheared)
        _resampled_close(
            "shear",
            backend,
            dtype,
            "shear(x)[centre line] == x[centre line]",
            out[line],
            image[line],
            allowed[line],
            image,
            sheared,
        )


@pytest.mark.concept("shear")
@given(case=shear_cases())
def test_shear_commutes_with_a_transpose(backend, dtype, case):
    """Transposing swaps the axes: ``shear(x^T, s_x = b, s_y = a)^T == shear(x, s_x = a, s_y =
    b)`` (nearest and bilinear treat both axes alike)."""
    image, params = case
    image = image.astype(dtype)
    swapped = {**params, "shear_x": params["shear_y"], "shear_y": params["shear_x"]}
    transposed = np.ascontiguousarray(np.swapaxes(image, -1, -2))
    direct = run_backend("shear", backend, image, **params)
    via = np.swapaxes(run_backend("shear", backend, transposed, **swapped), -1, -2)
    allowed = allowance_for("shear", backend, [image], direct, **params) + np.swapaxes(
        allowance_for("shear", backend, [transposed], np.swapaxes(via, -1, -2), **swapped), -1, -2
    )
    relation = "shear(x^T, s_y, s_x)^T == shear(x, s_x, s_y)"
    _resampled_close("shear", backend, dtype, relation, via, direct, allowed, image, params)


RESAMPLINGS = {"rotate": rotate_cases, "shear": shear_cases}
"""Each resampling concept's drawn cases: an image and every parameter, explicit."""


@each_concept(*RESAMPLINGS)
@given(data=st.data(), value=st.floats(-1e3, 1e3))
def test_a_resampled_constant_stays_constant_inside(backend, dtype, concept_id, data, value):
    """Where every pixel a sample reads lies inside the image (the reference's taps), a
    constant image stays that constant; the fill shows only outside."""
    image, params = data.draw(RESAMPLINGS[concept_id](), label="case")
    constant = np.full(image.shape, value, dtype=dtype)
    out = run_backend(concept_id, backend, constant, **params)
    arguments = getattr(reference.augmentation, f"{concept_id}_arguments")
    _, taps = arguments(concept_id, np.zeros(image.shape[-2:]).tolist(), **params)
    inside = np.array([all(k is not None for k, _ in t) for t in taps]).reshape(image.shape[-2:])
    assume(inside.any())
    c = float(constant.flat[0])
    expected = np.full(out.shape, c)
    allowed = allowance_for(concept_id, backend, [constant], expected, **params)
    _resampled_close(
        concept_id,
        backend,
        dtype,
        f"{concept_id}(c)[inside] == c",
        np.where(inside, out, c),
        expected,
        allowed,
        constant,
        params,
    )


BAD_RESAMPLING = {
    "rotate, angle NaN": ("rotate", {"angle": float("nan")}, "angle"),
    "rotate, angle infinite": ("rotate", {"angle": float("inf")}, "angle"),
    "rotate, angle a bool": ("rotate", {"angle": True}, "angle"),
    "rotate, unknown method": ("rotate", {"angle": 10.0, "method": "bicubic"}, "method"),
    "rotate, fill NaN": ("rotate", {"angle": 10.0, "fill": float("nan")}, "fill"),
    "shear, shear_x NaN": ("shear", {"shear_x": float("nan")}, "shear_x"),
    "shear, shear_y infinite": ("shear", {"shear_y": float("inf")}, "shear_y"),
    "shear, shear_x a bool": ("shear", {"shear_x": True}, "shear_x"),
    "shear, unknown method": ("shear", {"shear_x": 0.5, "method": "bicubic"}, "method"),
    "shear, fill NaN": ("shear", {"shear_x": 0.5, "fill": float("nan")}, "fill"),
}


@pytest.mark.meta
@pytest.mark.parametrize("bad", BAD_RESAMPLING)
def test_reference_resampling_rejects_bad_input_naming_the_argument(bad):
    concept, params, argument = BAD_RESAMPLING[bad]
    with pytest.raises(reference.DomainError, match=f"^{concept}: {argument}"):
        getattr(reference, concept)([[1.0, 2.0], [3.0, 4.0]], **params)


# ---------------------------------------------------------------- grid_sample


@st.composite
def grid_sample_cases(
    draw: st.DrawFn,
    pixels: st.SearchStrategy[float] = PIXELS,
    fills: st.SearchStrategy[float] = FILLS,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """An image ``(..., H, W)``, its points ``(..., P, 2)`` and the fill, explicit. Each
    coordinate is a pixel centre, a pixel boundary, a point off the image, or any point from a
    pixel and a half beyond one side to as far beyond the other."""
    batch = draw(st.lists(st.sampled_from([1, 2]), max_size=2))
    height, width = draw(ROTATE_SIDES), draw(ROTATE_SIDES)
    image = draw(dst.arrays_of((*batch, height, width), pixels))
    count = draw(st.integers(1, 6))

    def coordinate(n: int) -> st.SearchStrategy:
        special = [0.0, 0.5, -0.5, n - 1.0, n - 0.5, -1.0, float(n), n / 2]
        return st.one_of(st.sampled_from(special), st.floats(-1.5, n + 0.5))

    pair = st.tuples(coordinate(height), coordinate(width))
    points = np.array(
        draw(
            st.lists(
                pair, min_size=count * int(np.prod(batch)), max_size=count * int(np.prod(batch))
            )
        )
    ).reshape(*batch, count, 2)
    return image, points, {"fill": draw(fills)}


@pytest.mark.concept("grid_sample")
@given(case=grid_sample_cases())
@example(case=(np.arange(12.0).reshape(3, 4), np.array([[0.5, 1.25], [2.5, -0.5]]), {"fill": 0.0}))
def test_grid_sample_matches_reference(backend, dtype, case):
    image, points, params = case
    check_oracle("grid_sample", backend, image.astype(dtype), points.astype(dtype), **params)


GRID_SAMPLE_EDGES: dict[str, tuple[Any, Any]] = {
    "1 x 1": ([[2.5]], [[0.0, 0.0], [0.25, -0.25], [-0.5, 0.5]]),
    "pixel centres": (np.arange(12.0).reshape(3, 4), [[0.0, 0.0], [2.0, 3.0], [1.0, 2.0]]),
    "halfway between pixels": (np.arange(12.0).reshape(3, 4), [[0.5, 0.5], [1.5, 2.5]]),
    "the border, half a pixel out": (np.arange(12.0).reshape(3, 4), [[-0.5, 1.0], [1.0, 3.5]]),
    "far off the image": (np.arange(4.0).reshape(2, 2), [[-1e4, 0.0], [0.5, 1e4], [1e4, 1e4]]),
    "tiny offsets": (np.arange(16.0).reshape(4, 4), [[1e-30, 2.0], [3.0, -1e-30], [1e-45, 0.0]]),
    "huge and tiny pixels": ([[1e38, -1e38], [1e-38, 1e-45]], [[0.5, 0.5], [0.25, 0.75]]),
    "per image": (np.arange(8.0).reshape(2, 2, 2), [[[0.5, 0.5]], [[0.0, 1.0]]]),
    # seed sweep (thorough, seed 3): JAX float64 flushed the weight 0.5 x 2.2e-308 to 0 before
    # the pixel 35 multiplied it, 3.9e-307 lost; now the underflow model's amplification
    "a weight below the smallest normal": (
        [[0.0, 0.0], [0.0, 35.0]],
        [[0.5, 2.2250738585072014e-308]],
    ),
}
"""Each an image and its points."""


@pytest.mark.parametrize("fill", [0.0, -3.0])
@pytest.mark.parametrize(
    "edge", [pytest.param(e, marks=pytest.mark.concept("grid_sample")) for e in GRID_SAMPLE_EDGES]
)
def test_grid_sample_edge_inputs(backend, dtype, edge, fill):
    image, points = (np.asarray(a, dtype=dtype) for a in GRID_SAMPLE_EDGES[edge])
    check_oracle("grid_sample", backend, image, points, kind="edge", fill=fill)


@pytest.mark.concept("grid_sample")
@given(case=grid_sample_cases())
def test_grid_sample_at_pixel_centres_gives_the_pixels(backend, dtype, case):
    """At a pixel's centre (integer coordinates on the image) the sample is that pixel: every
    other weight is 0 (in exact arithmetic; a backend's rounded point may lend a neighbour a
    weight within its error, which the allowance covers)."""
    image, points, params = case
    image = image.astype(dtype)
    height, width = image.shape[-2:]
    centres = np.stack(
        [
            np.clip(np.round(points[..., 0]), 0, height - 1),
            np.clip(np.round(points[..., 1]), 0, width - 1),
        ],
        axis=-1,
    ).astype(dtype)
    out = run_backend("grid_sample", backend, image, centres, **params)
    rows, columns = centres[..., 0].astype(np.intp), centres[..., 1].astype(np.intp)
    expected = np.take_along_axis(
        image.reshape(*image.shape[:-2], -1), rows * width + columns, axis=-1
    ).astype(np.float64)
    allowed = allowance_for("grid_sample", backend, [image, centres], expected, **params)
    check_close(
        "grid_sample",
        backend,
        dtype,
        "grid_sample(x, (i, j)) == x[i, j]",
        out.astype(np.float64),
        expected,
        allowed,
        inputs=input_text("grid_sample", image, centres, **params),
    )


@pytest.mark.concept("grid_sample")
@given(case=grid_sample_cases())
def test_grid_sample_commutes_with_a_transpose(backend, dtype, case):
    """Transposing the image and swapping each point's coordinates reads the same samples:
    bilinear treats both axes alike, and a backend that mixes up (x, y) and (row, column)
    order is caught."""
    image, points, params = case
    image, points = image.astype(dtype), points.astype(dtype)
    direct = run_backend("grid_sample", backend, image, points, **params)
    transposed = np.ascontiguousarray(np.swapaxes(image, -1, -2))
    swapped = np.ascontiguousarray(points[..., ::-1])
    via = run_backend("grid_sample", backend, transposed, swapped, **params)
    allowed = allowance_for("grid_sample", backend, [image, points], direct, **params)
    allowed = allowed + allowance_for("grid_sample", backend, [transposed, swapped], via, **params)
    check_close(
        "grid_sample",
        backend,
        dtype,
        "grid_sample(x^T, (q, r)) == grid_sample(x, (r, q))",
        via.astype(np.float64),
        direct.astype(np.float64),
        allowed,
        inputs=input_text("grid_sample", image, points, **params),
    )


@pytest.mark.concept("grid_sample_grad")
@given(
    case=grid_sample_cases(),
    slopes=st.tuples(st.sampled_from([0.0, 1.0, -2.5]), st.sampled_from([0.0, 0.5, 3.0])),
)
def test_grid_sample_gradient_on_a_ramp_is_its_slope(backend, dtype, case, slopes):
    """On a ramp ``x[i, j] = a i + b j`` the interpolant is the ramp itself wherever the
    point's cell lies on the image: its derivative in the point is ``(g a, g b)``, whatever
    the cell (so on a pixel boundary too)."""
    image, points, params = case
    height, width = image.shape[-2:]
    i, j = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    ramp = np.broadcast_to(slopes[0] * i + slopes[1] * j, image.shape).astype(dtype)
    points = points.astype(dtype)
    low = np.floor(points.astype(np.float64))
    # the cell on the image, with a margin of a pixel's hundredth for a backend's rounded point
    inside = np.all((low >= 0) & (low + 1 <= np.array([height - 1, width - 1])), axis=-1)
    inside &= np.all(np.abs(points - np.round(points)) > 1e-2, axis=-1) | np.all(
        (np.round(points) >= 1) & (np.round(points) <= np.array([height - 2, width - 2])), axis=-1
    )
    assume(inside.any())
    cotangent = np.ones(points.shape[:-1], dtype=dtype)
    gradient = run_backend("grid_sample_grad", backend, ramp, points, cotangent, **params)
    expected = np.where(inside[..., None], np.array(slopes), 0.0) * cotangent[..., None]
    allowed = allowance_for(
        "grid_sample_grad", backend, [ramp, points, cotangent], expected, **params
    )
    check_close(
        "grid_sample_grad",
        backend,
        dtype,
        "d grid_sample(a i + b j, p)/dp == (a, b) where p's cell is on the image",
        np.where(inside[..., None], gradient.astype(np.float64), 0.0),
        expected,
        allowed,
        inputs=input_text("grid_sample_grad", ramp, points, cotangent, **params),
    )


BAD_GRID_SAMPLE = {
    "points of three coordinates": ([[0.0, 0.0, 0.0]], {}, "points"),
    "points of another batch": ([[[0.0, 0.0]], [[1.0, 1.0]]], {}, "points"),
    "a NaN point": ([[float("nan"), 0.0]], {}, "points"),
    "an infinite point": ([[0.5, float("inf")]], {}, "points"),
    "one coordinate": ([0.5, 0.5], {}, "points"),
    "fill NaN": ([[0.5, 0.5]], {"fill": float("nan")}, "fill"),
}


@pytest.mark.meta
@pytest.mark.parametrize("bad", BAD_GRID_SAMPLE)
def test_reference_grid_sample_rejects_bad_input_naming_the_argument(bad):
    points, params, argument = BAD_GRID_SAMPLE[bad]
    with pytest.raises(reference.DomainError, match=f"^grid_sample: {argument}"):
        reference.grid_sample([[1.0, 2.0], [3.0, 4.0]], points, **params)


# ---------------------------------------------------------------- integer images
# uint8 images (the concepts' integer dtype): their results are levels, the exact value
# saturated to [0, 255] and rounded to a nearest level (spec/concepts/resize.md, "Integer
# images"). The points of grid_sample stay float32: coordinates, not levels.

LEVEL_IMAGES = dst.shapes(min_dims=2, max_dims=4, max_side=7).flatmap(
    lambda shape: dst.arrays_of(shape, LEVELS)
)


@each_concept(*FLIPS)
@pytest.mark.integer_images
@given(image=LEVEL_IMAGES)
def test_flips_of_integer_images_match_reference(backend, dtype, concept_id, image):
    check_oracle(concept_id, backend, image.astype(dtype))


@pytest.mark.concept("rot90")
@pytest.mark.integer_images
@given(image=LEVEL_IMAGES, k=st.integers(-5, 5))
def test_rot90_of_integer_images_matches_reference(backend, dtype, image, k):
    check_oracle("rot90", backend, image.astype(dtype), k=k)


LEVEL_CASES = {
    "resize": resize_cases(pixels=LEVELS),
    "rotate": rotate_cases(pixels=LEVELS, fills=LEVEL_FILLS),
    "shear": shear_cases(pixels=LEVELS, fills=LEVEL_FILLS),
}
"""Each resampling concept's cases on uint8 levels, with level fills."""


@each_concept(*LEVEL_CASES)
@pytest.mark.integer_images
@given(data=st.data())
def test_resampling_of_integer_images_matches_reference(backend, dtype, concept_id, data):
    image, params = data.draw(LEVEL_CASES[concept_id], label="case")
    check_oracle(concept_id, backend, image.astype(dtype), **params)


@pytest.mark.concept("grid_sample")
@pytest.mark.integer_images
@given(case=grid_sample_cases(pixels=LEVELS, fills=LEVEL_FILLS))
def test_grid_sample_of_integer_images_matches_reference(backend, dtype, case):
    image, points, params = case
    check_oracle("grid_sample", backend, image.astype(dtype), points.astype(np.float32), **params)


A_STEP = [[0.0, 0.0, 255.0, 255.0]] * 3
INTEGER_EDGES: dict[str, tuple[str, Any, dict[str, Any]]] = {
    "resize, a tie": ("resize", [[0.0, 1.0]], {"size": (1, 3), **METHOD_SETTINGS["bilinear"]}),
    "resize, bicubic overshoots both ends": (
        "resize",
        A_STEP,
        {"size": (3, 9), **METHOD_SETTINGS["bicubic"]},
    ),
    "resize, a constant 255 down, antialiased": (
        "resize",
        np.full((9, 9), 255.0),
        {"size": (2, 4), **METHOD_SETTINGS["bicubic, antialias"]},
    ),
    "resize, both passes": (
        "resize",
        [[0.0, 255.0, 10.0], [3.0, 128.0, 200.0], [7.0, 9.0, 250.0]],
        {"size": (5, 4), **METHOD_SETTINGS["bilinear"]},
    ),
    "resize, nearest": ("resize", A_STEP, {"size": (5, 3), **METHOD_SETTINGS["nearest"]}),
    "rotate by 45, fill 255": ("rotate", A_STEP, {"angle": 45.0, "fill": 255.0}),
    "rotate by 90": ("rotate", A_STEP, {"angle": 90.0, "fill": 0.0}),
    "shear, ties": ("shear", A_STEP, {"shear_x": 0.5, "fill": 0.0}),
    "flip, the extremes": ("horizontal_flip", [[0.0, 255.0]], {}),
}
"""Each a concept, a uint8 image (as floats) and the parameters: ties of a nearest level,
saturation, the largest level, both fixed-point passes, selections and whole turns."""


@pytest.mark.integer_images
@pytest.mark.parametrize(
    ("concept_id", "edge"),
    [
        pytest.param(c, e, marks=pytest.mark.concept(c), id=e)
        for e, (c, _, _) in INTEGER_EDGES.items()
    ],
)
def test_integer_image_edge_inputs(backend, dtype, concept_id, edge):
    _, image, params = INTEGER_EDGES[edge]
    check_oracle(concept_id, backend, np.asarray(image).astype(dtype), kind="edge", **params)


@pytest.mark.concept("grid_sample")
@pytest.mark.integer_images
def test_grid_sample_of_an_integer_image_at_a_tie(backend, dtype):
    image = np.array([[0.0, 255.0], [3.0, 128.0]]).astype(dtype)
    points = np.array([[0.5, 0.5], [0.0, 0.5], [0.25, 0.75]], dtype=np.float32)  # 96.5, 127.5
    check_oracle("grid_sample", backend, image, points, kind="edge")


@pytest.mark.meta
@pytest.mark.parametrize("concept_id", ["grayscale", "normalize_channels", "adjust_contrast"])
def test_an_integer_image_is_outside_a_colour_concepts_domain(concept_id):
    """Colour results are real-valued (a luma, a normalised or blended value): their concepts
    take float images, and a uint8 one is refused naming the concept, the argument and the
    domain, before any backend runs."""
    from dlspec.adapters.numpy_adapter import NumpyAdapter

    with pytest.raises(reference.DomainError, match=f"^{concept_id}: image is uint8, outside"):
        check_oracle(concept_id, NumpyAdapter(), np.zeros((3, 2, 2), np.uint8), factor=1.0)


# ---------------------------------------------------------------- grayscale

RGB_IMAGES = hnp.arrays(
    np.float64,
    st.tuples(st.sampled_from([(), (1,), (2,)]), st.integers(1, 5), st.integers(1, 5)).map(
        lambda t: (*t[0], 3, t[1], t[2])
    ),
    elements=st.floats(-1e3, 1e3, allow_nan=False),
)
GRAYSCALE_EDGES = {
    "one pixel": [[[0.25]], [[0.5]], [[0.75]]],
    "pure red, green, blue": np.eye(3).reshape(3, 1, 3),
    "gray": np.full((3, 2, 2), 0.6),
    "signed zeros": [[[0.0, -0.0]], [[-0.0, -0.0]], [[0.0, -0.0]]],
    "huge and tiny": [[[1e38, 1e-38]], [[1e38, 1e-45]], [[1e38, -1e-38]]],
    "a batch of 0-255 images": np.arange(2 * 3 * 2 * 4, dtype=float).reshape(2, 3, 2, 4) * 5.0,
}


@pytest.mark.concept("grayscale")
@given(image=RGB_IMAGES)
@example(image=np.array([[[1.0]], [[1.0]], [[1.0]]]))  # 1 in bt601, 0.9999 in matlab's
def test_grayscale_matches_reference(backend, dtype, image):
    check_oracle("grayscale", backend, image.astype(dtype))


@pytest.mark.concept("grayscale")
@pytest.mark.parametrize("edge", GRAYSCALE_EDGES)
def test_grayscale_edge_inputs(backend, dtype, edge):
    image = np.asarray(GRAYSCALE_EDGES[edge], dtype=dtype)
    check_oracle("grayscale", backend, image, kind="edge")


@pytest.mark.concept("grayscale")
@given(image=RGB_IMAGES, value=st.floats(-1e3, 1e3))
def test_a_gray_pixel_keeps_its_level_times_the_weights_sum(backend, dtype, image, value):
    """A gray pixel (R = G = B = v) has luma ``(w_r + w_g + w_b) v``: ``v`` under BT.601's
    weights, ``0.9999 v`` under MATLAB's (the declared ``luma_weights``)."""
    gray = np.full(image.shape, value, dtype=dtype)
    out = run_backend("grayscale", backend, gray)
    convention = declared_convention("grayscale", backend, "luma_weights")
    total = sum(reference.augmentation.LUMA_WEIGHTS[convention]) / 10000
    expected = np.full(out.shape, total * float(gray.flat[0]))
    allowed = allowance_for("grayscale", backend, [gray], expected)
    check_close(
        "grayscale",
        backend,
        dtype,
        f"grayscale(v, v, v) == {total:g} v ({convention})",
        out.astype(np.float64),
        expected,
        allowed,
        inputs=input_text("grayscale", gray),
    )


@pytest.mark.concept("grayscale")
@given(image=RGB_IMAGES, other=st.data(), scale=SCALES)
def test_grayscale_is_linear_in_the_image(backend, dtype, image, other, scale):
    check_linear("grayscale", backend, dtype, image, other, scale)


BAD_GRAYSCALE = {
    "two channels": (np.zeros((2, 2, 2)), {}, "image"),
    "channels last": (np.zeros((2, 2, 3)), {}, "image"),
    "2-D": (np.zeros((3, 3)), {}, "image"),
    "unknown weights": (np.zeros((3, 1, 1)), {"luma_weights": "bt709"}, "luma_weights"),
}


@pytest.mark.meta
@pytest.mark.parametrize("bad", BAD_GRAYSCALE)
def test_reference_grayscale_rejects_bad_input_naming_the_argument(bad):
    image, params, argument = BAD_GRAYSCALE[bad]
    with pytest.raises(reference.DomainError, match=f"^grayscale: {argument}"):
        reference.grayscale(image.tolist(), **params)


# ---------------------------------------------------------------- normalize_channels

IMAGENET = {"mean": (0.485, 0.456, 0.406), "std": (0.229, 0.224, 0.225)}
"""torchvision's ImageNet statistics, the most common arguments of ``Normalize``."""
EIGHTHS = st.integers(-8000, 8000).map(lambda k: k / 8)
"""Means exact in every dtype: a pixel equal to one is the mean in any backend's precision."""
PIXELS = st.floats(-1e3, 1e3, allow_nan=False)


@st.composite
def channel_cases(draw: st.DrawFn, exact_means: bool = False) -> tuple[np.ndarray, dict[str, Any]]:
    """A ``(..., C, H, W)`` image and one mean and std per channel, the std within [1e-3, 1e3]
    (above Keras's floor of 1e-7, which the edge inputs reach)."""
    batch = draw(st.sampled_from([(), (1,), (2,)]), label="batch")
    channels, height, width = (draw(st.integers(1, 4), label=n) for n in ("C", "H", "W"))
    image = draw(
        hnp.arrays(np.float64, (*batch, channels, height, width), elements=PIXELS), label="image"
    )
    means = EIGHTHS if exact_means else st.floats(-1e3, 1e3)
    mean = draw(st.tuples(*[means] * channels), label="mean")
    std = draw(st.tuples(*[st.floats(1e-3, 1e3)] * channels), label="std")
    return image, {"mean": mean, "std": std}


NORMALIZE_EDGES = {
    "one pixel, one channel": ([[[0.5]]], {"mean": (0.25,), "std": (0.5,)}),
    "ImageNet statistics on a 0-1 image": (
        np.linspace(0.0, 1.0, 2 * 3 * 2 * 2).reshape(2, 3, 2, 2),
        IMAGENET,
    ),
    "a std below Keras's floor of 1e-7": ([[[1.0, -1.0]]], {"mean": (0.0,), "std": (1e-8,)}),
    "identity statistics on signed zeros": ([[[0.0, -0.0]]], {"mean": (0.0,), "std": (1.0,)}),
    "huge and tiny": ([[[1e38, 1e-38, 1e-45]]], {"mean": (0.0,), "std": (1.0,)}),
    "a pixel at its mean": ([[[0.1, 0.2]], [[0.3, 0.4]]], {"mean": (0.1, 0.4), "std": (3.0, 7.0)}),
    "0-255 pixels, 0-255 statistics": (
        np.arange(3 * 2 * 4, dtype=float).reshape(3, 2, 4) * 10.0,
        {"mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)},
    ),
}


@pytest.mark.concept("normalize_channels")
@given(case=channel_cases())
@example(case=(np.array([[[0.0, 1.0]], [[0.5, 0.25]], [[1.0, 0.0]]]), IMAGENET))
def test_normalize_channels_matches_reference(backend, dtype, case):
    image, params = case
    check_oracle("normalize_channels", backend, image.astype(dtype), **params)


@pytest.mark.concept("normalize_channels")
@given(case=channel_cases(exact_means=True))
def test_a_pixel_at_its_channels_mean_becomes_zero(backend, dtype, case):
    """A pixel equal to its channel's mean (exact in every dtype) normalises to exactly 0, in
    every channel, whatever the std."""
    image, params = case
    at_mean = np.broadcast_to(np.asarray(params["mean"])[:, None, None], image.shape)
    out = run_backend("normalize_channels", backend, at_mean.astype(dtype), **params)
    check_relation(
        "normalize_channels",
        backend,
        dtype,
        "normalize_channels(mean_c) == 0",
        out == 0,
        actual=out,
        expected=np.zeros(out.shape),
        inputs=input_text("normalize_channels", at_mean, **params),
    )


@pytest.mark.concept("normalize_channels")
@given(case=channel_cases())
def test_doubling_the_std_halves_the_result(backend, dtype, case):
    """``(x - m) / (2 s)`` is ``(x - m) / s`` halved, exactly: a power of two scales a binary
    quotient without a new rounding, away from underflow (held where the quotient is 0 or at
    least four times the smallest normal number, so that its half is normal too)."""
    image, params = case
    image = image.astype(dtype)
    out = run_backend("normalize_channels", backend, image, **params)
    doubled = {**params, "std": tuple(2 * s for s in params["std"])}
    half = run_backend("normalize_channels", backend, image, **doubled)
    underflows = (out != 0) & (np.abs(out) < 4 * np.finfo(dtype).tiny)
    check_relation(
        "normalize_channels",
        backend,
        dtype,
        "normalize_channels(x, m, 2 s) == normalize_channels(x, m, s) / 2",
        (half == out / 2) | underflows,
        actual=half,
        expected=out / 2,
        inputs=input_text("normalize_channels", image, **params),
    )


@pytest.mark.concept("normalize_channels")
@given(case=channel_cases(), data=st.data())
def test_the_channels_are_normalised_independently(backend, dtype, case, data):
    """Permuting the channels with their statistics permutes the result: each channel reads its
    own mean and std, none of another's."""
    image, params = case
    image = image.astype(dtype)
    permutation = data.draw(st.permutations(range(image.shape[-3])), label="permutation")
    permuted = {k: tuple(v[i] for i in permutation) for k, v in params.items()}
    out = run_backend("normalize_channels", backend, image, **params)
    moved = run_backend("normalize_channels", backend, image[..., permutation, :, :], **permuted)
    check_relation(
        "normalize_channels",
        backend,
        dtype,
        f"normalize_channels(x[P], m[P], s[P]) == normalize_channels(x, m, s)[P], P = {permutation}",
        moved == out[..., permutation, :, :],
        actual=moved,
        expected=out[..., permutation, :, :],
        inputs=input_text("normalize_channels", image, **params),
    )


BAD_NORMALIZE = {
    "a mean too few": ({"mean": (0.5,), "std": (1.0, 1.0)}, "mean"),
    "a std too many": ({"mean": (0.5, 0.5), "std": (1.0, 1.0, 1.0)}, "std"),
    "a zero std": ({"mean": (0.5, 0.5), "std": (1.0, 0.0)}, "std"),
    "a negative std": ({"mean": (0.5, 0.5), "std": (1.0, -2.0)}, "std"),
    "a NaN mean": ({"mean": (0.5, float("nan")), "std": (1.0, 1.0)}, "mean"),
    "an infinite std": ({"mean": (0.5, 0.5), "std": (1.0, float("inf"))}, "std"),
    "a scalar mean": ({"mean": 0.5, "std": (1.0, 1.0)}, "mean"),
    "an unknown floor": ({"mean": (0.5, 0.5), "std": (1.0, 1.0), "std_floor": "tiny"}, "std_floor"),
}


@pytest.mark.meta
def test_reference_normalize_channels_rejects_a_nan_pixel_and_a_two_dimensional_image():
    with pytest.raises(reference.DomainError, match=r"^normalize_channels: image must not"):
        reference.normalize_channels([[[float("nan")]]], mean=(0.0,), std=(1.0,))
    with pytest.raises(reference.DomainError, match=r"^normalize_channels: image must have"):
        reference.normalize_channels([[1.0, 2.0]], mean=(0.0,), std=(1.0,))


# ---------------------------------------------------------------- adjust_contrast

CONTRAST_FACTORS = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0]), st.floats(0.0, 4.0))
VALUE_RANGES = st.sampled_from([None, (0.0, 1.0), (0.0, 255.0), (-1.0, 1.0)])


@st.composite
def contrast_cases(draw: st.DrawFn) -> tuple[np.ndarray, dict[str, Any]]:
    """A gray or RGB ``(..., C, H, W)`` image (C = 1 or 3, what every framework's contrast takes),
    a factor and a value range or none."""
    batch = draw(st.sampled_from([(), (1,), (2,)]), label="batch")
    shape = (
        *batch,
        draw(st.sampled_from([1, 3])),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 4)),
    )
    scale = draw(st.sampled_from([1.0, 255.0]), label="pixel scale")
    image = draw(
        hnp.arrays(np.float64, shape, elements=st.floats(-0.25 * scale, 1.25 * scale)),
        label="image",
    )
    params = {"factor": draw(CONTRAST_FACTORS), "value_range": draw(VALUE_RANGES)}
    return image, params


CONTRAST_EDGES = {
    "one pixel": ([[[0.7]]], {"factor": 2.0}),
    "a constant image": (np.full((3, 2, 2), 0.3), {"factor": 3.0}),
    "factor 0: the mean": ([[[0.0, 1.0], [0.25, 0.75]]], {"factor": 0.0}),
    "factor 1: the image": (np.arange(12.0).reshape(3, 2, 2) / 11, {"factor": 1.0}),
    "clipped at both ends": ([[[0.0, 0.1, 0.9, 1.0]]], {"factor": 4.0, "value_range": (0.0, 1.0)}),
    "RGB on a 0-255 scale": (
        np.arange(2 * 3 * 2 * 3, dtype=float).reshape(2, 3, 2, 3) * 7.0,
        {"factor": 1.5, "value_range": (0.0, 255.0)},
    ),
    "huge and tiny": ([[[1e30, 1e-30, -1e30, 1e-45]]], {"factor": 0.5}),
}


@pytest.mark.concept("adjust_contrast")
@given(case=contrast_cases())
@example(
    case=(
        np.array([[[0.0, 1.0]], [[0.5, 0.5]], [[1.0, 0.0]]]),
        {"factor": 2.0, "value_range": (0.0, 1.0)},
    )
)
def test_adjust_contrast_matches_reference(backend, dtype, case):
    image, params = case
    check_oracle("adjust_contrast", backend, image.astype(dtype), **params)


# ---------------------------------------------------------------- adjust_brightness

SCALE_FACTORS = st.one_of(st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0]), st.floats(0.0, 4.0))
SHIFT_FRACTIONS = st.one_of(st.sampled_from([-1.0, -0.5, 0.0, 0.25, 1.0]), st.floats(-1.0, 1.0))


@st.composite
def brightness_cases(draw: st.DrawFn, form: str) -> tuple[np.ndarray, dict[str, Any]]:
    """A ``(..., C, H, W)`` image, a value range or none, and a factor in the domain of the
    declared ``brightness_form``: a scale >= 0, or a shift of at most the range's width
    (Keras's RandomBrightness takes it as a fraction of the width in [-1, 1]; a larger one only
    moves every pixel of a range's image onto a bound), or of the pixel scale without a range."""
    batch = draw(st.sampled_from([(), (1,), (2,)]), label="batch")
    shape = (*batch, *(draw(st.integers(1, 3)) for _ in range(3)))
    scale = draw(st.sampled_from([1.0, 255.0]), label="pixel scale")
    image = draw(
        hnp.arrays(np.float64, shape, elements=st.floats(-0.25 * scale, 1.25 * scale)),
        label="image",
    )
    value_range = draw(VALUE_RANGES)
    if form == "multiplicative":
        factor = draw(SCALE_FACTORS, label="factor")
    else:
        width = scale if value_range is None else value_range[1] - value_range[0]
        factor = draw(SHIFT_FRACTIONS, label="shift fraction") * width
    return image, {"factor": factor, "value_range": value_range}


def _brightness_form(backend: Any) -> str:
    return declared_convention("adjust_brightness", backend, "brightness_form")


BRIGHTNESS_EDGES = {
    "one pixel": ([[[0.7]]], {"factor": 0.5, "value_range": (0.0, 1.0)}),
    "factor 0": ([[[0.0, 1.0], [0.25, 0.75]]], {"factor": 0.0, "value_range": (0.0, 1.0)}),
    "clipped at both ends": (
        [[[-0.5, 0.1, 0.9, 1.5]]],
        {"factor": 0.75, "value_range": (0.0, 1.0)},
    ),
    "RGB on a 0-255 scale": (
        np.arange(2 * 3 * 2 * 3, dtype=float).reshape(2, 3, 2, 3) * 7.0,
        {"factor": 1.25, "value_range": (0.0, 255.0)},
    ),
    "unclipped, huge and tiny": ([[[1e30, 1e-30, -1e30, 1e-45]]], {"factor": 0.5}),
    # Keras's shift over the width, 1.1e-308, is below float64's smallest normal: flushed on JAX
    "a tiny shift on a wide range": (
        [[[0.0, 0.5]]],
        {"factor": 2.8e-306, "value_range": (0.0, 255.0)},
    ),
}


@pytest.mark.concept("adjust_brightness")
@given(data=st.data())
@example(data=None)
def test_adjust_brightness_matches_reference(backend, dtype, data):
    if data is None:  # torchvision's example, read under either form
        image, params = (
            np.array([[[0.0, 0.25]], [[0.5, 1.0]]]),
            {"factor": 0.5, "value_range": (0.0, 1.0)},
        )
    else:
        image, params = data.draw(brightness_cases(_brightness_form(backend)), label="case")
    check_oracle("adjust_brightness", backend, image.astype(dtype), **params)


@pytest.mark.concept("adjust_brightness")
@given(data=st.data())
def test_the_neutral_factor_gives_the_image_clipped(backend, dtype, data):
    """A scale of 1 or a shift of 0 leaves every pixel (exactly, in any dtype), then clips it."""
    form = _brightness_form(backend)
    image, params = data.draw(brightness_cases(form), label="case")
    image = image.astype(dtype)
    params = {**params, "factor": 1.0 if form == "multiplicative" else 0.0}
    expected = _clipped(image.astype(np.float64), params["value_range"])
    relation = f"adjust_brightness(x, factor={params['factor']}) == clip(x) ({form})"
    _gives("adjust_brightness", backend, dtype, relation, image, params, expected)


@pytest.mark.concept("adjust_brightness")
@given(data=st.data())
def test_a_black_image_moves_only_by_a_shift(backend, dtype, data):
    """Zeros stay zeros under a scale; a shift f moves them to clip(f) (the declared form)."""
    form = _brightness_form(backend)
    image, params = data.draw(brightness_cases(form), label="case")
    black = np.zeros(image.shape, dtype=dtype)
    level = 0.0 if form == "multiplicative" else float(np.asarray(params["factor"], dtype))
    expected = _clipped(np.full(black.shape, level), params["value_range"])
    relation = f"adjust_brightness(0) == clip({level!r}) ({form})"
    _gives("adjust_brightness", backend, dtype, relation, black, params, expected)


@pytest.mark.concept("adjust_brightness")
@given(data=st.data())
def test_brightness_keeps_the_order_of_the_pixels(backend, dtype, data):
    """Scaling by f >= 0, shifting, rounding to nearest and clipping are each monotone, so
    pixels sorted in one image come out sorted, exactly, in every dtype."""
    image, params = data.draw(brightness_cases(_brightness_form(backend)), label="case")
    ordered = np.sort(image.astype(dtype).ravel()).reshape(1, 1, -1)
    out = run_backend("adjust_brightness", backend, ordered, **params)
    steps = np.diff(out.astype(np.float64).ravel())
    check_relation(
        "adjust_brightness",
        backend,
        dtype,
        "x sorted => adjust_brightness(x) sorted",
        steps >= 0,
        actual=out.ravel(),
        expected="non-decreasing",
        inputs=input_text("adjust_brightness", ordered, **params),
    )


BAD_BRIGHTNESS = {
    "a negative scale": ({"factor": -0.5}, "factor"),
    "an infinite shift": ({"factor": float("inf"), "brightness_form": "additive"}, "factor"),
    "a bool factor": ({"factor": False}, "factor"),
    "a reversed range": ({"factor": 2.0, "value_range": (1.0, 0.0)}, "value_range"),
    "an unknown form": ({"factor": 2.0, "brightness_form": "gamma"}, "brightness_form"),
}


BRIGHTNESS_TIES = {
    "factor 1 on [0, 1]": [[[0.0, 1.0]]],
    "factor 1 on [-1, 0]": [[[-1.0, 0.0]]],
}
"""Pixels moved exactly onto a bound of [0, 1] by a factor of 1: under a scale, 0 and 1 (then
-1 outside, 0); under a shift, 1 (then 2 outside), and 0 and 1."""


@pytest.mark.concept("adjust_brightness_grad")
@pytest.mark.parametrize("tie", BRIGHTNESS_TIES)
def test_adjust_brightness_grad_on_a_bound(backend, dtype, tie):
    image = np.asarray(BRIGHTNESS_TIES[tie], dtype=dtype)
    cotangent = np.array([[[1.0, 2.0]]], dtype=dtype)
    params = {"factor": 1.0, "value_range": (0.0, 1.0)}
    check_oracle("adjust_brightness_grad", backend, image, cotangent, kind="edge", **params)


COLOUR_EDGES = {
    "normalize_channels": NORMALIZE_EDGES,
    "adjust_contrast": CONTRAST_EDGES,
    "adjust_brightness": BRIGHTNESS_EDGES,
}
"""Each colour concept's edge inputs: an image and the concept's parameters."""


@pytest.mark.parametrize(
    ("concept_id", "edge"),
    [
        pytest.param(concept, edge, marks=pytest.mark.concept(concept), id=f"{concept}-{edge}")
        for concept, edges in COLOUR_EDGES.items()
        for edge in edges
    ],
)
def test_colour_edge_inputs(backend, dtype, concept_id, edge):
    image, params = COLOUR_EDGES[concept_id][edge]
    check_oracle(concept_id, backend, np.asarray(image, dtype=dtype), kind="edge", **params)


def _gives(
    concept: str,
    backend: Any,
    dtype: str,
    relation: str,
    image: np.ndarray,
    params: dict[str, Any],
    expected: np.ndarray,
) -> None:
    """The backend's result on ``image`` is ``expected`` within the oracle's allowance."""
    out = run_backend(concept, backend, image, **params)
    check_close(
        concept,
        backend,
        dtype,
        relation,
        out.astype(np.float64),
        expected,
        allowance_for(concept, backend, [image], expected, **params),
        inputs=input_text(concept, image, **params),
    )


def _clipped(values: np.ndarray, value_range: Any) -> np.ndarray:
    return values if value_range is None else np.clip(values, *value_range)


@pytest.mark.concept("adjust_contrast")
@given(case=contrast_cases())
def test_factor_one_gives_the_image_clipped(backend, dtype, case):
    """``mu + 1 (x - mu)`` is ``x`` whatever the level, so a factor of 1 only clips (within the
    allowance: tf.image's form ``(x - mu) + mu`` rounds twice)."""
    image, params = case
    image = image.astype(dtype)
    params = {**params, "factor": 1.0}
    expected = _clipped(image.astype(np.float64), params["value_range"])
    relation = "adjust_contrast(x, factor=1) == clip(x)"
    _gives("adjust_contrast", backend, dtype, relation, image, params, expected)


@pytest.mark.concept("adjust_contrast")
@given(case=contrast_cases(), level=st.floats(-1e3, 1e3))
def test_a_constant_image_moves_only_by_its_level(backend, dtype, case, level):
    """A constant image ``v`` is its channels' mean, so ``channel`` leaves it (clipped); its mean
    luma is ``(w_r + w_g + w_b) v`` (0.9999 v under MATLAB's weights for RGB, v for one channel),
    so ``grayscale`` moves it to ``mu + f (v - mu)`` (the declared ``contrast_mean``)."""
    image, params = case
    flat = np.full(image.shape, level, dtype=dtype)
    value = float(flat.flat[0])
    convention = declared_convention("adjust_contrast", backend, "contrast_mean")
    total = sum(reference.augmentation.LUMA_WEIGHTS["matlab"]) / 10000
    mu = value * total if convention == "grayscale" and image.shape[-3] == 3 else value
    expected = _clipped(
        np.full(flat.shape, mu + params["factor"] * (value - mu)), params["value_range"]
    )
    relation = f"adjust_contrast(v) == clip(mu + f (v - mu)), mu = {mu!r} ({convention})"
    _gives("adjust_contrast", backend, dtype, relation, flat, params, expected)


BAD_CONTRAST = {
    "a negative factor": ({"factor": -0.5}, "factor"),
    "a NaN factor": ({"factor": float("nan")}, "factor"),
    "a bool factor": ({"factor": True}, "factor"),
    "an empty range": ({"factor": 2.0, "value_range": (1.0, 1.0)}, "value_range"),
    "a range of one number": ({"factor": 2.0, "value_range": (1.0,)}, "value_range"),
    "an infinite bound": ({"factor": 2.0, "value_range": (0.0, float("inf"))}, "value_range"),
    "an unknown mean": ({"factor": 2.0, "contrast_mean": "median"}, "contrast_mean"),
}


@pytest.mark.meta
def test_reference_adjust_contrast_rejects_two_channels_for_the_luma_and_a_nan_pixel():
    with pytest.raises(reference.DomainError, match=r"^adjust_contrast: image=.*1 or 3"):
        reference.adjust_contrast(
            np.zeros((2, 1, 1)).tolist(), factor=2.0, contrast_mean="grayscale"
        )
    with pytest.raises(
        reference.DomainError, match=r"^adjust_contrast: image must not contain NaN"
    ):
        reference.adjust_contrast([[[float("nan")]]], factor=2.0)


CONTRAST_TIES = {
    "factor 1, both bounds": ([[[0.0, 1.0]]], {"factor": 1.0, "value_range": (0.0, 1.0)}),
    "factor 2, both bounds": ([[[0.25, 0.75]]], {"factor": 2.0, "value_range": (0.0, 1.0)}),
}
"""Pixels whose blended value lies exactly on a bound in every form (the level, the differences
and the products are exact): the clipping's derivative there is the declared ``at_bound``."""


@pytest.mark.concept("adjust_contrast_grad")
@pytest.mark.parametrize("tie", CONTRAST_TIES)
def test_adjust_contrast_grad_on_a_bound(backend, dtype, tie):
    image, params = CONTRAST_TIES[tie]
    image = np.asarray(image, dtype=dtype)
    cotangent = np.array([[[1.0, 2.0]]], dtype=dtype)
    check_oracle("adjust_contrast_grad", backend, image, cotangent, kind="edge", **params)


BAD_COLOUR = {
    **{f"normalize_channels, {k}": ("normalize_channels", 2, *v) for k, v in BAD_NORMALIZE.items()},
    **{f"adjust_contrast, {k}": ("adjust_contrast", 3, *v) for k, v in BAD_CONTRAST.items()},
    **{f"adjust_brightness, {k}": ("adjust_brightness", 3, *v) for k, v in BAD_BRIGHTNESS.items()},
}
"""Each colour concept's bad parameters, on a zero image of that many channels."""


@pytest.mark.meta
@pytest.mark.parametrize("bad", BAD_COLOUR)
def test_reference_colour_concepts_reject_bad_input_naming_the_argument(bad):
    concept, channels, params, argument = BAD_COLOUR[bad]
    with pytest.raises(reference.DomainError, match=f"^{concept}: {argument}"):
        getattr(reference, concept)(np.zeros((channels, 1, 2)).tolist(), **params)
