"""Speed: steady-state time per call of a sample of concepts on every conforming backend, at
sizes from launch-bound (100 elements) to bandwidth-bound (10^6), next to the machine's measured
memory bandwidth. Run by ``make report`` after the conformance suite:
``python -m dlspec.benchmarks --report reports`` adds a ``speed`` section to ``report.json`` and
re-renders ``README.md``.

Method: inputs are converted to the backend's native arrays (on its device) before timing; a call
is timed up to the backend's barrier (``Adapter.barrier``: ``block_until_ready``,
``torch.cuda.synchronize``), so asynchronous dispatch is not mistaken for speed. The first call is
timed apart (it includes JAX's compilation). Then calls are repeated in blocks of at least
:data:`BLOCK_SECONDS`; the median and interquartile range of the per-call time over
:data:`BLOCKS` blocks are reported, with elements per second, the ratio to NumPy, and for
memory-bound concepts the fraction of the measured bandwidth achieved. Only (concept, backend,
dtype) cells whose conformance status is ``conforms`` are timed. Thread counts are the
frameworks' defaults, recorded in the report's backend versions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from dlspec.adapters.base import Timed

from dlspec import registry, report

SIZES = (100, 10_000, 1_000_000)
BLOCKS = 7
BLOCK_SECONDS = 0.02
BANDWIDTH_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Case:
    """A timed call: its inputs at ``size`` elements and the bytes it must move (read + write)."""

    concept: str
    inputs: Callable[[int, np.dtype], tuple[np.ndarray, ...]]
    params: Mapping[str, Any]
    memory_bound: bool = True

    def bytes_moved(self, arrays: tuple[np.ndarray, ...], result_size: int, itemsize: int) -> int:
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
    Case("adam", _step, {"lr": 1e-3}, memory_bound=False),
)
"""Elementwise (with a cheap and an expensive function), a lane reduction, a loss, and one
optimizer step (which includes building the optimizer: the adapter interface is a trajectory)."""


def memory_bandwidth() -> float:
    """Bytes per second of a large copy (read and write), the best of five."""
    source = np.ones(BANDWIDTH_BYTES // 8)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - started)
    return 2 * source.nbytes / best


def _timed(call: Callable[[], Any], repeats: int = 1) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        call()
    return time.perf_counter() - started


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
        "median_seconds": statistics.median(per_call),
        "iqr_seconds": quartiles[2] - quartiles[0],
        "calls_per_block": repeats,
    }


def measure(
    backends: list[Timed], statuses: Mapping[tuple[str, str], str], dtypes: tuple[str, ...]
) -> dict[str, Any]:
    """The speed section of the report for ``backends``, timing conforming cells only."""
    bandwidth = memory_bandwidth()
    rows: list[dict[str, Any]] = []
    for case in CASES:
        for dtype_name in dtypes:
            dtype = np.dtype(dtype_name)
            for size in SIZES:
                arrays = case.inputs(size, dtype)
                for backend in backends:
                    if statuses.get((case.concept, backend.name)) != "conforms":
                        continue
                    if dtype_name not in backend.dtypes:
                        continue
                    call = _prepared(backend, case, arrays)
                    timing = time_call(call)
                    result_size = int(np.size(backend.run(case.concept, *arrays, **case.params)))
                    moved = case.bytes_moved(arrays, result_size, dtype.itemsize)
                    median = timing["median_seconds"]
                    rows.append(
                        {
                            "concept": case.concept,
                            "backend": backend.name,
                            "dtype": dtype_name,
                            "elements": size,
                            **timing,
                            "elements_per_second": size / median,
                            "bandwidth_fraction": (
                                moved / median / bandwidth if case.memory_bound else None
                            ),
                        }
                    )
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
        "rows": rows,
    }


def _prepared(backend: Timed, case: Case, arrays: tuple[np.ndarray, ...]) -> Callable[[], Any]:
    """A call on inputs already converted to native arrays, ending at the backend's barrier."""
    native = [backend.to_native(a) for a in arrays]
    function = backend.native_callable(case.concept)
    barrier = backend.barrier
    return lambda: barrier(function(*native, **case.params))


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
    document["speed"] = measure(backends, statuses, ("float32", "float64"))
    report.rewrite(Path(arguments.report), document)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
