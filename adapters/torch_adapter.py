"""The PyTorch backends, ``torch-cpu`` and ``torch-cuda``: every concept through PyTorch's own
implementation where it has one (``torch.nn.functional``, ``torch.optim``,
``torch.optim.lr_scheduler``, ``torch.nn.utils``, ``torch.utils.data``), composed from torch
operations where it has none (``TorchAdapter.composed``).

Optimizers and schedulers are driven as a user drives them: construct, set ``.grad``, ``step()``,
``scheduler.step()``. TF32 and other reduced-precision modes are switched off and recorded.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from . import conventions
from .base import FLOAT_DTYPES, Adapter, FrameworkDefault, gradient_entries


def _defaults(
    source: str, *pairs: tuple[str, str] | tuple[str, str, int]
) -> list[FrameworkDefault]:
    """``(key, parameter[, index])`` pairs read from one callable."""
    return [FrameworkDefault(pair[0], source, *pair[1:]) for pair in pairs]


DEFAULTS = (
    *_defaults("torch.nn.LeakyReLU", ("leaky_relu.negative_slope", "negative_slope")),
    *_defaults("torch.nn.GELU", ("gelu.approximate", "approximate")),
    *_defaults("torch.nn.ELU", ("elu.alpha", "alpha")),
    *_defaults("torch.nn.Softplus", ("softplus.beta", "beta"), ("softplus.threshold", "threshold")),
    *_defaults(
        "torch.nn.CrossEntropyLoss", ("softmax_cross_entropy.label_smoothing", "label_smoothing")
    ),
    *_defaults("torch.nn.HuberLoss", ("huber_loss.delta", "delta")),
    *_defaults(
        "torch.nn.functional.interpolate",
        ("resize.mode", "mode"),
        ("resize.align_corners", "align_corners"),
        ("resize.antialias", "antialias"),
    ),
    *_defaults(
        "torch.nn.functional.grid_sample",
        ("rotate.mode", "mode"),
        ("rotate.padding_mode", "padding_mode"),
        ("rotate.align_corners", "align_corners"),
        ("grid_sample.padding_mode", "padding_mode"),
        ("grid_sample.align_corners", "align_corners"),
    ),
    *_defaults("torch.nn.LayerNorm", ("layer_norm.eps", "eps")),
    *_defaults(
        "torch.nn.BatchNorm1d", ("batch_norm.eps", "eps"), ("batch_norm.momentum", "momentum")
    ),
    *_defaults(
        "torch.optim.SGD",
        ("sgd.lr", "lr"),
        ("sgd.momentum", "momentum"),
        ("sgd.dampening", "dampening"),
    ),
    *(
        entry
        for concept in ("adam", "adamw")
        for entry in _defaults(
            f"torch.optim.{'Adam' if concept == 'adam' else 'AdamW'}",
            (f"{concept}.lr", "lr"),
            (f"{concept}.beta1", "betas", 0),
            (f"{concept}.beta2", "betas", 1),
            (f"{concept}.eps", "eps"),
            (f"{concept}.weight_decay", "weight_decay"),
            (f"{concept}.amsgrad", "amsgrad"),
        )
    ),
    *_defaults("torch.optim.lr_scheduler.StepLR", ("step_lr.gamma", "gamma")),
    *_defaults("torch.optim.lr_scheduler.MultiStepLR", ("multistep_lr.gamma", "gamma")),
    *_defaults(
        "torch.optim.lr_scheduler.CosineAnnealingLR", ("cosine_annealing_lr.eta_min", "eta_min")
    ),
    *_defaults(
        "torch.optim.lr_scheduler.LinearLR",
        ("linear_warmup.start_factor", "start_factor"),
        ("linear_warmup.end_factor", "end_factor"),
        ("linear_warmup.total_steps", "total_iters"),
    ),
    *_defaults(
        "torch.optim.lr_scheduler.ReduceLROnPlateau",
        *(
            (f"reduce_lr_on_plateau.{p}", p)
            for p in (
                "factor",
                "patience",
                "threshold",
                "threshold_mode",
                "cooldown",
                "min_lr",
                "eps",
            )
        ),
    ),
)
"""PyTorch's defaults for the porting guide, from the module classes (whose signatures Python
can read; the ``torch.nn.functional`` builtins have none)."""


class TorchAdapter(Adapter):
    """Shared by the CPU and CUDA backends; ``device`` picks where tensors live."""

    name: ClassVar[str] = "torch-cpu"
    device = "cpu"
    framework: ClassVar[str] = "torch"
    dtypes: ClassVar[tuple[str, ...]] = FLOAT_DTYPES
    # make test's time: bfloat16 at the ci profile (the training dtype, and the tightest claims:
    # the kernels declared float32), float16 on numpy (NumpyAdapter.ci_dtypes)
    ci_dtypes: ClassVar[tuple[str, ...] | None] = ("float32", "float64", "bfloat16")
    composed: ClassVar[frozenset[str]] = frozenset(
        {
            "entropy",  # torch.special.entr, summed
            "cross_entropy",  # torch.special.xlogy, summed
            "multi_target_loss",  # F.mse_loss, F.l1_loss, F.huber_loss, F.binary_cross_entropy_with_logits, weighted
            "l1_penalty",
            "l2_penalty",
            "min_max_scale",  # amin, amax
            "standardize",  # torch.var_mean
            "warmup_cosine",  # LambdaLR
            "early_stopping",
            "accuracy",
            "grayscale",  # torchvision's rgb_to_grayscale, from torch ops
            "adjust_contrast",  # torchvision's adjust_contrast, from torch ops
            "adjust_brightness",  # torchvision's adjust_brightness, from torch ops
            "normalize_channels",  # torchvision's normalize, from torch ops
            "rotate",  # F.affine_grid + F.grid_sample (torchvision's rotate is not a dependency)
            "shear",  # F.affine_grid + F.grid_sample (torchvision's affine is not a dependency)
        }
    )
    conventions: ClassVar[Mapping[str, str]] = {
        **conventions.PYTORCH,
        **conventions.PYTORCH_KERNELS_IN_FLOAT32,
    }
    defaults = DEFAULTS

    @classmethod
    def unavailable_reason(cls) -> str | None:
        try:
            import torch
        except ImportError as error:
            return f"torch is not installed ({error}); pip install 'dlspec[torch]'"
        if cls.device == "cuda" and not torch.cuda.is_available():
            return (
                f"no CUDA device: torch {torch.__version__} (CUDA build: "
                f"{torch.version.cuda or 'none'}) sees no GPU here; torch-cuda has not run"
            )
        return None

    def __init__(self) -> None:
        import torch

        # Conformance is measured at full precision: no TF32 in matmuls or convolutions.
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.set_float32_matmul_precision("highest")

    def to_native(self, array: np.ndarray) -> Any:
        import torch

        array = np.array(array, order="C", copy=True)
        if array.dtype.name == "bfloat16":  # NumPy's bfloat16 is ml_dtypes': moved as its bits
            return torch.from_numpy(array.view(np.int16)).view(torch.bfloat16).to(self.device)
        return torch.from_numpy(array).to(self.device)

    def to_numpy(self, value: Any) -> np.ndarray:
        import ml_dtypes
        import torch

        if isinstance(value, torch.Tensor):
            value = value.detach().cpu()
            if value.dtype == torch.bfloat16:
                return value.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
            return value.numpy()
        return np.asarray(value)

    def barrier(self, value: Any) -> Any:
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()
        return value

    def versions(self) -> Mapping[str, str]:
        import torch

        found = {
            "torch": torch.__version__,
            "device": self.device,
            "threads": str(torch.get_num_threads()),
            "tf32": "off",
        }
        if self.device == "cuda":
            found["gpu"] = torch.cuda.get_device_name()
            found["cuda"] = str(torch.version.cuda)
        return found

    def timed_variants(self, concept: str) -> Mapping[str, Callable[..., Any]]:
        """torch.optim's three implementations of an optimizer step for Adam and AdamW: the
        per-parameter for-loop, ``foreach`` (multi-tensor) and ``fused`` kernels."""
        function = self.native_callable(concept)
        if concept not in ("adam", "adamw"):
            return {"default": function}
        return {
            "for-loop": functools.partial(function, foreach=False),
            "foreach": functools.partial(function, foreach=True),
            "fused": functools.partial(function, fused=True),
        }

    def copy_of(self, native: Any) -> Callable[[], Any]:
        """``Tensor.copy_`` into a preallocated tensor (parallel over torch's threads)."""
        import torch

        target = torch.empty_like(native)
        return lambda: target.copy_(native)

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        import torch

        from . import torch_ops

        forward = torch_ops.table(torch, self.device)
        return {**forward, **gradient_entries(forward, torch_ops.vjp(torch))}


class TorchCudaAdapter(TorchAdapter):
    name = "torch-cuda"
    device = "cuda"


class TorchAutocastAdapter(TorchAdapter):
    """``torch.autocast`` on the CPU as an execution mode: each concept called on float16 or
    bfloat16 inputs inside ``torch.autocast("cpu", dtype=<theirs>)``. The ops on autocast's
    float32 list (the losses) upcast their inputs and return float32, which the adapter declares
    per concept (``<concept>.result_dtype``); the others run as plain torch-cpu does, in the
    inputs' dtype. Autocast leaves float32 and float64 inputs of these concepts as they are, so the
    backend declares the two low-precision dtypes only."""

    name = "torch-cpu-autocast"
    dtypes: ClassVar[tuple[str, ...]] = ("float16", "bfloat16")
    # make test's time: bfloat16 (autocast's CPU default) at one draw a test, besides each
    # test's explicit examples; make report runs both dtypes at the thorough profile
    ci_dtypes: ClassVar[tuple[str, ...] | None] = ("bfloat16",)
    ci_examples: ClassVar[int | None] = 1
    conventions: ClassVar[Mapping[str, str]] = conventions.PYTORCH_AUTOCAST_CPU
    written_up_as = "torch-cpu"  # the same kernels outside the float32 list, and its own

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        return {c: _under_autocast(f) for c, f in super().implementations().items()}

    def versions(self) -> Mapping[str, str]:
        return {**super().versions(), "autocast": "cpu, the inputs' dtype"}


def _under_autocast(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` run inside ``torch.autocast`` on the CPU at its first low-precision
    argument's dtype (as is, where it has none)."""

    @functools.wraps(function)
    def call(*natives: Any, **params: Any) -> Any:
        import torch

        low = (torch.float16, torch.bfloat16)
        kinds = [a.dtype for a in natives if isinstance(a, torch.Tensor) and a.dtype in low]
        if not kinds:
            return function(*natives, **params)
        with torch.autocast("cpu", dtype=kinds[0]):
            return function(*natives, **params)

    return call
