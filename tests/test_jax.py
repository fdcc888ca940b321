"""What only the JAX backend needs proven: float64 is computed in float64, and its two modes,
``jax.jit`` and eager op-by-op dispatch, both conform (spec/README.md, "Backends")."""

import functools
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlspec import strategies as dst
from dlspec.checks import check_oracle
from dlspec.plugin import each_concept


def _jax_only(backend):
    from dlspec.adapters.jax_adapter import JaxAdapter

    if not isinstance(backend, JaxAdapter):
        pytest.skip(f"a JAX property; backend {backend.name!r} is not JAX")
    return backend


def test_float64_input_is_computed_in_float64(jax_imported):
    """Without x64 JAX silently computes float64 input in float32. The compiled program must
    be float64 throughout, and a result only float64 can resolve must come out resolved."""
    import jax.numpy as jnp

    adapter = jax_imported
    x = np.array([0.0, 1e-12])  # 1 + 1e-12 is 1 in float32: both logs would be log(1/2)
    program = adapter._jitted["log_softmax"].lower(jnp.asarray(x)).as_text()
    assert "f64" in program and "f32" not in program, program
    out = adapter.run("log_softmax", x)
    assert out.dtype == np.float64
    assert out[0] != out[1], f"log_softmax({x}) = {out}: computed in float32"
    check_oracle("log_softmax", adapter, x)


def test_float32_input_stays_float32(jax_imported):
    """x64 on must not promote float32 work to float64: a Python scalar parameter may enter as a
    float64 scalar, but is converted, and every array is float32."""
    import jax.numpy as jnp

    adapter = jax_imported
    x = np.array([0.5, -2.0], dtype=np.float32)
    program = adapter._jitted["leaky_relu"].lower(jnp.asarray(x), negative_slope=0.01).as_text()
    assert not re.search(r"tensor<[0-9x]*xf64>", program), program  # no float64 array
    assert adapter.run("leaky_relu", x, negative_slope=0.01).dtype == np.float32


SAMPLED = {
    "sigmoid": (dst.float_arrays(min_value=-50.0, max_value=50.0), {}),
    "gelu": (dst.float_arrays(min_value=-8.0, max_value=8.0), {"approximate": "none"}),
    "softmax": (dst.float_arrays(min_value=-50.0, max_value=50.0), {}),
    "log_softmax": (dst.float_arrays(min_value=-50.0, max_value=50.0), {}),
    "entropy": (dst.distributions(), {}),
    "l2_penalty": (dst.dyadic_arrays(bound=64), {"strength": 0.1}),
    "mae_loss": (dst.float_arrays(min_value=-10.0, max_value=10.0), {}),
}
"""A sample across groups: transcendental elementwise, lane reductions, full reductions. The
second argument of ``mae_loss`` is zero, so the loss is mean |x|."""


@each_concept(*SAMPLED)
@given(data=st.data())
def test_jit_and_eager_both_conform(backend, dtype, concept_id, data):
    """The same inputs through ``jax.jit`` (the backend ``jax``) and eager dispatch
    (``jax-eager``), each held to the concept's budget."""
    jitted = _jax_only(backend)
    strategy, params = SAMPLED[concept_id]
    x = data.draw(strategy, label="x").astype(dtype)
    arrays = (x, np.zeros_like(x)) if concept_id == "mae_loss" else (x,)
    check_oracle(concept_id, jitted, *arrays, **params)
    check_oracle(concept_id, eager_adapter(), *arrays, **params)


@functools.cache
def eager_adapter():
    from dlspec.adapters.jax_adapter import JaxEagerAdapter

    return JaxEagerAdapter()
