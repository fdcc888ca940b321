"""Speed: steady-state time per call of a sample of concepts on every conforming (and, flagged,
diverging) backend, at sizes from launch-bound (100 elements) to bandwidth-bound (10^6), next to
a copy of the same bytes. Run by ``make report`` after the conformance suite:
``python -m dlspec.benchmarks --report reports`` adds a ``speed`` section to ``report.json`` and
re-renders the pages.

Method: inputs are converted to the backend's native arrays (on its device) before timing; a call
is timed up to the backend's barrier (``Adapter.barrier``: ``block_until_ready``,
``torch.cuda.synchronize``), so asynchronous dispatch is not mistaken for speed. The first call is
timed apart (it includes JAX's compilation). Then calls are repeated in blocks of at least
:data:`BLOCK_SECONDS`; the median and interquartile range of the per-call time over
:data:`BLOCKS` blocks are reported, with elements per second, the ratio to NumPy, and for
memory-bound concepts the fraction of a copy's rate achieved: the time of the fastest copy
that moves the same bytes (the same working set, so in the same level of the memory hierarchy:
:func:`copy_seconds`) over the call's time. A rate measured against one large copy would claim
more than the machine's bandwidth wherever the working set fits in a cache. Cells whose status is
``conforms`` or ``diverges`` are timed, the latter flagged. Thread counts are the frameworks'
defaults, recorded in the report's backend versions.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from dlspec.adapters.base import Timed

from dlspec import progress, registry, report

SIZES = (100, 10_000, 1_000_000)
BLOCKS = 7
BLOCK_SECONDS = 0.02
BANDWIDTH_BYTES = 64 * 2**20
TIMED = ("conforms", "diverges")
"""The statuses whose cells are timed: a diverging cell is timed too, and flagged."""


@dataclass(frozen=True)
class Case:
    """A timed call: its inputs at ``size`` elements and the bytes it must move (read + write)."""

    concept: str
    inputs: Callable[[int, np.dtype], tuple[np.ndarray, ...]]
    params: Mapping[str, Any]
    memory_bound: bool = True
    words_per_element: int | None = None
    """The words a step must read and write per element, where that is not the inputs and the
    result (an optimizer's state): its memory-traffic bound."""

    def bytes_moved(self, arrays: tuple[np.ndarray, ...], result_size: int, itemsize: int) -> int:
        if self.words_per_element is not None:
            return self.words_per_element * arrays[0].size * itemsize
        return sum(a.nbytes for a in arrays) + result_size * itemsize


def _vector(size: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    return (np.random.default_rng(0).standard_normal(size).astype(dtype),)


def _pair(size: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    return rng.standard_normal(size).astype(dtype), rng.standard_normal(size).astype(dtype)


def _rows(size: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    width = min(size, 1000)
    return (np.random.default_rng(0).standard_normal((size // width, width)).astype(dtype),)


def _step(size: int, dtype: np.dtype) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    return rng.standard_normal(size).astype(dtype), rng.standard_normal((1, size)).astype(dtype)


CASES = (
    Case("relu", _vector, {}),
    Case("sigmoid", _vector, {}),
    Case("gelu", _vector, {"approximate": "none"}),
    Case("softmax", _rows, {"axis": -1}),
    Case("mse_loss", _pair, {"reduction": "mean"}),
    Case("adam", _step, {"lr": 1e-3}, words_per_element=7),
)
"""Elementwise (with a cheap and an expensive function), a lane reduction, a loss, and one
optimizer step (which includes building the optimizer: the adapter interface is a trajectory).
An Adam step reads the parameter, its gradient and both moments and writes the parameter and
the moments: 7 words per parameter (28 bytes in float32), the bound its row is measured against;
building the optimizer and its zeroed moments is on top, so the fraction is a floor."""


def memory_bandwidth() -> float:
    """Bytes per second (read and write) of the fastest copy of :data:`BANDWIDTH_BYTES`."""
    return BANDWIDTH_BYTES / copy_seconds(BANDWIDTH_BYTES)


def copy_seconds(moved: int) -> float:
    """The best time of the fastest NumPy copy that moves ``moved`` bytes (reads half, writes
    half), over one to every core's threads, each copying a slice (NumPy's copy releases the
    GIL): what moving that working set takes at best, in whichever cache it fits, so a kernel
    timed against it is compared with the same memory level."""
    source = np.ones(max(moved // 2 // 8, 1))
    target = np.empty_like(source)
    best = _timed_best(lambda: np.copyto(target, source))
    for threads in range(2, (os.cpu_count() or 1) + 1):
        with ThreadPoolExecutor(threads) as pool:
            best = min(best, _timed_best(_threaded_copy(pool, threads, source, target)))
    return best


def _threaded_copy(
    pool: ThreadPoolExecutor, threads: int, source: np.ndarray, target: np.ndarray
) -> Callable[[], None]:
    """``np.copyto(target, source)`` as ``threads`` slices copied at once on ``pool``."""
    bounds = np.linspace(0, source.size, threads + 1).astype(int)
    parts = [slice(a, b) for a, b in itertools.pairwise(bounds) if b > a]

    def copy(part: slice) -> None:
        np.copyto(target[part], source[part])

    def run() -> None:
        list(pool.map(copy, parts))

    return run


def own_copy_seconds(backend: Timed, moved: int) -> float:
    """The best time of the backend's own copy (:meth:`Adapter.copy_of`) moving ``moved``
    bytes, up to its barrier: a framework whose copy is faster than NumPy's (PyTorch's runs on
    all its threads) is measured against that."""
    native = backend.to_native(np.ones(max(moved // 2 // 8, 1)))
    copy, barrier = backend.copy_of(native), backend.barrier
    return _timed_best(lambda: barrier(copy()))


def last_level_cache_bytes() -> int | None:
    """The largest CPU cache this machine reports (Linux sysfs), or None where it says nothing."""
    sizes = []
    for index in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            text = (index / "size").read_text().strip()
        except OSError:
            continue
        unit = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        sizes.append(int(text.rstrip("KMG")) * unit)
    return max(sizes, default=None)


def _timed(call: Callable[[], Any], repeats: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        call()
    return time.perf_counter() - started


REFERENCE_ROUNDS = 3
"""A reference copy is timed this many times over (:data:`BLOCKS` blocks each) and its fastest
block kept: a bound is measured as tightly as the timer allows."""


def _timed_best(call: Callable[[], Any]) -> float:
    """The fastest block's time per call over :data:`REFERENCE_ROUNDS` rounds: for a reference
    copy, the best it achieves (a call is reported by its median, so a call as fast as a copy
    reads at most 1)."""
    return min(time_call(call)["best_seconds"] for _ in range(REFERENCE_ROUNDS))


def time_call(call: Callable[[], Any]) -> dict[str, float]:
    """First call apart, then the median and quartiles of per-call time over repeated blocks."""
    first = _timed(call)
    repeats = 1
    while _timed(call, repeats) < BLOCK_SECONDS and repeats < 10**6:
        repeats *= 2
    per_call = sorted(_timed(call, repeats) / repeats for _ in range(BLOCKS))
    quartiles = statistics.quantiles(per_call, n=4)
    return {
        "first_call_seconds": first,
        "best_seconds": per_call[0],
        "median_seconds": statistics.median(per_call),
        "iqr_seconds": quartiles[2] - quartiles[0],
        "calls_per_block": repeats,
    }


def measure(
    backends: list[Timed],
    statuses: Mapping[tuple[str, str], str],
    dtypes: tuple[str, ...],
    *,
    log: bool = False,
) -> dict[str, Any]:
    """The speed section of the report for ``backends``, timing the conforming and diverging
    cells, each implementation a backend offers apart; with ``log``, a line per concept and
    dtype as it starts (where a long run is)."""
    bandwidth = memory_bandwidth()
    rows: list[dict[str, Any]] = []
    started, cells = time.monotonic(), len(CASES) * len(dtypes)
    copies: dict[tuple[str, int], float] = {}
    for number, (case, dtype_name) in enumerate(itertools.product(CASES, dtypes), start=1):
        if log:
            print(
                f"dlspec: benchmarks, {case.concept} {dtype_name} ({number} of {cells}), "
                f"{progress.elapsed(time.monotonic() - started)}",
                flush=True,
            )
        dtype = np.dtype(dtype_name)
        for size in SIZES:
            arrays = case.inputs(size, dtype)
            for backend in backends:
                status = statuses.get((case.concept, backend.name))
                if status not in TIMED:
                    continue
                if dtype_name not in backend.dtypes:
                    continue
                rows += _timed_rows(backend, backends, case, arrays, status, copies)
    by_numpy = {
        (r["concept"], r["dtype"], r["elements"]): r["median_seconds"]
        for r in rows
        if r["backend"] == "numpy"
    }
    for row in rows:
        numpy_time = by_numpy.get((row["concept"], row["dtype"], row["elements"]))
        row["speedup_over_numpy"] = numpy_time / row["median_seconds"] if numpy_time else None
    return {
        "memory_bandwidth_bytes_per_second": bandwidth,
        "bandwidth_copy_bytes": BANDWIDTH_BYTES,
        "last_level_cache_bytes": last_level_cache_bytes(),
        "rows": rows,
    }


def _timed_rows(
    backend: Timed,
    backends: list[Timed],
    case: Case,
    arrays: tuple[np.ndarray, ...],
    status: str,
    copies: dict[tuple[str, int], float],
) -> list[dict[str, Any]]:
    """One row per implementation of ``case`` on ``backend`` at these inputs, against the
    fastest copy of the same bytes by any of ``backends`` or NumPy (``copies`` keeps them)."""
    result_size = int(np.size(backend.run(case.concept, *arrays, **case.params)))
    moved = case.bytes_moved(arrays, result_size, arrays[0].dtype.itemsize)
    copy = _reference_copy(backends, moved, copies) if case.memory_bound else None
    rows = []
    for implementation, call in _prepared(backend, case, arrays).items():
        timing = time_call(call)
        median = timing["median_seconds"]
        rows.append(
            {
                "concept": case.concept,
                "backend": backend.name,
                "implementation": implementation,
                "status": status,
                "dtype": arrays[0].dtype.name,
                "elements": arrays[0].size,
                **timing,
                "elements_per_second": arrays[0].size / median,
                "copy_seconds": copy,
                "bandwidth_fraction": None if copy is None else copy / median,
            }
        )
    return rows


def _reference_copy(
    backends: list[Timed], moved: int, copies: dict[tuple[str, int], float]
) -> float:
    """The fastest copy measured here moving ``moved`` bytes: NumPy's on one to every core's
    threads, and every timed backend's own (PyTorch's ``copy_`` runs on all its threads), each
    measured once (``copies``, by whose copy and the bytes)."""
    if ("numpy threads", moved) not in copies:
        copies[("numpy threads", moved)] = copy_seconds(moved)
    for backend in backends:
        if (backend.name, moved) not in copies:
            copies[(backend.name, moved)] = own_copy_seconds(backend, moved)
    return min(seconds for (_, size), seconds in copies.items() if size == moved)


def _prepared(
    backend: Timed, case: Case, arrays: tuple[np.ndarray, ...]
) -> dict[str, Callable[[], Any]]:
    """Per implementation the backend offers, a call on inputs already converted to native
    arrays, ending at the backend's barrier."""
    native = [backend.to_native(a) for a in arrays]
    barrier = backend.barrier

    def call(function: Callable[..., Any]) -> Callable[[], Any]:
        return lambda: barrier(function(*native, **case.params))

    return {name: call(f) for name, f in backend.timed_variants(case.concept).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlspec.benchmarks", description=__doc__)
    parser.add_argument("--report", required=True, help="the folder holding report.json")
    arguments = parser.parse_args(argv)
    path = Path(arguments.report) / "report.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    names = [b["name"] for b in document["backends"] if b["available"]]
    backends = [
        b for b in registry.select(names, []) if isinstance(b, Timed) and b.name != "reference"
    ]
    statuses = {(r["concept"], r["backend"]): r["status"] for r in document["matrix"]}
    document["speed"] = measure(backends, statuses, ("float32", "float64"), log=True)
    report.rewrite(Path(arguments.report), document)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
