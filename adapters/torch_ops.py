"""The torch backends' table: one entry per concept, through PyTorch's own API.

Imported only by ``torch_adapter`` once torch is known to be importable; ``table(torch, device)``
binds every entry to a device. Arguments arrive as tensors on that device, parameters by the
reference's names.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .numpy_ops import training
from .numpy_ops.training import padded

Tensor = Any


def table(torch: Any, device: str) -> Mapping[str, Callable[..., Any]]:
    F = torch.nn.functional
    optim = torch.optim
    schedulers = torch.optim.lr_scheduler

    def in_base(nats: Tensor, base: float | None) -> Tensor:
        return nats if base is None else nats / math.log(base)

    # ------------------------------------------------------------ information

    def entropy(p: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        return in_base(torch.special.entr(p).sum(dim=axis), base)

    def cross_entropy(p: Tensor, q: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        return in_base(-torch.special.xlogy(p, q).sum(dim=axis), base)

    def kl_divergence(p: Tensor, q: Tensor, *, base: float | None = None, axis: int = -1) -> Tensor:
        # F.kl_div takes the log of the *second* distribution first: kl_div(log q, p) = p log(p/q)
        pointwise = F.kl_div(torch.log(q), p, reduction="none")
        return in_base(pointwise.sum(dim=axis), base)

    # ------------------------------------------------------------ activations

    def softmax(x: Tensor, *, axis: int = -1) -> Tensor:
        return F.softmax(x, dim=axis)

    def log_softmax(x: Tensor, *, axis: int = -1) -> Tensor:
        return F.log_softmax(x, dim=axis)

    # ------------------------------------------------------------ losses

    def binary_cross_entropy_with_logits(
        logits: Tensor, target: Tensor, *, pos_weight: float = 1.0, reduction: str = "mean"
    ) -> Tensor:
        weight = torch.tensor(pos_weight, dtype=logits.dtype, device=logits.device)
        return F.binary_cross_entropy_with_logits(
            logits, target, pos_weight=weight, reduction=reduction
        )

    def softmax_cross_entropy(
        logits: Tensor, target: Tensor, *, label_smoothing: float = 0.0, reduction: str = "mean"
    ) -> Tensor:
        # classes on the last axis; F.cross_entropy wants them on dim 1 of a batch
        batched = logits.reshape(-1, logits.shape[-1])
        labels = (
            target.reshape(batched.shape) if target.shape == logits.shape else target.reshape(-1)
        )
        loss = F.cross_entropy(
            batched, labels, label_smoothing=label_smoothing, reduction=reduction
        )
        return loss.reshape(logits.shape[:-1]) if reduction == "none" else loss

    single_target = {
        "mse": lambda a, b: F.mse_loss(a, b),
        "mae": lambda a, b: F.l1_loss(a, b),
        "huber": lambda a, b: F.huber_loss(a, b, delta=1.0),
        "bce_with_logits": lambda a, b: F.binary_cross_entropy_with_logits(a, b),
    }

    def multi_target_loss(
        prediction: Tensor, target: Tensor, *, losses: Sequence[str], weights: Sequence[float]
    ) -> Tensor:
        per_target = [
            single_target[name](prediction[:, t], target[:, t]) for t, name in enumerate(losses)
        ]
        total = sum(w * loss for w, loss in zip(weights, per_target, strict=True))
        return torch.stack([total, *per_target])

    # ------------------------------------------------------------ regularization

    def l1_penalty(weights: Tensor, *, strength: float) -> Tensor:
        return strength * weights.abs().sum()

    def l2_penalty(weights: Tensor, *, strength: float) -> Tensor:
        return strength / 2 * (weights * weights).sum()  # the penalty behind weight_decay

    # ------------------------------------------------------------ optimizers

    def parameter(values: Tensor) -> Tensor:
        return torch.nn.Parameter(values.clone())

    def drive(optimizer_class: type, params: Tensor, gradients: Tensor, **settings: Any) -> Tensor:
        """Construct, then per step: set ``.grad``, ``step()``; the parameters after each step."""
        theta = parameter(params)
        optimizer = optimizer_class([theta], **settings)
        trajectory = []
        for g in gradients:
            theta.grad = g.clone()
            optimizer.step()
            trajectory.append(theta.detach().clone())
        return torch.stack(trajectory)

    def sgd(params: Tensor, gradients: Tensor, **settings: Any) -> Tensor:
        return drive(optim.SGD, params, gradients, **settings)

    def adam_settings(settings: dict[str, Any]) -> dict[str, Any]:
        betas = (settings.pop("beta1", 0.9), settings.pop("beta2", 0.999))
        return {**settings, "betas": betas}

    def adam(params: Tensor, gradients: Tensor, **settings: Any) -> Tensor:
        return drive(optim.Adam, params, gradients, **adam_settings(settings))

    def adamw(params: Tensor, gradients: Tensor, **settings: Any) -> Tensor:
        return drive(
            optim.AdamW, params, gradients, **adam_settings({"weight_decay": 1e-2, **settings})
        )

    def gradient_accumulation(
        params: Tensor, micro_gradients: Tensor, *, lr: float, accumulation_steps: int
    ) -> Tensor:
        # The PyTorch idiom: (loss / k).backward() per micro-batch accumulates into .grad; the
        # micro-batch "loss" here is the linear function whose gradient is the given one.
        theta = parameter(params)
        optimizer = optim.SGD([theta], lr=lr)
        trajectory = []
        for i, g in enumerate(micro_gradients, start=1):
            loss = (theta * g).sum() / accumulation_steps
            loss.backward()
            if i % accumulation_steps == 0:
                optimizer.step()
                optimizer.zero_grad()
                trajectory.append(theta.detach().clone())
        return torch.stack(trajectory)

    def clip_grad_norm(gradients: Tensor, *, max_norm: float) -> Tensor:
        theta = parameter(torch.zeros_like(gradients))
        theta.grad = gradients.clone()
        torch.nn.utils.clip_grad_norm_([theta], max_norm)
        return theta.grad

    def frozen_parameters(
        params: Tensor,
        gradients: Tensor,
        *,
        frozen: Sequence[bool],
        lr: float,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> Tensor:
        mask = torch.tensor(frozen, dtype=torch.bool, device=params.device)
        trainable = parameter(params[~mask])
        fixed = parameter(params[mask]).requires_grad_(False)  # no .grad: the optimizer skips it
        optimizer = optim.SGD(
            [trainable, fixed], lr=lr, momentum=momentum, weight_decay=weight_decay
        )
        trajectory = []
        for g in gradients:
            trainable.grad = g[~mask].clone()
            optimizer.step()
            row = torch.empty_like(params)
            row[~mask], row[mask] = trainable.detach(), fixed.detach()
            trajectory.append(row)
        return torch.stack(trajectory)

    # ------------------------------------------------------------ schedules

    def rates(base_lr: Tensor, steps: int, make: Callable[[Any], Any]) -> Tensor:
        """The optimizer's rate before each update, stepping the scheduler after the optimizer."""
        theta = parameter(torch.zeros(1, dtype=torch.float64))
        optimizer = optim.SGD([theta], lr=float(base_lr))
        scheduler = make(optimizer)
        out = []
        for _ in range(steps + 1):
            out.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        return torch.tensor(out, dtype=base_lr.dtype)

    def step_lr(base_lr: Tensor, *, step_size: int, gamma: float = 0.1, steps: int) -> Tensor:
        return rates(base_lr, steps, lambda o: schedulers.StepLR(o, step_size, gamma=gamma))

    def multistep_lr(
        base_lr: Tensor, *, milestones: Sequence[int], gamma: float = 0.1, steps: int
    ) -> Tensor:
        return rates(base_lr, steps, lambda o: schedulers.MultiStepLR(o, list(milestones), gamma))

    def exponential_lr(base_lr: Tensor, *, gamma: float, steps: int) -> Tensor:
        return rates(base_lr, steps, lambda o: schedulers.ExponentialLR(o, gamma))

    def cosine_annealing_lr(
        base_lr: Tensor, *, t_max: int, eta_min: float = 0.0, steps: int
    ) -> Tensor:
        return rates(base_lr, steps, lambda o: schedulers.CosineAnnealingLR(o, t_max, eta_min))

    def linear_warmup(
        base_lr: Tensor,
        *,
        start_factor: float = 1 / 3,
        end_factor: float = 1.0,
        total_steps: int = 5,
        steps: int,
    ) -> Tensor:
        return rates(
            base_lr,
            steps,
            lambda o: schedulers.LinearLR(o, start_factor, end_factor, total_iters=total_steps),
        )

    def warmup_cosine(
        base_lr: Tensor,
        *,
        warmup_steps: int,
        decay_steps: int,
        start_lr: float = 0.0,
        end_lr: float = 0.0,
        steps: int,
    ) -> Tensor:
        # No single PyTorch scheduler: a LambdaLR with optax's definition (decay_steps counts
        # the warmup), the factor relative to the peak rate.
        peak, length = float(base_lr), decay_steps - warmup_steps

        def factor(t: int) -> float:
            if t < warmup_steps:
                return (start_lr + (peak - start_lr) * t / warmup_steps) / peak if peak else 0.0
            cosine = (1 + math.cos(math.pi * min(t - warmup_steps, length) / length)) / 2
            return (end_lr + (peak - end_lr) * cosine) / peak if peak else 0.0

        return rates(base_lr, steps, lambda o: schedulers.LambdaLR(o, factor))

    def reduce_lr_on_plateau(base_lr: Tensor, metrics: Tensor, **settings: Any) -> Tensor:
        theta = parameter(torch.zeros(1, dtype=torch.float64))
        optimizer = optim.SGD([theta], lr=float(base_lr))
        scheduler = schedulers.ReduceLROnPlateau(optimizer, **settings)
        out = []
        for value in metrics.tolist():
            optimizer.step()
            scheduler.step(value)
            out.append(optimizer.param_groups[0]["lr"])
        return torch.tensor(out, dtype=metrics.dtype)

    # ------------------------------------------------------------ normalization

    def min_max_scale(
        x: Tensor, *, axis: int = 0, feature_min: float = 0.0, feature_max: float = 1.0
    ) -> Tensor:
        low, high = x.amin(dim=axis, keepdim=True), x.amax(dim=axis, keepdim=True)
        span = high - low
        scaled = feature_min + (feature_max - feature_min) * ((x - low) / span)
        return torch.where(span == 0, torch.full_like(x, feature_min), scaled)

    def standardize(x: Tensor, *, axis: int = 0, ddof: int = 0, epsilon: float = 0.0) -> Tensor:
        variance, mean = torch.var_mean(x, dim=axis, correction=ddof, keepdim=True)
        z = (x - mean) / torch.sqrt(variance + epsilon)
        constant = x.amax(dim=axis, keepdim=True) == x.amin(dim=axis, keepdim=True)
        return torch.where(constant & (epsilon == 0), torch.zeros_like(x), z)

    def batch_norm(
        x: Tensor,
        running_mean: Tensor,
        running_variance: Tensor,
        weight: Tensor,
        bias: Tensor,
        *,
        training: bool = True,
        momentum: float = 0.1,
        eps: float = 1e-5,
    ) -> Tensor:
        mean, var = running_mean.clone(), running_variance.clone()  # updated in place
        out = F.batch_norm(
            x, mean, var, weight, bias, training=training, momentum=momentum, eps=eps
        )
        return torch.cat([out, mean[None, :], var[None, :]])

    def layer_norm(x: Tensor, weight: Tensor, bias: Tensor, *, eps: float = 1e-5) -> Tensor:
        return F.layer_norm(x, (x.shape[-1],), weight, bias, eps=eps)

    # ------------------------------------------------------------ training

    def minibatches(
        *,
        n: int,
        batch_size: int,
        epochs: int = 1,
        drop_last: bool = False,
        shuffle: bool = False,
        seed: int = 0,
    ) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        loader = torch.utils.data.DataLoader(
            range(n),
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            generator=generator,
        )

        def batches() -> Iterator[list[int]]:
            for _ in range(epochs):
                yield from (batch.tolist() for batch in loader)

        return padded(list(batches()), batch_size)

    def train_val_test_split(
        *, n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
    ) -> np.ndarray:
        generator = torch.Generator().manual_seed(seed)
        with warnings.catch_warnings():  # "Length of split at index 1 is 0": an empty subset
            warnings.simplefilter("ignore", UserWarning)
            subsets = torch.utils.data.random_split(range(n), list(fractions), generator=generator)
        return padded([list(subset.indices) for subset in subsets], n)

    def accuracy(prediction: Tensor, target: Tensor, *, threshold: float = 0.5) -> Tensor:
        if prediction.ndim == 1:
            predicted = (prediction > threshold).to(torch.int64)
        else:
            predicted = prediction.argmax(dim=-1)
        correct = (predicted == target.to(torch.int64)).sum().to(prediction.dtype)
        return correct / target.numel()

    # ------------------------------------------------------------ the table

    return {
        "entropy": entropy,
        "cross_entropy": cross_entropy,
        "kl_divergence": kl_divergence,
        "relu": F.relu,
        "leaky_relu": lambda x, *, negative_slope=0.01: F.leaky_relu(x, negative_slope),
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softplus": lambda x, *, beta=1.0, threshold=20.0: F.softplus(x, beta, threshold),
        "gelu": lambda x, *, approximate="none": F.gelu(x, approximate=approximate),
        "silu": F.silu,
        "elu": lambda x, *, alpha=1.0: F.elu(x, alpha),
        "softmax": softmax,
        "log_softmax": log_softmax,
        "mse_loss": lambda a, b, *, reduction="mean": F.mse_loss(a, b, reduction=reduction),
        "mae_loss": lambda a, b, *, reduction="mean": F.l1_loss(a, b, reduction=reduction),
        "huber_loss": lambda a, b, *, delta=1.0, reduction="mean": F.huber_loss(
            a, b, reduction=reduction, delta=delta
        ),
        "binary_cross_entropy": lambda p, y, *, reduction="mean": F.binary_cross_entropy(
            p, y, reduction=reduction
        ),
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
        "horizontal_flip": lambda image: torch.flip(image, [-1]),
        "vertical_flip": lambda image: torch.flip(image, [-2]),
        "rot90": lambda image, *, k=1: torch.rot90(image, k, [-2, -1]),
    }


def vjp(torch: Any) -> Callable[[Callable[..., Any], int], Callable[..., Any]]:
    """``torch.autograd``'s vector-Jacobian product of ``function`` in its argument ``wrt``."""

    def differentiate(function: Callable[..., Any], wrt: int) -> Callable[..., Any]:
        def gradient(*arrays: Tensor, **params: Any) -> Tensor:
            *inputs, cotangent = arrays
            inputs[wrt] = inputs[wrt].detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(
                function(*inputs, **params), inputs[wrt], grad_outputs=cotangent
            )
            return grad

        return gradient

    return differentiate
