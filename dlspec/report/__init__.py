"""The conformance report: from the results the plugin gathered to the files a reader opens.

- :mod:`~dlspec.report.document`: the results -> one JSON document (``report.json``, schema
  ``dlspec-report``: ``schema.json``), the record every other view is made from;
- :mod:`~dlspec.report.sections`: the document -> the pages, built once as format-free
  :mod:`~dlspec.report.blocks`: the index and one page each for divergences, accuracy,
  conventions and speed;
- :mod:`~dlspec.report.markdown` and :mod:`~dlspec.report.html`: the pages -> ``README.md``
  (the index) with ``divergences.md``, ``accuracy.md``, ``conventions.md`` and ``speed.md``, and
  the self-contained ``report.html`` (every page in one file, with charts);
- :mod:`~dlspec.report.compare`: what changed between two documents (``dlspec report
  --compare``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dlspec.report import html, sections
from dlspec.report import markdown as _markdown
from dlspec.report.document import SCHEMA, SCHEMA_FILE, SCHEMA_VERSION, build

__all__ = ["SCHEMA", "SCHEMA_FILE", "SCHEMA_VERSION", "build", "markdown", "rewrite", "write"]


def markdown(document: Mapping[str, Any]) -> str:
    """The report's index as Markdown (``README.md``)."""
    return _markdown.render(sections.pages(document)["README"])


def write(directory: str | os.PathLike[str], **fields: Any) -> Path:
    """Build the document from ``fields`` (see :func:`build`) and write it into ``directory``;
    return the Markdown's path."""
    return rewrite(Path(directory), build(**fields))


def rewrite(out: Path, document: Mapping[str, Any]) -> Path:
    """Write ``document`` (a report, perhaps grown since: ``speed``) into the folder ``out``:
    ``report.json``, a Markdown file per page (``README.md`` the index) and ``report.html``;
    return the index's path."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(document, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    pages = sections.pages(document)
    (out / "report.html").write_text(html.render(pages, document), encoding="utf-8")
    for stem, page in pages.items():
        (out / f"{stem}.md").write_text(_markdown.render(page), encoding="utf-8")
    return out / "README.md"
