"""Where the error models register: by the name the catalogue gives (``error_model``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Inputs = Mapping[str, np.ndarray]
ErrorModel = Callable[[Inputs, Mapping[str, Any], np.ndarray], np.ndarray]

UNIT_ROUNDOFF = "unit_roundoff"
"""The parameter under which a model receives ``u``, the unit roundoff of the format computed
in, for a term of second order in ``u`` (a variance of a rounded mean: ``(u n M)^2``)."""

UNDERFLOW_LOSS = "underflow_loss"
"""The parameter under which a model receives the absolute error one underflowing operation
may add in the format computed in (half its smallest subnormal, or its smallest normal number
where subnormals are flushed; 0 where that is below float64's range), for an error that is not
linear in it (the square root of an underflowed second moment: Adam's)."""

MODELS: dict[str, ErrorModel] = {}
UNDERFLOW: dict[str, ErrorModel] = {}
r"""Gradual underflow: each operation may also add an absolute error of half the smallest
subnormal, :math:`\mathrm{fl}(a \circ b) = (a \circ b)(1 + \delta) + \eta` (Higham §2.1). Where an
underflowing intermediate is amplified on its way to the result (``x * sigmoid(x)`` at
``x = -100`` in float32), the model named here gives the amplification ``a``, and the allowance
adds :math:`\eta_{min} a`; elsewhere the ulp of a subnormal result covers it."""


def error_model(function: ErrorModel) -> ErrorModel:
    MODELS[function.__name__] = function
    return function


def underflow_model(name: str) -> Callable[[ErrorModel], ErrorModel]:
    def register(function: ErrorModel) -> ErrorModel:
        UNDERFLOW[name] = function
        return function

    return register
