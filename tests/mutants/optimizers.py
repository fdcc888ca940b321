"""Mutants of the optimizers concepts (Optimizers) and of their gradients: the NumPy adapter, and
the torch and JAX ones, each with one realistic bug (framework imports inside the
functions, so that the module loads without them)."""

from __future__ import annotations

import numpy as np
from dlspec.adapters.numpy_ops import optimizers as opt

from ._registry import jax_mutant, mutant, torch_mutant


@mutant("AdamWithKerasDefaultEps", "adam", "eps defaults to Keras' 1e-7, not 1e-8.")
def _adam_with_keras_default_eps(params, gradients, *, eps=1e-7, **settings):
    return opt.adam(params, gradients, eps=eps, **settings)


@mutant(
    "SgdDampenedFirstStep", "sgd", "a zero first buffer, dampened, while declaring PyTorch's rule."
)
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


@mutant(
    "AdamEpsHat", "adam", "eps added before the bias correction (Keras) while declaring PyTorch's."
)
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


@mutant(
    "AdamwCoupled", "adamw", "weight decay added to the gradient (Adam's L2) instead of decoupled."
)
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


@mutant("AccumulationSummed", "gradient_accumulation", "micro-batch losses not divided by k.")
def _accumulation_summed(params, micro_gradients, *, lr, accumulation_steps):
    # forgot to divide each micro-batch loss by k
    scaled = micro_gradients * micro_gradients.dtype.type(accumulation_steps)
    return opt.gradient_accumulation(params, scaled, lr=lr, accumulation_steps=accumulation_steps)


@mutant("ClipWithoutClamp", "clip_grad_norm", "scales small gradients up to max_norm.")
def _clip_without_clamp(gradients, *, max_norm):
    largest = np.max(np.abs(gradients))
    scaled = gradients / np.where(largest > 0, largest, 1)
    norm = largest * np.sqrt(np.sum(scaled * scaled))
    return gradients * (gradients.dtype.type(max_norm) / (norm + gradients.dtype.type(1e-6)))


@mutant("FrozenButDecayed", "frozen_parameters", "zeroes frozen gradients but still decays them.")
def _frozen_but_decayed(params, gradients, *, frozen, lr, momentum=0.0, weight_decay=0.0):
    # the frozen parameters' gradients zeroed, but the optimizer still holds them
    masked = np.where(np.asarray(frozen, dtype=bool), 0, gradients).astype(gradients.dtype)
    return opt.sgd(params, masked, lr=lr, momentum=momentum, weight_decay=weight_decay)


@torch_mutant(
    "TorchSgdWithoutZeroGrad", "sgd", "zero_grad() forgotten: .grad accumulates across steps."
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


@torch_mutant("TorchAdamAsAdamW", "adam", "optim.AdamW where Adam's coupled weight decay is meant.")
def _t_adam_as_adamw(
    params, gradients, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False
):
    import torch

    theta = torch.nn.Parameter(params.clone())
    opt = torch.optim.AdamW(
        [theta], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad
    )
    return _t_drive(opt, theta, gradients)


@torch_mutant("TorchAdamwAsAdam", "adamw", "optim.Adam(weight_decay=...) where AdamW is meant.")
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


@torch_mutant(
    "TorchAccumulationUnscaled", "gradient_accumulation", "loss.backward() without dividing by k."
)
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


@torch_mutant(
    "TorchClipByValue", "clip_grad_norm", "clip_grad_value_ where clip_grad_norm_ is meant."
)
def _t_clip_by_value(gradients, *, max_norm):
    import torch

    theta = torch.nn.Parameter(torch.zeros_like(gradients))
    theta.grad = gradients.clone()
    torch.nn.utils.clip_grad_value_([theta], max_norm)  # value clipping for norm clipping
    return theta.grad


@torch_mutant(
    "TorchFrozenByZeroGrad",
    "frozen_parameters",
    "frozen by zeroing .grad: weight decay still moves them.",
)
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


@jax_mutant(
    "JaxSgdUpdatesSubtracted",
    "sgd",
    "theta - updates: optax's updates already carry the minus sign (gradient ascent).",
)
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


@jax_mutant("JaxAdamEpsInsideRoot", "adam", "eps passed as eps_root: inside the square root.")
def _j_adam_eps_root(
    params, gradients, *, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, amsgrad=False
):
    import optax
    from dlspec.adapters import jax_ops

    transform = optax.adam(lr, b1=beta1, b2=beta2, eps=0.0, eps_root=eps)
    return jax_ops.optimizers.drive(transform, params, gradients)


@jax_mutant(
    "JaxAdamwCoupledDecay", "adamw", "add_decayed_weights before adam: coupled L2, not AdamW."
)
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


@jax_mutant(
    "JaxMultiStepsSummed",
    "gradient_accumulation",
    "MultiSteps(use_grad_mean=False): the micro-batch gradients summed.",
)
def _j_accumulation_summed(params, micro_gradients, *, lr, accumulation_steps):
    import optax
    from dlspec.adapters import jax_ops

    every = optax.MultiSteps(
        optax.sgd(lr), every_k_schedule=accumulation_steps, use_grad_mean=False
    )
    trajectory = jax_ops.optimizers.drive(every, params, micro_gradients)
    return trajectory[accumulation_steps - 1 :: accumulation_steps]


@jax_mutant(
    "JaxClipElementwise",
    "clip_grad_norm",
    "optax.clip (by value) where clip_by_global_norm is meant.",
)
def _j_clip_elementwise(gradients, *, max_norm):
    import optax

    updates, _ = optax.clip(max_norm).update(gradients, optax.EmptyState())
    return updates


@jax_mutant(
    "JaxFrozenByZeroGradients",
    "frozen_parameters",
    "frozen by zeroing gradients: weight decay still moves them.",
)
def _j_frozen_by_zero_gradients(params, gradients, *, frozen, lr, momentum=0.0, weight_decay=0.0):
    import numpy as np
    import optax
    from dlspec.adapters import jax_ops

    mask = np.asarray(frozen, dtype=bool)
    transform = optax.chain(
        optax.add_decayed_weights(weight_decay), optax.sgd(lr, momentum or None)
    )
    return jax_ops.optimizers.drive(transform, params, gradients * ~mask)  # decay still moves them
