"""The dlspec reference: every concept in pure Python, evaluated exactly with mpmath.

Installed as ``dlspec.reference``. One module per concept group; the same id names the spec page,
the catalogue entry, the function here and the adapter entry.
"""

from ._core import DISTRIBUTION_TOLERANCE, PRECISION_BITS, DomainError, Tensor, as_tensor
from .activations import (
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    relu,
    sigmoid,
    silu,
    softmax,
    softplus,
    tanh,
)
from .augmentation import horizontal_flip, rot90, vertical_flip
from .information import cross_entropy, entropy, kl_divergence
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    huber_loss,
    mae_loss,
    mse_loss,
    multi_target_loss,
    softmax_cross_entropy,
)
from .normalization import batch_norm, layer_norm, min_max_scale, standardize
from .optimizers import adam, adamw, clip_grad_norm, frozen_parameters, gradient_accumulation, sgd
from .regularization import l1_penalty, l1_penalty_gradient, l2_penalty, l2_penalty_gradient
from .schedules import (
    cosine_annealing_lr,
    exponential_lr,
    linear_warmup,
    multistep_lr,
    reduce_lr_on_plateau,
    step_lr,
    warmup_cosine,
)
from .training import accuracy, early_stopping, minibatches, train_val_test_split

__all__ = [
    "DISTRIBUTION_TOLERANCE",
    "PRECISION_BITS",
    "DomainError",
    "Tensor",
    "accuracy",
    "adam",
    "adamw",
    "as_tensor",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "clip_grad_norm",
    "cosine_annealing_lr",
    "cross_entropy",
    "early_stopping",
    "elu",
    "entropy",
    "exponential_lr",
    "frozen_parameters",
    "gelu",
    "gradient_accumulation",
    "horizontal_flip",
    "huber_loss",
    "kl_divergence",
    "l1_penalty",
    "l1_penalty_gradient",
    "l2_penalty",
    "l2_penalty_gradient",
    "layer_norm",
    "leaky_relu",
    "linear_warmup",
    "log_softmax",
    "mae_loss",
    "min_max_scale",
    "minibatches",
    "mse_loss",
    "multi_target_loss",
    "multistep_lr",
    "reduce_lr_on_plateau",
    "relu",
    "rot90",
    "sgd",
    "sigmoid",
    "silu",
    "softmax",
    "softmax_cross_entropy",
    "softplus",
    "standardize",
    "step_lr",
    "tanh",
    "train_val_test_split",
    "vertical_flip",
    "warmup_cosine",
]
