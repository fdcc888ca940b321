"""The conformance report: one JSON document (schema ``dlspec-report``, version 1) and its
Markdown rendering, written from the results the plugin gathered.

Everything except timings, the date and the environment is a function of the seed, the profile
and the code, so two runs with the same seed give the same conformance and accuracy tables.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from tabulate import tabulate

from dlspec import catalogue, html
from dlspec.recording import merge_by_step
from dlspec.registry import StandIn

SCHEMA = "dlspec-report"
SCHEMA_VERSION = 1
SCHEMA_FILE = Path(__file__).with_name("report.schema.json")
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


def _safe(call: Any, default: Any) -> Any:
    try:
        return call()
    except Exception:
        return default


def _backend_info(backend: Any) -> dict[str, Any]:
    return {
        "name": backend.name,
        "device": getattr(backend, "device", "?"),
        "available": not isinstance(backend, StandIn),
        "reason": getattr(backend, "reason", None) or getattr(backend, "error", None),
        "versions": dict(_safe(lambda: backend.versions(), {})),
        "conventions": dict(getattr(backend, "conventions", None) or {}),
        "limits": [str(limit) for limit in getattr(backend, "limits", ())],
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


def build(
    *,
    results: list[dict[str, Any]],
    backends: list[Any],
    seed: int | None,
    profile: str,
    wall_seconds: float,
) -> dict[str, Any]:
    """The report document."""
    cat = catalogue.load()
    by_cell: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    timing: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in results:
        if r["concept"] and r["backend"]:
            by_cell[(r["concept"], r["backend"])].append(r)
            seconds = timing[(r["backend"], cat.concept(r["concept"]).group)]
            seconds[0] += float(r["seconds"] or 0.0)
            seconds[1] += float(r.get("compile_seconds") or 0.0)
    info = {b.name: b for b in backends}
    matrix = []
    for (concept, backend), outcomes in sorted(by_cell.items()):
        adapter = info.get(backend)
        matrix.append(
            {
                "concept": concept,
                "group": cat.concept(concept).group,
                "backend": backend,
                "status": _status(outcomes),
                "implementation": (
                    "native"
                    if _safe(lambda a=adapter, c=concept: a.is_native(c), False)
                    else "composed"
                ),
                "tests": {
                    outcome: sum(1 for r in outcomes if r["outcome"] == outcome)
                    for outcome in ("passed", "failed", "diverged", "skipped")
                },
                "failures": sorted({r["message"] for r in outcomes if r["outcome"] == "failed"}),
                "divergences": sorted(
                    {r["divergence"] for r in outcomes if r["outcome"] == "diverged"}
                ),
                "divergence_messages": sorted(
                    {r["message"] for r in outcomes if r["outcome"] == "diverged"}
                ),
                "divergences_not_shown": sorted(
                    {
                        r["divergence"]
                        for r in outcomes
                        if r["outcome"] == "passed" and r.get("divergence")
                    }
                ),
                "skip_reasons": sorted(
                    {r["message"] for r in outcomes if r["outcome"] == "skipped"}
                ),
            }
        )
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "seed": seed,
        "profile": profile,
        "environment": {
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
        },
        "backends": [_backend_info(b) for b in backends],
        "matrix": matrix,
        "accuracy": _accuracy(results),
        "suite_seconds": {
            "wall": round(wall_seconds, 3),
            "by_backend_and_group": [
                {"backend": b, "group": g, "seconds": round(s, 3), "compile_seconds": round(c, 3)}
                for (b, g), (s, c) in sorted(timing.items())
            ],
        },
    }


def _speed_section(speed: Mapping[str, Any]) -> list[str]:
    bandwidth = speed["memory_bandwidth_bytes_per_second"]
    return [
        "## Speed",
        "",
        f"Measured memory bandwidth (a {64} MiB copy, read + write): {bandwidth / 1e9:.1f} GB/s. "
        "Steady-state time per call on inputs already on the device, up to the backend's "
        "barrier: median and interquartile range over repeated blocks; the first call "
        "(compilation included) apart. Only conforming cells are timed. `of bandwidth`: bytes "
        "read and written per second over the measured bandwidth (above 1 where the data fits "
        "in cache). Method: `dlspec/benchmarks.py`.",
        "",
        tabulate(
            [
                [
                    r["concept"],
                    r["backend"],
                    r["dtype"],
                    r["elements"],
                    f"{r['median_seconds'] * 1e6:.1f}",
                    f"{r['iqr_seconds'] * 1e6:.1f}",
                    f"{r['first_call_seconds'] * 1e3:.1f}",
                    f"{r['elements_per_second']:.3g}",
                    "-" if r["speedup_over_numpy"] is None else f"{r['speedup_over_numpy']:.2f}",
                    "-" if r["bandwidth_fraction"] is None else f"{r['bandwidth_fraction']:.2f}",
                ]
                for r in speed["rows"]
            ],
            headers=[
                "concept",
                "backend",
                "dtype",
                "elements",
                "median µs",
                "IQR µs",
                "first call ms",
                "elements/s",
                "× NumPy",
                "of bandwidth",
            ],
            tablefmt="github",
        ),
    ]


def _trajectory_section(document: Mapping[str, Any]) -> list[str]:
    """The largest error after each optimizer step: how rounding accumulates along a trajectory
    (the budget grows with it: spec/README.md, Error budgets)."""
    rows = [a for a in document["accuracy"] if a.get("max_ulps_by_step")]
    return [
        "## Accuracy along optimizer trajectories",
        "",
        "The largest error seen after step 1, 2, 3, ... (ulps of the result dtype), over every "
        "trajectory checked against the reference.",
        "",
        tabulate(
            [
                [
                    a["concept"],
                    a["backend"],
                    a["dtype"],
                    a["kind"],
                    " ".join(_num(u) for u in a["max_ulps_by_step"]),
                ]
                for a in rows
            ],
            headers=["concept", "backend", "dtype", "kind", "max ulps after step 1, 2, 3, ..."],
            tablefmt="github",
        ),
    ]


def _page_of(concept: catalogue.Concept) -> str:
    """The concept's spec page; a gradient concept's section on its concept's page."""
    return concept.page + ("#gradient" if concept.of else "")


def _conventions_section(
    document: Mapping[str, Any], cells: Mapping[tuple[str, str], Mapping[str, Any]]
) -> list[str]:
    """One table per concept with variants: the value each backend declares, and whether its
    tests of that concept passed under it (``conforms``), so the value is verified."""
    cat = catalogue.load()
    backends = [b for b in document["backends"] if b["available"]]
    lines = [
        "## Conventions",
        "",
        "Where the spec names variants, the value each backend declares; the reference is "
        "evaluated under it, so a cell is verified where that backend's column in the matrix "
        "says `conforms` (marked ✓) or `diverges` for a written-up reason (marked ~).",
        "",
    ]
    mark = {"conforms": " ✓", "diverges": " ~"}
    rows = []
    for name, variant in cat.floating_point.items():
        rows.append(
            [f"all concepts: `{name}`"]
            + [b["conventions"].get(name, variant.default) for b in backends]
        )
    for concept in cat.concepts.values():
        for name in (v.name for v in concept.own_variants()):  # inherited ones: under their own
            key = concept.variant_key(name)
            rows.append(
                [f"{concept.id}: `{name}`"]
                + [
                    b["conventions"].get(key, "?")
                    + mark.get(cells.get((concept.id, b["name"]), {}).get("status", ""), "")
                    for b in backends
                ]
            )
    lines.append(
        tabulate(rows, headers=["variant", *[b["name"] for b in backends]], tablefmt="github")
    )
    return lines


def _cell(row: Mapping[str, Any]) -> str:
    status = row["status"]
    if status == "diverges":
        pages = ", ".join(f"[{page}](../spec/{page})" for page in row["divergences"])
        return f"diverges ({row['implementation']}; {pages})"
    return f"{status} ({row['implementation']})" if status in ("conforms", "fails") else status


def markdown(document: Mapping[str, Any]) -> str:
    """The report rendered as Markdown (GitHub tables)."""
    cat = catalogue.load()
    env = document["environment"]
    lines = [
        "# dlspec conformance report",
        "",
        f"Generated {document['created']} with seed `{document['seed']}` at Hypothesis profile "
        f"`{document['profile']}`; suite wall time {document['suite_seconds']['wall']:.1f} s.",
        "",
        "## Environment",
        "",
        tabulate(
            [
                ["Python", env["python"]],
                ["platform", env["platform"]],
                ["CPU", f"{env.get('cpu_model', env['processor'])} ({env['cpu_count']} CPUs)"],
                ["suite commit", env.get("suite_commit", "unknown")],
                [
                    "thread settings",
                    ", ".join(f"{k}={v}" for k, v in env.get("thread_settings", {}).items()),
                ],
                ["NumPy", env["numpy"]],
            ],
            headers=["", ""],
            tablefmt="github",
        ),
        "",
        "## Backends",
        "",
        tabulate(
            [
                [
                    b["name"],
                    b["device"],
                    "yes" if b["available"] else f"no: {b['reason']}",
                    ", ".join(f"{k} {v}" for k, v in sorted(b["versions"].items())),
                ]
                for b in document["backends"]
            ],
            headers=["backend", "device", "available", "versions"],
            tablefmt="github",
        ),
        "",
        *[
            f"- Limit of `{b['name']}`: {limit} (examples outside are not run on it)."
            for b in document["backends"]
            for limit in b.get("limits", [])
        ],
        "",
        "## Conformance matrix",
        "",
        "Each cell: `conforms`, `diverges` (a known departure written up on the linked spec page; "
        "see Divergences), `fails` (see Failures), `unsupported` (the backend lacks the "
        "concept) or `unavailable` (the backend cannot run here), and whether the backend calls "
        "the framework's own function (`native`) or builds it from its operations (`composed`).",
        "",
    ]
    backends = [b["name"] for b in document["backends"]]
    cells = {(r["concept"], r["backend"]): r for r in document["matrix"]}
    concepts = [c for c in cat.concepts if any((c, b) in cells for b in backends)]
    lines.append(
        tabulate(
            [
                [f"[{c}](../spec/{_page_of(cat.concept(c))})", cat.concept(c).group]
                + [_cell(cells[(c, b)]) if (c, b) in cells else "-" for b in backends]
                for c in concepts
            ],
            headers=["concept", "group", *backends],
            tablefmt="github",
        )
    )
    lines += ["", *_conventions_section(document, cells), "", *_trajectory_section(document)]
    lines += [
        "",
        "## Accuracy",
        "",
        "Error against the exact reference, in ulps of the result dtype and relative; the budget is "
        "the catalogue's ulps plus the error model's derived term (spec/README.md, Error budgets). "
        "`max/allowed` is the largest ratio of error to allowance seen: above 1 fails.",
        "",
        tabulate(
            [
                [
                    a["concept"],
                    a["backend"],
                    a["dtype"],
                    a["kind"],
                    a["examples"],
                    _num(a["max_ulps"]),
                    _num(a["p99_ulps"]),
                    _num(a["max_relative"]),
                    f"{a['budget_ulps']:g} + {a['error_model']}",
                    _num(a["max_budget_fraction"]),
                    _clip(a["worst_input"]),
                ]
                for a in document["accuracy"]
            ],
            headers=[
                "concept",
                "backend",
                "dtype",
                "kind",
                "examples",
                "max ulp",
                "p99 ulp",
                "max rel",
                "budget",
                "max/allowed",
                "worst input",
            ],
            tablefmt="github",
        ),
        "",
        "## Suite time",
        "",
        tabulate(
            [
                [t["backend"], t["group"], f"{t['seconds']:.2f}", f"{t['compile_seconds']:.2f}"]
                for t in document["suite_seconds"]["by_backend_and_group"]
            ],
            headers=["backend", "group", "seconds", "of which compiling"],
            tablefmt="github",
        ),
    ]
    if "speed" in document:
        lines += ["", *_speed_section(document["speed"])]
    diverging = [r for r in document["matrix"] if r.get("divergence_messages")]
    if diverging:
        lines += ["", "## Divergences", ""]
        for r in diverging:
            lines += [f"### {r['concept']} on {r['backend']}", ""]
            for message in r["divergence_messages"]:
                lines += ["```text", message.strip(), "```", ""]
    gone = [r for r in document["matrix"] if r.get("divergences_not_shown")]
    if gone:
        lines += ["", "## Divergences that no longer show", ""]
        lines += [
            "A written-up divergence whose minimal input no longer shows it on this backend "
            "(fixed upstream, or a write-up to correct):",
            "",
        ]
        for r in gone:
            pages = ", ".join(f"spec/{page}" for page in r["divergences_not_shown"])
            lines += [f"- {r['concept']} on {r['backend']}: {pages}"]
    failures = [r for r in document["matrix"] if r["failures"]]
    if failures:
        lines += ["", "## Failures", ""]
        for r in failures:
            lines += [f"### {r['concept']} on {r['backend']}", ""]
            for message in r["failures"]:
                lines += ["```text", message.strip(), "```", ""]
    return "\n".join(lines) + "\n"


def _num(value: float | str) -> str:
    return value if isinstance(value, str) else f"{value:.3g}"


def _clip(text: str, limit: int = 160) -> str:
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def write(directory: str | os.PathLike[str], **fields: Any) -> Path:
    """Write ``report.json`` and ``README.md`` into ``directory``; return the Markdown's path."""
    return rewrite(Path(directory), build(**fields))


def rewrite(out: Path, document: Mapping[str, Any]) -> Path:
    """Write ``document`` (a report, perhaps grown since: ``speed``) into the folder ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    (out / "report.html").write_text(html.render(document), encoding="utf-8")
    path = out / "README.md"
    path.write_text(markdown(document), encoding="utf-8")
    return path
