"""What changed between two runs' reports (``report.json``): a cell of the conformance matrix
that now fails or no longer does (and any other change of status), accuracy rows whose largest
error moved by more than :data:`NOISE` (a factor) or crossed the budget, and speed rows whose
median moved beyond :data:`SPEED_NOISE` and beyond the runs' spread."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dlspec.report.document import SCHEMA

NOISE = 2.0
"""Accuracy moves smaller than this factor (in the largest error over its allowance, or in ulps)
are noise: a different worst input found by the search, not a change of the backend."""


SPEED_NOISE = 1.25
"""A median time per call that moved by less than this factor is noise (machines, load)."""


def load(path: str) -> Mapping[str, Any]:
    """A report document read from ``path`` (a ``report.json``, or the folder that holds one),
    refused with the reason if it is not one."""
    file = Path(path) / "report.json" if Path(path).is_dir() else Path(path)
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as unreadable:
        raise SystemExit(f"dlspec report --compare: cannot read {file}: {unreadable}") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        schema = document.get("schema") if isinstance(document, dict) else None
        raise SystemExit(f"{path}: not a dlspec report (schema {schema!r})")
    return document


def _number(value: Any) -> float:
    return float(value)  # the report writes a non-finite error as the text "inf"


def _moved(old: float, new: float) -> bool:
    if math.isinf(old) or math.isinf(new):
        return old != new
    low, high = sorted((abs(old), abs(new)))
    return high > NOISE * max(low, 1e-300) and high - low > 0.5  # ulps: half an ulp is rounding


def compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[list[str], bool]:
    """The lines describing what changed, and whether anything newly fails."""
    lines: list[str] = []
    newly_failing = False
    before = {(r["concept"], r["backend"]): r["status"] for r in old["matrix"]}
    after = {(r["concept"], r["backend"]): r["status"] for r in new["matrix"]}
    for key in sorted(before.keys() | after.keys()):
        was, now = before.get(key, "absent"), after.get(key, "absent")
        if was == now:
            continue
        concept, backend = key
        if now == "fails":
            newly_failing = True
            lines.append(f"newly failing: {concept} on {backend} (was {was})")
        elif was == "fails":
            lines.append(f"no longer failing: {concept} on {backend} (now {now})")
        else:
            lines.append(f"status changed: {concept} on {backend}: {was} -> {now}")
    rows_before = {_accuracy_key(r): r for r in old.get("accuracy", [])}
    for row in new.get("accuracy", []):
        previous = rows_before.get(_accuracy_key(row))
        if previous is None:
            continue
        ratio_was, ratio_now = (_number(r["max_budget_fraction"]) for r in (previous, row))
        ulps_was, ulps_now = (_number(r["max_ulps"]) for r in (previous, row))
        where = "{concept} {backend} {dtype} {kind}".format(**row)
        if (ratio_was <= 1) != (ratio_now <= 1):
            lines.append(
                f"accuracy crossed the budget: {where}: max/allowed {ratio_was:.3g} -> {ratio_now:.3g}"
            )
        elif _moved(ulps_was, ulps_now):
            lines.append(f"accuracy moved: {where}: max ulps {ulps_was:.3g} -> {ulps_now:.3g}")
    lines += _speed_moves(
        old.get("speed", {}).get("rows", []), new.get("speed", {}).get("rows", [])
    )
    return lines, newly_failing


def _speed_moves(
    old_rows: Sequence[Mapping[str, Any]], new_rows: Sequence[Mapping[str, Any]]
) -> list[str]:
    """Medians that moved by more than :data:`SPEED_NOISE` and by more than three times the
    larger interquartile range of the two runs."""
    before = {_speed_key(r): r for r in old_rows}
    lines = []
    for row in new_rows:
        previous = before.get(_speed_key(row))
        if previous is None:
            continue
        was, now = previous["median_seconds"], row["median_seconds"]
        spread = 3 * max(previous["iqr_seconds"], row["iqr_seconds"])
        if max(was, now) > SPEED_NOISE * min(was, now) and abs(now - was) > spread:
            direction = "slower" if now > was else "faster"
            implementation = row.get("implementation", "default")
            which = "" if implementation == "default" else f" ({implementation})"
            lines.append(
                "speed moved: {concept} {backend}".format(**row)
                + which
                + " {dtype} {elements} elements: ".format(**row)
                + f"{was * 1e6:.3g} -> {now * 1e6:.3g} µs per call ({direction})"
            )
    return lines


def _speed_key(row: Mapping[str, Any]) -> tuple[str, str, str, str, int]:
    backend = row["backend"]
    implementation = row.get("implementation", "default")  # reports before schema version 2
    return row["concept"], backend, implementation, row["dtype"], row["elements"]


def _accuracy_key(row: Mapping[str, Any]) -> tuple[str, str, str, str]:
    return row["concept"], row["backend"], row["dtype"], row["kind"]
