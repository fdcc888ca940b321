"""The report as one self-contained HTML page (``report.html``): the tables of ``README.md`` and
two kinds of chart drawn as inline SVG, so that it opens in a browser with no network.

Charts: the largest error found per concept, per backend, over its allowance (log scale; one chart
per dtype),
and the steady-state time per call against the number of elements (log-log; one chart per timed
concept and dtype).
"""

from __future__ import annotations

import html
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

COLOURS = ("#1b6ca8", "#d1495b", "#2e8540", "#edae49", "#6a4c93", "#00798c", "#8d6a9f")
STATUS_COLOURS = {
    "conforms": "#d8f0dc",
    "diverges": "#fff1c1",
    "fails": "#f7c6c7",
    "unsupported": "#eeeeee",
    "unavailable": "#eeeeee",
}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
.charts { display: flex; flex-wrap: wrap; gap: 1.5em; }
svg text { font-size: 11px; font-family: system-ui, sans-serif; }
.legend span { display: inline-block; margin-right: 1em; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], styles: Any = None) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, cell in enumerate(row):
            style = styles(i, j, cell) if styles else ""
            cells.append(f"<td{style}>{_e(cell)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _short(value: Any) -> str:
    number = _finite(value)
    return str(value) if number is None else f"{number:.3g}"


def _legend(names: Sequence[str]) -> str:
    items = "".join(
        f'<span><i style="background:{COLOURS[k % len(COLOURS)]}"></i>{_e(n)}</span>'
        for k, n in enumerate(names)
    )
    return f'<div class="legend">{items}</div>'


LOWEST, HIGHEST = -3, 2
"""The error chart's decades: error over allowance from 10^-3 (or exact) to 10^2 (failing)."""


def error_chart(rows: Sequence[Mapping[str, Any]], backends: Sequence[str], dtype: str) -> str:
    """Horizontal bars: per concept and backend, the largest error over its allowance (log scale;
    the red line at 1 is the budget: a bar past it fails, unless it is a written-up divergence)."""
    worst: dict[str, dict[str, float]] = defaultdict(dict)
    for row in rows:
        if row["dtype"] != dtype or row["kind"] != "oracle":
            continue
        fraction = _finite(row["max_budget_fraction"])
        fraction = 10.0**HIGHEST if fraction is None else fraction
        worst[row["concept"]][row["backend"]] = min(max(fraction, 10.0**LOWEST), 10.0**HIGHEST)
    concepts = sorted(worst)
    bar, gap, left, width = 5, 6, 230, 420
    height = len(concepts) * (len(backends) * bar + gap) + 30

    def x(fraction: float) -> float:
        return left + width * (math.log10(fraction) - LOWEST) / (HIGHEST - LOWEST)

    parts = [f'<svg width="{left + width + 20}" height="{height}" role="img">']
    parts += [
        f'<line x1="{x(10.0**p):.1f}" y1="0" x2="{x(10.0**p):.1f}" y2="{height - 20}" '
        f'stroke="{"#d00" if p == 0 else "#ddd"}"/><text x="{x(10.0**p):.1f}" y="{height - 6}" '
        f'text-anchor="middle">1e{p}</text>'
        for p in range(LOWEST, HIGHEST + 1)
    ]
    y = 0.0
    for concept in concepts:
        parts.append(f'<text x="{left - 6}" y="{y + 8}" text-anchor="end">{_e(concept)}</text>')
        for k, backend in enumerate(backends):
            value = worst[concept].get(backend)
            if value is not None:
                parts.append(
                    f'<rect x="{left}" y="{y:.1f}" width="{x(value) - left:.1f}" height="{bar}" '
                    f'fill="{COLOURS[k % len(COLOURS)]}"><title>{_e(backend)}: '
                    f"{value:.3g} of the allowance</title></rect>"
                )
            y += bar
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def speed_chart(rows: Sequence[Mapping[str, Any]], backends: Sequence[str]) -> str:
    """Lines: median seconds per call against elements, log-log."""
    size, pad = 260, 40
    points = [r for r in rows if r["median_seconds"] > 0]
    if not points:
        return ""
    xs = [math.log10(r["elements"]) for r in points]
    ys = [math.log10(r["median_seconds"]) for r in points]
    x0, x1 = min(xs), max(xs) + 1e-9
    y0, y1 = math.floor(min(ys)), math.ceil(max(ys)) + 1e-9

    def sx(value: float) -> float:
        return pad + (size - 2 * pad) * (math.log10(value) - x0) / (x1 - x0)

    def sy(value: float) -> float:
        return size - pad - (size - 2 * pad) * (math.log10(value) - y0) / (y1 - y0)

    concept, dtype = points[0]["concept"], points[0]["dtype"]
    parts = [
        f'<svg width="{size}" height="{size}" role="img">',
        f'<text x="{size / 2}" y="14" text-anchor="middle">{_e(concept)} ({_e(dtype)})</text>',
        f'<text x="{size / 2}" y="{size - 6}" text-anchor="middle">elements</text>',
        f'<text x="10" y="{size / 2}" transform="rotate(-90 10 {size / 2})" '
        'text-anchor="middle">seconds per call</text>',
    ]
    for p in range(int(y0), math.ceil(y1)):
        parts.append(
            f'<line x1="{pad}" x2="{size - pad}" y1="{sy(10.0**p):.1f}" y2="{sy(10.0**p):.1f}" '
            f'stroke="#eee"/><text x="{pad - 4}" y="{sy(10.0**p) + 4:.1f}" '
            f'text-anchor="end">1e{p}</text>'
        )
    for k, backend in enumerate(backends):
        line = sorted(
            (r["elements"], r["median_seconds"]) for r in points if r["backend"] == backend
        )
        if not line:
            continue
        colour = COLOURS[k % len(COLOURS)]
        path = " ".join(f"{sx(n):.1f},{sy(t):.1f}" for n, t in line)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts += [
            f'<circle cx="{sx(n):.1f}" cy="{sy(t):.1f}" r="3" fill="{colour}">'
            f"<title>{_e(backend)}: {n} elements, {t * 1e6:.1f} µs</title></circle>"
            for n, t in line
        ]
    parts.append("</svg>")
    return "".join(parts)


def render(document: Mapping[str, Any]) -> str:
    """The whole page."""
    env = document["environment"]
    backends = [b["name"] for b in document["backends"]]
    matrix = {(r["concept"], r["backend"]): r for r in document["matrix"]}
    concepts = sorted({c for c, _ in matrix})
    accuracy = document["accuracy"]
    sections = [
        "<h1>dlspec conformance report</h1>",
        f"<p>Generated {_e(document['created'])}, seed <code>{_e(document['seed'])}</code>, "
        f"Hypothesis profile <code>{_e(document['profile'])}</code>.</p>",
        _table(
            ["", ""],
            [
                [k, ", ".join(f"{a}={b}" for a, b in v.items()) if isinstance(v, dict) else v]
                for k, v in sorted(env.items())
            ],
        ),
        "<h2>Backends</h2>",
        _table(
            ["backend", "device", "available", "versions", "limits"],
            [
                [
                    b["name"],
                    b["device"],
                    "yes" if b["available"] else f"no: {b['reason']}",
                    ", ".join(f"{k} {v}" for k, v in sorted(b["versions"].items())),
                    "; ".join(b.get("limits", [])),
                ]
                for b in document["backends"]
            ],
        ),
        "<h2>Conformance matrix</h2>",
        _table(
            ["concept", *backends],
            [
                [c]
                + [
                    f"{matrix[(c, b)]['status']} ({matrix[(c, b)]['implementation']})"
                    if (c, b) in matrix
                    else "-"
                    for b in backends
                ]
                for c in concepts
            ],
            styles=lambda _i, j, cell: (
                f' style="background:{STATUS_COLOURS.get(str(cell).split(" ")[0], "#fff")}"'
                if j
                else ""
            ),
        ),
        "<h2>Largest error per concept</h2>",
        "<p>The largest error the search found against the exact reference, over the allowance "
        "of that element (the catalogue's ulps plus the error model's term; log scale, exact "
        "results and anything below 1e-3 drawn at 1e-3). Past the red line at 1 a backend fails, "
        "or diverges as written up. The error in ulps is in the accuracy table.</p>",
        _legend(backends),
        '<div class="charts">',
        *(
            f"<div><h3>{dtype}</h3>{error_chart(accuracy, backends, dtype)}</div>"
            for dtype in ("float32", "float64")
        ),
        "</div>",
    ]
    speed = document.get("speed")
    if speed:
        groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
        for row in speed["rows"]:
            groups[(row["concept"], row["dtype"])].append(row)
        sections += [
            "<h2>Speed per size</h2>",
            f"<p>Measured memory bandwidth: "
            f"{speed['memory_bandwidth_bytes_per_second'] / 1e9:.1f} GB/s.</p>",
            _legend(backends),
            '<div class="charts">',
            *(speed_chart(rows, backends) for _, rows in sorted(groups.items())),
            "</div>",
        ]
    sections += [
        "<h2>Accuracy</h2>",
        _table(
            [
                "concept",
                "backend",
                "dtype",
                "kind",
                "examples",
                "max ulps",
                "p99 ulps",
                "max rel",
                "max/allowed",
            ],
            [
                [
                    a["concept"],
                    a["backend"],
                    a["dtype"],
                    a["kind"],
                    a["examples"],
                    *(_short(a[k]) for k in ("max_ulps", "p99_ulps", "max_relative")),
                    _short(a["max_budget_fraction"]),
                ]
                for a in accuracy
            ],
        ),
    ]
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>dlspec conformance report</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )
