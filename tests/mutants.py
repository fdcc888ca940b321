"""Mutant adapters: copies of the NumPy adapter with one realistic bug each, and broken adapters
that violate the interface. ``test_mutants.py`` asserts the conformance suite catches every one.

Each mutant names the concept whose tests must catch it (``caught_by``).
"""

import itertools
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np
from dlspec.adapters.numpy_adapter import NumpyAdapter
from dlspec.adapters.numpy_ops import activations as act
from dlspec.adapters.numpy_ops import augmentation as aug
from dlspec.adapters.numpy_ops import information as info
from dlspec.adapters.numpy_ops import losses as loss
from dlspec.adapters.numpy_ops import normalization as norm
from dlspec.adapters.numpy_ops import optimizers as opt
from dlspec.adapters.numpy_ops import regularization as reg
from dlspec.adapters.numpy_ops import schedules as sched
from dlspec.adapters.numpy_ops import training as train


class Mutant(NumpyAdapter):
    """The NumPy adapter with ``replacements`` swapped into its table."""

    caught_by: ClassVar[str]
    replacements: ClassVar[Mapping[str, Callable[..., Any]]]

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        return {**super().implementations(), **self.replacements}


def _softmax_without_max_shift(x, *, axis=-1):
    e = np.exp(x)
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_of_softmax(x, *, axis=-1):
    with np.errstate(divide="ignore"):
        return np.log(act.softmax(x, axis=axis))


def _log_softmax_on_axis_0(x, *, axis=-1):
    return act.log_softmax(x, axis=0)


def _softmax_legacy_implicit_dim(x, *, axis=-1):
    # torch.nn.functional._get_softmax_dim, for a call without dim: 0 for 0-, 1- and 3-D inputs
    legacy = 0 if x.ndim in (0, 1, 3) else 1
    return act.softmax(x, axis=legacy)


def _entropy_along_the_last_axis(p, *, base=None, axis=-1):
    return info.entropy(p, base=base, axis=-1)


def _kl_divergence_along_the_last_axis(p, q, *, base=None, axis=-1):
    return info.kl_divergence(p, q, base=base, axis=-1)


def _standardize_over_every_element(x, *, axis=0, ddof=0, epsilon=0.0):
    mean, spread = np.mean(x), np.sqrt(np.var(x, ddof=ddof) + epsilon)
    return (x - mean) / spread


def _minibatches_never_shuffled(*, n, batch_size, epochs=1, drop_last=False, shuffle=False, seed=0):
    return train.minibatches(n=n, batch_size=batch_size, epochs=epochs, drop_last=drop_last)


def _minibatches_shuffled_once(*, n, batch_size, epochs=1, drop_last=False, shuffle=False, seed=0):
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    return train.batched([order] * epochs, batch_size, drop_last)


def _split_with_a_fixed_seed(*, n, fractions=(0.8, 0.1, 0.1), seed=0):
    return train.train_val_test_split(n=n, fractions=fractions, seed=0)


def _leaky_relu_with_keras_default(x, *, negative_slope=0.3):
    return act.leaky_relu(x, negative_slope=negative_slope)


def _softmax_over_axis_0_by_default(x, *, axis=0):
    return act.softmax(x, axis=axis)


def _layer_norm_with_flax_default(x, weight, bias, *, eps=1e-6):
    return norm.layer_norm(x, weight, bias, eps=eps)


def _adam_with_keras_default_eps(params, gradients, *, eps=1e-7, **settings):
    return opt.adam(params, gradients, eps=eps, **settings)


def _huber_with_delta_half_by_default(prediction, target, *, delta=0.5, reduction="mean"):
    return loss.huber_loss(prediction, target, delta=delta, reduction=reduction)


def _entropy_in_bits(p, *, base=None, axis=-1):
    return info.entropy(p, base=2.0 if base is None else base, axis=axis)


def _entropy_without_zero_guard(p, *, base=None, axis=-1):
    with np.errstate(divide="ignore", invalid="ignore"):
        return info.in_base(-np.sum(p * np.log(p), axis=axis), base)


def _cross_entropy_swapped(p, q, *, base=None, axis=-1):
    return info.cross_entropy(q, p, base=base, axis=axis)


def _bce_without_clamp(probability, target, *, reduction="mean"):
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -(target * np.log(probability) + (1 - target) * np.log1p(-probability))
    return loss.reduce(terms, reduction)


def _bce_clamped_after_weighting(probability, target, *, reduction="mean"):
    # The clamp applied to the weighted term rather than to each log.
    with np.errstate(divide="ignore", invalid="ignore"):
        positive = np.maximum(np.nan_to_num(target * np.log(probability), nan=0.0), -100)
        negative = np.maximum(np.nan_to_num((1 - target) * np.log1p(-probability), nan=0.0), -100)
    return loss.reduce(-(positive + negative), reduction)


def _mse_summed(prediction, target, *, reduction="mean"):
    return loss.reduce((prediction - target) ** 2, "sum" if reduction == "mean" else reduction)


def _softmax_through_float32(x, *, axis=-1):
    # A float32 cast in the middle of a float64 computation.
    e = np.exp((x - np.max(x, axis=axis, keepdims=True)).astype(np.float32)).astype(x.dtype)
    return e / np.sum(e, axis=axis, keepdims=True)


def _sigmoid_through_tanh(x):
    return (0.5 * (1 + np.tanh(0.5 * x))).astype(x.dtype)


def _relu_leaking(x):
    return np.where(x > 0, x, x.dtype.type(0.01) * x)


def _relu_upcasting(x):
    # NumPy 1's value-based casting habit: a float64 zero promotes the result.
    return np.maximum(x, np.zeros((), dtype=np.float64))


def _mse_per_sample(prediction, target, *, reduction="mean"):
    # Keras' convention (mean over the last axis first) presented as PyTorch's.
    terms = np.mean((prediction - target) ** 2, axis=-1)
    return loss.reduce(terms, reduction)


# ---------------------------------------------------------------- the rest of the catalogue


def _kl_reversed(p, q, *, base=None, axis=-1):
    return info.kl_divergence(q, p, base=base, axis=axis)


def _leaky_relu_keras_slope(x, *, negative_slope=0.01):
    return act.leaky_relu(x, negative_slope=0.2)  # Keras' default, whatever is asked


def _tanh_from_exponentials(x):
    with np.errstate(over="ignore", invalid="ignore"):
        return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


def _softplus_naive(x, *, beta=1.0, threshold=20.0):
    with np.errstate(over="ignore"):
        smooth = np.log(1 + np.exp(beta * x)) / x.dtype.type(beta)
    return np.where(beta * x > threshold, x, smooth).astype(x.dtype)


def _gelu_always_tanh(x, *, approximate="none"):
    return act.gelu(x, approximate="tanh")  # JAX's default, whatever is asked


def _silu_as_quick_gelu(x):
    return x * act.sigmoid(x.dtype.type(1.702) * x)


def _elu_exp_minus_one(x, *, alpha=1.0):
    return np.where(x > 0, x, x.dtype.type(alpha) * (np.exp(np.minimum(x, 0)) - 1))


def _mae_without_abs(prediction, target, *, reduction="mean"):
    return loss.reduce(prediction - target, reduction)


def _huber_as_smooth_l1(prediction, target, *, delta=1.0, reduction="mean"):
    # SmoothL1 with beta = delta is Huber / delta: equal only at delta = 1.
    return loss.huber_loss(
        prediction, target, delta=delta, reduction=reduction
    ) / prediction.dtype.type(delta)


def _pos_weight_on_both_terms(logits, target, *, pos_weight=1.0, reduction="mean"):
    terms = loss.binary_cross_entropy_with_logits(logits, target, reduction="none")
    return loss.reduce(logits.dtype.type(pos_weight) * terms, reduction)


def _smoothing_over_other_classes(logits, target, *, label_smoothing=0.0, reduction="mean"):
    classes = logits.shape[-1]
    if target.shape != logits.shape:
        target = np.eye(classes, dtype=logits.dtype)[target.astype(np.int64)]
    eps = logits.dtype.type(label_smoothing)
    # eps / (C - 1) on the other classes instead of eps / C on every class
    smoothed = (1 - eps) * target + (1 - target) * eps / max(classes - 1, 1)
    terms = -np.sum(smoothed * act.log_softmax(logits, axis=-1), axis=-1)
    return loss.reduce(terms, reduction)


def _multi_target_unweighted(prediction, target, *, losses, weights):
    return loss.multi_target_loss(prediction, target, losses=losses, weights=(1.0,) * len(losses))


def _l1_without_abs(weights, *, strength):
    return weights.dtype.type(strength) * np.sum(weights)


def _l2_full_scale(weights, *, strength):
    return weights.dtype.type(strength) * np.sum(weights * weights)  # Keras', declared "half"


def _sgd_dampened_first_step(
    params, gradients, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0
):
    theta, buffer, trajectory = params.copy(), np.zeros_like(params), []
    for g in gradients:
        g = g + theta * params.dtype.type(weight_decay)
        if momentum:
            buffer = momentum * buffer + (1 - dampening) * g  # a zero buffer, dampened from step 1
            g = g + momentum * buffer if nesterov else buffer
        theta = theta - lr * g
        trajectory.append(theta)
    return np.asarray(trajectory, dtype=params.dtype)


def _adam_eps_hat(
    params, gradients, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False
):
    # Keras' form, eps added to the uncorrected sqrt(v), while the adapter declares PyTorch's.
    theta, trajectory = params.copy(), []
    m, v, v_max = np.zeros_like(theta), np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(gradients, start=1):
        g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = np.maximum(v_max, v) if amsgrad else v
        rate = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
        theta = theta - rate * (m / (np.sqrt(v_max) + eps))
        trajectory.append(theta)
    return np.asarray(trajectory, dtype=params.dtype)


def _adamw_coupled(
    params,
    gradients,
    *,
    lr=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=1e-2,
    amsgrad=False,
):
    return opt.adam(
        params,
        gradients,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
    )


def _accumulation_summed(params, micro_gradients, *, lr, accumulation_steps):
    # forgot to divide each micro-batch loss by k
    scaled = micro_gradients * micro_gradients.dtype.type(accumulation_steps)
    return opt.gradient_accumulation(params, scaled, lr=lr, accumulation_steps=accumulation_steps)


def _clip_without_clamp(gradients, *, max_norm):
    largest = np.max(np.abs(gradients))
    scaled = gradients / np.where(largest > 0, largest, 1)
    norm = largest * np.sqrt(np.sum(scaled * scaled))
    return gradients * (gradients.dtype.type(max_norm) / (norm + gradients.dtype.type(1e-6)))


def _frozen_but_decayed(params, gradients, *, frozen, lr, momentum=0.0, weight_decay=0.0):
    # the frozen parameters' gradients zeroed, but the optimizer still holds them
    masked = np.where(np.asarray(frozen, dtype=bool), 0, gradients).astype(gradients.dtype)
    return opt.sgd(params, masked, lr=lr, momentum=momentum, weight_decay=weight_decay)


def _step_lr_counting_from_one(base_lr, *, step_size, gamma=0.1, steps):
    return sched._rates(base_lr, steps, lambda t, b: b * gamma ** ((t + 1) // step_size))


def _multistep_deduplicated(base_lr, *, milestones, gamma=0.1, steps):
    return sched.multistep_lr(base_lr, milestones=sorted(set(milestones)), gamma=gamma, steps=steps)


def _exponential_from_step_one(base_lr, *, gamma, steps):
    return sched._rates(base_lr, steps, lambda t, b: b * gamma ** (t + 1))


def _cosine_clamped(base_lr, *, t_max, eta_min=0.0, steps):
    return sched._rates(
        base_lr,
        steps,
        lambda t, b: eta_min + (b - eta_min) * sched._half_cosine(min(t, t_max) / t_max),
    )


def _warmup_without_clamp(base_lr, *, start_factor=1 / 3, end_factor=1.0, total_steps=5, steps):
    return sched._rates(
        base_lr,
        steps,
        lambda t, b: b * (start_factor + (end_factor - start_factor) * t / total_steps),
    )


def _warmup_cosine_after_warmup(
    base_lr, *, warmup_steps, decay_steps, start_lr=0.0, end_lr=0.0, steps
):
    return sched.warmup_cosine(
        base_lr,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps + warmup_steps,
        start_lr=start_lr,
        end_lr=end_lr,
        steps=steps,
    )


def _plateau_reaches_patience(base_lr, metrics, *, patience=10, **settings):
    return sched.reduce_lr_on_plateau(base_lr, metrics, patience=max(patience - 1, 0), **settings)


def _plateau_without_eps(base_lr, metrics, *, eps=1e-8, **settings):
    return sched.reduce_lr_on_plateau(base_lr, metrics, eps=-np.inf, **settings)


def _min_max_global(x, *, axis=0, feature_min=0.0, feature_max=1.0):
    low, high = np.min(x), np.max(x)
    a, b = x.dtype.type(feature_min), x.dtype.type(feature_max)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(high == low, a, a + (b - a) * ((x - low) / (high - low))).astype(x.dtype)


def _standardize_unbiased(x, *, axis=0, ddof=0, epsilon=0.0):
    return norm.standardize(x, axis=axis, ddof=1 if x.shape[axis] > 1 else 0, epsilon=epsilon)


def _batch_norm_biased_running_var(
    x, running_mean, running_variance, weight, bias, *, training=True, momentum=0.1, eps=1e-5
):
    out = norm.batch_norm(
        x,
        running_mean,
        running_variance,
        weight,
        bias,
        training=training,
        momentum=momentum,
        eps=eps,
    )
    if training:
        variance = np.mean((x - np.mean(x, axis=0)) ** 2, axis=0)
        out[-1] = (1 - momentum) * running_variance + momentum * variance
    return out


def _layer_norm_over_everything(x, weight, bias, *, eps=1e-5):
    flat = norm.standardize(x.reshape(1, -1), axis=-1, epsilon=eps).reshape(x.shape)
    return flat * weight + bias


def _minibatches_ignoring_drop_last(
    *, n, batch_size, epochs=1, drop_last=False, shuffle=False, seed=0
):
    return train.minibatches(
        n=n, batch_size=batch_size, epochs=epochs, drop_last=False, shuffle=shuffle, seed=seed
    )


def _split_rounding_to_nearest(*, n, fractions=(0.8, 0.1, 0.1), seed=0):
    sizes = [round(n * f) for f in fractions]
    order = np.random.default_rng(seed).permutation(n)
    bounds = np.cumsum([0, *sizes])
    return train.padded([order[a:b] for a, b in itertools.pairwise(bounds)], n)


def _early_stopping_one_epoch_late(metrics, *, patience, min_delta=0.0, mode="min"):
    return train.early_stopping(metrics, patience=patience + 1, min_delta=min_delta, mode=mode)


def _accuracy_inclusive(prediction, target, *, threshold=0.5):
    if prediction.ndim == 1:
        correct = np.count_nonzero((prediction >= threshold) == target.astype(bool))
        return np.asarray(correct / target.size, dtype=prediction.dtype)
    return train.accuracy(prediction, target, threshold=threshold)


def _hflip_wrong_axis(image):
    return np.flip(image, axis=-2).copy()


def _vflip_batch_axis(image):
    return np.flip(image, axis=0).copy()


def _rot90_clockwise(image, *, k=1):
    return aug.rot90(image, k=-k)


# ---------------------------------------------------------------- gradients


def _sigmoid_grad_sign_flipped(x, cotangent):
    return -act.sigmoid_grad(x, cotangent)


def _tanh_grad_ignoring_cotangent(x, cotangent):
    t = np.tanh(x)
    return (1 - t * t).astype(x.dtype)


def _mse_grad_without_two(prediction, target, cotangent, *, reduction="mean"):
    return loss.mse_loss_grad(prediction, target, cotangent, reduction=reduction) / 2


def _softmax_ce_grad_summed(logits, target, cotangent, *, label_smoothing=0.0, reduction="mean"):
    summed = "sum" if reduction == "mean" else reduction
    return loss.softmax_cross_entropy_grad(
        logits, target, cotangent, label_smoothing=label_smoothing, reduction=summed
    )


def _log_softmax_grad_without_sum(x, cotangent, *, axis=-1):
    # the softmax term taken once, as if the cotangent summed to 1
    return cotangent - np.exp(act.log_softmax(x, axis=axis))


def _relu_grad_one_at_zero(x, cotangent):
    return np.where(x >= 0, cotangent, 0).astype(x.dtype)


def _leaky_relu_grad_one_at_zero(x, cotangent, *, negative_slope=0.01):
    return np.where(x >= 0, cotangent, cotangent * x.dtype.type(negative_slope))


def _mae_grad_one_at_zero(prediction, target, cotangent, *, reduction="mean"):
    sign = np.where(prediction >= target, 1, -1).astype(prediction.dtype)
    return loss._per_term(cotangent, prediction.shape, reduction) * sign


def _bce_grad_unclamped(probability, target, cotangent, *, reduction="mean"):
    with np.errstate(divide="ignore", invalid="ignore"):
        derivative = (probability - target) / ((1 - probability) * probability)
    return loss._per_term(cotangent, probability.shape, reduction) * derivative


def _batch_norm_grad_statistics_constant(x, weight, bias, cotangent, *, eps=1e-5):
    # the evaluation-mode gradient: the batch mean and variance treated as constants
    return cotangent * weight / np.sqrt(np.var(x, axis=0) + x.dtype.type(eps))


def _layer_norm_grad_without_weight(x, weight, bias, cotangent, *, eps=1e-5):
    return norm.layer_norm_grad(x, np.ones_like(weight), bias, cotangent, eps=eps)


def _entropy_grad_without_one(p, cotangent, *, base=None, axis=-1):
    g = np.expand_dims(cotangent, axis % p.ndim)
    return info._in_base(-g * np.log(p), base)


def _l2_grad_full_scale(weights, cotangent, *, strength):
    return 2 * reg.l2_penalty_grad(weights, cotangent, strength=strength)


def _gelu_grad_tanh_always(x, cotangent, *, approximate=None):
    return act.gelu_grad(x, cotangent, approximate="tanh")


def _cross_entropy_grad_in_nats_only(p, q, cotangent, *, base=None, axis=-1):
    return info.cross_entropy_grad(p, q, cotangent, axis=axis)  # the 1/log b factor left out


def _kl_grad_in_p(p, q, cotangent, *, base=None, axis=-1):
    g = np.expand_dims(cotangent, axis % p.ndim)
    return info._in_base(g * (np.log(p / q) + 1), base)


def _softmax_grad_diagonal_only(x, cotangent, *, axis=-1):
    return act.softmax(x, axis=axis) * cotangent


def _softplus_grad_without_beta(x, cotangent, *, beta=1.0, threshold=20.0):
    return act.softplus_grad(x, cotangent, beta=1.0, threshold=threshold)


def _silu_grad_product_rule_forgotten(x, cotangent):
    return cotangent * act.sigmoid(x)


def _elu_grad_without_alpha(x, cotangent, *, alpha=1.0):
    return act.elu_grad(x, cotangent, alpha=1.0)


def _huber_grad_clipped_at_one(prediction, target, cotangent, *, delta=1.0, reduction="mean"):
    return loss.huber_loss_grad(prediction, target, cotangent, delta=1.0, reduction=reduction)


def _bce_logits_grad_weight_on_both(logits, target, cotangent, *, pos_weight=1.0, reduction="mean"):
    derivative = logits.dtype.type(pos_weight) * (act.sigmoid(logits) - target)
    return loss._per_term(cotangent, logits.shape, reduction) * derivative


def _multi_target_grad_total_only(prediction, target, cotangent, *, losses, weights):
    only_total = cotangent.copy()
    only_total[1:] = 0
    return loss.multi_target_loss_grad(
        prediction, target, only_total, losses=losses, weights=weights
    )


def _l1_grad_without_strength(weights, cotangent, *, strength):
    return cotangent * np.sign(weights)


def _standardize_grad_biased_always(x, cotangent, *, axis=0, ddof=0, epsilon=0.0):
    return norm.standardize_grad(x, cotangent, axis=axis, ddof=0, epsilon=epsilon)


def _mutant(name: str, concept: str, function: Callable[..., Any], doc: str) -> type[Mutant]:
    return type(
        name,
        (Mutant,),
        {
            "name": f"mutant-{name}",
            "caught_by": concept,
            "replacements": {concept: function},
            "__doc__": doc,
        },
    )


MUTANTS: list[type[Mutant]] = [
    _mutant(
        "SoftmaxWithoutMaxShift",
        "softmax",
        _softmax_without_max_shift,
        "exp(x) / sum(exp(x)): overflows to inf/inf = NaN at large logits.",
    ),
    _mutant(
        "LogSoftmaxAsLogOfSoftmax",
        "log_softmax",
        _log_of_softmax,
        "log(softmax(x)): -inf where softmax underflows.",
    ),
    _mutant(
        "LogSoftmaxWrongAxis",
        "log_softmax",
        _log_softmax_on_axis_0,
        "normalises along axis 0 whatever axis is asked for.",
    ),
    _mutant(
        "SoftmaxLegacyImplicitDim",
        "softmax",
        _softmax_legacy_implicit_dim,
        "axis ignored for PyTorch's legacy implicit dim: 0 for a 3-D input, 1 for a 2-D one.",
    ),
    _mutant(
        "EntropyAlongTheLastAxis",
        "entropy",
        _entropy_along_the_last_axis,
        "axis ignored: always the last.",
    ),
    _mutant(
        "KlDivergenceAlongTheLastAxis",
        "kl_divergence",
        _kl_divergence_along_the_last_axis,
        "axis ignored: always the last.",
    ),
    _mutant(
        "StandardizeOverEveryElement",
        "standardize",
        _standardize_over_every_element,
        "one mean and variance over the whole array, not per lane along axis.",
    ),
    _mutant(
        "MinibatchesNeverShuffled",
        "minibatches",
        _minibatches_never_shuffled,
        "shuffle ignored: every epoch in order 0..n-1.",
    ),
    _mutant(
        "MinibatchesShuffledOnce",
        "minibatches",
        _minibatches_shuffled_once,
        "one permutation drawn and replayed every epoch.",
    ),
    _mutant(
        "SplitWithAFixedSeed",
        "train_val_test_split",
        _split_with_a_fixed_seed,
        "the seed ignored: every call splits as seed 0.",
    ),
    _mutant(
        "LeakyReluWithKerasDefault",
        "leaky_relu",
        _leaky_relu_with_keras_default,
        "negative_slope defaults to Keras' LeakyReLU 0.3, not 0.01.",
    ),
    _mutant(
        "SoftmaxOverAxis0ByDefault",
        "softmax",
        _softmax_over_axis_0_by_default,
        "axis defaults to 0, not -1.",
    ),
    _mutant(
        "LayerNormWithFlaxDefault",
        "layer_norm",
        _layer_norm_with_flax_default,
        "eps defaults to Flax's 1e-6, not 1e-5.",
    ),
    _mutant(
        "AdamWithKerasDefaultEps",
        "adam",
        _adam_with_keras_default_eps,
        "eps defaults to Keras' 1e-7, not 1e-8.",
    ),
    _mutant(
        "HuberWithDeltaHalfByDefault",
        "huber_loss",
        _huber_with_delta_half_by_default,
        "delta defaults to 0.5, not 1.",
    ),
    _mutant("EntropyInBits", "entropy", _entropy_in_bits, "log base 2 where nats are asked for."),
    _mutant(
        "EntropyWithoutZeroGuard",
        "entropy",
        _entropy_without_zero_guard,
        "p log p with 0 log 0 = NaN.",
    ),
    _mutant(
        "CrossEntropySwapped",
        "cross_entropy",
        _cross_entropy_swapped,
        "H(Q, P) instead of H(P, Q).",
    ),
    _mutant(
        "BceWithoutClamp",
        "binary_cross_entropy",
        _bce_without_clamp,
        "no guard: inf at p in {0, 1}.",
    ),
    _mutant(
        "BceClampAfterWeighting",
        "binary_cross_entropy",
        _bce_clamped_after_weighting,
        "clamps y log p at -100 instead of log p: wrong for soft targets at tiny p.",
    ),
    _mutant("MseSummedNotAveraged", "mse_loss", _mse_summed, "'mean' returns the sum."),
    _mutant(
        "MsePerSampleMean",
        "mse_loss",
        _mse_per_sample,
        "averages over the last axis first, so reduction='none' has the wrong shape.",
    ),
    _mutant(
        "SoftmaxThroughFloat32",
        "softmax",
        _softmax_through_float32,
        "exp evaluated in float32 inside a float64 computation.",
    ),
    _mutant(
        "SigmoidThroughTanh",
        "sigmoid",
        _sigmoid_through_tanh,
        "(1 + tanh(x/2)) / 2: cancels for negative x.",
    ),
    _mutant("ReluLeaking", "relu", _relu_leaking, "a leaky ReLU where ReLU is asked for."),
    _mutant("ReluUpcasting", "relu", _relu_upcasting, "returns float64 for float32 input."),
    _mutant("KlReversed", "kl_divergence", _kl_reversed, "D(Q || P) instead of D(P || Q)."),
    _mutant(
        "LeakyReluKerasSlope", "leaky_relu", _leaky_relu_keras_slope, "slope 0.2 whatever is asked."
    ),
    _mutant(
        "TanhFromExponentials",
        "tanh",
        _tanh_from_exponentials,
        "(e^x - e^-x)/(e^x + e^-x): inf/inf at large |x|.",
    ),
    _mutant(
        "SoftplusNaive",
        "softplus",
        _softplus_naive,
        "log(1 + exp(x)): 0 instead of e^x for very negative x.",
    ),
    _mutant(
        "GeluAlwaysTanh",
        "gelu",
        _gelu_always_tanh,
        "the tanh approximation when the exact GELU is asked.",
    ),
    _mutant(
        "SiluAsQuickGelu", "silu", _silu_as_quick_gelu, "x sigmoid(1.702 x), the 'quick GELU'."
    ),
    _mutant(
        "EluExpMinusOne",
        "elu",
        _elu_exp_minus_one,
        "exp(x) - 1 instead of expm1: no digits near 0.",
    ),
    _mutant("MaeWithoutAbs", "mae_loss", _mae_without_abs, "mean of signed differences."),
    _mutant(
        "HuberAsSmoothL1", "huber_loss", _huber_as_smooth_l1, "SmoothL1 (Huber / delta) for Huber."
    ),
    _mutant(
        "PosWeightOnBothTerms",
        "binary_cross_entropy_with_logits",
        _pos_weight_on_both_terms,
        "pos_weight scales the negative term too.",
    ),
    _mutant(
        "SmoothingOverOtherClasses",
        "softmax_cross_entropy",
        _smoothing_over_other_classes,
        "eps/(C - 1) on the other classes.",
    ),
    _mutant(
        "MultiTargetUnweighted",
        "multi_target_loss",
        _multi_target_unweighted,
        "ignores the per-target weights.",
    ),
    _mutant(
        "L1WithoutAbs",
        "l1_penalty",
        _l1_without_abs,
        "lambda sum(w): negative weights lower the penalty.",
    ),
    _mutant(
        "L2FullScale",
        "l2_penalty",
        _l2_full_scale,
        "lambda ||w||^2 while declaring the half convention.",
    ),
    _mutant(
        "SgdDampenedFirstStep",
        "sgd",
        _sgd_dampened_first_step,
        "a zero first buffer, dampened, while declaring PyTorch's rule.",
    ),
    _mutant(
        "AdamEpsHat",
        "adam",
        _adam_eps_hat,
        "eps added before the bias correction (Keras) while declaring PyTorch's.",
    ),
    _mutant(
        "AdamwCoupled",
        "adamw",
        _adamw_coupled,
        "weight decay added to the gradient (Adam's L2) instead of decoupled.",
    ),
    _mutant(
        "AccumulationSummed",
        "gradient_accumulation",
        _accumulation_summed,
        "micro-batch losses not divided by k.",
    ),
    _mutant(
        "ClipWithoutClamp",
        "clip_grad_norm",
        _clip_without_clamp,
        "scales small gradients up to max_norm.",
    ),
    _mutant(
        "FrozenButDecayed",
        "frozen_parameters",
        _frozen_but_decayed,
        "zeroes frozen gradients but still decays them.",
    ),
    _mutant(
        "StepLrCountingFromOne", "step_lr", _step_lr_counting_from_one, "decays one step early."
    ),
    _mutant(
        "MultistepDeduplicated",
        "multistep_lr",
        _multistep_deduplicated,
        "a repeated milestone decays once.",
    ),
    _mutant(
        "ExponentialFromStepOne",
        "exponential_lr",
        _exponential_from_step_one,
        "gamma^(t + 1): the first update already decayed.",
    ),
    _mutant(
        "CosineClamped",
        "cosine_annealing_lr",
        _cosine_clamped,
        "clamps past T_max while declaring periodic.",
    ),
    _mutant(
        "WarmupWithoutClamp",
        "linear_warmup",
        _warmup_without_clamp,
        "keeps rising past total_steps.",
    ),
    _mutant(
        "WarmupCosineAfterWarmup",
        "warmup_cosine",
        _warmup_cosine_after_warmup,
        "Keras' horizon while declaring optax's.",
    ),
    _mutant(
        "PlateauReachesPatience",
        "reduce_lr_on_plateau",
        _plateau_reaches_patience,
        "reduces one epoch early (optax's rule) while declaring PyTorch's.",
    ),
    _mutant(
        "PlateauWithoutEps",
        "reduce_lr_on_plateau",
        _plateau_without_eps,
        "makes a reduction of at most eps (optax's rule) while declaring PyTorch's.",
    ),
    _mutant(
        "MinMaxGlobal",
        "min_max_scale",
        _min_max_global,
        "one min and max for the whole array, not per feature.",
    ),
    _mutant(
        "StandardizeUnbiased", "standardize", _standardize_unbiased, "ddof=1 whatever is asked."
    ),
    _mutant(
        "BatchNormBiasedRunningVar",
        "batch_norm",
        _batch_norm_biased_running_var,
        "biased running variance while declaring unbiased.",
    ),
    _mutant(
        "LayerNormOverEverything",
        "layer_norm",
        _layer_norm_over_everything,
        "statistics over the whole tensor, not per row.",
    ),
    _mutant(
        "MinibatchesIgnoringDropLast",
        "minibatches",
        _minibatches_ignoring_drop_last,
        "keeps the short last batch.",
    ),
    _mutant(
        "SplitRoundingToNearest",
        "train_val_test_split",
        _split_rounding_to_nearest,
        "round(n f) per subset: sizes that do not add up.",
    ),
    _mutant(
        "EarlyStoppingOneEpochLate",
        "early_stopping",
        _early_stopping_one_epoch_late,
        "waited > patience instead of >=.",
    ),
    _mutant(
        "AccuracyInclusive",
        "accuracy",
        _accuracy_inclusive,
        "p >= threshold while declaring strict.",
    ),
    _mutant("HflipWrongAxis", "horizontal_flip", _hflip_wrong_axis, "flips the height axis."),
    _mutant(
        "VflipBatchAxis",
        "vertical_flip",
        _vflip_batch_axis,
        "flips axis 0: right for one image, wrong for a batch.",
    ),
    _mutant("Rot90Clockwise", "rot90", _rot90_clockwise, "turns clockwise."),
    _mutant("SigmoidGradSignFlipped", "sigmoid_grad", _sigmoid_grad_sign_flipped, "a sign error."),
    _mutant(
        "TanhGradIgnoringCotangent",
        "tanh_grad",
        _tanh_grad_ignoring_cotangent,
        "the chain rule's upstream factor left out: tanh'(x), not g tanh'(x).",
    ),
    _mutant("MseGradWithoutTwo", "mse_loss_grad", _mse_grad_without_two, "(p - t), not 2 (p - t)."),
    _mutant(
        "SoftmaxCrossEntropyGradSummed",
        "softmax_cross_entropy_grad",
        _softmax_ce_grad_summed,
        "the mean's 1/N left out.",
    ),
    _mutant(
        "LogSoftmaxGradWithoutSum",
        "log_softmax_grad",
        _log_softmax_grad_without_sum,
        "g - softmax, not g - softmax * sum(g).",
    ),
    _mutant(
        "ReluGradOneAtZero", "relu_grad", _relu_grad_one_at_zero, "1 at x = 0 while declaring 0."
    ),
    _mutant(
        "LeakyReluGradOneAtZero",
        "leaky_relu_grad",
        _leaky_relu_grad_one_at_zero,
        "1 at x = 0 while declaring the slope (JAX's value under PyTorch's convention).",
    ),
    _mutant(
        "MaeGradOneAtZero",
        "mae_loss_grad",
        _mae_grad_one_at_zero,
        "sign(0) = 1 at p = t while declaring 0.",
    ),
    _mutant(
        "BceGradUnclamped",
        "binary_cross_entropy_grad",
        _bce_grad_unclamped,
        "no denominator clamp while declaring PyTorch's.",
    ),
    _mutant(
        "BatchNormGradStatisticsConstant",
        "batch_norm_grad",
        _batch_norm_grad_statistics_constant,
        "the batch statistics treated as constants in training mode.",
    ),
    _mutant(
        "LayerNormGradWithoutWeight",
        "layer_norm_grad",
        _layer_norm_grad_without_weight,
        "the chain rule through the affine weight left out.",
    ),
    _mutant(
        "EntropyGradWithoutOne",
        "entropy_grad",
        _entropy_grad_without_one,
        "-log p, not -(log p + 1): invisible along the simplex, not to the oracle.",
    ),
    _mutant(
        "L2GradFullScale",
        "l2_penalty_grad",
        _l2_grad_full_scale,
        "2 lambda w while declaring the half scale.",
    ),
    _mutant(
        "GeluGradTanhAlways",
        "gelu_grad",
        _gelu_grad_tanh_always,
        "the tanh form's derivative where the exact one is asked for.",
    ),
    _mutant(
        "CrossEntropyGradInNatsOnly",
        "cross_entropy_grad",
        _cross_entropy_grad_in_nats_only,
        "the change of base's 1/log b left out.",
    ),
    _mutant("KlGradInP", "kl_divergence_grad", _kl_grad_in_p, "differentiated in p instead of q."),
    _mutant(
        "SoftmaxGradDiagonalOnly",
        "softmax_grad",
        _softmax_grad_diagonal_only,
        "s * g: the Jacobian's off-diagonal -s_i s_j left out.",
    ),
    _mutant(
        "SoftplusGradWithoutBeta",
        "softplus_grad",
        _softplus_grad_without_beta,
        "sigma(x), not sigma(beta x).",
    ),
    _mutant(
        "SiluGradProductRuleForgotten",
        "silu_grad",
        _silu_grad_product_rule_forgotten,
        "sigma(x): x treated as a constant factor.",
    ),
    _mutant("EluGradWithoutAlpha", "elu_grad", _elu_grad_without_alpha, "e^x, not alpha e^x."),
    _mutant(
        "HuberGradClippedAtOne",
        "huber_loss_grad",
        _huber_grad_clipped_at_one,
        "the residual clipped at 1 whatever delta (smooth L1's beta = 1).",
    ),
    _mutant(
        "BceLogitsGradWeightOnBoth",
        "binary_cross_entropy_with_logits_grad",
        _bce_logits_grad_weight_on_both,
        "w (sigma - y): pos_weight on both terms.",
    ),
    _mutant(
        "MultiTargetGradTotalOnly",
        "multi_target_loss_grad",
        _multi_target_grad_total_only,
        "the per-target losses' cotangents dropped.",
    ),
    _mutant(
        "L1GradWithoutStrength",
        "l1_penalty_grad",
        _l1_grad_without_strength,
        "sign(w): the strength lambda left out.",
    ),
    _mutant(
        "StandardizeGradBiasedAlways",
        "standardize_grad",
        _standardize_grad_biased_always,
        "ddof ignored: the biased variance's derivative.",
    ),
]


# Bind each mutant to its class name, so that ``--adapter mutants:<Name>`` finds it.
globals().update({mutant.__name__: mutant for mutant in MUTANTS})


# ---------------------------------------------------------------- broken adapters


class BrokenRaises(Mutant):
    name = "broken-raises"
    caught_by = "relu"
    replacements: ClassVar = {
        "relu": lambda x: (_ for _ in ()).throw(RuntimeError("kernel exploded"))
    }


class BrokenWrongShape(Mutant):
    name = "broken-wrong-shape"
    caught_by = "softmax"
    replacements: ClassVar = {
        "softmax": lambda x, *, axis=-1: act.softmax(x, axis=axis).ravel()[:1]
    }


class BrokenWrongDtype(Mutant):
    name = "broken-wrong-dtype"
    caught_by = "sigmoid"
    replacements: ClassVar = {"sigmoid": lambda x: act.sigmoid(x).astype(np.float16)}


class BrokenNaN(Mutant):
    name = "broken-nan"
    caught_by = "mse_loss"
    replacements: ClassVar = {
        "mse_loss": lambda prediction, target, *, reduction="mean": np.full_like(
            loss.mse_loss(prediction, target, reduction=reduction), np.nan
        )
    }


class BrokenNotAnArray(NumpyAdapter):
    """Returns a Python float (the ``.item()`` habit) instead of an array."""

    name = "broken-not-an-array"
    caught_by = "entropy"

    def run(self, concept, *arrays, **params):
        return float(np.ravel(super().run(concept, *arrays, **params))[0])


class BrokenMissingRun:
    """Declares everything the protocol asks but the method that runs a concept."""

    name = "broken-missing-run"
    caught_by = "relu"
    device = "cpu"
    dtypes = ("float32", "float64")
    conventions: ClassVar = {}

    def supports(self, concept):
        return True


class BrokenConstructor(NumpyAdapter):
    name = "broken-constructor"
    caught_by = "softmax"

    def implementations(self):
        raise ImportError("libframework.so: cannot open shared object file")


class BrokenNoConvention(Mutant):
    """Implements BCE but does not declare which guard it follows."""

    name = "broken-no-convention"
    caught_by = "binary_cross_entropy"
    conventions: ClassVar = {}
    replacements: ClassVar = {}


BROKEN: list[type] = [
    BrokenRaises,
    BrokenWrongShape,
    BrokenWrongDtype,
    BrokenNaN,
    BrokenNotAnArray,
    BrokenMissingRun,
    BrokenConstructor,
    BrokenNoConvention,
]


# ---------------------------------------------------------------- torch counterparts
#
# The PyTorch adapter with one realistic misuse of torch.optim or torch.optim.lr_scheduler each.
# torch is imported inside the functions, so this module loads without it.


def _framework_mutant(
    base: type, name: str, concept: str, function: Callable[..., Any], doc: str
) -> type:
    """A subclass of a framework adapter with one table entry replaced."""

    def implementations(self):
        return {**base.implementations(self), concept: function}

    return type(
        name,
        (base,),
        {
            "name": f"mutant-{name}",
            "caught_by": concept,
            "implementations": implementations,
            "__doc__": doc,
        },
    )


def _t_sgd_without_zero_grad(
    params, gradients, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0
):
    import torch

    theta = torch.nn.Parameter(params.clone())
    optimizer = torch.optim.SGD(
        [theta],
        lr=lr,
        momentum=momentum,
        dampening=dampening,
        nesterov=nesterov,
        weight_decay=weight_decay,
    )
    out = []
    for g in gradients:
        (theta * g).sum().backward()  # .grad accumulates: zero_grad() forgotten
        optimizer.step()
        out.append(theta.detach().clone())
    return torch.stack(out)


def _t_drive(optimizer, theta, gradients):
    import torch

    out = []
    for g in gradients:
        theta.grad = g.clone()
        optimizer.step()
        out.append(theta.detach().clone())
    return torch.stack(out)


def _t_adam_as_adamw(
    params, gradients, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False
):
    import torch

    theta = torch.nn.Parameter(params.clone())
    opt = torch.optim.AdamW(
        [theta], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
    )
    return _t_drive(opt, theta, gradients)


def _t_adamw_as_adam(
    params,
    gradients,
    *,
    lr=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=1e-2,
    amsgrad=False,
):
    import torch

    theta = torch.nn.Parameter(params.clone())
    opt = torch.optim.Adam(
        [theta], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
    )
    return _t_drive(opt, theta, gradients)


def _t_accumulation_unscaled(params, micro_gradients, *, lr, accumulation_steps):
    import torch

    theta = torch.nn.Parameter(params.clone())
    optimizer = torch.optim.SGD([theta], lr=lr)
    out = []
    for i, g in enumerate(micro_gradients, start=1):
        (theta * g).sum().backward()  # the loss not divided by k
        if i % accumulation_steps == 0:
            optimizer.step()
            optimizer.zero_grad()
            out.append(theta.detach().clone())
    return torch.stack(out)


def _t_clip_by_value(gradients, *, max_norm):
    import torch

    theta = torch.nn.Parameter(torch.zeros_like(gradients))
    theta.grad = gradients.clone()
    torch.nn.utils.clip_grad_value_([theta], max_norm)  # value clipping for norm clipping
    return theta.grad


def _t_frozen_by_zero_grad(params, gradients, *, frozen, lr, momentum=0.0, weight_decay=0.0):
    import torch

    mask = torch.tensor(frozen, dtype=torch.bool)
    theta = torch.nn.Parameter(params.clone())
    optimizer = torch.optim.SGD([theta], lr=lr, momentum=momentum, weight_decay=weight_decay)
    out = []
    for g in gradients:
        theta.grad = torch.where(mask, torch.zeros_like(g), g)  # frozen by zeroing, still decayed
        optimizer.step()
        out.append(theta.detach().clone())
    return torch.stack(out)


def _t_rates(base_lr, steps, make, *, scheduler_first=False):
    import torch

    theta = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([theta], lr=float(base_lr))
    scheduler = make(optimizer)
    out = []
    for _ in range(steps + 1):
        if scheduler_first:  # the pre-1.1 order: the rate read after scheduler.step()
            scheduler.step()
        out.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        if not scheduler_first:
            scheduler.step()
    return torch.tensor(out, dtype=base_lr.dtype)


def _t_step_lr_scheduler_first(base_lr, *, step_size, gamma=0.1, steps):
    import torch

    return _t_rates(
        base_lr,
        steps,
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma),
        scheduler_first=True,
    )


def _t_multistep_set(base_lr, *, milestones, gamma=0.1, steps):
    import torch

    return _t_rates(
        base_lr,
        steps,
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, sorted(set(milestones)), gamma),
    )


def _t_exponential_scheduler_first(base_lr, *, gamma, steps):
    import torch

    return _t_rates(
        base_lr,
        steps,
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma),
        scheduler_first=True,
    )


def _t_cosine_t_max_plus_one(base_lr, *, t_max, eta_min=0.0, steps):
    import torch

    return _t_rates(
        base_lr, steps, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, t_max + 1, eta_min)
    )


def _t_linear_default_factor(base_lr, *, start_factor=1 / 3, end_factor=1.0, total_steps=5, steps):
    import torch

    def make(optimizer):  # start_factor not passed: PyTorch's default 1/3
        return torch.optim.lr_scheduler.LinearLR(
            optimizer, end_factor=end_factor, total_iters=total_steps
        )

    return _t_rates(base_lr, steps, make)


def _t_warmup_cosine_keras_horizon(
    base_lr, *, warmup_steps, decay_steps, start_lr=0.0, end_lr=0.0, steps
):
    import math

    import torch

    peak, length = float(base_lr), decay_steps  # the cosine over decay_steps after the warmup
    scale = peak or 1.0  # LambdaLR multiplies the base rate: a zero peak stays 0 whatever

    def factor(t):
        if t < warmup_steps:
            return (start_lr + (peak - start_lr) * t / warmup_steps) / scale
        cosine = (1 + math.cos(math.pi * min(t - warmup_steps, length) / length)) / 2
        return (end_lr + (peak - end_lr) * cosine) / scale

    return _t_rates(base_lr, steps, lambda o: torch.optim.lr_scheduler.LambdaLR(o, factor))


def _t_plateau_patience_minus_one(base_lr, metrics, *, patience=10, **settings):
    import torch

    theta = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = torch.optim.SGD([theta], lr=float(base_lr))
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, patience=max(patience - 1, 0), **settings
    )
    out = []
    for value in metrics.tolist():
        optimizer.step()
        scheduler.step(value)
        out.append(optimizer.param_groups[0]["lr"])
    return torch.tensor(out, dtype=metrics.dtype)


def _t_relu_grad_through_clamp(x, cotangent):
    import torch
    from dlspec.adapters import torch_ops

    return torch_ops.vjp(torch)(lambda v: v.clamp(min=0), 0)(x, cotangent)


def _t_batch_norm_grad_detached_statistics(x, weight, bias, cotangent, *, eps=1e-5):
    import torch
    from dlspec.adapters import torch_ops

    def normalized(v, weight, bias):
        mean, variance = v.mean(0).detach(), v.var(0, unbiased=False).detach()
        return (v - mean) / torch.sqrt(variance + eps) * weight + bias

    return torch_ops.vjp(torch)(normalized, 0)(x, weight, bias, cotangent)


TORCH_MUTANT_SPECS = [
    (
        "TorchSgdWithoutZeroGrad",
        "sgd",
        _t_sgd_without_zero_grad,
        "zero_grad() forgotten: .grad accumulates across steps.",
    ),
    (
        "TorchAdamAsAdamW",
        "adam",
        _t_adam_as_adamw,
        "optim.AdamW where Adam's coupled weight decay is meant.",
    ),
    (
        "TorchAdamwAsAdam",
        "adamw",
        _t_adamw_as_adam,
        "optim.Adam(weight_decay=...) where AdamW is meant.",
    ),
    (
        "TorchAccumulationUnscaled",
        "gradient_accumulation",
        _t_accumulation_unscaled,
        "loss.backward() without dividing by k.",
    ),
    (
        "TorchClipByValue",
        "clip_grad_norm",
        _t_clip_by_value,
        "clip_grad_value_ where clip_grad_norm_ is meant.",
    ),
    (
        "TorchFrozenByZeroGrad",
        "frozen_parameters",
        _t_frozen_by_zero_grad,
        "frozen by zeroing .grad: weight decay still moves them.",
    ),
    (
        "TorchStepLrSchedulerFirst",
        "step_lr",
        _t_step_lr_scheduler_first,
        "scheduler.step() before optimizer.step(): one step early.",
    ),
    (
        "TorchMultistepDeduplicated",
        "multistep_lr",
        _t_multistep_set,
        "milestones passed through set(): repeats decay once.",
    ),
    (
        "TorchExponentialSchedulerFirst",
        "exponential_lr",
        _t_exponential_scheduler_first,
        "scheduler.step() first: the first update already decayed.",
    ),
    (
        "TorchCosineTmaxPlusOne",
        "cosine_annealing_lr",
        _t_cosine_t_max_plus_one,
        "T_max off by one.",
    ),
    (
        "TorchLinearLrDefaultStart",
        "linear_warmup",
        _t_linear_default_factor,
        "start_factor not passed: PyTorch's 1/3.",
    ),
    (
        "TorchWarmupCosineKerasHorizon",
        "warmup_cosine",
        _t_warmup_cosine_keras_horizon,
        "the cosine over decay_steps after the warmup.",
    ),
    (
        "TorchPlateauPatienceMinusOne",
        "reduce_lr_on_plateau",
        _t_plateau_patience_minus_one,
        "patience - 1: reduces an epoch early.",
    ),
    (
        "TorchReluGradThroughClamp",
        "relu_grad",
        _t_relu_grad_through_clamp,
        "x.clamp(min=0) for relu: its backward passes the gradient at x = 0.",
    ),
    (
        "TorchBatchNormGradDetachedStatistics",
        "batch_norm_grad",
        _t_batch_norm_grad_detached_statistics,
        "hand-written batch norm with .detach() on the batch mean and variance.",
    ),
]


def torch_mutants() -> list[type]:
    """The torch mutant classes, built (and bound to this module) when torch is importable."""
    from dlspec.adapters.torch_adapter import TorchAdapter

    classes = [_framework_mutant(TorchAdapter, *spec) for spec in TORCH_MUTANT_SPECS]
    globals().update({cls.__name__: cls for cls in classes})
    return classes


# ---------------------------------------------------------------- JAX / optax mutants
#
# The mistakes a JAX user makes with optax (optimizers and schedules) and with jax.grad.


def _j_sgd_updates_subtracted(
    params, gradients, *, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0
):
    import jax.numpy as jnp
    import optax

    transform = optax.chain(
        optax.add_decayed_weights(weight_decay), optax.sgd(lr, momentum or None)
    )
    state, theta, out = transform.init(params), params, []
    for g in gradients:
        updates, state = transform.update(g, state, theta)
        theta = theta - updates  # optax's updates already carry the minus sign
        out.append(theta)
    return jnp.stack(out)


def _j_adam_eps_root(
    params, gradients, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False
):
    import optax
    from dlspec.adapters import jax_ops

    transform = optax.adam(lr, b1=beta1, b2=beta2, eps=0.0, eps_root=eps)
    return jax_ops.optimizers.drive(transform, params, gradients)


def _j_adamw_coupled(
    params,
    gradients,
    *,
    lr=1e-3,
    beta1=0.9,
    beta2=0.999,
    eps=1e-8,
    weight_decay=1e-2,
    amsgrad=False,
):
    import optax
    from dlspec.adapters import jax_ops

    transform = optax.chain(
        optax.add_decayed_weights(weight_decay), optax.adam(lr, b1=beta1, b2=beta2, eps=eps)
    )
    return jax_ops.optimizers.drive(transform, params, gradients)


def _j_accumulation_summed(params, micro_gradients, *, lr, accumulation_steps):
    import optax
    from dlspec.adapters import jax_ops

    every = optax.MultiSteps(
        optax.sgd(lr), every_k_schedule=accumulation_steps, use_grad_mean=False
    )
    trajectory = jax_ops.optimizers.drive(every, params, micro_gradients)
    return trajectory[accumulation_steps - 1 :: accumulation_steps]


def _j_clip_elementwise(gradients, *, max_norm):
    import optax

    updates, _ = optax.clip(max_norm).update(gradients, optax.EmptyState())
    return updates


def _j_frozen_by_zero_gradients(params, gradients, *, frozen, lr, momentum=0.0, weight_decay=0.0):
    import numpy as np
    import optax
    from dlspec.adapters import jax_ops

    mask = np.asarray(frozen, dtype=bool)
    transform = optax.chain(
        optax.add_decayed_weights(weight_decay), optax.sgd(lr, momentum or None)
    )
    return jax_ops.optimizers.drive(transform, params, gradients * ~mask)  # decay still moves them


def _j_step_lr_continuous(base_lr, *, step_size, gamma=0.1, steps):
    import optax
    from dlspec.adapters import jax_ops

    return jax_ops.schedules.rates(
        base_lr, steps, optax.exponential_decay(base_lr, step_size, gamma)
    )


def _j_multistep_dict(base_lr, *, milestones, gamma=0.1, steps):
    import optax
    from dlspec.adapters import jax_ops

    scales = dict.fromkeys(milestones, gamma)  # a repeated milestone decays once
    return jax_ops.schedules.rates(
        base_lr, steps, optax.piecewise_constant_schedule(base_lr, scales)
    )


def _j_exponential_from_one(base_lr, *, gamma, steps):
    import optax
    from dlspec.adapters import jax_ops

    schedule = optax.exponential_decay(base_lr, 1, gamma)
    return jax_ops.schedules.rates(base_lr, steps, lambda count: schedule(count + 1))


def _j_cosine_decay_steps_plus_one(base_lr, *, t_max, eta_min=0.0, steps):
    import optax
    from dlspec.adapters import jax_ops

    schedule = optax.cosine_decay_schedule(base_lr, t_max + 1, alpha=eta_min / base_lr)
    return jax_ops.schedules.rates(base_lr, steps, schedule)


def _j_linear_end_factor_ignored(
    base_lr, *, start_factor=1 / 3, end_factor=1.0, total_steps=5, steps
):
    import optax
    from dlspec.adapters import jax_ops

    schedule = optax.linear_schedule(base_lr * start_factor, base_lr, total_steps)
    return jax_ops.schedules.rates(base_lr, steps, schedule)


def _j_warmup_cosine_keras_horizon(
    base_lr, *, warmup_steps, decay_steps, start_lr=0.0, end_lr=0.0, steps
):
    import optax
    from dlspec.adapters import jax_ops

    schedule = optax.warmup_cosine_decay_schedule(
        start_lr, base_lr, warmup_steps, decay_steps + warmup_steps, end_value=end_lr
    )
    return jax_ops.schedules.rates(base_lr, steps, schedule)


def _j_plateau_patience_plus_one(base_lr, metrics, *, patience=10, **settings):
    import jax
    import optax
    from dlspec.adapters import jax_ops

    plateau = jax_ops.table(jax, optax)["reduce_lr_on_plateau"]
    return plateau(base_lr, metrics, patience=patience + 1, **settings)


def _j_warmup_cosine_zero_peak_nan(
    base_lr, *, warmup_steps, decay_steps, start_lr=0.0, end_lr=0.0, steps
):
    """optax 0.1.9's warmup_cosine_decay_schedule: its cosine part divides end_value by
    peak_value, which is 0 / 0 for a zero peak."""
    import jax
    import optax
    from dlspec.adapters import jax_ops

    schedule = jax_ops.table(jax, optax)["warmup_cosine"]
    rates = schedule(
        base_lr,
        warmup_steps=warmup_steps,
        decay_steps=decay_steps,
        start_lr=start_lr,
        end_lr=end_lr,
        steps=steps,
    )
    return rates + 0 * ((end_lr + 0 * base_lr) / base_lr)


def _j_plateau_scale_in_float32(base_lr, metrics, **settings):
    """optax 0.2.3's reduce_on_plateau: its scale kept in float32 whatever the dtype, so a
    float64 rate is float32-accurate."""
    import jax
    import jax.numpy as jnp
    import optax
    from dlspec.adapters import jax_ops

    plateau = jax_ops.table(jax, optax)["reduce_lr_on_plateau"]
    scale = (plateau(base_lr, metrics, **settings) / base_lr).astype(jnp.float32)
    return (base_lr * scale.astype(base_lr.dtype)).astype(metrics.dtype)


def _j_leaky_relu_grad_through_maximum(x, cotangent, *, negative_slope=0.01):
    import jax
    import jax.numpy as jnp
    from dlspec.adapters import jax_ops

    def leaky(v, *, negative_slope):
        return jnp.maximum(v, negative_slope * v)

    return jax_ops.vjp(jax)(leaky, 0)(x, cotangent, negative_slope=negative_slope)


def _j_layer_norm_grad_stopped_statistics(x, weight, bias, cotangent, *, eps=1e-5):
    import jax
    import jax.numpy as jnp
    from dlspec.adapters import jax_ops

    def normalized(v, weight, bias, *, eps):
        mean = jax.lax.stop_gradient(jnp.mean(v, axis=-1, keepdims=True))
        variance = jax.lax.stop_gradient(jnp.var(v, axis=-1, keepdims=True))
        return (v - mean) / jnp.sqrt(variance + eps) * weight + bias

    return jax_ops.vjp(jax)(normalized, 0)(x, weight, bias, cotangent, eps=eps)


JAX_MUTANT_SPECS = [
    (
        "JaxSgdUpdatesSubtracted",
        "sgd",
        _j_sgd_updates_subtracted,
        "theta - updates: optax's updates already carry the minus sign (gradient ascent).",
    ),
    (
        "JaxAdamEpsInsideRoot",
        "adam",
        _j_adam_eps_root,
        "eps passed as eps_root: inside the square root.",
    ),
    (
        "JaxAdamwCoupledDecay",
        "adamw",
        _j_adamw_coupled,
        "add_decayed_weights before adam: coupled L2, not AdamW.",
    ),
    (
        "JaxMultiStepsSummed",
        "gradient_accumulation",
        _j_accumulation_summed,
        "MultiSteps(use_grad_mean=False): the micro-batch gradients summed.",
    ),
    (
        "JaxClipElementwise",
        "clip_grad_norm",
        _j_clip_elementwise,
        "optax.clip (by value) where clip_by_global_norm is meant.",
    ),
    (
        "JaxFrozenByZeroGradients",
        "frozen_parameters",
        _j_frozen_by_zero_gradients,
        "frozen by zeroing gradients: weight decay still moves them.",
    ),
    (
        "JaxStepLrContinuous",
        "step_lr",
        _j_step_lr_continuous,
        "exponential_decay without staircase=True.",
    ),
    (
        "JaxMultistepDict",
        "multistep_lr",
        _j_multistep_dict,
        "{milestone: gamma}: a repeated milestone decays once.",
    ),
    (
        "JaxExponentialFromOne",
        "exponential_lr",
        _j_exponential_from_one,
        "the schedule called with count + 1: one step ahead.",
    ),
    (
        "JaxCosineDecayStepsPlusOne",
        "cosine_annealing_lr",
        _j_cosine_decay_steps_plus_one,
        "decay_steps off by one.",
    ),
    (
        "JaxLinearEndFactorIgnored",
        "linear_warmup",
        _j_linear_end_factor_ignored,
        "linear_schedule ending at the base rate whatever end_factor says.",
    ),
    (
        "JaxWarmupCosineKerasHorizon",
        "warmup_cosine",
        _j_warmup_cosine_keras_horizon,
        "decay_steps counted after the warmup (Keras's horizon).",
    ),
    (
        "JaxPlateauPatiencePlusOne",
        "reduce_lr_on_plateau",
        _j_plateau_patience_plus_one,
        "patience + 1: reduces an epoch late.",
    ),
    (
        "JaxWarmupCosineZeroPeakNan",
        "warmup_cosine",
        _j_warmup_cosine_zero_peak_nan,
        "optax 0.1.9: NaN for a zero peak (end / peak); the cell's written-up float64 "
        "divergence must not hide it.",
    ),
    (
        "JaxPlateauScaleInFloat32",
        "reduce_lr_on_plateau",
        _j_plateau_scale_in_float32,
        "optax 0.2.3: the plateau's scale kept in float32 under x64; the cell's written-up "
        "min_lr divergence must not hide it.",
    ),
    (
        "JaxLeakyReluGradThroughMaximum",
        "leaky_relu_grad",
        _j_leaky_relu_grad_through_maximum,
        "jnp.maximum(x, a x): the tie at 0 splits the gradient, (1 + a) / 2.",
    ),
    (
        "JaxLayerNormGradStoppedStatistics",
        "layer_norm_grad",
        _j_layer_norm_grad_stopped_statistics,
        "stop_gradient on the mean and variance of a hand-written layer norm.",
    ),
]


def jax_mutants() -> list[type]:
    """The JAX mutant classes, built (and bound to this module) when jax is importable."""
    from dlspec.adapters.jax_adapter import JaxAdapter

    classes = [_framework_mutant(JaxAdapter, *spec) for spec in JAX_MUTANT_SPECS]
    globals().update({cls.__name__: cls for cls in classes})
    return classes


FRAMEWORK_MUTANTS = {
    "Torch": (TORCH_MUTANT_SPECS, torch_mutants),
    "Jax": (JAX_MUTANT_SPECS, jax_mutants),
}


def __getattr__(name: str) -> Any:
    """``--adapter mutants:TorchSgdWithoutZeroGrad`` builds a framework's mutants on first use."""
    for prefix, (specs, build) in FRAMEWORK_MUTANTS.items():
        if name.startswith(prefix) and any(spec[0] == name for spec in specs):
            build()
            return globals()[name]
    raise AttributeError(name)
