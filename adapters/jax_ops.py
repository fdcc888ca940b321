"""The JAX backend's table: one entry per concept, through JAX's and optax's own API.

Imported only by ``jax_adapter`` once jax and optax are known to be importable;
``table(jax, optax)`` returns functions of ``jax.Array`` arguments taking the reference's
parameters by keyword. Those in :data:`EAGER` drive optax's stateful objects step by step in
Python and are never jitted as a whole; the rest are pure array functions.
"""

from __future__ import annotations

import functools
import inspect
import math
import types
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .numpy_ops import training

Array = Any

EAGER = frozenset(
    {
        "sgd",
        "adam",
        "adamw",
        "gradient_accumulation",
        "frozen_parameters",
        "step_lr",
        "multistep_lr",
        "exponential_lr",
        "cosine_annealing_lr",
        "linear_warmup",
        "warmup_cosine",
        "reduce_lr_on_plateau",
        "minibatches",
        "train_val_test_split",
        "early_stopping",
    }
)
"""Concepts run step by step as optax is used (``init``, ``update``, ``apply_updates``; a
schedule called with the step count) or plain bookkeeping; the others are jitted whole."""


def static_parameters(function: Callable[..., Any]) -> tuple[str, ...]:
    """The keyword-only parameters: static under ``jax.jit`` (one compilation per value)."""
    return tuple(
        name
        for name, p in inspect.signature(function).parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    )


def vjp(jax: Any) -> Callable[[Callable[..., Any], int], Callable[..., Any]]:
    """``jax.vjp``'s vector-Jacobian product of ``function`` in its argument ``wrt``. The result
    keeps ``function``'s keyword-only parameters in its signature (they are static under
    ``jax.jit``), with the cotangent as its last positional argument."""

    def differentiate(function: Callable[..., Any], wrt: int) -> Callable[..., Any]:
        def gradient(*arrays: Array, **params: Any) -> Array:
            *inputs, cotangent = arrays

            def of_wrt(value: Array) -> Array:
                return function(*inputs[:wrt], value, *inputs[wrt + 1 :], **params)

            _, pullback = jax.vjp(of_wrt, inputs[wrt])
            (grad,) = pullback(cotangent)
            return grad

        signature = inspect.signature(function)
        positional = [
            p for p in signature.parameters.values() if p.kind is not inspect.Parameter.KEYWORD_ONLY
        ]
        keyword = [
            p for p in signature.parameters.values() if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        cotangent = inspect.Parameter("cotangent", inspect.Parameter.POSITIONAL_OR_KEYWORD)
        gradient.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*positional, cotangent, *keyword]
        )
        return gradient

    return differentiate


def drive(transform: Any, params: Array, gradients: Array) -> np.ndarray:
    """An optax optimizer as it is used: ``init``, then per step ``update`` and
    ``apply_updates``; the parameters after each step. The loop's own bookkeeping (one
    gradient per step in, the trajectory out) is NumPy's, through :func:`steps_of` and
    :func:`stacked`: only optax's calls run in JAX."""
    import optax

    state = transform.init(params)
    theta, trajectory = params, []
    for g in steps_of(gradients):
        updates, state = transform.update(g, state, theta)
        theta = optax.apply_updates(theta, updates)
        trajectory.append(theta)
    return stacked(trajectory)


def steps_of(values: Array) -> Iterator[Array]:
    """The rows of ``values``, one JAX array per step, each moved to the device as it is
    (``jax.device_put``): indexing or iterating a JAX array, or ``jnp.asarray`` of a NumPy one,
    would compile a program per shape, and none of them is a concept under test."""
    import jax

    for row in np.asarray(values):
        yield jax.device_put(row)


def stacked(values: Sequence[Array]) -> np.ndarray:
    """One step's values per row, stacked by NumPy (a ``jnp.stack`` compiles once per count)."""
    return np.stack([np.asarray(v) for v in values])


@functools.cache
def compiled(make: Callable[..., Any], *settings: Any) -> Any:
    """The optax transformation ``make(*settings)``, built once per settings, with its
    ``update`` under ``jax.jit``. For the transformations that branch with ``lax.cond``
    (``MultiSteps``, ``contrib.reduce_on_plateau``): run eagerly, a ``cond`` traces and compiles
    its branches again at every step; jitted, once per settings and shape."""
    import jax

    transform = make(*settings)
    return types.SimpleNamespace(init=transform.init, update=jax.jit(transform.update))


def rates(base_lr: Array, steps: int, schedule: Callable[[Array], Array]) -> Array:
    """An optax schedule at optax's ``int32`` step counts 0..steps, cast as optax casts it for
    the parameters: to the base rate's dtype.

    The counts go through one ``jax.vmap`` of the schedule, the very function optax calls with
    one count per step: its operations are elementwise in the count, so each rate is the one a
    single count gives, with one eager dispatch per operation rather than per operation and
    step. The counts run on to the next power of two, so that JAX compiles each operation for a
    handful of lengths, not one per ``steps``; NumPy drops the rates past ``steps`` and casts
    (rounding to nearest, as XLA's convert does), which in JAX would compile per length."""
    import jax
    import jax.numpy as jnp

    length = 1 << steps.bit_length()  # > steps, a power of two
    counts = jnp.arange(length, dtype=jnp.int32)
    return np.asarray(jax.vmap(schedule)(counts))[: steps + 1].astype(base_lr.dtype)


def table(jax: Any, optax: Any) -> Mapping[str, Callable[..., Any]]:
    jnp = jax.numpy
    special = jax.scipy.special
    losses = optax.losses

    def in_base(nats: Array, base: float | None) -> Array:
        return nats if base is None else nats / math.log(base)

    def reduce(terms: Array, reduction: str) -> Array:
        if reduction == "none":
            return terms
        return jnp.sum(terms) if reduction == "sum" else jnp.mean(terms)

    # ------------------------------------------------------------ information

    def entropy(p: Array, *, base: float | None = None, axis: int = -1) -> Array:
        return in_base(jnp.sum(special.entr(p), axis=axis), base)

    def cross_entropy(p: Array, q: Array, *, base: float | None = None, axis: int = -1) -> Array:
        return in_base(-jnp.sum(special.xlogy(p, q), axis=axis), base)

    def kl_divergence(p: Array, q: Array, *, base: float | None = None, axis: int = -1) -> Array:
        return in_base(jnp.sum(special.rel_entr(p, q), axis=axis), base)

    # ------------------------------------------------------------ activations

    def softplus(x: Array, *, beta: float = 1.0, threshold: float = 20.0) -> Array:
        # jax.nn.softplus is logaddexp(x, 0): no beta and no linear region (the threshold is
        # PyTorch's), so beta scales in and out as the formula softplus(beta x) / beta says.
        del threshold
        return jax.nn.softplus(x) if beta == 1.0 else jax.nn.softplus(beta * x) / beta

    def gelu(x: Array, *, approximate: str | None = None) -> Array:
        if approximate is None:  # jax.nn.gelu's own default: the tanh form
            return jax.nn.gelu(x)
        return jax.nn.gelu(x, approximate=approximate == "tanh")

    # ------------------------------------------------------------ losses

    def mse_loss(prediction: Array, target: Array, *, reduction: str = "mean") -> Array:
        return reduce(losses.squared_error(prediction, target), reduction)

    def mae_loss(prediction: Array, target: Array, *, reduction: str = "mean") -> Array:
        return reduce(jnp.abs(prediction - target), reduction)

    def huber_loss(
        prediction: Array, target: Array, *, delta: float = 1.0, reduction: str = "mean"
    ) -> Array:
        return reduce(losses.huber_loss(prediction, target, delta=delta), reduction)

    def binary_cross_entropy(
        probability: Array, target: Array, *, reduction: str = "mean"
    ) -> Array:
        # optax has BCE on logits only; on probabilities it is xlogy and xlog1py, unguarded.
        terms = -(special.xlogy(target, probability) + special.xlog1py(1 - target, -probability))
        return reduce(terms, reduction)

    def binary_cross_entropy_with_logits(
        logits: Array, target: Array, *, pos_weight: float = 1.0, reduction: str = "mean"
    ) -> Array:
        if pos_weight == 1.0:
            return reduce(losses.sigmoid_binary_cross_entropy(logits, target), reduction)
        # optax has no positive-class weight: the same terms with the weight on the first
        terms = -(
            pos_weight * target * jax.nn.log_sigmoid(logits)
            + (1 - target) * jax.nn.log_sigmoid(-logits)
        )
        return reduce(terms, reduction)

    def softmax_cross_entropy(
        logits: Array, target: Array, *, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> Array:
        classes = logits.shape[-1]
        if target.shape != logits.shape:  # class indices
            if label_smoothing == 0.0:
                return reduce(
                    losses.softmax_cross_entropy_with_integer_labels(logits, target), reduction
                )
            target = jax.nn.one_hot(target, classes, dtype=logits.dtype)
        if label_smoothing:
            target = optax.smooth_labels(target, label_smoothing)
        return reduce(losses.softmax_cross_entropy(logits, target), reduction)

    single_target = {
        "mse": mse_loss,
        "mae": mae_loss,
        "huber": huber_loss,
        "bce_with_logits": binary_cross_entropy_with_logits,
    }

    def multi_target_loss(
        prediction: Array, target: Array, *, losses: Sequence[str], weights: Sequence[float]
    ) -> Array:
        per_target = [
            single_target[name](prediction[:, t], target[:, t]) for t, name in enumerate(losses)
        ]
        total = sum(w * loss for w, loss in zip(weights, per_target, strict=True))
        return jnp.stack([total, *per_target])

    # ------------------------------------------------------------ regularization

    def l1_penalty(weights: Array, *, strength: float) -> Array:
        return strength * jnp.sum(jnp.abs(weights))

    def l2_penalty(weights: Array, *, strength: float) -> Array:
        # optax.l2_loss is w^2 / 2: the penalty whose gradient add_decayed_weights adds
        return strength * jnp.sum(losses.l2_loss(weights))

    # ------------------------------------------------------------ optimizers

    def sgd_transform(
        lr: float, momentum: float, dampening: float, nesterov: bool, weight_decay: float
    ) -> Any:
        # optax.sgd has no dampening; scaling the gradient by (1 - dampening) before its trace
        # (which starts at zero) is the dampened-buffer convention.
        parts = [optax.add_decayed_weights(weight_decay)] if weight_decay else []
        if momentum and dampening:
            parts.append(optax.scale(1 - dampening))
        parts.append(optax.sgd(lr, momentum=momentum or None, nesterov=nesterov))
        return optax.chain(*parts)

    def sgd(
        params: Array,
        gradients: Array,
        *,
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> Array:
        return drive(
            sgd_transform(lr, momentum, dampening, nesterov, weight_decay), params, gradients
        )

    def adam_transform(
        lr: float,
        beta1: float,
        beta2: float,
        eps: float,
        amsgrad: bool,
        coupled_decay: float = 0.0,
        decoupled_decay: float = 0.0,
    ) -> Any:
        scale_by = optax.scale_by_amsgrad if amsgrad else optax.scale_by_adam
        return optax.chain(
            *([optax.add_decayed_weights(coupled_decay)] if coupled_decay else []),
            scale_by(b1=beta1, b2=beta2, eps=eps),
            *([optax.add_decayed_weights(decoupled_decay)] if decoupled_decay else []),
            optax.scale_by_learning_rate(lr),
        )

    def adam(
        params: Array,
        gradients: Array,
        *,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> Array:
        if not (weight_decay or amsgrad):
            transform = optax.adam(lr, b1=beta1, b2=beta2, eps=eps)
        else:  # optax.adam has neither: its own transformations, chained as optax.adam is
            transform = adam_transform(lr, beta1, beta2, eps, amsgrad, coupled_decay=weight_decay)
        return drive(transform, params, gradients)

    def adamw(
        params: Array,
        gradients: Array,
        *,
        lr: float = 1e-3,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> Array:
        if not amsgrad:
            transform = optax.adamw(lr, b1=beta1, b2=beta2, eps=eps, weight_decay=weight_decay)
        else:
            transform = adam_transform(lr, beta1, beta2, eps, True, decoupled_decay=weight_decay)
        return drive(transform, params, gradients)

    def multi_steps_sgd(lr: float, every: int) -> Any:
        return optax.MultiSteps(optax.sgd(lr), every_k_schedule=every)

    def gradient_accumulation(
        params: Array, micro_gradients: Array, *, lr: float, accumulation_steps: int
    ) -> Array:
        # optax.MultiSteps averages k micro-batch gradients, then applies the inner optimizer;
        # between those steps its updates are zero. Only the k-th parameters are the trajectory.
        every = compiled(multi_steps_sgd, lr, accumulation_steps)
        trajectory = drive(every, params, micro_gradients)
        return trajectory[accumulation_steps - 1 :: accumulation_steps]

    def clip_grad_norm(gradients: Array, *, max_norm: float) -> Array:
        updates, _ = optax.clip_by_global_norm(max_norm).update(gradients, optax.EmptyState())
        return updates

    def frozen_parameters(
        params: Array,
        gradients: Array,
        *,
        frozen: Sequence[bool],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> Array:
        # Fine-tuning in optax: label the frozen leaf and give it set_to_zero.
        mask, initial = np.asarray(frozen, dtype=bool), np.asarray(params)
        tree = {
            "trainable": jax.device_put(initial[~mask]),
            "frozen": jax.device_put(initial[mask]),
        }
        transform = optax.multi_transform(
            {
                "train": sgd_transform(lr, momentum, 0.0, False, weight_decay),
                "freeze": optax.set_to_zero(),
            },
            {"trainable": "train", "frozen": "freeze"},
        )
        state = transform.init(tree)
        trajectory = []
        for g in np.asarray(gradients):
            grads = {"trainable": jax.device_put(g[~mask]), "frozen": jax.device_put(g[mask])}
            updates, state = transform.update(grads, state, tree)
            tree = optax.apply_updates(tree, updates)
            row = np.empty(params.shape, dtype=params.dtype)
            row[~mask], row[mask] = np.asarray(tree["trainable"]), np.asarray(tree["frozen"])
            trajectory.append(row)
        return np.stack(trajectory)

    # ------------------------------------------------------------ schedules

    def step_lr(base_lr: Array, *, step_size: int, gamma: float = 0.1, steps: int) -> Array:
        schedule = optax.exponential_decay(base_lr, step_size, gamma, staircase=True)
        return rates(base_lr, steps, schedule)

    def multistep_lr(
        base_lr: Array, *, milestones: Sequence[int], gamma: float = 0.1, steps: int
    ) -> Array:
        # a milestone listed twice decays twice (as PyTorch's MultiStepLR counts them)
        scales = {m: gamma**count for m, count in Counter(milestones).items()}
        return rates(base_lr, steps, optax.piecewise_constant_schedule(base_lr, scales))

    def exponential_lr(base_lr: Array, *, gamma: float, steps: int) -> Array:
        return rates(base_lr, steps, optax.exponential_decay(base_lr, 1, gamma))

    def cosine_annealing_lr(
        base_lr: Array, *, t_max: int, eta_min: float = 0.0, steps: int
    ) -> Array:
        schedule = optax.cosine_decay_schedule(base_lr, t_max, alpha=eta_min / base_lr)
        return rates(base_lr, steps, schedule)

    def linear_warmup(
        base_lr: Array,
        *,
        start_factor: float = 1 / 3,
        end_factor: float = 1.0,
        total_steps: int = 5,
        steps: int,
    ) -> Array:
        schedule = optax.linear_schedule(
            base_lr * start_factor, base_lr * end_factor, transition_steps=total_steps
        )
        return rates(base_lr, steps, schedule)

    def warmup_cosine(
        base_lr: Array,
        *,
        warmup_steps: int,
        decay_steps: int,
        start_lr: float = 0.0,
        end_lr: float = 0.0,
        steps: int,
    ) -> Array:
        schedule = optax.warmup_cosine_decay_schedule(
            start_lr, base_lr, warmup_steps, decay_steps, end_value=end_lr
        )
        return rates(base_lr, steps, schedule)

    def plateau(
        factor: float, patience: int, rtol: float, atol: float, cooldown: int, min_scale: float
    ) -> Any:
        return optax.contrib.reduce_on_plateau(
            factor=factor,
            patience=patience,
            rtol=rtol,
            atol=atol,
            cooldown=cooldown,
            min_scale=min_scale,
        )

    def reduce_lr_on_plateau(
        base_lr: Array,
        metrics: Array,
        *,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ) -> Array:
        # optax scales the updates by state.scale; the rate is base_lr times it. It has no
        # mode (a declared limit) and no eps.
        del mode, eps
        relative = threshold_mode == "rel"
        transform = compiled(
            plateau,
            factor,
            patience,
            threshold if relative else 0.0,
            0.0 if relative else threshold,
            cooldown,
            float(min_lr / base_lr),
        )
        params = jnp.zeros((), dtype=metrics.dtype)
        state = transform.init(params)
        out = []
        for value in steps_of(metrics):
            _, state = transform.update(params, state, params, value=value)
            out.append(base_lr * state.scale)
        return stacked(out).astype(metrics.dtype)

    # ------------------------------------------------------------ normalization

    def min_max_scale(
        x: Array, *, axis: int = 0, feature_min: float = 0.0, feature_max: float = 1.0
    ) -> Array:
        low, high = jnp.min(x, axis=axis, keepdims=True), jnp.max(x, axis=axis, keepdims=True)
        span = high - low
        scaled = feature_min + (feature_max - feature_min) * ((x - low) / span)
        return jnp.where(span == 0, jnp.asarray(feature_min, x.dtype), scaled)

    def standardize(x: Array, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0) -> Array:
        # jax.nn.standardize computes the biased variance; another ddof is passed in.
        variance = jnp.var(x, axis=axis, ddof=ddof, keepdims=True) if ddof else None
        return jax.nn.standardize(x, axis=axis, variance=variance, epsilon=epsilon)

    def batch_norm(
        x: Array,
        running_mean: Array,
        running_variance: Array,
        weight: Array,
        bias: Array,
        *,
        training: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Array:
        # JAX has no batch norm layer (Flax has); composed with Flax's conventions: the biased
        # batch variance feeds the running average, and momentum weights the running value.
        if training:
            mean, variance = jnp.mean(x, axis=0), jnp.var(x, axis=0)
            new_mean = momentum * running_mean + (1 - momentum) * mean
            new_variance = momentum * running_variance + (1 - momentum) * variance
        else:
            mean, variance = running_mean, running_variance
            new_mean, new_variance = running_mean, running_variance
        out = jax.nn.standardize(x, axis=0, mean=mean, variance=variance, epsilon=eps)
        return jnp.concatenate([out * weight + bias, new_mean[None, :], new_variance[None, :]])

    def layer_norm(x: Array, weight: Array, bias: Array, *, eps: float = 1e-5) -> Array:
        return jax.nn.standardize(x, axis=-1, epsilon=eps) * weight + bias

    # ------------------------------------------------------------ training

    def permutations(seed: int, n: int) -> Iterator[np.ndarray]:
        key = jax.random.key(seed)
        while True:
            key, subkey = jax.random.split(key)
            yield np.asarray(jax.random.permutation(subkey, n))

    def minibatches(
        *,
        n: int,
        batch_size: int,
        epochs: int = 1,
        drop_last: bool = False,
        shuffle: bool = False,
        seed: int = 0,
    ) -> np.ndarray:
        # JAX has no data loader: jax.random permutations, cut into batches.
        shuffled = permutations(seed, n)
        orders = (next(shuffled) if shuffle else np.arange(n) for _ in range(epochs))
        return training.batched(orders, batch_size, drop_last)

    def train_val_test_split(
        *, n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
    ) -> np.ndarray:
        return training.split(next(permutations(seed, n)), fractions)

    def accuracy(prediction: Array, target: Array, *, threshold: float = 0.5) -> Array:
        if prediction.ndim == 1:
            predicted = (prediction > threshold).astype(jnp.int64)
        else:
            predicted = jnp.argmax(prediction, axis=-1)
        correct = jnp.sum(predicted == target.astype(jnp.int64))
        return correct.astype(prediction.dtype) / target.size

    # ------------------------------------------------------------ the table

    return {
        "entropy": entropy,
        "cross_entropy": cross_entropy,
        "kl_divergence": kl_divergence,
        "relu": jax.nn.relu,
        "leaky_relu": lambda x, *, negative_slope=0.01: jax.nn.leaky_relu(x, negative_slope),
        "sigmoid": jax.nn.sigmoid,
        "tanh": jnp.tanh,
        "softplus": softplus,
        "gelu": gelu,
        "silu": jax.nn.silu,
        "elu": lambda x, *, alpha=1.0: jax.nn.elu(x, alpha),
        "softmax": lambda x, *, axis=-1: jax.nn.softmax(x, axis=axis),
        "log_softmax": lambda x, *, axis=-1: jax.nn.log_softmax(x, axis=axis),
        "mse_loss": mse_loss,
        "mae_loss": mae_loss,
        "huber_loss": huber_loss,
        "binary_cross_entropy": binary_cross_entropy,
        "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
        "softmax_cross_entropy": softmax_cross_entropy,
        "multi_target_loss": multi_target_loss,
        "l1_penalty": l1_penalty,
        "l2_penalty": l2_penalty,
        "sgd": sgd,
        "adam": adam,
        "adamw": adamw,
        "gradient_accumulation": gradient_accumulation,
        "clip_grad_norm": clip_grad_norm,
        "frozen_parameters": frozen_parameters,
        "step_lr": step_lr,
        "multistep_lr": multistep_lr,
        "exponential_lr": exponential_lr,
        "cosine_annealing_lr": cosine_annealing_lr,
        "linear_warmup": linear_warmup,
        "warmup_cosine": warmup_cosine,
        "reduce_lr_on_plateau": reduce_lr_on_plateau,
        "min_max_scale": min_max_scale,
        "standardize": standardize,
        "batch_norm": batch_norm,
        "layer_norm": layer_norm,
        "minibatches": minibatches,
        "train_val_test_split": train_val_test_split,
        "early_stopping": training.early_stopping,  # plain bookkeeping: shared with NumPy
        "accuracy": accuracy,
        "horizontal_flip": lambda image: jnp.flip(image, -1),
        "vertical_flip": lambda image: jnp.flip(image, -2),
        "rot90": lambda image, *, k=1: jnp.rot90(image, k, axes=(-2, -1)),
    }
