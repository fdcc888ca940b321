"""The pytest plugin (entry point ``pytest11: dlspec``): backend selection, Hypothesis profiles,
concept-group markers, skips for unsupported concepts, and the report.

Options: ``--backend NAME`` (repeatable; ``all`` = every installed backend), ``--adapter
module:Class`` (an adapter that is not installed), ``--concept ID`` (repeatable), ``--dlspec-seed N``
and ``--report DIR``. Profiles ``dev``, ``ci`` and ``thorough`` come by ``--hypothesis-profile`` or
the ``DLSPEC_PROFILE`` environment variable; without either, ``dev``.

Every run is seeded: by ``--dlspec-seed N``, else by ``DEFAULT_SEED``, so a plain ``pytest`` run
gives the same verdicts each time; ``--dlspec-seed random`` draws a fresh seed. The session header
prints the seed and the option that replays the run.

A test opts in by taking the ``backend`` and ``dtype`` arguments and carrying
``@pytest.mark.concept("<id>")``; the plugin parametrizes it over the selected backends and the
concept's dtypes, marks it with the concept's group, and skips it where the backend lacks the
concept or the dtype, or cannot run here.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pkgutil
import random
import shutil
import sys
import time
import types
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, Phase, is_hypothesis_test, settings
from hypothesis import seed as hypothesis_seed

from dlspec import catalogue, checks, progress, recording, registry
from dlspec.numerics import is_floating
from dlspec.registry import Unavailable

if TYPE_CHECKING:
    from dlspec.adapters.base import Backend

WITHOUT_TARGETING = [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink]

PROFILES: dict[str, dict[str, Any]] = {
    "dev": {"max_examples": 20, "phases": WITHOUT_TARGETING},
    "ci": {"max_examples": 25, "database": None, "print_blob": True, "phases": WITHOUT_TARGETING},
    "thorough": {"max_examples": 300, "database": None, "print_blob": True},
    "mutants": {
        "max_examples": 40,
        "database": None,
        "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target],
    },
}
"""Hypothesis profiles. No deadline anywhere: a framework's first call compiles or loads
kernels, and speed is the benchmarks' business, not a test's. ``dev`` and ``ci`` draw without the
targeting phase (the search for the worst error that ``target()`` steers, a quarter of a run's
time), which ``thorough``, the report's profile, keeps: the report's worst inputs come from it.
``ci`` draws 25 a test, ``make test``'s regression check within its time goal; the verdicts of
record are the thorough report's and the seed sweep's. ``mutants`` draws 40, with targeting and
without shrinking, for the suite's tests of itself: catching a mutant needs a failing example,
not the smallest one."""

for _name, _options in PROFILES.items():
    settings.register_profile(
        _name,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **_options,
    )

STASH_BACKENDS = pytest.StashKey[list[Any]]()
LOW_PRECISION_CI_EXAMPLES = 10
"""The most examples a Hypothesis test draws in float16 or bfloat16 at the ``ci`` profile
(``make test``'s time): their hazards, overflow, underflow and the guards, are pinned at ci by
the edge inputs and the written-up divergences' minimal inputs, and ``make report`` draws the
thorough profile's full count."""
STASH_SEED = pytest.StashKey[int]()

DEFAULT_SEED = 20261124
"""The seed of a run that names none: the same as ``make test`` and ``make report``."""


def _seed_option(text: str) -> int | str:
    if text == "random":
        return text
    try:
        return int(text)
    except ValueError:
        raise pytest.UsageError(f"--dlspec-seed={text!r}: must be an integer or 'random'") from None


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dlspec", "dlspec conformance suite")
    group.addoption(
        "--backend",
        action="append",
        default=[],
        help="backend to test (repeatable, comma-separated; 'all' = every installed backend). "
        "Default: numpy.",
    )
    group.addoption(
        "--adapter",
        action="append",
        default=[],
        help="an adapter class that is not installed: 'module:Class' or 'path/to/file.py:Class'",
    )
    group.addoption(
        "--concept", action="append", default=[], help="only test these concept ids (repeatable)"
    )
    group.addoption(
        "--dlspec-seed",
        type=_seed_option,
        default=None,
        help="seed every Hypothesis test with this integer (the same seed gives the same "
        f"report), or 'random' for a fresh one. Default: {DEFAULT_SEED}.",
    )
    group.addoption("--report", default=None, metavar="DIR", help="write the report into DIR")
    group.addoption(
        "--progress",
        type=float,
        default=0,
        metavar="SECONDS",
        help="no letter per test: a line every SECONDS with the tests done, failures, time",
    )


OWN_PACKAGES = ("dlspec", "dlspec.reference", "dlspec.adapters")
"""The packages whose modules make up dlspec (each its own folder: see pyproject.toml)."""


def _own_modules() -> list[types.ModuleType]:
    """Every module of dlspec, imported, in a fixed order (no framework is imported: adapters
    import theirs when they are built)."""
    names = []
    for name in OWN_PACKAGES:
        package = importlib.import_module(name)
        names += [name, *(m.name for m in pkgutil.walk_packages(package.__path__, f"{name}."))]
    return [importlib.import_module(name) for name in sorted(set(names))]


def freeze_hypothesis_constants() -> None:
    """Hypothesis now and then draws a constant found in the source of the local modules loaded
    so far (``hypothesis.internal.conjecture.providers._get_local_constants``). Which modules
    those are depends on what ran before in the process, so one seed drew different inputs under
    two xdist schedules (``test_standardize_along_any_axis_of_a_3d_input[jax-*]`` showed its
    divergence under one and passed under the other). The pool is frozen here, in every process,
    to the constants of dlspec's own modules, whatever is imported later. A private interface:
    ``tests/meta/test_plugin.py`` checks that draws stay put when a module is imported."""
    from hypothesis.internal import constants_ast
    from hypothesis.internal.conjecture import providers
    from hypothesis.internal.floats import float_to_int
    from sortedcontainers import SortedSet

    # sorted, as Hypothesis keeps its own: a set of strings iterates in an order that changes
    # with each process's hash seed
    pool = constants_ast.Constants(
        integers=SortedSet(),
        floats=SortedSet(key=float_to_int),
        bytes=SortedSet(),
        strings=SortedSet(),
    )
    for module in _own_modules():
        pool |= constants_ast.constants_from_module(module)
    providers._get_local_constants = lambda: pool
    providers.CONSTANTS_CACHE.cache.clear()


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    # after Hypothesis' own sessionstart: reading its storage during initialization warns
    freeze_hypothesis_constants()


ONE_THREAD_PER_WORKER = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
"""The thread pools a pytest-xdist worker limits to one thread, unless the user has set them."""


def one_thread_per_worker(config: pytest.Config) -> None:
    """Under ``pytest -n N`` each worker is one core's share. A framework that sizes its thread
    pool to every core (PyTorch's OpenMP) then runs N pools on N cores, and OpenMP's threads,
    spinning while they wait, take the core another worker needs: PyTorch's small losses ran
    three times slower beside one busy core than alone. So each worker asks for one thread,
    before any framework is imported (the adapters import theirs on first use). The arrays
    the tests draw are far below the sizes a framework splits across threads, so no result
    changes; the speed benchmarks run in a process of their own, with every thread."""
    if hasattr(config, "workerinput"):
        for variable in ONE_THREAD_PER_WORKER:
            os.environ.setdefault(variable, "1")


JAX_CACHE = "JAX_COMPILATION_CACHE_DIR"


def one_jax_cache_per_worker(config: pytest.Config) -> None:
    """Give each pytest-xdist worker a JAX compilation cache of its own, a folder named after
    the worker inside the one the user set. JAX's cache (``jax/_src/lru_cache.py``, 0.10.2)
    writes an entry with ``Path.write_bytes`` and takes no lock unless a maximum size is set, so
    a worker could read an entry another was still writing: two workers of ``make report``
    segfaulted in ``deserialize_executable`` that way. Workers of later runs reuse the folders,
    which :func:`share_jax_caches` fills with every worker's entries after each run, so a warm
    run compiles nothing any worker compiled before. Set before JAX is imported (the adapters
    import it on first use)."""
    worker_input = getattr(config, "workerinput", None)
    shared = os.environ.get(JAX_CACHE)
    if worker_input is None or not shared:
        return
    if "jax" in sys.modules:
        warnings.warn(
            f"{JAX_CACHE}: jax was imported before dlspec's plugin could give worker "
            f"{worker_input['workerid']} a cache folder of its own; shared between workers, "
            "an entry can be read while another worker writes it (a segfault)",
            pytest.PytestConfigWarning,
            stacklevel=1,
        )
        return
    os.environ[JAX_CACHE] = os.path.join(shared, worker_input["workerid"])


def share_jax_caches(config: pytest.Config) -> int:
    """After the workers are done, give each worker's JAX cache folder the entries the others
    wrote (hard links where the file system allows, else copies): xdist hands a test to
    whichever worker is free, so without this a warm run compiled again every program another
    worker's folder held. Nothing runs concurrently here, so no entry is read half-written.
    Returns the number of entries added."""
    shared = os.environ.get(JAX_CACHE)
    if hasattr(config, "workerinput") or not shared or not os.path.isdir(shared):
        return 0
    folders = [
        os.path.join(shared, name)
        for name in sorted(os.listdir(shared))
        if name.startswith("gw") and os.path.isdir(os.path.join(shared, name))
    ]
    holdings = {folder: set(os.listdir(folder)) for folder in folders}
    added = 0
    for source, entries in holdings.items():
        for folder, held in holdings.items():
            for entry in sorted(entries - held):
                origin, target = os.path.join(source, entry), os.path.join(folder, entry)
                try:
                    os.link(origin, target)
                except FileExistsError:
                    continue
                except OSError:
                    shutil.copyfile(origin, target)
                held.add(entry)
                added += 1
    return added


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    share_jax_caches(session.config)


STASH_PROFILE_BEFORE = pytest.StashKey[str]()


@pytest.hookimpl(tryfirst=True)  # before Hypothesis' plugin loads --hypothesis-profile
def pytest_configure(config: pytest.Config) -> None:
    config.stash[STASH_PROFILE_BEFORE] = settings.get_current_profile_name()
    one_thread_per_worker(config)
    one_jax_cache_per_worker(config)
    config.addinivalue_line("markers", "concept(id): the catalogue concept a test checks")
    config.addinivalue_line(
        "markers", "integer_images: run the concept's integer dtypes (uint8 images), not its floats"
    )
    config.addinivalue_line(
        "markers", "backends(*names): run only on these backends (a divergence's pinned example)"
    )
    config.addinivalue_line(
        "markers", "dtypes(*names): run only these of the concept's dtypes (a format's hazard)"
    )
    config.addinivalue_line(
        "markers",
        "runs_on(*names): the backends a test without a backend argument runs (a porting "
        "mapping's two), whose ci_examples cap its draws at the ci profile",
    )
    for group in catalogue.load().groups.values():
        config.addinivalue_line("markers", f"{group.id}: {group.title}")
    if config.getoption("hypothesis_profile", None) is None:
        # never Hypothesis' own default: its 200 ms deadline fails a framework's first call,
        # which compiles (JAX) or loads kernels
        settings.load_profile(os.environ.get("DLSPEC_PROFILE", "dev"))
    config.stash[STASH_SEED] = _session_seed(config)
    names = config.getoption("backend") or ([] if config.getoption("adapter") else ["numpy"])
    config.stash[STASH_BACKENDS] = registry.select(names, config.getoption("adapter"))
    config.pluginmanager.register(ReportCollector(config), "dlspec-report-collector")
    every = config.getoption("progress")
    if every > 0 and not hasattr(config, "workerinput"):  # the process that reports
        config.pluginmanager.register(progress.Progress(config, every), "dlspec-progress")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Put back the Hypothesis profile that was current before this session: Hypothesis' plugin
    loads ``--hypothesis-profile`` process-wide, so a nested session at the ``mutants`` profile
    left every later test of the outer session drawing with targeting and without shrinking
    (the jax-float64 accuracy tests showed their divergence or not by which xdist worker had
    run a meta test first)."""
    if STASH_PROFILE_BEFORE in config.stash:
        settings.load_profile(config.stash[STASH_PROFILE_BEFORE])


def _session_seed(config: pytest.Config) -> int:
    """The run's seed: the option's, a fresh one for ``random`` (drawn once, on the xdist
    controller, and handed to the workers), else ``DEFAULT_SEED``."""
    worker_input = getattr(config, "workerinput", None)
    if worker_input is not None and "dlspec_seed" in worker_input:
        return int(worker_input["dlspec_seed"])
    chosen = config.getoption("dlspec_seed")
    if chosen == "random":
        return random.SystemRandom().randrange(2**32)
    return DEFAULT_SEED if chosen is None else int(chosen)


def session_seed(config: pytest.Config) -> int:
    return config.stash[STASH_SEED]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker runs with the controller's seed."""
    node.workerinput["dlspec_seed"] = node.config.stash[STASH_SEED]


def pytest_report_header(config: pytest.Config) -> list[str]:
    seed = config.stash[STASH_SEED]
    backends = ", ".join(b.name for b in config.stash[STASH_BACKENDS])
    return [
        f"dlspec: seed {seed} (replay with --dlspec-seed {seed}), Hypothesis profile "
        f"{settings.get_current_profile_name()}, backends {backends}"
    ]


def _each_concept_ids(metafunc: pytest.Metafunc) -> list[str]:
    """The concepts an ``each_concept`` parametrization lists, read from its marks (or one of
    ``("concept_id", ...)`` whose first value is the concept)."""
    ids = []
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else ()
        names = names.split(",") if isinstance(names, str) else list(names)
        if names and names[0].strip() == "concept_id":
            ids += [p.values[0] if hasattr(p, "values") else p for p in mark.args[1]]
    return ids


def _concept_of(node: Any) -> str | None:
    marker = node.get_closest_marker("concept")
    return marker.args[0] if marker else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    concept_id = _concept_of(metafunc.definition)
    if "backend" in metafunc.fixturenames:
        backends = metafunc.config.stash[STASH_BACKENDS]
        metafunc.parametrize("backend", backends, ids=[b.name for b in backends])
    if "dtype" in metafunc.fixturenames:
        concepts = [concept_id] if concept_id else _each_concept_ids(metafunc)
        dtypes = [d for c in concepts for d in catalogue.load().concept(c).dtypes]
        metafunc.parametrize("dtype", list(dict.fromkeys(dtypes)) or ["float32", "float64"])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    wanted = set(config.getoption("concept"))
    cat = catalogue.load()
    kept, dropped = [], []
    for item in items:
        concept_id = _concept_of(item)
        if concept_id is not None:
            item.add_marker(getattr(pytest.mark, cat.concept(concept_id).group))
        if (
            (wanted and concept_id not in wanted)
            or not _dtype_applies(item, concept_id)
            or not _backend_applies(item)
        ):
            dropped.append(item)
            continue
        kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def _dtype_applies(item: pytest.Item, concept_id: str | None) -> bool:
    """A test shared by several concepts (``each_concept``) is parametrized over the union of
    their dtypes; each case keeps only its own concept's, and a test marked ``dtypes(...)`` only
    those. Where a concept has integer dtypes
    beside float ones (an image's uint8), the tests marked ``integer_images`` run the integer
    ones and the others the float ones: they draw integer and real-valued images."""
    callspec = getattr(item, "callspec", None)
    dtype = callspec.params.get("dtype") if callspec is not None else None
    if dtype is None or concept_id is None:
        return True
    dtypes = catalogue.load().concept(concept_id).dtypes
    only = item.get_closest_marker("dtypes")
    if dtype not in dtypes or (only is not None and dtype not in only.args):
        return False
    if all(is_floating(d) for d in dtypes) or not any(is_floating(d) for d in dtypes):
        return True
    return is_floating(dtype) != (item.get_closest_marker("integer_images") is not None)


def _backend_applies(item: pytest.Item) -> bool:
    """A test marked ``backends(...)`` runs on those backends only (a divergence's pinned
    example, on the backends it is written up for)."""
    marker = item.get_closest_marker("backends")
    callspec = getattr(item, "callspec", None)
    if marker is None or callspec is None:
        return True
    return getattr(callspec.params.get("backend"), "name", None) in marker.args


def _skip(item: pytest.Item, category: str, reason: str) -> None:
    """Skip, recording the category (``unavailable`` or ``unsupported``) for the report."""
    item.user_properties.append(("dlspec_skip", category))
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec is not None else {}
    backend, dtype = params.get("backend"), params.get("dtype")
    concept_id = _concept_of(item)
    item.user_properties.append(
        (
            "dlspec_item",
            {
                "concept": concept_id,
                "backend": getattr(backend, "name", None),
                "dtype": dtype,
                "test": item.originalname if hasattr(item, "originalname") else item.name,
            },
        )
    )
    if backend is None:
        return
    if isinstance(backend, Unavailable):
        _skip(item, "unavailable", f"backend {backend.name!r} unavailable: {backend.reason}")
    if concept_id is not None and not _supports(backend, concept_id):
        _skip(item, "unsupported", f"backend {backend.name!r} does not implement {concept_id!r}")
    dtypes = getattr(backend, "dtypes", ("float32", "float64"))
    if dtype is not None and is_floating(dtype) and dtype not in dtypes:
        _skip(item, "unsupported", f"backend {backend.name!r} has no {dtype}")
    at_ci = getattr(backend, "ci_dtypes", None)
    profile = settings.get_current_profile_name()
    if at_ci is not None and dtype in dtypes and dtype not in at_ci and profile == "ci":
        pytest.skip(
            f"backend {backend.name!r} runs {dtype} at the thorough profile (make report), "
            f"not at ci: its ci_dtypes are {', '.join(at_ci)}"
        )


def _supports(backend: Backend, concept_id: str) -> bool:
    """Whether to run ``concept_id`` on ``backend``; an adapter whose ``supports`` is missing or
    raises is run anyway, so that its failure is reported rather than hidden."""
    supports = getattr(backend, "supports", None)
    try:
        return bool(supports(concept_id)) if callable(supports) else True
    except Exception:
        return True


def _compile_seconds(item: pytest.Item) -> float:
    """The seconds the test's backend has spent compiling so far in this process, where it
    says (``compile_seconds()``, e.g. JAX); 0 otherwise."""
    callspec = getattr(item, "callspec", None)
    backend = callspec.params.get("backend") if callspec is not None else None
    counter = getattr(backend, "compile_seconds", None)
    try:
        return float(counter()) if callable(counter) else 0.0
    except Exception:
        return 0.0


def seed_the_test(item: pytest.Item) -> None:
    """Seed a Hypothesis test with the session's seed just before it runs, not once at
    collection: ``hypothesis.seed`` marks the function object, which a nested session (the
    suite's tests of itself run the conformance modules in process) shares and marks with its
    own seed, so a test seeded at collection drew the nested session's inputs once one had run
    before it in the same process."""
    function = getattr(item, "obj", None)
    function = getattr(function, "__func__", function)
    if function is not None and is_hypothesis_test(function):
        hypothesis_seed(item.config.stash[STASH_SEED])(function)


def _ci_examples(item: pytest.Item) -> int | None:
    """The fewest ``ci_examples`` of the backends the test runs: its ``backend`` argument's, or
    those its ``runs_on`` marker names (a porting mapping's two); None where none caps."""
    callspec = getattr(item, "callspec", None)
    backends = [callspec.params.get("backend")] if callspec is not None else []
    marker = item.get_closest_marker("runs_on")
    if marker is not None:
        selected = item.config.stash[STASH_BACKENDS]
        backends += [b for b in selected if getattr(b, "name", None) in marker.args]
    caps = [int(cap) for b in backends if (cap := getattr(b, "ci_examples", None)) is not None]
    if callspec is not None and callspec.params.get("dtype") in catalogue.LOW_PRECISION:
        caps.append(LOW_PRECISION_CI_EXAMPLES)
    return min(caps, default=None)


@contextlib.contextmanager
def examples_at_ci(item: pytest.Item) -> Iterator[None]:
    """Draw at most the backends' ``ci_examples`` in a Hypothesis test at the ``ci`` profile,
    for as long as the test runs: the function object (and with it its settings) is shared by
    every backend's parametrization, so the cap is set just before and taken off after."""
    cap = _ci_examples(item)
    function = getattr(item, "obj", None)
    function = getattr(function, "__func__", function)
    if (
        cap is None
        or settings.get_current_profile_name() != "ci"
        or not is_hypothesis_test(function)
    ):
        yield
        return
    # Hypothesis reads the settings @given stored on the function when the test runs
    own = function._hypothesis_internal_use_settings  # type: ignore[union-attr]
    function._hypothesis_internal_use_settings = settings(  # type: ignore[union-attr]
        own, max_examples=min(own.max_examples, cap)
    )
    try:
        yield
    finally:
        function._hypothesis_internal_use_settings = own  # type: ignore[union-attr]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Record what the test observed; a test that passes where a written-up divergence showed
    (its region, its values) is reported as that divergence (an expected failure)."""
    seed_the_test(item)
    started, compiled = time.perf_counter(), _compile_seconds(item)
    with recording.recording() as recorder, examples_at_ci(item):
        try:
            result = yield
        except checks.RaisedAsWrittenUp:
            result = None  # the divergence it records is the test's outcome, below
        finally:
            item.user_properties.append(("dlspec_observations", recorder.summary()))
            if recorder.porting:
                item.user_properties.append(("dlspec_porting", recorder.porting))
            item.user_properties.append(("dlspec_call_seconds", time.perf_counter() - started))
            item.user_properties.append(
                ("dlspec_compile_seconds", _compile_seconds(item) - compiled)
            )
    if recorder.divergences:
        divergence, evidence = next(iter(recorder.divergences.items()))
        item.user_properties.append(("dlspec_divergence", divergence.spec))
        pytest.xfail(f"{known_divergence(divergence)}\nseen: {evidence}")
    return result


def known_divergence(divergence: catalogue.Divergence) -> str:
    return f"known divergence: {divergence.summary} (spec/{divergence.spec}; {divergence.versions})"


class ReportCollector:
    """Gathers every test's outcome and observations (on the controller, under xdist too) and
    writes the report at the end of the session. One per pytest configuration."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.results: list[dict[str, Any]] = []
        self.items: dict[str, dict[str, Any]] = {}
        self.started = time.perf_counter()

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        props = dict(report.user_properties)
        item: dict[str, Any] | None = props.get("dlspec_item")  # type: ignore[assignment]
        if item is not None:
            self.items[report.nodeid] = item
        elif report.outcome == "failed":
            # pytest-xdist reports a test whose worker died (a segfault or an abort inside a
            # framework) with nothing but its node id: the item its setup reported names it
            item = self.items.get(report.nodeid)
        if item is None or (report.when != "call" and report.outcome == "passed"):
            return
        message, outcome = "", str(report.outcome)
        crashed = "dlspec_item" not in props
        divergence = props.get("dlspec_divergence")
        if hasattr(report, "wasxfail"):
            # a known divergence: "diverged" when it showed, "passed" (and noted) when it did not
            outcome = "diverged" if report.skipped else "passed"
            message = f"{report.wasxfail}" + (
                "" if report.skipped else " -- NO LONGER SHOWS at its minimal input"
            )
        if report.outcome == "skipped" and isinstance(report.longrepr, tuple):
            message = str(report.longrepr[2])
        elif outcome == "diverged" and report.wasxfail.startswith("known divergence"):
            message = report.wasxfail  # seen by a test that passed otherwise: with its evidence
        elif crashed:
            message = (
                f"{report.longreprtext.strip().splitlines()[-1]}: its process died (a segfault or "
                "an abort in the framework); run the test alone to see how"
            )
        elif report.outcome == "failed" or outcome == "diverged":
            # The exception's own lines (pytest prefixes them with "E"): the conformance message
            # and Hypothesis's falsifying example, without the traceback.
            lines = [
                line[1:].strip() for line in report.longreprtext.splitlines() if line[:1] == "E"
            ]
            message = "\n".join(line for line in lines if line) or report.longreprtext
            if outcome == "diverged":
                message = f"{report.wasxfail}\n{message}"
        self.results.append(
            {
                **item,
                "nodeid": report.nodeid,
                "when": report.when,
                "outcome": outcome,
                "divergence": divergence,
                "skip": props.get("dlspec_skip"),
                "message": message,
                "seconds": props.get("dlspec_call_seconds", report.duration),
                "compile_seconds": props.get("dlspec_compile_seconds", 0.0),
                "observations": props.get("dlspec_observations", []),
                "porting": props.get("dlspec_porting"),
            }
        )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        directory = self.config.getoption("report")
        if not directory or hasattr(self.config, "workerinput"):
            return
        from dlspec import report

        path = report.write(
            directory,
            results=self.results,
            backends=self.config.stash[STASH_BACKENDS],
            seed=self.config.stash[STASH_SEED],
            profile=settings.get_current_profile_name(),
            wall_seconds=time.perf_counter() - self.started,
        )
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"dlspec report written to {path}")


def each_concept(*concept_ids: str) -> pytest.MarkDecorator:
    """Parametrize a test over ``concept_id``, each case marked with its concept, for properties
    that several concepts share (they must share their dtypes)."""
    return pytest.mark.parametrize(
        "concept_id",
        [pytest.param(c, marks=pytest.mark.concept(c), id=c) for c in concept_ids],
    )
