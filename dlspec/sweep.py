"""The seed sweep: the conformance suite over many seeds, to show that no verdict depends on one.

``python -m dlspec.sweep --seeds 10`` (``make sweep SEEDS=10``) runs
``pytest --backend all -m "not meta" --hypothesis-profile ci --dlspec-seed S`` for seeds
``first .. first + seeds - 1``, one process per seed, each writing its report under ``--out``.
It prints one line per failure (seed, concept, backend, dtype, the message's first line) and
writes ``summary.json``: per seed the failures, the written-up divergences that showed and
those that did not, and the wall time. A tool and a benchmark: CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HEADER = re.compile(r"(?P<concept>\w+) \[(?P<backend>[^\s\]]+)(?: (?P<dtype>\w+))?\]")
"""A conformance message's head: ``softmax [jax float64] ...``."""


def failure_entries(document: dict[str, Any], seed: int) -> list[dict[str, Any]]:
    """One entry per failure message in a report's matrix, and per failing porting mapping: its
    seed, concept, backend, dtype and the message's first line."""
    entries = []
    for cell in document["matrix"]:
        for message in cell["failures"]:
            lines = [line for line in message.splitlines() if line.strip()]
            first = next((line for line in lines if HEADER.search(line)), lines[0] if lines else "")
            found = HEADER.search(first)
            entries.append(
                {
                    "seed": seed,
                    "concept": cell["concept"],
                    "backend": cell["backend"],
                    "dtype": found.group("dtype") if found and found.group("dtype") else "",
                    "message": first[found.end() :].strip() if found else first,
                }
            )
    for row in document.get("porting", []):
        if row["outcome"] == "fails":
            lines = [line for line in row["message"].splitlines() if line.strip()]
            entries.append(
                {
                    "seed": seed,
                    "concept": f"{row['concept']} (porting: {row['title']})",
                    "backend": "+".join(row["frameworks"]),
                    "dtype": row["dtype"],
                    "message": lines[0] if lines else "",
                }
            )
    return entries


def divergence_cells(document: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The ``concept [backend]`` cells where a written-up divergence showed, and those where one
    did not show even at its minimal input."""
    shown, unseen = [], []
    for cell in document["matrix"]:
        name = f"{cell['concept']} [{cell['backend']}]"
        if cell["tests"].get("diverged", 0):
            shown.append(name)
        if cell.get("divergences_not_shown"):
            unseen.append(name)
    return shown, unseen


def run_seed(seed: int, profile: str, out: Path, pytest_args: Sequence[str]) -> dict[str, Any]:
    """Run the suite at one seed; its report lands in ``out/seed-<seed>``."""
    directory = out / f"seed-{seed}"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "not meta",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-profile",
        profile,
        "--dlspec-seed",
        str(seed),
        "--report",
        str(directory),
        *pytest_args,
    ]
    started = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    report = directory / "report.json"
    if not report.exists():
        tail = (completed.stdout + completed.stderr)[-2000:]
        return {"seed": seed, "seconds": seconds, "error": tail, "failures": [], "shown": []}
    document = json.loads(report.read_text())
    shown, unseen = divergence_cells(document)
    return {
        "seed": seed,
        "seconds": round(seconds, 1),
        "exit_status": completed.returncode,
        "failures": failure_entries(document, seed),
        "divergences_shown": shown,
        "divergences_not_seen": unseen,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlspec.sweep", description=__doc__)
    parser.add_argument("--seeds", type=int, default=10, help="how many seeds (default 10)")
    parser.add_argument("--first", type=int, default=1, help="the first seed (default 1)")
    parser.add_argument("--profile", default="ci", help="Hypothesis profile (default ci)")
    parser.add_argument("--out", type=Path, default=Path("sweep"), help="where reports go")
    parser.add_argument(
        "pytest_args",
        nargs="*",
        help="passed to pytest after '--' (default: --backend all -n auto)",
    )
    options = parser.parse_args(argv)
    pytest_args = options.pytest_args or ["--backend", "all", "-n", "auto"]
    options.out.mkdir(parents=True, exist_ok=True)
    runs = []
    for seed in range(options.first, options.first + options.seeds):
        run = run_seed(seed, options.profile, options.out, pytest_args)
        runs.append(run)
        for failure in run["failures"]:
            print(
                f"seed {failure['seed']}: {failure['concept']} [{failure['backend']} "
                f"{failure['dtype']}] {failure['message']}",
                flush=True,
            )
        if "error" in run:
            print(f"seed {seed}: no report was written\n{run['error']}", flush=True)
        print(
            f"seed {seed}: {len(run['failures'])} failure(s), "
            f"{len(run.get('divergences_not_seen', []))} divergence(s) not seen, "
            f"{run['seconds']:.0f} s",
            flush=True,
        )
    summary = {
        "profile": options.profile,
        "seeds": [run["seed"] for run in runs],
        "pytest_args": pytest_args,
        "failures": [f for run in runs for f in run["failures"]],
        "runs": runs,
    }
    (options.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(
        json.dumps(
            {k: summary[k] for k in ("profile", "seeds")}
            | {
                "failures": len(summary["failures"]),
                "errors": sum("error" in run for run in runs),
            }
        )
    )
    return 1 if summary["failures"] or any("error" in run for run in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
