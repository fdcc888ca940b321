"""The JAX backend, ``jax``: every concept through JAX's own libraries where they have it
(``jax.nn``, ``jax.numpy``, ``jax.scipy.special``, optax's losses, transformations and schedules,
``optax.contrib.reduce_on_plateau``), composed from ``jax.numpy`` where they have not
(``JaxAdapter.composed``). It runs on whatever device JAX finds.

float64 is real float64: the adapter turns on ``jax_enable_x64`` (without it JAX silently computes
in float32). Optimizers and schedules are driven as optax is used: ``init``, then per step
``update`` and ``apply_updates``; a schedule is called with optax's ``int32`` step count.

Compilation: every new input shape costs XLA a compilation. Array functions run under
``jax.jit``, one cached program per concept and set of parameters (closed over, and told apart
by their bits: ``-0.0`` is not ``0.0``), so a shape seen once is compiled once per run; optimizers and schedules run eagerly, where JAX caches each primitive per
shape and those caches are shared across all concepts (the two optax transformations that branch
with ``lax.cond`` have their ``update`` jitted once per settings instead: ``jax_ops.optimizers.compiled``; a
schedule takes all its counts in one ``jax.vmap``, padded to a power of two: ``jax_ops.schedules.rates``).
``compile_seconds`` reports the time XLA spent compiling (``jax.monitoring``), which the report
shows apart from the test time. ``DLSPEC_JAX_MODE=eager`` runs everything op by op instead.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from dlspec.numerics import distinct_key

from . import conventions
from .base import FLOAT_DTYPES, Adapter, FrameworkDefault, Limit, Programs, gradient_entries

_compile_seconds = 0.0
_listening = threading.Lock()
_listener_installed = False

COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)
"""The ``jax.monitoring`` duration events that make up a compilation: tracing to a jaxpr,
lowering to MLIR, and XLA's backend compile."""


def _count_compilation(event: str, duration: float, **_: Any) -> None:
    global _compile_seconds
    if event in COMPILE_EVENTS:
        _compile_seconds += duration


def _listen_to_compilations(jax: Any) -> None:
    global _listener_installed
    with _listening:
        if not _listener_installed:
            jax.monitoring.register_event_duration_secs_listener(_count_compilation)
            _listener_installed = True


def _hashable(value: Any) -> Any:
    """Lists become tuples, so that parameters can be ``jax.jit`` static arguments."""
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def _optax_adam(concept: str) -> list[FrameworkDefault]:
    source = f"optax.{concept}"
    entries = [
        FrameworkDefault(f"{concept}.lr", source, "learning_rate"),
        FrameworkDefault(f"{concept}.beta1", source, "b1"),
        FrameworkDefault(f"{concept}.beta2", source, "b2"),
        FrameworkDefault(f"{concept}.eps", source, "eps"),
        FrameworkDefault(f"{concept}.eps_root", source, "eps_root"),
    ]
    return entries + (
        [FrameworkDefault("adamw.weight_decay", source, "weight_decay")]
        if concept == "adamw"
        else []
    )


DEFAULTS = (
    FrameworkDefault("leaky_relu.negative_slope", "jax.nn.leaky_relu", "negative_slope"),
    FrameworkDefault("gelu.approximate", "jax.nn.gelu", "approximate"),
    FrameworkDefault("elu.alpha", "jax.nn.elu", "alpha"),
    FrameworkDefault("huber_loss.delta", "optax.huber_loss", "delta"),
    FrameworkDefault("resize.antialias", "jax.image.resize", "antialias"),
    FrameworkDefault("rotate.mode", "jax.scipy.ndimage.map_coordinates", "mode"),
    FrameworkDefault("rotate.cval", "jax.scipy.ndimage.map_coordinates", "cval"),
    FrameworkDefault("grid_sample.mode", "jax.scipy.ndimage.map_coordinates", "mode"),
    FrameworkDefault("layer_norm.eps", "jax.nn.standardize", "epsilon"),
    FrameworkDefault("layer_norm.algorithm", "jax.nn.standardize", "algorithm"),
    FrameworkDefault("sgd.lr", "optax.sgd", "learning_rate"),
    FrameworkDefault("sgd.momentum", "optax.sgd", "momentum"),
    *_optax_adam("adam"),
    *_optax_adam("adamw"),
    FrameworkDefault("cosine_annealing_lr.alpha", "optax.cosine_decay_schedule", "alpha"),
    FrameworkDefault("step_lr.staircase", "optax.exponential_decay", "staircase"),
    *(
        FrameworkDefault(f"reduce_lr_on_plateau.{key}", "optax.contrib.reduce_on_plateau", name)
        for key, name in (
            ("factor", "factor"),
            ("patience", "patience"),
            ("threshold", "rtol"),
            ("atol", "atol"),
            ("cooldown", "cooldown"),
            ("min_scale", "min_scale"),
        )
    ),
)
"""JAX's and optax's defaults for the porting guide (JAX has no layer norm or batch norm layer:
``jax.nn.standardize`` is what the adapter calls)."""


class JaxAdapter(Adapter):
    """``mode="jit"`` (the default) or ``"eager"``; both are held to the same budgets."""

    name: ClassVar[str] = "jax"
    dtypes: ClassVar[tuple[str, ...]] = FLOAT_DTYPES
    framework: ClassVar[str] = "jax"
    # make test's time: JAX traces and lowers every new shape and parameter set (the persistent
    # cache saves only XLA's compile, not the tracing: about half of a warm jax run), so the ci
    # profile runs float32, JAX's default; float64 (x64) is checked at ci by its divergences'
    # pinned examples and snippets and by tests/test_jax.py, and make report runs it all
    ci_dtypes: ClassVar[tuple[str, ...] | None] = ("float32",)
    # and draws 10 examples a test there, not 40: each drawn shape is traced and lowered anew
    ci_examples: ClassVar[int | None] = 6
    composed: ClassVar[frozenset[str]] = frozenset(
        {
            "entropy",  # jax.scipy.special.entr, summed
            "cross_entropy",  # jax.scipy.special.xlogy, summed
            "kl_divergence",  # jax.scipy.special.rel_entr, summed
            "mae_loss",  # optax has no absolute error
            "binary_cross_entropy",  # optax has BCE on logits only: xlogy and xlog1py
            "multi_target_loss",  # optax squared_error, huber_loss, sigmoid_binary_cross_entropy, weighted
            "l1_penalty",
            "l2_penalty",  # optax.l2_loss, summed
            "min_max_scale",
            "batch_norm",  # no layer in JAX (Flax has one): jax.nn.standardize, the batch's statistics
            "minibatches",  # jax.random.permutation
            "train_val_test_split",  # jax.random.permutation
            "early_stopping",
            "accuracy",
            "grayscale",  # dm_pix's rgb_to_grayscale
            "adjust_contrast",  # dm_pix's adjust_contrast
            "adjust_brightness",  # dm_pix's adjust_brightness
            "normalize_channels",  # torchvision's normalize, in jnp
            "rotate",  # jax.scipy.ndimage.map_coordinates at the source points
            "shear",  # jax.scipy.ndimage.map_coordinates at the source points
        }
    )
    """The concepts JAX and optax have no function for. binary_cross_entropy_with_logits is
    optax's sigmoid_binary_cross_entropy; with pos_weight != 1, which optax lacks, the adapter
    composes the weighted terms from jax.nn.log_sigmoid."""
    conventions: ClassVar[Mapping[str, str]] = conventions.JAX
    defaults = DEFAULTS
    limits: ClassVar[tuple[Limit, ...]] = (
        Limit(
            "reduce_lr_on_plateau",
            "mode",
            ("min",),
            "optax.contrib.reduce_on_plateau only minimises; its relative threshold "
            "(1 - rtol) * best on a negated metric is not PyTorch's max mode",
        ),
        Limit(
            "reduce_lr_on_plateau",
            "threshold",
            lambda threshold: threshold > 0,
            "optax.contrib.reduce_on_plateau requires rtol or atol to be positive",
            domain="(0, inf)",
        ),
    )

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import jax
            import optax  # noqa: F401
        except ImportError as error:
            return f"jax or optax is not installed ({error}); pip install 'dlspec[jax]'"
        del jax
        return None

    def __init__(self, mode: str | None = None) -> None:
        import jax

        mode = mode or os.environ.get("DLSPEC_JAX_MODE", "jit")
        if mode not in ("jit", "eager"):
            raise ValueError(f"JaxAdapter: mode={mode!r} is not one of 'jit', 'eager'")
        self.mode = mode
        self._programs = Programs()
        jax.config.update("jax_enable_x64", True)  # else float64 inputs compute in float32
        _listen_to_compilations(jax)
        self.device = str(jax.devices()[0].platform)

    def to_native(self, array: np.ndarray) -> Any:
        import jax

        return jax.device_put(array)  # jnp.asarray would compile a copy per shape

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.array(value)

    def versions(self) -> Mapping[str, str]:
        import jax
        import jaxlib
        import optax

        config: Any = jax.config  # its options are attributes made at run time
        return {
            "jax": jax.__version__,
            "jaxlib": jaxlib.__version__,
            "optax": optax.__version__,
            "device": ", ".join(str(d) for d in jax.devices()),
            "x64": str(config.jax_enable_x64),
            "mode": self.mode,
            "compilation cache": "persistent" if config.jax_compilation_cache_dir else "off",
        }

    def compile_seconds(self) -> float:
        """Seconds JAX has spent compiling in this process so far (every JAX user's share)."""
        return _compile_seconds

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        import jax
        import optax

        from . import jax_ops

        forward = jax_ops.table(jax, optax)
        return {**forward, **gradient_entries(forward, jax_ops.vjp(jax))}

    @functools.cached_property
    def _jitted(self) -> dict[str, Callable[..., Any]]:
        import jax

        from . import jax_ops

        return {
            concept: jax.jit(function, static_argnames=jax_ops.static_parameters(function))
            for concept, function in self.table.items()
            if concept not in jax_ops.EAGER
        }

    def native_callable(self, concept: str) -> Callable[..., Any]:
        function = self.table[concept]
        return self._jitted.get(concept, function) if self.mode == "jit" else function

    def timed_variants(self, concept: str) -> Mapping[str, Callable[..., Any]]:
        """A jitted concept both ways: under ``jax.jit`` and eager (op by op)."""
        if concept not in self._jitted:
            return {"default": self.table[concept]}
        return {"jit": self._jitted[concept], "eager": self.table[concept]}

    def copy_of(self, native: Any) -> Callable[[], Any]:
        """A jitted copy: XLA writes a new buffer (an output of ``jax.jit`` never aliases an
        input that is not donated)."""
        import jax

        copy = jax.jit(lambda array: array.copy())
        return lambda: copy(native)

    def barrier(self, value: Any) -> Any:
        import jax

        return jax.block_until_ready(value)

    def run(self, concept: str, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        native = (self.to_native(a) for a in arrays)
        if self.mode != "jit" or concept not in self._jitted:
            return self.to_numpy(self.table[concept](*native, **params))
        return self.to_numpy(self._program(concept, params)(*native))

    def _program(self, concept: str, params: Mapping[str, Any]) -> Callable[..., Any]:
        """``concept`` under ``jax.jit`` with ``params`` closed over, one per distinct set of
        parameters. Not ``static_argnames``: JAX looks a static value up by equality, so a
        program compiled for ``0.0`` answered a later call with ``-0.0`` (and ``1`` one with
        ``1.0``); :func:`~dlspec.numerics.distinct_key` tells those apart."""
        import jax

        def make() -> Callable[..., Any]:
            frozen = {k: _hashable(v) for k, v in params.items()}
            return jax.jit(functools.partial(self.table[concept], **frozen))

        return self._programs.get((concept, distinct_key(sorted(params.items()))), make)


class JaxEagerAdapter(JaxAdapter):
    """The same table run op by op, without ``jax.jit``: for the jit-versus-eager agreement."""

    name = "jax-eager"
    written_up_as = "jax"  # the same functions, dispatched op by op: jax's divergences

    def __init__(self) -> None:
        super().__init__(mode="eager")
