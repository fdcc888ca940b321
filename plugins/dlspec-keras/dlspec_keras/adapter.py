"""The Keras 3 backends, ``keras-jax`` and ``keras-torch``: every concept through Keras's own API,
driven as a Keras user drives it (``keras.activations``, ``keras.losses`` classes with their
reductions, ``keras.regularizers``, ``keras.optimizers`` and their schedules, the callbacks
``EarlyStopping`` and ``ReduceLROnPlateau``, ``keras.layers`` normalization, ``keras.metrics``,
``keras.ops``), composed from ``keras.ops`` where Keras has no function (``composed``).

Keras picks its backend once per process, from ``KERAS_BACKEND``, when it is first imported. A
process therefore has one of the two: the adapter whose backend the process has (or, with
``KERAS_BACKEND`` unset and Keras not yet imported, the first one selected, which sets it) runs;
the other is *unavailable*, with the command that runs it. ``make test`` and ``make report`` run
``keras-torch`` in a second process and merge the two reports (``dlspec report --merge``).

dtypes: float32 and float64. Each call sets ``keras.config.set_floatx`` to its inputs' dtype, as
a Keras user does (layers, losses, metrics and optimizer variables take their dtype from it), and
on JAX ``jax_enable_x64`` is on. Keras 3.15.1 still computes much of float64 in float32: its
``result_type("float64", "float32")`` is float32, so ``ops.mean`` (the losses' reductions, the
metrics, ``ops.moments`` and the normalization layers) rounds float64 to float32 and averages
there, CosineDecay computes in float32, and on JAX ``ops.tanh`` returns float32 for float64
(keras-team/keras#23223, fixed after 3.15.1 by PR #23225). Each affected concept is a written-up
divergence (``computes_in = "float32"`` in this package's catalogue), so the report's
"Divergences that no longer show" says when a later Keras computes float64.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from dlspec.adapters import Adapter, FrameworkDefault, Limit
from dlspec.adapters import conventions as framework_conventions
from dlspec.adapters.base import Programs, gradient_entries

from dlspec.numerics import distinct_key

KERAS: Mapping[str, str] = {
    "gelu.default_form": "none",  # keras.activations.gelu(approximate=False); ops.gelu is tanh
    "binary_cross_entropy.guard": "prob_clip_1e-7",
    "kl_divergence.clip": "clip_1e-7",
    "l2_penalty.scale": "full",  # keras.regularizers.L2: l2 * sum(square(x))
    "sgd.first_step_buffer": "gradient",  # m = momentum m - lr g, from m = 0
    "adam.eps_placement": "eps_hat",
    "adam.amsgrad_max": "raw_second_moment",
    "adamw.eps_placement": "eps_hat",
    "adamw.amsgrad_max": "raw_second_moment",
    "clip_grad_norm.norm_offset": "none",
    "cosine_annealing_lr.past_horizon": "clamped",
    "warmup_cosine.horizon": "after_warmup",
    "reduce_lr_on_plateau.patience_rule": "reaches_patience",
    "reduce_lr_on_plateau.small_decrease": "applied_above_min_lr",
    "reduce_lr_on_plateau.cooldown_rule": "ignores_cooldown_minus_one",
    "batch_norm.running_var": "biased",
    "batch_norm.momentum_convention": "weights_running",
    "accuracy.threshold_rule": "strict",
    "resize.default_antialias": "off",  # keras.ops.image.resize(antialias=False)
    "resize.integer_rounding": "once",  # ops.image.resize: in float, then rounded and clipped
    "grayscale.luma_weights": "matlab",  # keras.ops.image.rgb_to_grayscale, tf.image's
    "adjust_contrast.contrast_mean": "channel",  # RandomContrast: each channel's mean
    "adjust_brightness.brightness_form": "additive",  # RandomBrightness: a shift
    "normalize_channels.std_floor": "epsilon",  # layers.Normalization: max(sqrt(var), 1e-7)
    "grid_sample.point_coordinates": "pixel",  # ops.image.map_coordinates: array indices
    "grid_sample_grad.point_coordinates": "pixel",
}
"""What Keras itself decides, whichever backend runs it (verified on each concept's spec page)."""

ELEMENTWISE = (
    "subnormals",
    "resize.cubic_kernel",
    "softplus.linear_region",
    "relu_grad.at_zero",
    "leaky_relu_grad.at_zero",
    "elu_grad.at_zero",
    "mae_loss_grad.at_zero",
    "multi_target_loss_grad.at_zero",
    "l1_penalty_grad.at_zero",
    "adjust_contrast_grad.at_bound",
    "adjust_brightness_grad.at_bound",
)
"""What the backend's own kernels decide: Keras calls ``jax.nn`` / ``torch.nn.functional`` for
the activations (``keras.activations.softplus`` on torch is ``F.softplus``, with its linear
region), ``jax.image.resize`` or ``F.interpolate`` for the bicubic kernel and the backend's ``abs`` and its autodiff for the derivatives at the kinks."""


def keras_conventions(backend: Mapping[str, str], **own: str) -> dict[str, str]:
    """Keras's own conventions, the backend's elementwise ones, and ``own`` (``"a.b"`` keys
    spelled ``a__b``): what differs between Keras on one backend and on the other."""
    return {
        **KERAS,
        **{key: backend[key] for key in ELEMENTWISE},
        **{key.replace("__", "."): value for key, value in own.items()},
    }


def _optimizer(concept: str, source: str) -> list[FrameworkDefault]:
    return [
        FrameworkDefault(f"{concept}.lr", source, "learning_rate"),
        FrameworkDefault(f"{concept}.beta1", source, "beta_1"),
        FrameworkDefault(f"{concept}.beta2", source, "beta_2"),
        FrameworkDefault(f"{concept}.eps", source, "epsilon"),
        FrameworkDefault(f"{concept}.amsgrad", source, "amsgrad"),
    ]


DEFAULTS = (
    FrameworkDefault("leaky_relu.negative_slope", "keras.activations.leaky_relu", "negative_slope"),
    FrameworkDefault("keras.layers.LeakyReLU", "keras.layers.LeakyReLU", "negative_slope"),
    FrameworkDefault("gelu.approximate", "keras.activations.gelu", "approximate"),
    FrameworkDefault("keras.ops.gelu", "keras.ops.gelu", "approximate"),
    FrameworkDefault("elu.alpha", "keras.activations.elu", "alpha"),
    FrameworkDefault("huber_loss.delta", "keras.losses.Huber", "delta"),
    FrameworkDefault("resize.interpolation", "keras.ops.image.resize", "interpolation"),
    FrameworkDefault("resize.antialias", "keras.ops.image.resize", "antialias"),
    FrameworkDefault("rotate.interpolation", "keras.layers.RandomRotation", "interpolation"),
    FrameworkDefault("rotate.fill_mode", "keras.layers.RandomRotation", "fill_mode"),
    FrameworkDefault("grid_sample.fill_mode", "keras.ops.image.map_coordinates", "fill_mode"),
    FrameworkDefault("losses.reduction", "keras.losses.MeanSquaredError", "reduction"),
    FrameworkDefault(
        "softmax_cross_entropy.label_smoothing",
        "keras.losses.CategoricalCrossentropy",
        "label_smoothing",
    ),
    FrameworkDefault("layer_norm.eps", "keras.layers.LayerNormalization", "epsilon"),
    FrameworkDefault("batch_norm.eps", "keras.layers.BatchNormalization", "epsilon"),
    FrameworkDefault("batch_norm.momentum", "keras.layers.BatchNormalization", "momentum"),
    FrameworkDefault("sgd.lr", "keras.optimizers.SGD", "learning_rate"),
    FrameworkDefault("sgd.momentum", "keras.optimizers.SGD", "momentum"),
    *_optimizer("adam", "keras.optimizers.Adam"),
    *_optimizer("adamw", "keras.optimizers.AdamW"),
    # Adam's own weight_decay is decoupled, not the spec's adam.weight_decay: AdamW's only
    FrameworkDefault("adamw.weight_decay", "keras.optimizers.AdamW", "weight_decay"),
    FrameworkDefault(
        "cosine_annealing_lr.alpha", "keras.optimizers.schedules.CosineDecay", "alpha"
    ),
    FrameworkDefault(
        "step_lr.staircase", "keras.optimizers.schedules.ExponentialDecay", "staircase"
    ),
    *(
        FrameworkDefault(f"reduce_lr_on_plateau.{key}", "keras.callbacks.ReduceLROnPlateau", name)
        for key, name in (
            ("factor", "factor"),
            ("patience", "patience"),
            ("threshold", "min_delta"),
            ("cooldown", "cooldown"),
            ("min_lr", "min_lr"),
        )
    ),
    FrameworkDefault("early_stopping.patience", "keras.callbacks.EarlyStopping", "patience"),
    FrameworkDefault("early_stopping.min_delta", "keras.callbacks.EarlyStopping", "min_delta"),
    FrameworkDefault("accuracy.threshold", "keras.metrics.binary_accuracy", "threshold"),
)
"""Keras's defaults for the porting guide, read from its signatures."""

LIMITS = (
    *(
        Limit(
            concept,
            "factor",
            lambda factor: factor >= 1,
            "keras.layers.RandomContrast draws its factor 1 + U(-lower, upper) from a sorted "
            "(lower, upper): only factors of 1 and more can be fixed",
            domain=">= 1",
        )
        for concept in ("adjust_contrast", "adjust_contrast_grad")
    ),
    *(
        Limit(
            concept,
            "value_range",
            lambda value_range: value_range is not None,
            "keras.layers.RandomBrightness always clips to its value range (default (0, 255)) "
            "and draws its shift as a fraction of that range's width, in [-1, 1]",
            domain="(low, high), not None",
            checks_default=True,  # the spec's default, None
        )
        for concept in ("adjust_brightness", "adjust_brightness_grad")
    ),
    *(
        Limit(concept, "beta", (1.0,), "keras.activations.softplus has no beta")
        for concept in ("softplus", "softplus_grad")
    ),
    *(
        Limit(concept, "align_corners", (False,), "keras.ops.image.resize has no align_corners")
        for concept in ("resize", "resize_grad")
    ),
    *(
        Limit(
            concept,
            "angle",
            lambda angle: -360 <= angle <= 360,
            "keras.layers.RandomRotation's factor (a fraction of a turn) lies in [-1, 1]",
            domain="degrees in [-360, 360]",
        )
        for concept in ("rotate", "rotate_grad")
    ),
    *(
        Limit(
            concept,
            "pos_weight",
            (1.0,),
            "keras.losses.BinaryCrossentropy has no positive-class weight",
        )
        for concept in ("binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad")
    ),
    Limit(
        "sgd",
        "dampening",
        (0.0,),
        "keras.optimizers.SGD has no dampening",
    ),
    Limit(
        "gradient_accumulation",
        "accumulation_steps",
        lambda steps: steps >= 2,
        "keras.optimizers' gradient_accumulation_steps must be at least 2",
        domain="integers >= 2",
    ),
    Limit(
        "reduce_lr_on_plateau",
        "threshold_mode",
        ("abs",),
        "keras.callbacks.ReduceLROnPlateau's min_delta is absolute: it has no relative threshold",
    ),
)


def process_backend() -> str | None:
    """The Keras backend of this process: that of the imported ``keras``, else ``KERAS_BACKEND``
    (None where neither says: the first Keras adapter chosen sets it)."""
    keras = sys.modules.get("keras")
    if keras is not None and hasattr(keras, "backend"):
        return str(keras.backend.backend())
    return os.environ.get("KERAS_BACKEND") or None


class KerasAdapter(Adapter):
    """Shared by both backends; ``keras_backend`` is the one a subclass needs."""

    keras_backend: ClassVar[str]
    framework: ClassVar[str] = "keras"
    dtypes: ClassVar[tuple[str, ...]] = ("float32", "float64")  # float64: keras#23223 (docstring)
    # make test's time: at ci float64 is checked by its divergences' pinned examples and
    # snippets (tests/test_divergences.py, which take no dtype argument); make report runs it all
    ci_dtypes: ClassVar[tuple[str, ...] | None] = ("float32",)
    composed: ClassVar[frozenset[str]] = frozenset(
        {
            "entropy",  # keras.ops: -sum(p log p), 0 log 0 = 0
            "cross_entropy",  # keras.ops: -sum(p log q) (categorical_crossentropy renormalises q)
            "multi_target_loss",  # the loss classes, weighted (keras's loss_weights in compile)
            "clip_grad_norm",  # SGD(global_clipnorm) at learning rate 1 from zero parameters
            "min_max_scale",  # keras.ops min, max
            "standardize",  # keras.ops.moments (keras.layers.Normalization floors the std at 1e-7)
            "multistep_lr",  # PiecewiseConstantDecay with boundaries m - 1
            "linear_warmup",  # PolynomialDecay with power 1
            "step_lr",  # ExponentialDecay(staircase=True)
            "exponential_lr",  # ExponentialDecay(decay_steps=1)
            "accuracy",  # binary_accuracy / sparse_categorical_accuracy, averaged
        }
    )
    defaults = DEFAULTS
    limits: ClassVar[tuple[Limit, ...]] = LIMITS

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import importlib.util

            if importlib.util.find_spec("keras") is None:
                raise ImportError("No module named 'keras'")
            if importlib.util.find_spec(cls.keras_backend) is None:
                raise ImportError(f"No module named {cls.keras_backend!r}")
        except ImportError as error:
            return (
                f"keras or {cls.keras_backend} is not installed ({error}); pip install dlspec-keras"
            )
        chosen = process_backend()
        if chosen is None:
            os.environ["KERAS_BACKEND"] = cls.keras_backend  # this process's Keras backend now
            return None
        if chosen != cls.keras_backend:
            return (
                f"this process's Keras backend is {chosen} (KERAS_BACKEND is read once per "
                f"process); {cls.name} runs in a process of its own: KERAS_BACKEND="
                f"{cls.keras_backend} pytest --backend {cls.name}"
            )
        return None

    def __init__(self) -> None:
        if self.keras_backend == "jax":
            import jax

            jax.config.update("jax_enable_x64", True)
        import keras

        self.keras = keras

    def to_native(self, array: np.ndarray) -> Any:
        if not np.issubdtype(array.dtype, np.floating):
            return self.keras.ops.convert_to_tensor(array)
        return self.keras.ops.convert_to_tensor(array, dtype=str(array.dtype))

    def to_numpy(self, value: Any) -> np.ndarray:
        if isinstance(value, np.ndarray):
            return value
        return np.asarray(self.keras.ops.convert_to_numpy(value))

    def versions(self) -> Mapping[str, str]:
        import keras

        found = {"keras": keras.__version__, "keras backend": keras.backend.backend()}
        if self.keras_backend == "jax":
            import jax

            found["jax"] = jax.__version__
            found["x64"] = "on"
        else:
            import torch

            found["torch"] = torch.__version__
        return found

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        from . import ops

        forward = ops.table(self.keras)
        return {**forward, **gradient_entries(forward, ops.vjp(self.keras_backend))}

    def run(self, concept: str, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        floating = [a.dtype for a in arrays if np.issubdtype(a.dtype, np.floating)]
        self.keras.config.set_floatx(str(floating[0]) if floating else "float32")
        return super().run(concept, *arrays, **params)

    def barrier(self, value: Any) -> Any:
        if self.keras_backend == "jax":
            import jax

            return jax.block_until_ready(value)
        return value


STATEFUL_GROUPS = frozenset({"optimizers", "schedules", "training", "normalization"})
"""Groups whose entries build Keras objects (optimizers, schedules, callbacks, layers, metrics)
and run eagerly; the others are pure functions of ``keras.ops``."""


class KerasJaxAdapter(KerasAdapter):
    """Keras on JAX runs a pure function under ``jax.jit``, as ``model.fit`` compiles a training
    step (``jit_compile="auto"`` is XLA on JAX), one program per concept and parameters; what
    builds Keras objects runs eagerly (:data:`STATEFUL_GROUPS`)."""

    name: ClassVar[str] = "keras-jax"
    keras_backend: ClassVar[str] = "jax"
    # make test's time: the jitted layers and losses are traced anew for each drawn shape, so
    # the ci profile draws 10 examples a test here, not 40 (make report draws 300)
    ci_examples: ClassVar[int | None] = 6

    def __init__(self) -> None:
        super().__init__()
        self._programs = Programs()

    @functools.cached_property
    def _jitted(self) -> frozenset[str]:
        from dlspec import catalogue

        cat = catalogue.load()

        def group(concept: str) -> str:
            entry = cat.concepts[concept]
            return cat.concepts[entry.of].group if entry.of else entry.group

        return frozenset(c for c in self.table if group(c) not in STATEFUL_GROUPS)

    def run(self, concept: str, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        if concept not in self._jitted:
            return super().run(concept, *arrays, **params)
        import jax

        floating = [a.dtype for a in arrays if np.issubdtype(a.dtype, np.floating)]
        self.keras.config.set_floatx(str(floating[0]) if floating else "float32")
        key = (concept, distinct_key(sorted(params.items())), self.keras.config.floatx())

        def make() -> Callable[..., Any]:
            frozen = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
            return jax.jit(functools.partial(self.table[concept], **frozen))

        program = self._programs.get(key, make)
        return self.to_numpy(program(*(self.to_native(a) for a in arrays)))

    conventions: ClassVar[Mapping[str, str]] = keras_conventions(
        framework_conventions.JAX,
        # Keras writes |t - p|: JAX's abs derivative (1 at 0), through the minus sign
        mae_loss_grad__at_zero="minus_one",
        multi_target_loss_grad__at_zero="minus_one",
        # jnp.clip is min(max(x, low), high): a tie shares the derivative
        binary_cross_entropy_grad__guard="prob_clip_1e-7_split_at_bounds",
        kl_divergence_grad__clip="clip_1e-7_split_at_bounds",
    )


class KerasTorchAdapter(KerasAdapter):
    name: ClassVar[str] = "keras-torch"
    keras_backend: ClassVar[str] = "torch"
    conventions: ClassVar[Mapping[str, str]] = keras_conventions(
        framework_conventions.PYTORCH,
        binary_cross_entropy_grad__guard="prob_clip_1e-7",  # torch.clamp passes at its bounds
        kl_divergence_grad__clip="clip_1e-7",
    )
    limits: ClassVar[tuple[Limit, ...]] = (
        *LIMITS,
        *(
            Limit(
                concept,
                "threshold",
                (20.0,),
                "keras.activations.softplus on torch is F.softplus at its default threshold, 20",
            )
            for concept in ("softplus", "softplus_grad")
        ),
    )
