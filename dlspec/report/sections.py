"""The report page, built once from the report document as :mod:`~dlspec.report.blocks`, in
reading order: environment, backends, the conformance matrix, conventions, accuracy (along
trajectories, then per cell), suite time, speed, and the evidence of every divergence and failure.
Each renderer (Markdown, HTML) turns the same blocks into its format."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dlspec import catalogue
from dlspec.report.blocks import (
    Block,
    Bullets,
    Cell,
    Chart,
    Heading,
    Inline,
    Link,
    Preformatted,
    cell,
    paragraph,
    table,
)

SPEC = "../spec/"
"""The spec folder, seen from the report's folder (``reports/``)."""

CLIP = 160
"""The longest worst input shown in the accuracy table; the JSON keeps it whole."""


def number(value: float | str) -> str:
    """A figure to three significant digits; a non-finite one as the report writes it (text)."""
    return value if isinstance(value, str) else f"{value:.3g}"


def clipped(text: str, limit: int = CLIP) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def page_of(concept: catalogue.Concept) -> str:
    """The concept's spec page; a gradient concept's section on its concept's page."""
    return concept.page + ("#gradient" if concept.of else "")


def header(document: Mapping[str, Any]) -> list[Block]:
    env = document["environment"]
    threads = ", ".join(f"{k}={v}" for k, v in env.get("thread_settings", {}).items())
    return [
        Heading(1, "dlspec conformance report"),
        paragraph(
            f"Generated {document['created']} with seed `{document['seed']}` at Hypothesis "
            f"profile `{document['profile']}`; suite wall time "
            f"{document['suite_seconds']['wall']:.1f} s."
        ),
        Heading(2, "Environment"),
        table(
            ["", ""],
            [
                ["Python", env["python"]],
                ["platform", env["platform"]],
                ["CPU", f"{env.get('cpu_model', env['processor'])} ({env['cpu_count']} CPUs)"],
                ["suite commit", env.get("suite_commit", "unknown")],
                ["thread settings", threads],
                ["NumPy", env["numpy"]],
            ],
        ),
    ]


def backends(document: Mapping[str, Any]) -> list[Block]:
    rows: list[list[Cell | Inline]] = [
        [
            b["name"],
            b["device"],
            "yes" if b["available"] else f"no: {b['reason']}",
            ", ".join(f"{k} {v}" for k, v in sorted(b["versions"].items())),
        ]
        for b in document["backends"]
    ]
    limits = [
        (f"Limit of `{b['name']}`: {limit} (examples outside are not run on it).",)
        for b in document["backends"]
        for limit in b.get("limits", [])
    ]
    return [
        Heading(2, "Backends"),
        table(["backend", "device", "available", "versions"], rows),
        *([Bullets(tuple(limits))] if limits else []),
    ]


def _matrix_cell(row: Mapping[str, Any]) -> Cell:
    status = row["status"]
    if status == "diverges":
        links: list[Inline] = []
        for page in row["divergences"]:
            links += [", ", Link(page, SPEC + page)] if links else [Link(page, SPEC + page)]
        return cell(f"diverges ({row['implementation']}; ", *links, ")", status=status)
    shown = f"{status} ({row['implementation']})" if status in ("conforms", "fails") else status
    return cell(shown, status=status)


def matrix(document: Mapping[str, Any]) -> list[Block]:
    cat = catalogue.load()
    names = [b["name"] for b in document["backends"]]
    cells = {(r["concept"], r["backend"]): r for r in document["matrix"]}
    concepts = [c for c in cat.concepts if any((c, b) in cells for b in names)]
    rows: list[list[Cell | Inline]] = []
    for c in concepts:
        row: list[Cell | Inline] = [Link(c, SPEC + page_of(cat.concept(c))), cat.concept(c).group]
        rows.append(row + [_matrix_cell(cells[(c, b)]) if (c, b) in cells else "-" for b in names])
    return [
        Heading(2, "Conformance matrix"),
        paragraph(
            "Each cell: `conforms`, `diverges` (a known departure written up on the linked spec "
            "page; see Divergences), `fails` (see Failures), `unsupported` (the backend lacks the "
            "concept) or `unavailable` (the backend cannot run here), and whether the backend "
            "calls the framework's own function (`native`) or builds it from its operations "
            "(`composed`)."
        ),
        table(["concept", "group", *names], rows),
        Chart(
            "errors",
            "Largest error per concept",
            (
                "The largest error the search found against the exact reference, over the "
                "allowance of that element (the catalogue's ulps plus the error model's term; log "
                "scale, exact results and anything below 1e-3 drawn at 1e-3). Past the red line "
                "at 1 a backend fails, or diverges as written up. The error in ulps is in the "
                "accuracy table.",
            ),
        ),
    ]


def conventions(document: Mapping[str, Any]) -> list[Block]:
    """One row per variant the spec names: the value each backend declares, and whether its
    tests of that concept passed under it (``conforms``), so the value is verified."""
    cat = catalogue.load()
    available = [b for b in document["backends"] if b["available"]]
    status = {(r["concept"], r["backend"]): r["status"] for r in document["matrix"]}
    mark = {"conforms": " ✓", "diverges": " ~"}
    rows: list[list[Cell | Inline]] = [
        [f"all concepts: `{name}`"] + [b["conventions"].get(name, v.default) for b in available]
        for name, v in cat.floating_point.items()
    ]
    for concept in cat.concepts.values():
        for name in (v.name for v in concept.own_variants()):  # inherited ones: under their own
            key = concept.variant_key(name)
            rows.append(
                [f"{concept.id}: `{name}`"]
                + [
                    b["conventions"].get(key, "?")
                    + mark.get(status.get((concept.id, b["name"]), ""), "")
                    for b in available
                ]
            )
    return [
        Heading(2, "Conventions"),
        paragraph(
            "Where the spec names variants, the value each backend declares; the reference is "
            "evaluated under it, so a cell is verified where that backend's column in the matrix "
            "says `conforms` (marked ✓) or `diverges` for a written-up reason (marked ~)."
        ),
        table(["variant", *[b["name"] for b in available]], rows),
    ]


def trajectories(document: Mapping[str, Any]) -> list[Block]:
    """The largest error after each optimizer step: how rounding accumulates along a trajectory
    (the budget grows with it: spec/README.md, Error budgets)."""
    rows: list[list[Cell | Inline]] = [
        [
            a["concept"],
            a["backend"],
            a["dtype"],
            a["kind"],
            " ".join(number(u) for u in a["max_ulps_by_step"]),
        ]
        for a in document["accuracy"]
        if a.get("max_ulps_by_step")
    ]
    return [
        Heading(2, "Accuracy along optimizer trajectories"),
        paragraph(
            "The largest error seen after step 1, 2, 3, ... (ulps of the result dtype), over "
            "every trajectory checked against the reference."
        ),
        table(["concept", "backend", "dtype", "kind", "max ulps after step 1, 2, 3, ..."], rows),
    ]


def accuracy(document: Mapping[str, Any]) -> list[Block]:
    rows: list[list[Cell | Inline]] = [
        [
            a["concept"],
            a["backend"],
            a["dtype"],
            a["kind"],
            str(a["examples"]),
            number(a["max_ulps"]),
            number(a["p99_ulps"]),
            number(a["max_relative"]),
            f"{a['budget_ulps']:g} + {a['error_model']}",
            number(a["max_budget_fraction"]),
            clipped(a["worst_input"]),
        ]
        for a in document["accuracy"]
    ]
    headers = ["concept", "backend", "dtype", "kind", "examples", "max ulp", "p99 ulp"]
    headers += ["max rel", "budget", "max/allowed", "worst input"]
    return [
        Heading(2, "Accuracy"),
        paragraph(
            "Error against the exact reference, in ulps of the result dtype and relative; the "
            "budget is the catalogue's ulps plus the error model's derived term (spec/README.md, "
            "Error budgets). `max/allowed` is the largest ratio of error to allowance seen: "
            "above 1 fails."
        ),
        table(headers, rows),
    ]


def suite_time(document: Mapping[str, Any]) -> list[Block]:
    rows: list[list[Cell | Inline]] = [
        [t["backend"], t["group"], f"{t['seconds']:.2f}", f"{t['compile_seconds']:.2f}"]
        for t in document["suite_seconds"]["by_backend_and_group"]
    ]
    return [
        Heading(2, "Suite time"),
        table(["backend", "group", "seconds", "of which compiling"], rows),
    ]


def _optional(value: float | None, digits: str = ".2f") -> str:
    return "-" if value is None else format(value, digits)


def speed(document: Mapping[str, Any]) -> list[Block]:
    measured = document.get("speed")
    if not measured:
        return []
    rows: list[list[Cell | Inline]] = [
        [
            r["concept"],
            r["backend"],
            r["dtype"],
            str(r["elements"]),
            f"{r['median_seconds'] * 1e6:.1f}",
            f"{r['iqr_seconds'] * 1e6:.1f}",
            f"{r['first_call_seconds'] * 1e3:.1f}",
            f"{r['elements_per_second']:.3g}",
            _optional(r["speedup_over_numpy"]),
            _optional(r["bandwidth_fraction"]),
        ]
        for r in measured["rows"]
    ]
    headers = ["concept", "backend", "dtype", "elements", "median µs", "IQR µs"]
    headers += ["first call ms", "elements/s", "× NumPy", "of bandwidth"]
    copied = measured["bandwidth_copy_bytes"] / 2**20
    return [
        Heading(2, "Speed"),
        paragraph(
            f"Measured memory bandwidth (a {copied:g} MiB copy, read + write): "
            f"{measured['memory_bandwidth_bytes_per_second'] / 1e9:.1f} GB/s. Steady-state time "
            "per call on inputs already on the device, up to the backend's barrier: median and "
            "interquartile range over repeated blocks; the first call (compilation included) "
            "apart. Only conforming cells are timed. `of bandwidth`: bytes read and written per "
            "second over the measured bandwidth (above 1 where the data fits in cache). Method: "
            "`dlspec/benchmarks.py`."
        ),
        table(headers, rows),
        Chart("speed", "Speed per size", ("Median time per call against the input's size.",)),
    ]


def _evidence(rows: list[Mapping[str, Any]], key: str) -> list[Block]:
    blocks: list[Block] = []
    for r in rows:
        blocks.append(Heading(3, f"{r['concept']} on {r['backend']}"))
        blocks += [Preformatted(message.strip()) for message in r[key]]
    return blocks


def evidence(document: Mapping[str, Any]) -> list[Block]:
    """Every divergence's and every failure's message as the test printed it, and the
    written-up divergences that no longer show."""
    blocks: list[Block] = []
    diverging = [r for r in document["matrix"] if r.get("divergence_messages")]
    if diverging:
        blocks += [Heading(2, "Divergences"), *_evidence(diverging, "divergence_messages")]
    gone = [r for r in document["matrix"] if r.get("divergences_not_shown")]
    if gone:
        blocks += [
            Heading(2, "Divergences that no longer show"),
            paragraph(
                "A written-up divergence whose minimal input no longer shows it on this backend "
                "(fixed upstream, or a write-up to correct):"
            ),
            Bullets(
                tuple(
                    (
                        f"{r['concept']} on {r['backend']}: "
                        + ", ".join(f"spec/{page}" for page in r["divergences_not_shown"]),
                    )
                    for r in gone
                )
            ),
        ]
    failing = [r for r in document["matrix"] if r["failures"]]
    if failing:
        blocks += [Heading(2, "Failures"), *_evidence(failing, "failures")]
    return blocks


def page(document: Mapping[str, Any]) -> list[Block]:
    """The whole report, in reading order."""
    return [
        *header(document),
        *backends(document),
        *matrix(document),
        *conventions(document),
        *trajectories(document),
        *accuracy(document),
        *suite_time(document),
        *speed(document),
        *evidence(document),
    ]
