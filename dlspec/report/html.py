"""The report's pages as one self-contained HTML file (``report.html``): the blocks of
:mod:`dlspec.report.sections` (the same tables as the Markdown pages, cells coloured by status;
links between pages become links within the file) and two kinds of chart drawn as inline SVG,
so that it opens in a browser with no network.

Charts: the largest error found per concept, per backend, over its allowance (log scale; one chart
per dtype), and the steady-state time per call against the number of elements (log-log; one chart
per timed concept and dtype).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from tabulate import tabulate

from dlspec.report import blocks

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
pre { background: #f6f6f6; padding: 0.6em; overflow-x: auto; font-size: 12px; }
#filters { position: sticky; top: 0; background: #fff; padding: 0.5em 0; border-bottom: 1px solid #ccc; }
#filters label { margin-right: 0.8em; }
th[aria-sort="ascending"]::after { content: " \\25B2"; }
th[aria-sort="descending"]::after { content: " \\25BC"; }
"""
STYLE += "".join(
    f"td .status-{status} {{ display: block; background: {colour}; }}\n"
    for status, colour in STATUS_COLOURS.items()
)


def _e(value: Any) -> str:
    return html.escape(str(value))


def _finite(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


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


def series(row: Mapping[str, Any]) -> str:
    """A speed row's line: its backend, and its implementation where the backend has several."""
    implementation = row.get("implementation", "default")
    return row["backend"] + ("" if implementation == "default" else f" {implementation}")


def speed_chart(rows: Sequence[Mapping[str, Any]], backends: Sequence[str]) -> str:
    """Lines: median seconds per call against elements, log-log; one per :func:`series`."""
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
        line = sorted((r["elements"], r["median_seconds"]) for r in points if series(r) == backend)
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


SCRIPT = """
(function () {
  function text(cell) { return cell ? cell.textContent.trim() : ""; }
  function number(value) {
    if (value === "inf") { return Infinity; }
    var n = parseFloat(value);
    return /^[-+]?[0-9.]/.test(value) && !isNaN(n) ? n : null;
  }
  function headers(table) {
    return Array.prototype.map.call(table.tHead.rows[0].cells, text);
  }
  function sortBy(table, column, th) {
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
    var descending = th.getAttribute("aria-sort") === "ascending";
    rows.sort(function (a, b) {
      var x = text(a.cells[column]), y = text(b.cells[column]);
      var m = number(x), n = number(y);
      var order = (m !== null && n !== null) ? m - n : x.localeCompare(y);
      return descending ? -order : order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) {
      c.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }
  var BACKENDS = JSON.parse(document.getElementById("filters").dataset.backends);
  function filter() {
    var chosen = {};
    document.querySelectorAll("#filters select").forEach(function (s) {
      if (s.value) { chosen[s.name] = s.value; }
    });
    var words = document.getElementById("filter-text").value.toLowerCase();
    document.querySelectorAll("table").forEach(function (table) {
      if (!table.tHead || !table.tBodies.length) { return; }
      var names = headers(table);
      var columns = [];
      names.forEach(function (name, k) { if (BACKENDS.indexOf(name) >= 0) { columns.push(k); } });
      columns.forEach(function (k) {
        var hide = chosen.backend && names[k] !== chosen.backend;
        Array.prototype.forEach.call(table.rows, function (row) {
          if (row.cells[k]) { row.cells[k].style.display = hide ? "none" : ""; }
        });
      });
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var show = !words || row.textContent.toLowerCase().indexOf(words) >= 0;
        ["backend", "group", "dtype", "status"].forEach(function (key) {
          if (!show || !chosen[key]) { return; }
          var k = names.indexOf(key);
          if (k >= 0) {
            show = text(row.cells[k]).split(" ")[0] === chosen[key];
          } else if (key === "status" || (key === "backend" && columns.length)) {
            var mine = columns.filter(function (c) {
              return !chosen.backend || names[c] === chosen.backend;
            });
            show = key === "backend" || mine.some(function (c) {
              return row.cells[c] && row.cells[c].querySelector(".status-" + chosen.status);
            });
          } else {
            show = row.textContent.indexOf(chosen[key]) >= 0;
          }
        });
        row.style.display = show ? "" : "none";
      });
    });
  }
  document.querySelectorAll("table").forEach(function (table) {
    if (!table.tHead) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, k) {
      th.title = "sort by this column";
      th.style.cursor = "pointer";
      th.addEventListener("click", function () { sortBy(table, k, th); });
    });
  });
  document.querySelectorAll("#filters select, #filter-text").forEach(function (input) {
    input.addEventListener("input", filter);
  });
})();
"""
"""Sortable tables (click a header: numbers sort as numbers) and the filter bar: by backend (the
matrix hides the other backends' columns), group, dtype and status (a matrix row with a cell of
that status), and by text. Plain DOM, inline: the page stays one file that needs no network."""


def filters(document: Mapping[str, Any]) -> str:
    """The filter bar over every table, its choices the report's own."""
    backends = [b["name"] for b in document["backends"]]
    choices = {
        "backend": backends,
        "group": sorted({r["group"] for r in document["matrix"]}),
        "dtype": sorted({a["dtype"] for a in document["accuracy"]}),
        "status": ["conforms", "diverges", "fails", "unsupported", "unavailable"],
    }
    selects = "".join(
        f'<label>{name} <select name="{name}"><option value="">all</option>'
        + "".join(f'<option value="{_e(v)}">{_e(v)}</option>' for v in values)
        + "</select></label> "
        for name, values in choices.items()
    )
    return (
        f'<div id="filters" data-backends="{_e(json.dumps(backends))}">Filter the tables: '
        f'{selects}<label>text <input id="filter-text" type="search"></label></div>'
    )


PAGE_LINK = re.compile(r"^(\w+)\.md(?:#(.*))?$")
"""A link to another page of the report (``divergences.md#sigmoid-on-torch-cpu``): in the one
HTML file, a link to that page's section or to the heading's id."""


def _href(href: str) -> str:
    page = PAGE_LINK.match(href)
    if page is None:
        return href
    stem, fragment = page.groups()
    return f"#{fragment}" if fragment else f"#page-{stem}"


def inline(parts: Sequence[blocks.Inline]) -> str:
    """Running text: links as anchors, `backticks` as code, **stars** as strong, everything
    else escaped."""
    out = []
    for part in parts:
        if isinstance(part, blocks.Link):
            out.append(f'<a href="{_e(_href(part.href))}">{_e(part.label)}</a>')
        else:
            text = re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(part))
            out.append(re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text))
    return "".join(out)


def _cell(value: blocks.Cell) -> str:
    text = inline(value.parts)
    return f'<span class="status-{value.status}">{text}</span>' if value.status else text


def _table(value: blocks.Table) -> str:
    rows = [[_cell(c) for c in row] for row in value.rows]
    return tabulate(rows, headers=[_e(h) for h in value.headers], tablefmt="unsafehtml")


def _charts(value: blocks.Chart, document: Mapping[str, Any]) -> str:
    backends = [b["name"] for b in document["backends"]]
    if value.kind == "errors":
        present = {row["dtype"] for row in document["accuracy"]}
        order = ("float32", "float64", "float16", "bfloat16", "uint8")
        dtypes = [d for d in order if d in present or d in ("float32", "float64")]
        charts = [
            f"<div><h3>{dtype}</h3>{error_chart(document['accuracy'], backends, dtype)}</div>"
            for dtype in dtypes
        ]
    elif value.kind == "speed":
        groups: dict[tuple[str, str], list[Mapping[str, Any]]] = defaultdict(list)
        for row in document["speed"]["rows"]:
            groups[(row["concept"], row["dtype"])].append(row)
        lines = {series(r): None for r in document["speed"]["rows"]}  # in the rows' order
        backends = sorted(lines, key=lambda name: (backends.index(name.split()[0]), name))
        charts = [speed_chart(rows, backends) for _, rows in sorted(groups.items())]
    else:
        raise ValueError(f"html: no chart of kind {value.kind!r}")
    return (
        f"<h2>{_e(value.title)}</h2><p>{inline(value.intro)}</p>{_legend(backends)}"
        f'<div class="charts">{"".join(charts)}</div>'
    )


def block(value: blocks.Block, document: Mapping[str, Any]) -> str:
    if isinstance(value, blocks.Heading):
        return f'<h{value.level} id="{_e(value.anchor)}">{_e(value.text)}</h{value.level}>'
    if isinstance(value, blocks.Paragraph):
        return f"<p>{inline(value.parts)}</p>"
    if isinstance(value, blocks.Table):
        return _table(value)
    if isinstance(value, blocks.Bullets):
        return "<ul>" + "".join(f"<li>{inline(item)}</li>" for item in value.items) + "</ul>"
    if isinstance(value, blocks.Preformatted):
        return f"<pre>{_e(value.text)}</pre>"
    if isinstance(value, blocks.Chart):
        return _charts(value, document)
    raise TypeError(f"html: no rendering for {type(value).__name__}")


def render(pages: Mapping[str, Sequence[blocks.Block]], document: Mapping[str, Any]) -> str:
    """Every page, one section each, in one file, with the charts drawn from ``document``."""
    body = "\n".join(
        f'<section id="page-{_e(stem)}">'
        + "\n".join(block(b, document) for b in page)
        + "</section>"
        for stem, page in pages.items()
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>dlspec conformance report</title><style>{STYLE}</style></head>"
        f"<body>{filters(document)}{body}<script>{SCRIPT}</script></body></html>\n"
    )
