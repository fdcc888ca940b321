"""Mutants of the activations concepts (Activations) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import activations as act
from dlspec.adapters.reference_adapter import ReferenceAdapter

from dlspec.numerics import is_floating
from dlspec.oracle import ExactResult

from ._registry import MUTANTS, jax_mutant, mutant, torch_mutant


@mutant(
    "SoftmaxWithoutMaxShift",
    "softmax",
    "exp(x) / sum(exp(x)): overflows to inf/inf = NaN at large logits.",
)
def _softmax_without_max_shift(x, *, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


@mutant(
    "LogSoftmaxAsLogOfSoftmax", "log_softmax", "log(softmax(x)): -inf where softmax underflows."
)
def _log_of_softmax(x, *, axis=-1):
    with np.errstate(divide="ignore"):
        return np.log(act.softmax(x, axis=axis))


@mutant("LogSoftmaxWrongAxis", "log_softmax", "normalises along axis 0 whatever axis is asked for.")
def _log_softmax_on_axis_0(x, *, axis=-1):
    return act.log_softmax(x, axis=0)


@mutant(
    "SoftmaxLegacyImplicitDim",
    "softmax",
    "axis ignored for PyTorch's legacy implicit dim: 0 for a 3-D input, 1 for a 2-D one.",
)
def _softmax_legacy_implicit_dim(x, *, axis=-1):
    # torch.nn.functional._get_softmax_dim, for a call without dim: 0 for 0-, 1- and 3-D inputs
    legacy = 0 if x.ndim in (0, 1, 3) else 1
    return act.softmax(x, axis=legacy)


@mutant(
    "LeakyReluWithKerasDefault",
    "leaky_relu",
    "negative_slope defaults to Keras' LeakyReLU 0.3, not 0.01.",
)
def _leaky_relu_with_keras_default(x, *, negative_slope=0.3):
    return act.leaky_relu(x, negative_slope=negative_slope)


@mutant("SoftmaxOverAxis0ByDefault", "softmax", "axis defaults to 0, not -1.")
def _softmax_over_axis_0_by_default(x, *, axis=0):
    return act.softmax(x, axis=axis)


@mutant(
    "SoftmaxThroughFloat32", "softmax", "exp evaluated in float32 inside a float64 computation."
)
def _softmax_through_float32(x, *, axis=-1):
    # A float32 cast in the middle of a float64 computation.
    e = np.exp((x - np.max(x, axis=axis, keepdims=True)).astype(np.float32)).astype(x.dtype)
    return e / np.sum(e, axis=axis, keepdims=True)


@mutant("SigmoidThroughTanh", "sigmoid", "(1 + tanh(x/2)) / 2: cancels for negative x.")
def _sigmoid_through_tanh(x):
    return (0.5 * (1 + np.tanh(0.5 * x))).astype(x.dtype)


@mutant("ReluLeaking", "relu", "a leaky ReLU where ReLU is asked for.")
def _relu_leaking(x):
    return np.where(x > 0, x, x.dtype.type(0.01) * x)


@mutant("ReluUpcasting", "relu", "returns float64 for float32 input.")
def _relu_upcasting(x):
    # NumPy 1's value-based casting habit: a float64 zero promotes the result.
    return np.maximum(x, np.zeros((), dtype=np.float64))


@mutant("LeakyReluKerasSlope", "leaky_relu", "slope 0.2 whatever is asked.")
def _leaky_relu_keras_slope(x, *, negative_slope=0.01):
    return act.leaky_relu(x, negative_slope=0.2)  # Keras' default, whatever is asked


@mutant("TanhFromExponentials", "tanh", "(e^x - e^-x)/(e^x + e^-x): inf/inf at large |x|.")
def _tanh_from_exponentials(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


@mutant("SoftplusNaive", "softplus", "log(1 + exp(x)): 0 instead of e^x for very negative x.")
def _softplus_naive(x, *, beta=1.0, threshold=20.0):
    with np.errstate(over="ignore"):
        smooth = np.log(1 + np.exp(beta * x)) / x.dtype.type(beta)
    return np.where(beta * x > threshold, x, smooth).astype(x.dtype)


@mutant("GeluAlwaysTanh", "gelu", "the tanh approximation when the exact GELU is asked.")
def _gelu_always_tanh(x, *, approximate="none"):
    return act.gelu(x, approximate="tanh")  # JAX's default, whatever is asked


@mutant("SiluAsQuickGelu", "silu", "x sigmoid(1.702 x), the 'quick GELU'.")
def _silu_as_quick_gelu(x):
    return x * act.sigmoid(x.dtype.type(1.702) * x)


@mutant("EluExpMinusOne", "elu", "exp(x) - 1 instead of expm1: no digits near 0.")
def _elu_exp_minus_one(x, *, alpha=1.0):
    return np.where(x > 0, x, x.dtype.type(alpha) * (np.exp(np.minimum(x, 0)) - 1))


@mutant("SigmoidGradSignFlipped", "sigmoid_grad", "a sign error.")
def _sigmoid_grad_sign_flipped(x, cotangent):
    return -act.sigmoid_grad(x, cotangent)


@mutant(
    "TanhGradIgnoringCotangent",
    "tanh_grad",
    "the chain rule's upstream factor left out: tanh'(x), not g tanh'(x).",
)
def _tanh_grad_ignoring_cotangent(x, cotangent):
    t = np.tanh(x)
    return (1 - t * t).astype(x.dtype)


@mutant("LogSoftmaxGradWithoutSum", "log_softmax_grad", "g - softmax, not g - softmax * sum(g).")
def _log_softmax_grad_without_sum(x, cotangent, *, axis=-1):
    # the softmax term taken once, as if the cotangent summed to 1
    return cotangent - np.exp(act.log_softmax(x, axis=axis))


@mutant("ReluGradOneAtZero", "relu_grad", "1 at x = 0 while declaring 0.")
def _relu_grad_one_at_zero(x, cotangent):
    return np.where(x >= 0, cotangent, 0).astype(x.dtype)


@mutant(
    "LeakyReluGradOneAtZero",
    "leaky_relu_grad",
    "1 at x = 0 while declaring the slope (JAX's value under PyTorch's convention).",
)
def _leaky_relu_grad_one_at_zero(x, cotangent, *, negative_slope=0.01):
    return np.where(x >= 0, cotangent, cotangent * x.dtype.type(negative_slope))


@mutant(
    "GeluGradTanhAlways",
    "gelu_grad",
    "the tanh form's derivative where the exact one is asked for.",
)
def _gelu_grad_tanh_always(x, cotangent, *, approximate=None):
    return act.gelu_grad(x, cotangent, approximate="tanh")


@mutant(
    "SoftmaxGradDiagonalOnly",
    "softmax_grad",
    "s * g: the Jacobian's off-diagonal -s_i s_j left out.",
)
def _softmax_grad_diagonal_only(x, cotangent, *, axis=-1):
    return act.softmax(x, axis=axis) * cotangent


@mutant("SoftplusGradWithoutBeta", "softplus_grad", "sigma(x), not sigma(beta x).")
def _softplus_grad_without_beta(x, cotangent, *, beta=1.0, threshold=20.0):
    return act.softplus_grad(x, cotangent, beta=1.0, threshold=threshold)


@mutant("SiluGradProductRuleForgotten", "silu_grad", "sigma(x): x treated as a constant factor.")
def _silu_grad_product_rule_forgotten(x, cotangent):
    return cotangent * act.sigmoid(x)


@mutant("EluGradWithoutAlpha", "elu_grad", "e^x, not alpha e^x.")
def _elu_grad_without_alpha(x, cotangent, *, alpha=1.0):
    return act.elu_grad(x, cotangent, alpha=1.0)


@torch_mutant(
    "TorchReluGradThroughClamp",
    "relu_grad",
    "x.clamp(min=0) for relu: its backward passes the gradient at x = 0.",
)
def _t_relu_grad_through_clamp(x, cotangent):
    import torch
    from dlspec.adapters import torch_ops

    return torch_ops.vjp(torch)(lambda v: v.clamp(min=0), 0)(x, cotangent)


@jax_mutant(
    "JaxLeakyReluGradThroughMaximum",
    "leaky_relu_grad",
    "jnp.maximum(x, a x): the tie at 0 splits the gradient, (1 + a) / 2.",
)
def _j_leaky_relu_grad_through_maximum(x, cotangent, *, negative_slope=0.01):
    import jax
    import jax.numpy as jnp
    from dlspec.adapters import jax_ops

    def leaky(v, *, negative_slope):
        return jnp.maximum(v, negative_slope * v)

    return jax_ops.vjp(jax)(leaky, 0)(x, cotangent, negative_slope=negative_slope)


class ReferenceRoundedThroughFloat32(ReferenceAdapter):
    """The reference backend rounding its exact value to float32 first, then to a narrower
    dtype: a double rounding (a float64 -> bfloat16 cast in torch 2.13 or jax 0.10.2 is one),
    caught where the exact value lies just short of a float16 tie that float32 rounds onto."""

    name = "mutant-ReferenceRoundedThroughFloat32"
    caught_by = "sigmoid"
    dtypes = ("float16",)  # where the example ties are; make test's time

    def rounded(self, exact: ExactResult, dtype: np.dtype) -> np.ndarray:
        if not is_floating(dtype) or np.dtype(dtype).itemsize >= 4:
            return exact.rounded(dtype)
        return exact.rounded(np.dtype(np.float32)).astype(dtype)


MUTANTS.append(ReferenceRoundedThroughFloat32)  # type: ignore[arg-type]
