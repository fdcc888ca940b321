"""The report document: one JSON document (schema ``dlspec-report``, version 1) built from the
results the plugin gathered.

Everything except timings, the date and the environment is a function of the seed, the profile
and the code, so two runs with the same seed give the same conformance and accuracy tables.
"""

from __future__ import annotations

import math
import os
import platform
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dlspec import catalogue
from dlspec.recording import merge_by_step

if TYPE_CHECKING:
    from dlspec.adapters.base import Backend

SCHEMA = "dlspec-report"
SCHEMA_VERSION = 2
SCHEMA_FILE = Path(__file__).with_name("schema.json")
"""The JSON Schema (draft 2020-12) that every ``report.json`` of this version follows."""
ACCURACY_KINDS = ("oracle", "edge")


def _finite_or_text(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def _status(outcomes: list[dict[str, Any]]) -> str:
    if any(r["outcome"] == "failed" for r in outcomes):
        return "fails"
    if any(r["outcome"] == "diverged" for r in outcomes):
        return "diverges"
    if any(r["outcome"] == "passed" for r in outcomes):
        return "conforms"
    return "unavailable" if any(r.get("skip") == "unavailable" for r in outcomes) else "unsupported"


def _cpu_model() -> str:
    """The CPU's model name (Linux ``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _suite_commit() -> str:
    """The git commit of the suite's checkout (``+ changes`` if the tree is dirty), if any."""
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" + changes" if dirty else "")


def _framework_defaults(backend: Any) -> dict[str, Any]:
    """The framework's defaults where the adapter reads them (``Adapter.framework_defaults``)."""
    read = getattr(backend, "framework_defaults", None)
    return dict(read()) if callable(read) else {}


def _safe(call: Any, default: Any) -> Any:
    try:
        return call()
    except Exception:
        return default


def _backend_info(backend: Backend) -> dict[str, Any]:
    return {
        "name": backend.name,
        "device": getattr(backend, "device", "?"),
        "available": getattr(backend, "available", True),
        "reason": getattr(backend, "reason", None) or getattr(backend, "error", None),
        "versions": dict(_safe(lambda: backend.versions(), {})),
        "conventions": dict(getattr(backend, "conventions", None) or {}),
        "limits": [str(limit) for limit in getattr(backend, "limits", ())],
        "defaults": _safe(lambda: _framework_defaults(backend), {}),
    }


def _nearest_rank(samples: list[float], fraction: float) -> float:
    """The nearest-rank percentile: the smallest sample with at least ``fraction`` of the samples
    at or below it; defined for infinite errors too, which interpolation is not."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def _accuracy(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for result in results:
        for o in result["observations"]:
            if o["kind"] not in ACCURACY_KINDS:
                continue
            key = (o["concept"], o["backend"], o["dtype"], o["kind"])
            row = merged.setdefault(
                key,
                {
                    "examples": 0,
                    "failures": 0,
                    "max_ulps": 0.0,
                    "max_relative": 0.0,
                    "max_budget_fraction": -1.0,
                    "worst_input": "",
                    "samples": [],
                    "by_step": [],
                },
            )
            row["by_step"] = merge_by_step(row["by_step"], o.get("max_ulps_by_step", []))
            row["examples"] += o["examples"]
            row["failures"] += o["failures"]
            row["max_ulps"] = max(row["max_ulps"], o["max_ulps"])
            row["max_relative"] = max(row["max_relative"], o["max_relative"])
            row["samples"].extend(o["ulps_samples"])
            if o["max_budget_fraction"] > row["max_budget_fraction"]:
                row["max_budget_fraction"] = o["max_budget_fraction"]
                row["worst_input"] = o["worst_input"]
    cat = catalogue.load()
    rows = []
    for (concept, backend, dtype, kind), row in sorted(merged.items()):
        p99 = _nearest_rank(row.pop("samples"), 0.99)
        rows.append(
            {
                "concept": concept,
                "backend": backend,
                "dtype": dtype,
                "kind": kind,
                "examples": row["examples"],
                "failures": row["failures"],
                "max_ulps": _finite_or_text(row["max_ulps"]),
                "p99_ulps": _finite_or_text(p99),
                "max_relative": _finite_or_text(row["max_relative"]),
                "budget_ulps": cat.concept(concept).budget.ulps.get(dtype),
                "error_model": cat.concept(concept).error_model,
                "max_budget_fraction": _finite_or_text(row["max_budget_fraction"]),
                "worst_input": row["worst_input"],
                "max_ulps_by_step": [_finite_or_text(u) for u in row["by_step"]],
            }
        )
    return rows


def _distinct(outcomes: list[dict[str, Any]], field: str, outcome: str) -> list[str]:
    return sorted({r[field] for r in outcomes if r["outcome"] == outcome and r.get(field)})


def _cell(
    concept: str, name: str, backend: Backend | None, outcomes: list[dict[str, Any]]
) -> dict[str, Any]:
    """One cell of the conformance matrix: its status, and the tests' evidence."""
    native = backend is not None and _safe(lambda: backend.is_native(concept), False)
    return {
        "concept": concept,
        "group": catalogue.load().concept(concept).group,
        "backend": name,
        "status": _status(outcomes),
        "implementation": "native" if native else "composed",
        "tests": {
            outcome: sum(1 for r in outcomes if r["outcome"] == outcome)
            for outcome in ("passed", "failed", "diverged", "skipped")
        },
        "failures": sorted({r["message"] for r in outcomes if r["outcome"] == "failed"}),
        "divergences": _distinct(outcomes, "divergence", "diverged"),
        "divergence_messages": sorted(
            {r["message"] for r in outcomes if r["outcome"] == "diverged"}
        ),
        "divergences_not_shown": _distinct(outcomes, "divergence", "passed"),
        "skip_reasons": sorted({r["message"] for r in outcomes if r["outcome"] == "skipped"}),
    }


def _environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "suite_commit": _suite_commit(),
        "thread_settings": {
            name: os.environ.get(name, "unset")
            for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
        },
    }


def _suite_seconds(results: list[dict[str, Any]], wall_seconds: float) -> dict[str, Any]:
    """The tests' seconds (and the compiling within them) per backend and concept group."""
    cat = catalogue.load()
    timing: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in results:
        if r["concept"] and r["backend"]:
            seconds = timing[(r["backend"], cat.concept(r["concept"]).group)]
            seconds[0] += float(r["seconds"] or 0.0)
            seconds[1] += float(r.get("compile_seconds") or 0.0)
    return {
        "wall": round(wall_seconds, 3),
        "by_backend_and_group": [
            {"backend": b, "group": g, "seconds": round(s, 3), "compile_seconds": round(c, 3)}
            for (b, g), (s, c) in sorted(timing.items())
        ],
    }


def build(
    *,
    results: list[dict[str, Any]],
    backends: list[Any],
    seed: int | None,
    profile: str,
    wall_seconds: float,
) -> dict[str, Any]:
    """The report document."""
    by_cell: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if r["concept"] and r["backend"]:
            by_cell[(r["concept"], r["backend"])].append(r)
    info = {b.name: b for b in backends}
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "profile": profile,
        "environment": _environment(),
        "backends": [_backend_info(b) for b in backends],
        "matrix": [
            _cell(concept, backend, info.get(backend), outcomes)
            for (concept, backend), outcomes in sorted(by_cell.items())
        ],
        "accuracy": _accuracy(results),
        "suite_seconds": _suite_seconds(results, wall_seconds),
        "porting": _porting(results),
    }


PORTING_OUTCOMES = {"passed": "holds", "failed": "fails", "skipped": "not run"}
"""A mapping test's outcome, as the guide says it: its verdict holds, it fails, or it did not
run (a backend not selected or unavailable)."""


def _porting(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per porting mapping and dtype: what its test found (``tests/test_porting.py``)."""
    rows = []
    for r in results:
        found = r.get("porting")
        if not found:
            continue
        mapping = next(m for m in catalogue.load().mappings if m.id == found["mapping"])
        rows.append(
            {
                "mapping": mapping.id,
                "concept": mapping.concept,
                "title": mapping.title,
                "frameworks": list(mapping.frameworks),
                "dtype": found["dtype"],
                "verdict": mapping.verdict,
                "outcome": PORTING_OUTCOMES.get(r["outcome"], r["outcome"]),
                "found": found.get("verdict", "not run"),
                "examples": found.get("examples", 0),
                "worst_fraction": _finite_or_text(float(found.get("worst_fraction", 0.0))),
                "first_step": found.get("first_step"),
                "evidence": found.get("evidence", ""),
                "message": r["message"] if r["outcome"] != "passed" else "",
            }
        )
    return sorted(rows, key=lambda row: (row["concept"], row["mapping"], row["dtype"]))


def merge(first: Mapping[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    """One report from two runs of the same suite, seed and profile in separate processes (a
    plug-in whose framework fixes its backend per process: Keras's ``KERAS_BACKEND``). Each
    backend's rows come from the run in which it was available (the first where it was in
    both, or in neither); the first run's environment, porting rows and speed stay, the
    second's porting rows of its own backends join them, and the wall times add."""
    for key in ("seed", "profile", "schema_version"):
        if first.get(key) != second.get(key):
            raise ValueError(
                f"report merge: the runs differ in {key} ({first.get(key)!r}, {second.get(key)!r})"
            )
    available = {b["name"]: b["available"] for b in first["backends"]}
    taken_from_second = {
        b["name"]
        for b in second["backends"]
        if b["available"] and not available.get(b["name"], False)
    }

    def own(rows: Iterable[Mapping[str, Any]], from_second: bool) -> list[Mapping[str, Any]]:
        return [r for r in rows if (r["backend"] in taken_from_second) == from_second]

    def porting_own(rows: Iterable[Mapping[str, Any]], from_second: bool) -> list[Any]:
        return [r for r in rows if bool(set(r["frameworks"]) & taken_from_second) == from_second]

    backends = [
        next(b for b in second["backends"] if b["name"] == a["name"])
        if a["name"] in taken_from_second
        else a
        for a in first["backends"]
    ]
    backends += [b for b in second["backends"] if b["name"] not in available]
    seconds = first["suite_seconds"], second["suite_seconds"]
    merged = dict(first)
    merged.update(
        backends=backends,
        matrix=sorted(
            own(first["matrix"], False) + own(second["matrix"], True),
            key=lambda c: (c["concept"], c["backend"]),
        ),
        accuracy=sorted(
            own(first["accuracy"], False) + own(second["accuracy"], True),
            key=lambda r: (r["concept"], r["backend"], r["dtype"], r["kind"]),
        ),
        porting=sorted(
            porting_own(first.get("porting", []), False)
            + porting_own(second.get("porting", []), True),
            key=lambda row: (row["concept"], row["mapping"], row["dtype"]),
        ),
        suite_seconds={
            "wall": round(seconds[0]["wall"] + seconds[1]["wall"], 3),
            "by_backend_and_group": sorted(
                own(seconds[0]["by_backend_and_group"], False)
                + own(seconds[1]["by_backend_and_group"], True),
                key=lambda r: (r["backend"], r["group"]),
            ),
        },
    )
    return merged
