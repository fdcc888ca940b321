"""Mutant porting mappings: a verified mapping of the catalogue with one wrong setting in one
framework's snippet, the porting bugs practitioners report. ``test_mutants.py`` asserts that
Hypothesis finds an input where the mutated mapping parts, so a wrong entry in the guide fails.

Each is ``(mapping id, framework, the text replaced, its replacement, the bug)``.
"""

from __future__ import annotations

MAPPING_MUTANTS: list[tuple[str, str, str, str, str]] = [
    (
        "resize-pytorch-s-bicubic",
        "jax",
        '"bicubic-pytorch"',
        '"bicubic"',
        "JAX's bicubic (Keys, a = -0.5) for PyTorch's (a = -0.75, edges repeated)",
    ),
    (
        "resize-bilinear-without-antialiasing",
        "jax",
        ", antialias=False)",
        ")",
        "jax.image.resize left at its default antialias=True for PyTorch's plain bilinear",
    ),
    (
        "rotate-a-rotation-in-pixels-in-normalised-and-in-index-coordinates",
        "torch-cpu",
        "-sin * (height / width), zero]), torch.stack([sin * (width / height)",
        "-sin, zero]), torch.stack([sin",
        "the pixel rotation matrix put into affine_grid's theta as it is (normalised coordinates)",
    ),
    (
        "adamw-weight-decay",
        "jax",
        ", weight_decay=weight_decay)",
        ")",
        "optax.adamw left at its default weight decay 1e-4 (PyTorch's is 0.01)",
    ),
    (
        "gelu-tanh-form",
        "torch-cpu",
        ', approximate="tanh"',
        "",
        "PyTorch's exact GELU for JAX's default tanh form (jax-ml/jax#4428)",
    ),
    (
        "reduce_lr_on_plateau-patience-plus-one",
        "jax",
        "patience=patience + 1",
        "patience=patience",
        "the same patience in both: optax reduces one epoch earlier",
    ),
    (
        "cosine_annealing_lr-within-the-horizon",
        "jax",
        "alpha=eta_min / base_lr",
        "alpha=eta_min",
        "PyTorch's eta_min (a rate) passed as optax's alpha (a fraction of the rate)",
    ),
    (
        "softmax_cross_entropy-label-smoothing",
        "jax",
        "optax.smooth_labels(one_hot, label_smoothing)",
        "one_hot * (1 - label_smoothing) + label_smoothing / (logits.shape[-1] - 1)",
        "smoothing over K - 1 classes (pytorch/pytorch#148884)",
    ),
    (
        "sgd-momentum",
        "jax",
        "optax.sgd(lr, momentum=momentum)",
        "optax.sgd(lr, momentum=momentum, nesterov=True)",
        "Nesterov momentum on one side only",
    ),
    (
        "step_lr-staircase-decay",
        "jax",
        ", staircase=True",
        "",
        "optax's smooth exponential decay for StepLR's staircase",
    ),
    (
        "mse_loss-squared-error-not-l2_loss",
        "jax",
        "2 * optax.l2_loss",
        "optax.l2_loss",
        "optax.l2_loss taken for the squared error (it is half of it)",
    ),
]
