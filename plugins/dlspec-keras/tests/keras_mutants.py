"""Mutants of the Keras adapters: the adapter of this process's Keras backend with one entry
replaced by a realistic misuse of Keras's API, the porting mistakes a user makes (a PyTorch
setting passed where Keras means another thing, a Keras default left in). Loaded by
``--adapter path/to/keras_mutants.py:<Name>``; ``test_mutants.py`` runs the suite's tests on
each and holds that they are caught."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from dlspec_keras.adapter import KerasJaxAdapter, KerasTorchAdapter, process_backend
from dlspec_keras.ops import optimizers

Build = Callable[[Any], Callable[..., Any]]
"""From the ``keras`` module, the mutated entry."""

MUTANTS: list[type] = []


def mutant(name: str, concept: str, doc: str) -> Callable[[Build], Build]:
    """Register the adapter of this process's backend with ``concept``'s entry built by the
    decorated function."""

    def register(build: Build) -> Build:
        base = KerasTorchAdapter if process_backend() == "torch" else KerasJaxAdapter

        def implementations(self: Any) -> Mapping[str, Callable[..., Any]]:
            return {**base.implementations(self), concept: build(self.keras)}

        attributes = {
            "name": f"mutant-{name}",
            "caught_by": concept,
            "implementations": implementations,
            "__doc__": doc,
        }
        cls = type(name, (base,), attributes)
        globals()[name] = cls
        MUTANTS.append(cls)
        return build

    return register


@mutant("KerasAdamDefaultEpsilon", "adam", "eps not passed: Keras's default epsilon 1e-7 is used.")
def _adam_default_epsilon(keras: Any) -> Callable[..., Any]:
    def adam(
        params: Any,
        gradients: Any,
        *,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        **_: Any,
    ) -> Any:
        optimizer = keras.optimizers.Adam(lr, beta_1=beta1, beta_2=beta2)
        return optimizers.drive(keras, optimizer, params, gradients)

    return adam


@mutant(
    "KerasCosineDecayAbsoluteAlpha",
    "cosine_annealing_lr",
    "CosineDecay's alpha given eta_min, a rate, where Keras takes the fraction eta_min / base_lr.",
)
def _cosine_absolute_alpha(keras: Any) -> Callable[..., Any]:
    import numpy as np

    def cosine(base_lr: Any, *, t_max: int, eta_min: float = 0.0, steps: int) -> Any:
        schedule = keras.optimizers.schedules.CosineDecay(float(base_lr), t_max, alpha=eta_min)
        rates = [keras.ops.convert_to_numpy(schedule(s)) for s in range(steps + 1)]
        return np.array(rates, dtype=keras.backend.standardize_dtype(base_lr.dtype))

    return cosine


@mutant(
    "KerasPlateauPatienceAsPytorch",
    "reduce_lr_on_plateau",
    "patience + 1 passed to ReduceLROnPlateau, to make Keras wait as PyTorch's 'more than'.",
)
def _plateau_patience_as_pytorch(keras: Any) -> Callable[..., Any]:
    from dlspec_keras.ops import schedules

    honest = schedules.table(keras)["reduce_lr_on_plateau"]

    def plateau(base_lr: Any, metrics: Any, *, patience: int = 10, **settings: Any) -> Any:
        return honest(base_lr, metrics, patience=patience + 1, **settings)

    return plateau


@mutant(
    "KerasEarlyStoppingMinDeltaDropped",
    "early_stopping",
    "min_delta not passed to EarlyStopping: any decrease counts as an improvement.",
)
def _early_stopping_without_min_delta(keras: Any) -> Callable[..., Any]:
    from dlspec_keras.ops import training

    honest = training.table(keras)["early_stopping"]

    def early_stopping(
        metrics: Any, *, patience: int, min_delta: float = 0.0, mode: str = "min"
    ) -> Any:
        return honest(metrics, patience=patience, mode=mode)

    return early_stopping


@mutant(
    "KerasBatchNormPytorchMomentum",
    "batch_norm",
    "BatchNormalization given 1 - momentum, PyTorch's sense, while declaring Keras's.",
)
def _batch_norm_pytorch_momentum(keras: Any) -> Callable[..., Any]:
    from dlspec_keras.ops import normalization

    honest = normalization.table(keras)["batch_norm"]

    def batch_norm(*arrays: Any, momentum: float = 0.1, **settings: Any) -> Any:
        return honest(*arrays, momentum=1 - momentum, **settings)

    return batch_norm


@mutant(
    "KerasLayerNormDefaultEpsilon",
    "layer_norm",
    "eps not passed to LayerNormalization: Keras's default epsilon 1e-3 is used.",
)
def _layer_norm_default_epsilon(keras: Any) -> Callable[..., Any]:
    from dlspec_keras.ops import normalization

    honest = normalization.table(keras)["layer_norm"]

    def layer_norm(x: Any, weight: Any, bias: Any, *, eps: float = 1e-5) -> Any:
        return honest(x, weight, bias, eps=1e-3)

    return layer_norm


def _through_image_layer(
    keras: Any, layer_class: Any, image: Any, *, channels: bool, **options: Any
) -> Any:
    """``image`` through a Keras image layer built with the mutant's options (channels first, in
    the image's dtype, ``training=True``): its leading axes folded into one batch axis, a single
    channel inserted where it has none (``channels=False``), and the result given its shape."""
    ops = keras.ops
    kept = (*image.shape[-3:],) if channels else (1, *image.shape[-2:])
    layer = layer_class(
        data_format="channels_first", dtype=keras.backend.standardize_dtype(image.dtype), **options
    )
    return ops.reshape(layer(ops.reshape(image, (-1, *kept)), training=True), image.shape)


@mutant(
    "KerasRotateReflectFill",
    "rotate",
    "RandomRotation's fill_mode left at its default, 'reflect': the corners a turn uncovers "
    "mirror the image where PyTorch (and the spec) fill a constant.",
)
def _rotate_reflect_fill(keras: Any) -> Callable[..., Any]:
    def rotate(image: Any, *, angle: float, method: str = "bilinear", fill: float = 0.0) -> Any:
        return _through_image_layer(
            keras,
            keras.layers.RandomRotation,
            image,
            channels=False,
            factor=(angle / 360, angle / 360),
            interpolation=method,
            fill_value=fill,
        )

    return rotate


@mutant(
    "KerasNormalizationStdAsVariance",
    "normalize_channels",
    "torchvision's std passed to Normalization's variance as it is: the layer divides by its "
    "square root.",
)
def _normalization_std_as_variance(keras: Any) -> Callable[..., Any]:
    def normalize_channels(image: Any, *, mean: Any, std: Any) -> Any:
        layer = keras.layers.Normalization(
            axis=-3,
            mean=list(mean),
            variance=list(std),
            dtype=keras.backend.standardize_dtype(image.dtype),
        )
        return layer(image)

    return normalize_channels


@mutant(
    "KerasContrastDefaultValueRange",
    "adjust_contrast",
    "RandomContrast's value_range left at its default, (0, 255): a result the spec (and "
    "tf.image) leave unclipped is clipped to it.",
)
def _contrast_default_value_range(keras: Any) -> Callable[..., Any]:
    def adjust_contrast(image: Any, *, factor: float, value_range: Any = None) -> Any:
        given = {} if value_range is None else {"value_range": tuple(value_range)}
        return _through_image_layer(
            keras,
            keras.layers.RandomContrast,
            image,
            channels=True,
            factor=(1 - factor, factor - 1),
            **given,
        )

    return adjust_contrast


@mutant(
    "KerasBrightnessShiftAsFactor",
    "adjust_brightness",
    "tf.image's delta passed to RandomBrightness as its factor, which the layer multiplies by "
    "the width of its value range (255 by default).",
)
def _brightness_shift_as_factor(keras: Any) -> Callable[..., Any]:
    def adjust_brightness(image: Any, *, factor: float, value_range: Any = None) -> Any:
        return _through_image_layer(
            keras,
            keras.layers.RandomBrightness,
            image,
            channels=True,
            factor=(factor, factor),
            value_range=tuple(value_range),
        )

    return adjust_brightness


@mutant(
    "KerasShearAboutTheCorner",
    "shear",
    "affine_transform given RandomShear's own matrix, [1, s_x, 0, s_y, 1, 0, 0, 0], without the "
    "translation -s c that puts the shear's fixed point at the image's centre.",
)
def _shear_about_the_corner(keras: Any) -> Callable[..., Any]:
    def shear(
        image: Any,
        *,
        shear_x: float = 0.0,
        shear_y: float = 0.0,
        method: str = "bilinear",
        fill: float = 0.0,
    ) -> Any:
        ops = keras.ops
        *_, height, width = image.shape
        images = ops.reshape(image, (-1, 1, height, width))
        row = [1.0, shear_x, 0.0, shear_y, 1.0, 0.0, 0.0, 0.0]
        transform = ops.convert_to_tensor([row] * images.shape[0], dtype=image.dtype)
        out = ops.image.affine_transform(
            images,
            transform,
            interpolation=method,
            fill_value=fill,
            data_format="channels_first",
        )
        return ops.reshape(out, image.shape)

    return shear


@mutant(
    "KerasGridSampleOrderZero",
    "grid_sample",
    "keras.ops.image.map_coordinates with order 0 (nearest) for the bilinear sampling, as a port "
    "of an integer-label warp would leave it.",
)
def _grid_sample_order_zero(keras: Any) -> Callable[..., Any]:
    from dlspec_keras.ops.augmentation import sampled_at_points

    def grid_sample(image: Any, points: Any, *, fill: float = 0.0) -> Any:
        return sampled_at_points(keras.ops, image, points, 0, fill)

    return grid_sample
