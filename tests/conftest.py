"""The suite's own fixtures: pytester for the meta-tests that run the suite on mutant adapters,
and torch imported once for those that run it on the torch backend."""

import numpy as np
import pytest

pytest_plugins = ["pytester"]


def pytest_configure(config: pytest.Config) -> None:
    # here, not in pyproject.toml: the suite's nested sessions (tests/meta/test_mutants.py) run from
    # a folder without it, and import the modules that carry the mark
    config.addinivalue_line(
        "markers",
        "meta: tests of the suite itself (mutant adapters, broken adapters, harness helpers)",
    )


@pytest.fixture(scope="session")
def torch_imported():
    """torch, with everything the torch adapter imports lazily already imported in this process.

    pytester's in-process runs restore ``sys.modules`` afterwards: a torch submodule first
    imported during one run would be dropped and imported again by the next, and torch's
    operator libraries refuse to register twice. Running the adapter once per kind of call here
    keeps those modules loaded for every later run.
    """
    torch = pytest.importorskip("torch", reason="needs torch (pip install 'dlspec[torch]')")
    from dlspec.adapters.torch_adapter import TorchAdapter

    adapter = TorchAdapter()
    params, grads = np.zeros(2), np.ones((2, 2))
    adapter.run("sigmoid", params)
    adapter.run("sgd", params, grads, lr=0.1, momentum=0.9)
    adapter.run("adam", params, grads)
    adapter.run("adamw", params, grads)
    adapter.run("gradient_accumulation", params, grads, lr=0.1, accumulation_steps=2)
    adapter.run("clip_grad_norm", grads, max_norm=1.0)
    adapter.run("step_lr", np.asarray(0.1), step_size=1, steps=2)
    adapter.run("reduce_lr_on_plateau", np.asarray(0.1), np.ones(3))
    adapter.run("minibatches", n=4, batch_size=2, shuffle=True)
    adapter.run("train_val_test_split", n=10)
    return torch


@pytest.fixture(scope="session")
def jax_imported():
    """jax and optax, with what the JAX adapter imports lazily already imported (as
    ``torch_imported``, for pytester's in-process runs)."""
    pytest.importorskip("optax", reason="needs jax and optax (pip install 'dlspec[jax]')")
    from dlspec.adapters.jax_adapter import JaxAdapter

    adapter = JaxAdapter()
    params, grads = np.zeros(2), np.ones((2, 2))
    adapter.run("sigmoid", params)
    adapter.run("adam", params, grads)
    adapter.run("reduce_lr_on_plateau", np.asarray(0.1), np.ones(3), patience=1)
    adapter.run("minibatches", n=4, batch_size=2, shuffle=True)
    return adapter
