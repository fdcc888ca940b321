"""The adapter interface: what a backend must offer the suite, and a table-driven base class.

Arrays cross the interface as NumPy arrays, so every backend sees the same bits: the harness hands
an adapter NumPy inputs and expects a NumPy result of the input's dtype and the reference's shape.
Parameters (``axis``, ``reduction``...) are passed by the names of the reference function.

A new framework needs only :class:`Backend`; subclassing :class:`Adapter` gives the usual shape:
a table from concept id to a callable on native arrays, two conversions, and the conventions the
framework follows for each variant the spec names.
"""

from __future__ import annotations

import collections
import functools
import importlib
import types
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class Limit:
    """Parameter values a framework cannot express: ``concept``'s ``parameter`` must be one of
    ``allowed`` (a collection), or satisfy it (a predicate, described by ``domain``). The suite
    skips (and the report lists) what lies outside, instead of failing a backend for an option
    its framework does not offer."""

    concept: str
    parameter: str
    allowed: Collection[Any] | Callable[[Any], bool]
    reason: str
    domain: str = ""
    checks_default: bool = False
    """Whether a call that leaves the parameter out is held to the limit too, at ``default``
    (the spec's default): where the framework cannot express that default itself."""
    default: Any = None

    def violated_by(self, concept: str, params: Mapping[str, Any]) -> bool:
        if concept != self.concept or (self.parameter not in params and not self.checks_default):
            return False
        value = params.get(self.parameter, self.default)
        return not (self.allowed(value) if callable(self.allowed) else value in self.allowed)

    def __str__(self) -> str:
        domain = self.domain
        if not domain and not callable(self.allowed):
            domain = "{" + ", ".join(repr(a) for a in self.allowed) + "}"
        return f"{self.concept}: {self.parameter} in {domain} only ({self.reason})"


Vjp = Callable[[Callable[..., Any], int], Callable[..., Any]]
"""A framework's reverse-mode autodiff: ``vjp(function, wrt)`` is the callable
``(*arrays, cotangent, **params) -> cotangent^T d function(*arrays, **params) / d arrays[wrt]``."""


@dataclass(frozen=True)
class FrameworkDefault:
    """Where a framework keeps its default for one parameter of a concept (``key``,
    ``"<concept>.<parameter>"``, or a name of the framework's own where the spec has none): the
    keyword ``parameter`` of the callable at the dotted path ``source``, item ``index`` of it
    where the default is a tuple (``betas``). Read at run time (``inspect.signature``), never
    typed in: the porting guide's defaults table shows what the installed version has."""

    key: str
    source: str
    parameter: str
    index: int | None = None

    def where(self) -> str:
        item = "" if self.index is None else f"[{self.index}]"
        return f"{self.source}({self.parameter}{item})"

    def read(self) -> Any:
        """The default as the installed framework declares it (``"required"`` where it has none)."""
        import inspect

        module_name, _, attribute = self.source.rpartition(".")
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        parameter = inspect.signature(target).parameters[self.parameter]
        if parameter.default is inspect.Parameter.empty:
            return "required"
        value = parameter.default
        return value[self.index] if self.index is not None else value


def _json_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def read_defaults(entries: Sequence[FrameworkDefault]) -> dict[str, dict[str, Any]]:
    """Each entry's default and where it was read; an entry that cannot be read says why."""
    found: dict[str, dict[str, Any]] = {}
    for entry in entries:
        try:
            found[entry.key] = {"value": _json_value(entry.read()), "source": entry.where()}
        except Exception as error:  # a renamed parameter must not crash the report
            found[entry.key] = {
                "value": None,
                "source": entry.where(),
                "error": f"{type(error).__name__}: {error}",
            }
    return found


def _batch_norm_training_output(batch_norm: Callable[..., Any]) -> Callable[..., Any]:
    """``batch_norm_grad``'s function: the output rows of ``batch_norm`` in training mode, as a
    function of ``(x, weight, bias)`` (the running statistics are buffers: fresh ones, no
    gradient)."""

    def output(x: Any, weight: Any, bias: Any, *, eps: float = 1e-5) -> Any:
        fresh_mean, fresh_variance = weight * 0, weight * 0 + 1
        rows = batch_norm(x, fresh_mean, fresh_variance, weight, bias, training=True, eps=eps)
        return rows[: x.shape[0]]

    return output


DIFFERENTIATED: Mapping[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "batch_norm_grad": _batch_norm_training_output,
}
"""Gradient concepts whose function is not their concept's table entry itself, but made from it."""


def gradient_entries(
    forward: Mapping[str, Callable[..., Any]], vjp: Vjp
) -> dict[str, Callable[..., Any]]:
    """For every gradient concept of the catalogue whose concept ``forward`` implements: the
    framework's own autodiff (``vjp``) of that very implementation. What is differentiated is
    what the forward tests hold to the spec, so a wrong derivative is the autodiff's."""
    from dlspec import catalogue

    cat = catalogue.load()
    entries = {}
    for concept in cat.gradients():
        assert concept.of is not None and concept.wrt is not None
        if concept.of not in forward:
            continue
        function = DIFFERENTIATED.get(concept.id, lambda f: f)(forward[concept.of])
        arguments = [a for a in concept.arguments if a != "cotangent"]
        entries[concept.id] = vjp(function, arguments.index(concept.wrt))
    return entries


def multi_target(
    single_target: Mapping[str, Callable[..., Any]], stack: Callable[[list[Any]], Any]
) -> Callable[..., Any]:
    """A framework's ``multi_target_loss`` from its single-target losses (by the names the
    ``losses`` parameter takes) and its ``stack``: column ``t`` of the prediction and target
    goes to loss ``losses[t]``; the result is the weighted total, then each target's loss."""

    def multi_target_loss(
        prediction: Any, target: Any, *, losses: Sequence[str], weights: Sequence[float]
    ) -> Any:
        per_target = [
            single_target[name](prediction[:, t], target[:, t]) for t, name in enumerate(losses)
        ]
        total = sum(w * loss for w, loss in zip(weights, per_target, strict=True))
        return stack([total, *per_target])

    return multi_target_loss


class Programs:
    """A jitting adapter's compiled programs, one per key, at most ``capacity`` of them, the
    least recently used dropped first. Each XLA executable on the CPU holds memory maps of its
    code, and a process may hold at most ``vm.max_map_count`` (65530 by default) of them: a
    thorough run compiles a program per drawn angle of a rotation, and a worker that kept them
    all segfaulted in XLA's compiler once the maps ran out (Keras on JAX, rotate: 64,898 maps at the
    crash; a program of a small image takes 60 to 230 maps, so 128 programs stay below 30,000).
    A dropped program is compiled again (or read from the persistent cache) if its key comes
    back; with 32 a thorough report ran a third slower, recompiling."""

    def __init__(self, capacity: int = 128) -> None:
        self.capacity = capacity
        self._programs: collections.OrderedDict[Hashable, Callable[..., Any]] = (
            collections.OrderedDict()
        )

    def get(self, key: Hashable, make: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
        """The program under ``key``, made by ``make()`` if it is not held."""
        program = self._programs.pop(key, None)
        if program is None:
            program = make()
        self._programs[key] = program
        while len(self._programs) > self.capacity:
            self._programs.popitem(last=False)
        return program

    def __len__(self) -> int:
        return len(self._programs)


@runtime_checkable
class Backend(Protocol):
    """What the harness calls. ``conventions`` maps ``"<concept>.<variant>"`` to a value."""

    name: str
    device: str
    dtypes: tuple[str, ...]
    conventions: Mapping[str, str]

    def supports(self, concept: str) -> bool: ...

    def is_native(self, concept: str) -> bool: ...

    def run(self, concept: str, *arrays: np.ndarray, **params: Any) -> np.ndarray: ...

    def versions(self) -> Mapping[str, str]: ...


@runtime_checkable
class Timed(Backend, Protocol):
    """A backend the benchmarks can time: its native function for a concept, called on native
    arrays, and a barrier that waits for a result (a framework that dispatches asynchronously)."""

    def to_native(self, array: np.ndarray) -> Any: ...

    def native_callable(self, concept: str) -> Callable[..., Any]: ...

    def timed_variants(self, concept: str) -> Mapping[str, Callable[..., Any]]: ...

    def copy_of(self, native: Any) -> Callable[[], Any]: ...

    def barrier(self, value: Any) -> Any: ...


def group_modules(package: str) -> list[types.ModuleType]:
    """The modules ``<package>.<group>`` of the concept groups that have one, in the catalogue's
    order of groups: a framework's entries, one module per group."""
    from dlspec import catalogue

    modules = []
    for group in catalogue.load().groups:
        try:
            modules.append(importlib.import_module(f"{package}.{group}"))
        except ModuleNotFoundError as missing:
            if missing.name != f"{package}.{group}":
                raise
    return modules


FLOAT_DTYPES: tuple[str, ...] = ("float32", "float64", "float16", "bfloat16")
"""Every float dtype the spec checks (bfloat16 through ml_dtypes in NumPy)."""

ALL: Literal["all"] = "all"
"""``Adapter.composed`` of a framework with no deep-learning functions: it composes every concept."""


class Adapter:
    """Base class for table-driven adapters; see ``adapters/numpy_adapter.py`` for the template.

    Subclasses set ``name`` (the ``--backend`` name), ``device``, ``dtypes`` and ``conventions``,
    list in ``composed`` the concepts their framework has no function for, so that the adapter
    builds them from the framework's operations (``ALL`` where it has no deep-learning functions
    at all; the report shows native or composed per cell), declare the parameter values their
    framework cannot express in ``limits``, and implement
    :meth:`implementations`. Framework imports belong inside the methods, so that
    listing adapters imports no framework.
    """

    name: ClassVar[str]
    device: str = "cpu"
    dtypes: ClassVar[tuple[str, ...]] = ("float32", "float64")
    ci_dtypes: ClassVar[tuple[str, ...] | None] = None
    """The dtypes the ``ci`` profile runs where it runs fewer than ``dtypes`` (None: all of
    them), to keep ``make test`` within its time; every other profile runs ``dtypes``."""
    ci_examples: ClassVar[int | None] = None
    """The most examples a Hypothesis test draws on this backend at the ``ci`` profile, where
    fewer than the profile's (None: the profile's), for ``make test``'s time on a backend that
    compiles every new input shape; every other profile draws its own number."""
    conventions: ClassVar[Mapping[str, str]] = {}
    framework: ClassVar[str | None] = None
    composed: ClassVar[frozenset[str] | Literal["all"]] = frozenset()
    limits: ClassVar[tuple[Limit, ...]] = ()
    defaults: ClassVar[tuple[FrameworkDefault, ...]] = ()
    """Where the framework keeps its defaults, for the porting guide (:meth:`framework_defaults`)."""

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this backend cannot run here (framework not installed, no device), or None."""
        return None

    def implementations(self) -> Mapping[str, Callable[..., Any]]:
        """Concept id -> callable taking native arrays and the reference's keyword parameters."""
        raise NotImplementedError

    def to_native(self, array: np.ndarray) -> Any:
        return array

    def to_numpy(self, value: Any) -> np.ndarray:
        return np.asarray(value)

    def framework_defaults(self) -> Mapping[str, Mapping[str, Any]]:
        """The framework's own defaults, read from the installed version (:data:`defaults`)."""
        return read_defaults(self.defaults)

    def versions(self) -> Mapping[str, str]:
        return {"numpy": np.__version__}

    @functools.cached_property
    def table(self) -> Mapping[str, Callable[..., Any]]:
        return dict(self.implementations())

    def supports(self, concept: str) -> bool:
        return concept in self.table

    def is_native(self, concept: str) -> bool:
        """Whether the framework's own function implements ``concept`` (else it is composed); a
        gradient is native where its concept is (the framework's autodiff of its own function)."""
        from dlspec import catalogue

        if self.composed == ALL:
            return False
        cat = catalogue.load()
        of = cat.concepts[concept].of if concept in cat.concepts else None
        return concept not in self.composed and (of is None or of not in self.composed)

    def unsupported(self, concept: str, params: Mapping[str, Any]) -> str | None:
        """Why this backend cannot run ``concept`` with ``params`` (a declared :class:`Limit`)."""
        return next(
            (str(limit) for limit in self.limits if limit.violated_by(concept, params)), None
        )

    def native_callable(self, concept: str) -> Callable[..., Any]:
        """The function the benchmarks time: native arrays in, native result out."""
        return self.table[concept]

    def timed_variants(self, concept: str) -> Mapping[str, Callable[..., Any]]:
        """Each implementation the framework offers for ``concept`` (PyTorch's for-loop,
        ``foreach`` and ``fused`` optimizers; JAX jitted and eager), by name: the benchmarks
        time each as a row of its own. One, ``default``, unless an adapter says more."""
        return {"default": self.native_callable(concept)}

    def copy_of(self, native: Any) -> Callable[[], Any]:
        """A call that copies the native array ``native`` with the framework's own copy (its
        threads, its memcpy): a speed row's reference, with NumPy's, for moving those bytes."""
        target = np.empty_like(native)
        return lambda: np.copyto(target, native)

    def barrier(self, value: Any) -> Any:
        """Wait until ``value`` is computed (a framework that dispatches asynchronously)."""
        return value

    def run(self, concept: str, *arrays: np.ndarray, **params: Any) -> np.ndarray:
        implementation = self.table[concept]
        kept = [np.array(a, copy=True) for a in arrays]  # a native may share its memory
        natives = [self.to_native(a) for a in arrays]
        out = self.to_numpy(implementation(*natives, **params))
        for position, (array, native) in enumerate(zip(kept, natives, strict=True)):
            if not np.array_equal(self.to_numpy(native), array, equal_nan=True):
                raise InputModified(position)
        return out


class InputModified(RuntimeError):
    """The framework's function wrote into an argument it was given (an in-place update of the
    caller's array): a function of the spec leaves its inputs as they were."""

    def __init__(self, position: int) -> None:
        super().__init__(f"the call wrote into its argument {position} (0-based) in place")
