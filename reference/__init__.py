"""The dlspec reference: every concept in pure Python, evaluated exactly with mpmath.

Installed as ``dlspec.reference``. One module per concept group; the same id names the spec page,
the catalogue entry, the function here and the adapter entry.
"""

from ._core import DISTRIBUTION_TOLERANCE, PRECISION_BITS, DomainError, Tensor, as_tensor
from .activations import log_softmax, relu, sigmoid, softmax
from .information import cross_entropy, entropy
from .losses import binary_cross_entropy, mse_loss

__all__ = [
    "DISTRIBUTION_TOLERANCE",
    "PRECISION_BITS",
    "DomainError",
    "Tensor",
    "as_tensor",
    "binary_cross_entropy",
    "cross_entropy",
    "entropy",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
]
