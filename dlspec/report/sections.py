"""The report's pages, built once from the report document as :mod:`~dlspec.report.blocks`:
the index (``README.md``) answers first what fails or diverges on each backend, then shows the
environment, the backends and the conformance matrix; the evidence of every divergence and
failure, the accuracy, the conventions and the speed each have a page of their own. Each renderer
(Markdown, one file per page; HTML, all pages in one file) turns the same blocks into its format."""

from __future__ import annotations

import math
import re
from collections import Counter
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
    anchor,
    cell,
    paragraph,
    table,
)

SPEC = "../spec/"
"""The spec folder, seen from the report's folder (``reports/``)."""

CLIP = 160
"""The longest worst input shown in the accuracy table; the JSON keeps it whole."""

EVIDENCE_CLIP = CLIP * 4
"""The longest evidence of a porting check shown in the guide; the JSON keeps it whole."""


def number(value: float | str) -> str:
    """A figure to three significant digits; a non-finite one as the report writes it (text)."""
    return value if isinstance(value, str) else f"{value:.3g}"


def clipped(text: str, limit: int = CLIP) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def page_of(concept: catalogue.Concept) -> str:
    """The concept's spec page; a gradient concept's section on its concept's page."""
    return concept.page + ("#gradient" if concept.of else "")


def environment(document: Mapping[str, Any]) -> list[Block]:
    env = document["environment"]
    threads = ", ".join(f"{k}={v}" for k, v in env.get("thread_settings", {}).items())
    return [
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


PAGES = {
    "divergences": "Divergences and failures",
    "accuracy": "Accuracy against the exact reference",
    "conventions": "Conventions side by side",
    "speed": "Speed and suite time",
    "porting": "Porting guide",
}
"""The report's pages beside the index, by file stem, with their titles."""

STATUSES = ("conforms", "diverges", "fails", "unsupported", "unavailable")

WORST = re.compile(r"worst (.+?) = (\S+), reference (\S+): (\S+) ulp, rel ([^;]+);")
"""The worst element of a check's message (``checks``' "seen: ..." line): where, the backend's
value, the reference's, the error in ulps and relative."""


def evidence_link(row: Mapping[str, Any]) -> Link:
    """The cell's evidence on the divergences page."""
    return Link("evidence", f"divergences.md#{anchor(evidence_title(row))}")


def evidence_title(row: Mapping[str, Any]) -> str:
    return f"{row['concept']} on {row['backend']}"


def _worst(messages: list[str]) -> str:
    """The largest error a cell's messages show, as one phrase; else the first message's first
    line (a divergence's reason), clipped."""
    found = [m.groups() for message in messages if (m := WORST.search(message))]
    if not found:
        first = messages[0].strip().splitlines()[0] if messages else "no message recorded"
        return clipped(first.removeprefix("known divergence: "))
    where, value, exact, ulps, relative = max(found, key=lambda f: float(f[3]))
    return f"{number(float(ulps))} ulp (rel {relative.strip()}): {where} = {value} where the exact value is {exact}"


def _counts(document: Mapping[str, Any]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {b["name"]: Counter() for b in document["backends"]}
    for row in document["matrix"]:
        counts.setdefault(row["backend"], Counter())[row["status"]] += 1
    return counts


def summary(document: Mapping[str, Any]) -> list[Block]:
    """The answer first: per backend, how many concepts conform, diverge, fail or are not run,
    then every divergence and failure on one line with its size and links."""
    counts = _counts(document)
    departing = [r for r in document["matrix"] if r["status"] in ("fails", "diverges")]
    rows: list[list[Cell | Inline]] = [
        [
            b["name"],
            *(
                cell(str(counts[b["name"]][s]), status=s if counts[b["name"]][s] else None)
                for s in STATUSES
            ),
            ", ".join(
                f"{r['concept']}{' (fails)' if r['status'] == 'fails' else ''}"
                for r in departing
                if r["backend"] == b["name"]
            )
            or "-",
            ", ".join(f"{k} {v}" for k, v in sorted(b["versions"].items()))
            if b["available"]
            else f"unavailable: {b['reason']}",
        ]
        for b in document["backends"]
    ]
    lines: list[tuple[Inline, ...]] = []
    for r in sorted(departing, key=lambda r: (r["status"] != "fails", r["backend"], r["concept"])):
        messages = r["failures"] if r["status"] == "fails" else r["divergence_messages"]
        write_ups: list[Inline] = []
        for page in r["divergences"]:
            write_ups += [", ", Link("write-up", SPEC + page)]
        lines.append(
            (
                f"**{r['status']}** `{r['concept']}` on {r['backend']}: {_worst(messages)}; ",
                evidence_link(r),
                *write_ups,
            )
        )
    for r in document["matrix"]:
        for page in r.get("divergences_not_shown", []):
            lines.append(
                (
                    f"**no longer shows** `{r['concept']}` on {r['backend']}: the written-up ",
                    Link("divergence", SPEC + page),
                    " did not show at its minimal input (fixed upstream, or a write-up to correct)",
                )
            )
    porting_lines = _porting_summary(document)
    links: list[Inline] = []
    for stem, title in PAGES.items():
        links += [", " if links else "", Link(title.lower(), f"{stem}.md")]
    return [
        Heading(1, "dlspec conformance report"),
        paragraph(
            f"Seed `{document['seed']}`, Hypothesis profile `{document['profile']}`, "
            f"{document['created']}; the suite took {document['suite_seconds']['wall']:.0f} s. "
            "Concepts per backend by status (`diverges`: a known departure, written up in the "
            "spec):"
        ),
        table(["backend", *STATUSES, "what fails or diverges", "versions"], rows),
        paragraph(
            "The details: ",
            *links,
            "; `report.html` holds every page in one file, with charts; `report.json` is the "
            "record they are made from.",
        ),
        Heading(2, "What fails or diverges"),
        Bullets(tuple(lines)) if lines else paragraph("Nothing: every run concept conforms."),
        *porting_lines,
    ]


def _porting_summary(document: Mapping[str, Any]) -> list[Block]:
    """The porting guide in one line: how many mappings hold, and which fail."""
    rows = document.get("porting", [])
    if not rows:
        return []
    held = Counter(r["verdict"] for r in rows if r["outcome"] == "holds")
    failing = sorted({f"`{r['concept']}` ({r['title']})" for r in rows if r["outcome"] == "fails"})
    return [
        paragraph(
            f"Porting: of {len({r['mapping'] for r in rows})} mappings between frameworks, "
            f"{held['verified']} checks show settings that make them agree and {held['cannot']} "
            "show where no setting does"
            + (f"; **failing**: {', '.join(failing)}" if failing else "")
            + " (",
            Link("porting guide", "porting.md"),
            ").",
        )
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
            "every trajectory checked against the reference, float16 and bfloat16 beside "
            "float32 and float64; elements a written-up divergence explains (float16 Adam's "
            "NaN where its eps rounds to 0) are left out here and listed with the divergences."
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
            "Error against the exact reference, in ulps of the result dtype (of an integer "
            "image's, one level) and relative; the "
            "budget is the catalogue's ulps plus the error model's derived term (spec/README.md, "
            "Error budgets). `max/allowed` is the largest ratio of error to allowance seen: "
            "above 1 fails."
        ),
        table(headers, rows),
    ]


PRECISION = ("float16", "bfloat16", "float32")
"""The dtypes of the precision summary, the narrowest first, beside float32 to compare with."""


def _precision_cell(rows: list[Mapping[str, Any]], in_float32: bool = False) -> Cell | Inline:
    """The largest error in ulps over a cell's accuracy rows (its oracle and edge checks), and
    what the cell's verdict makes of it: fails, beyond the budget as written up, non-finite;
    ``in_float32``: the backend returns float32 for the cell's inputs (``result_dtype``), so
    the ulps are float32's."""
    if not rows:
        return "-"
    worst = max((r["max_ulps"] for r in rows), key=lambda u: float(u))
    flags = ["float32 result"] if in_float32 else []
    if any(r["failures"] for r in rows):
        flags.append("fails")
    elif any(float(r["max_budget_fraction"]) > 1 for r in rows):
        flags.append("diverges")
    if not math.isfinite(float(worst)):
        flags.append("non-finite")
    text = number(worst) + (f" ({', '.join(flags)})" if flags else "")
    verdicts = [f for f in flags if f != "float32 result"]
    return cell(text, status=verdicts[0] if verdicts else "conforms")


def precision(document: Mapping[str, Any]) -> list[Block]:
    """Per concept and backend with a float16 or bfloat16 cell: the largest error in ulps of the
    result's dtype in float16, bfloat16 and float32, side by side (issue: is it safe in bf16?)."""
    by_cell: dict[tuple[str, str, str], list[Mapping[str, Any]]] = {}
    for a in document["accuracy"]:
        if a["dtype"] in PRECISION and a["kind"] in ("oracle", "edge"):
            by_cell.setdefault((a["concept"], a["backend"], a["dtype"]), []).append(a)
    pairs = sorted({(c, b) for c, b, d in by_cell if d != "float32"})
    if not pairs:
        return []
    declared = {b["name"]: b.get("conventions", {}) for b in document["backends"]}

    def in_float32(concept: str, backend: str, dtype: str) -> bool:
        result = declared.get(backend, {}).get(f"{concept}.result_dtype")
        return dtype != "float32" and result == "float32"

    rows: list[list[Cell | Inline]] = [
        [
            c,
            b,
            *(_precision_cell(by_cell.get((c, b, d), []), in_float32(c, b, d)) for d in PRECISION),
        ]
        for c, b in pairs
    ]
    return [
        Heading(2, "Precision: float16 and bfloat16 beside float32"),
        paragraph(
            "The largest error the search found, in ulps of each dtype, over the oracle and edge "
            "checks of a concept on a backend: how much of each format's precision a backend "
            "keeps. Flagged: `fails` (beyond the budget, not written up), `diverges` (beyond "
            "it where a written-up divergence explains it), `non-finite` (an infinity or NaN "
            "where the reference is finite). Budgets in float16 and bfloat16 follow the "
            "backend's declared `low_precision_compute` (spec/README.md, Low precision); "
            "`float32 result`: the backend returns float32 for those inputs (its declared "
            "`result_dtype`, torch.autocast's losses), and the ulps are float32's."
        ),
        table(["concept", "backend", *PRECISION], rows),
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
            r["concept"] + (" (diverges)" if r.get("status") == "diverges" else ""),
            r["backend"],
            r.get("implementation", "default"),
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
    headers = ["concept", "backend", "implementation", "dtype", "elements", "median µs"]
    headers += ["IQR µs"]
    headers += ["first call ms", "elements/s", "× NumPy", "of a copy's rate"]
    copied = measured["bandwidth_copy_bytes"] / 2**20
    cache = measured.get("last_level_cache_bytes")
    cache_text = f"largest CPU cache {cache / 2**20:g} MiB" if cache else "cache size unknown"
    return [
        Heading(2, "Speed"),
        paragraph(
            f"Memory bandwidth (the fastest copy of {copied:g} MiB, read + write): "
            f"{measured['memory_bandwidth_bytes_per_second'] / 1e9:.1f} GB/s; {cache_text}. "
            "Steady-state time per call on inputs already on the device, up to the backend's "
            "barrier: median and interquartile range over repeated blocks; the first call "
            "(compilation included) apart. Conforming and diverging cells are timed, the latter "
            "flagged, and each implementation a framework offers apart (torch.optim's for-loop, "
            "`foreach` and `fused` Adam; JAX jitted and eager). `of a copy's rate`: the best time of the fastest copy that moves the same bytes, NumPy's (on one to every core's threads) or any timed backend's own "
            "(the bytes: the call's inputs read and its result written, or for the Adam step its bound of 7 "
            "words per parameter, 28 bytes in float32: parameter, gradient and both moments read, "
            "parameter and moments written; the same working set, so from the same cache or "
            "memory) over the call's time; 1 is a call as fast as a copy of its data. Method: "
            "`dlspec/benchmarks.py`."
        ),
        table(headers, rows),
        Chart("speed", "Speed per size", ("Median time per call against the input's size.",)),
    ]


def snippet(divergence: catalogue.Divergence, dtype: str) -> str:
    """The divergence's snippet as a reader runs it: its example bound first."""
    bound = {**divergence.examples[dtype], "dtype": dtype}
    names = "".join(f"{name} = {value!r}\n" for name, value in bound.items())
    return f"# the minimal input ({dtype})\n{names}\n{(divergence.snippet or '').strip()}"


def _reproduce(row: Mapping[str, Any]) -> list[Block]:
    """The snippets of the divergences written up for this cell, per dtype."""
    blocks: list[Block] = []
    for divergence in catalogue.load().divergences:
        if divergence.snippet and divergence.covers(row["backend"], row["concept"], None):
            for dtype in divergence.dtypes:
                blocks += [
                    paragraph(
                        f"Reproduce ({dtype}; ",
                        Link("write-up", SPEC + divergence.spec),
                        "): `out` shows it.",
                    ),
                    Preformatted(snippet(divergence, dtype), "python"),
                ]
    return blocks


def _evidence(rows: list[Mapping[str, Any]], key: str) -> list[Block]:
    blocks: list[Block] = []
    for r in rows:
        blocks.append(Heading(3, evidence_title(r)))
        if key != "divergence_messages":
            blocks += [Preformatted(message.strip()) for message in r[key]]
            continue
        blocks += _reproduce(r)
        reasons: dict[str, list[str]] = {}
        for message in r[key]:
            reason, _, seen = message.strip().partition("\n")
            reasons.setdefault(reason, []).append(seen)
        for reason, seen in reasons.items():
            blocks.append(paragraph(reason))
            shown = "\n".join(line for line in seen if line)
            if shown:
                blocks.append(Preformatted(shown))
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


def _pairs(rows: list[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """The pairs of frameworks the mappings relate, each once, in the order first seen."""
    return list(dict.fromkeys((r["frameworks"][0], r["frameworks"][1]) for r in rows))


def _default_text(entry: Mapping[str, Any] | None) -> str:
    if entry is None:
        return "-"
    value = entry.get("value")
    return (
        f"`{value!r}` ({entry['source']})"
        if "error" not in entry
        else f"unreadable: {entry['error']}"
    )


def porting_defaults(document: Mapping[str, Any], pair: tuple[str, str]) -> list[Block]:
    """The defaults the two frameworks declare, as read from them at run time, side by side
    with the spec's; those that differ first."""
    cat = catalogue.load()
    found = {b["name"]: b.get("defaults", {}) for b in document["backends"]}
    first, second = (found.get(name, {}) for name in pair)
    keys = sorted(set(first) | set(second))
    if not keys:
        return [paragraph("No defaults were read (a backend did not run).")]

    def spec_default(key: str) -> str:
        concept, _, name = key.partition(".")
        value = cat.concepts[concept].parameters.get(name) if concept in cat.concepts else None
        if value is None:
            return "-"
        return clipped(value, 40) if isinstance(value, str) else f"`{value!r}`"

    def comparison(key: str) -> int:
        """0: both have it and differ; 1: one has it; 2: the same."""
        a, b = first.get(key), second.get(key)
        if a is None or b is None:
            return 1
        return 2 if a.get("value") == b.get("value") else 0

    said: dict[int, Cell | Inline] = {
        0: cell("differs", status="diverges"),
        1: "only one has it",
        2: "same",
    }
    rows: list[list[Cell | Inline]] = [
        [
            f"`{key}`",
            spec_default(key),
            _default_text(first.get(key)),
            _default_text(second.get(key)),
            said[comparison(key)],
        ]
        for key in sorted(keys, key=lambda k: (comparison(k), k))
    ]
    return [
        Heading(3, f"Defaults: {pair[0]} and {pair[1]}"),
        paragraph(
            "Each framework's default, read from its installed version (the callable's "
            "signature), beside the spec's; `-` where a framework has no such parameter under "
            "that name (its own name is in its own row)."
        ),
        table(["parameter", "spec", pair[0], pair[1], ""], rows),
    ]


def porting_conventions(document: Mapping[str, Any], pair: tuple[str, str]) -> list[Block]:
    """The declared conventions that differ between the two (the conventions page has all)."""
    declared = {b["name"]: b["conventions"] for b in document["backends"]}
    first, second = (declared.get(name, {}) for name in pair)
    rows: list[list[Cell | Inline]] = [
        [f"`{key}`", first.get(key, "-"), second.get(key, "-")]
        for key in sorted(set(first) | set(second))
        if first.get(key) != second.get(key)
    ]
    return [
        Heading(3, f"Conventions that differ: {pair[0]} and {pair[1]}"),
        paragraph(
            "Variants the spec names where the two declare different values (each verified by its conformance tests):"
        ),
        table(["variant", pair[0], pair[1]], rows) if rows else paragraph("None."),
    ]


PORTING_STATUS = {"not run": "unavailable", "fails": "fails"}


def _porting_verdict_text(row: Mapping[str, Any]) -> str:
    """What one dtype's check found, in a few words."""
    if row["outcome"] == "not run":
        return f"{row['dtype']}: not run"
    if row["outcome"] == "fails":
        return f"{row['dtype']}: FAILS"
    if row["verdict"] == "verified":
        return (
            f"{row['dtype']}: verified on {row['examples']} inputs (worst "
            f"{number(row['worst_fraction'])} of the allowance)"
        )
    step = f" from step {row['first_step']}" if row.get("first_step") else ""
    return f"{row['dtype']}: cannot, they part{step}"


def _porting_verdict(row: Mapping[str, Any]) -> Cell:
    status = PORTING_STATUS.get(
        row["outcome"], "conforms" if row["verdict"] == "verified" else "diverges"
    )
    return cell(_porting_verdict_text(row), status=status)


def _reads(mapping: catalogue.PortingMapping) -> str:
    """The names a mapping's code reads."""
    concept = catalogue.load().concept(mapping.concept)
    fixed = ", ".join(f"{k}={v!r}" for k, v in mapping.fixed.items())
    return (
        f"reads {', '.join(concept.arguments)} (NumPy arrays of `dtype`), the parameters by "
        f"the spec's names{f' ({fixed})' if fixed else ''} and dtype"
    )


def porting_snippet(mapping: catalogue.PortingMapping, framework: str) -> str:
    """The mapping's code for one framework: with a driver, only the expression that builds the
    optimizer or scheduler (the settings; the driver is shown once per pair), else the whole."""
    if mapping.driver:
        return (
            f"# {framework}: {{make}} in the {mapping.driver} driver; {_reads(mapping)}\n"
            f"{mapping.makes[framework]}"
        )
    return f"# {framework}: {_reads(mapping)}\n{mapping.snippets[framework].strip()}"


def porting_drivers(mappings: list[catalogue.PortingMapping], pair: tuple[str, str]) -> list[Block]:
    """Each driver the pair's mappings use, once: the loop a user writes around ``{make}``."""
    drivers = catalogue.load().porting_drivers
    used = list(dict.fromkeys(m.driver for m in mappings if m.driver))
    if not used:
        return []
    blocks: list[Block] = [
        Heading(4, f"Drivers: {pair[0]} and {pair[1]}"),
        paragraph(
            "An optimizer or schedule mapping gives, per framework, the expression that builds "
            "it; its code is the driver's with that expression in place of `{make}` (the test "
            "runs exactly that)."
        ),
    ]
    for name in used:
        blocks += [
            Preformatted(
                f"# {framework}: the {name} driver\n{drivers[name][framework].strip()}", "python"
            )
            for framework in pair
        ]
    return blocks


def porting_mappings(rows: list[Mapping[str, Any]], pair: tuple[str, str]) -> list[Block]:
    """Each mapping of the pair: its settings, its verdict per dtype with the evidence, and both
    snippets."""
    by_id = {m.id: m for m in catalogue.load().mappings}
    mine = [r for r in rows if tuple(r["frameworks"]) == pair]
    ids = list(dict.fromkeys(r["mapping"] for r in mine))
    overview: list[list[Cell | Inline]] = []
    details: list[Block] = []
    for mapping_id in ids:
        mapping, checks = by_id[mapping_id], [r for r in mine if r["mapping"] == mapping_id]
        title = f"{mapping.concept}: {mapping.title}"
        overview.append(
            [
                Link(title, f"#{anchor(title)}"),
                mapping.verdict,
                "; ".join(_porting_verdict_text(r) for r in checks),
            ]
        )
        details += [
            Heading(4, title),
            paragraph(mapping.settings, " (", Link("spec", SPEC + mapping.spec), ")"),
            table(
                ["check", "found"],
                [
                    [
                        _porting_verdict(r),
                        clipped(r["evidence"] or r["message"] or "-", EVIDENCE_CLIP),
                    ]
                    for r in checks
                ],
            ),
            *(Preformatted(porting_snippet(mapping, f), "python") for f in pair),
        ]
    return [
        Heading(3, f"Mappings: {pair[0]} and {pair[1]}"),
        table(["mapping", "claim", "checks"], overview),
        *porting_drivers([by_id[i] for i in ids], pair),
        *details,
    ]


def porting(document: Mapping[str, Any]) -> list[Block]:
    """The porting guide: per pair of frameworks, the defaults and conventions that differ and
    every mapping, with its verdict and the settings as code."""
    rows = document.get("porting", [])
    if not rows:
        return [paragraph("No porting mapping ran (it needs both of its backends).")]
    blocks: list[Block] = [
        paragraph(
            "Which settings make one framework compute what another does, checked by running "
            "both frameworks' own code (the snippets below) on the same inputs Hypothesis draws "
            "(`tests/test_porting.py`, mappings in the catalogue's `[[mappings]]`). A mapping is "
            "`verified` where the two results agree within the sum of their allowances (the "
            "oracle's budget for each, under its declared conventions) on every input drawn; "
            "`cannot` where no setting removes the difference: Hypothesis found the minimal "
            "input shown, where they part. A mapping reads both ways: from the first framework "
            "to the second, and back."
        )
    ]
    for pair in _pairs(rows):
        blocks += [
            Heading(2, f"{pair[0]} ⇄ {pair[1]}"),
            *porting_defaults(document, pair),
            *porting_conventions(document, pair),
            *porting_mappings(rows, pair),
        ]
    return blocks


def pages(document: Mapping[str, Any]) -> dict[str, list[Block]]:
    """Every page of the report by file stem, the index (``README``) first."""
    return {
        "README": [
            *summary(document),
            *environment(document),
            *backends(document),
            *matrix(document),
        ],
        "divergences": [
            Heading(1, PAGES["divergences"]),
            *(evidence(document) or [paragraph("No divergence or failure showed.")]),
        ],
        "accuracy": [
            Heading(1, PAGES["accuracy"]),
            *precision(document),
            *trajectories(document),
            *accuracy(document),
        ],
        "conventions": [Heading(1, PAGES["conventions"]), *conventions(document)],
        "speed": [
            Heading(1, PAGES["speed"]),
            *(speed(document) or [paragraph("Not measured in this run.")]),
            *suite_time(document),
        ],
        "porting": [Heading(1, PAGES["porting"]), *porting(document)],
    }
