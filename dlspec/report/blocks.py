"""What a report page is made of, independent of its format: headings, paragraphs, tables,
bullet lists, preformatted evidence and charts. :mod:`dlspec.report.sections` builds the page once
from the report document; :mod:`dlspec.report.markdown` and :mod:`dlspec.report.html` render it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    """A link to a file of the repository, relative to the ``reports/`` folder."""

    label: str
    href: str


Inline = str | Link
"""Running text: plain text (in which `backticks` mark code) or a link."""


@dataclass(frozen=True)
class Cell:
    """A table cell; ``status`` (``conforms``, ``fails``, ...) lets a renderer colour it."""

    parts: tuple[Inline, ...]
    status: str | None = None


def cell(*parts: Inline, status: str | None = None) -> Cell:
    return Cell(tuple(parts), status)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str

    @property
    def anchor(self) -> str:
        """The fragment GitHub gives this heading (``#sigmoid-on-torch-cpu``): lower case,
        punctuation other than ``-`` and ``_`` dropped, spaces as ``-``; the HTML page uses the
        same ids, so one link works in both."""
        return anchor(self.text)


def anchor(text: str) -> str:
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


@dataclass(frozen=True)
class Paragraph:
    parts: tuple[Inline, ...]


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Bullets:
    items: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True)
class Preformatted:
    """Evidence shown as it was printed (a failure's or a divergence's message), or code to run
    (``language`` ``python``: a divergence's snippet)."""

    text: str
    language: str = "text"


@dataclass(frozen=True)
class Chart:
    """A section of charts a graphical renderer draws, with its title and introduction:
    ``errors`` (the largest error over its allowance per concept, one chart per dtype) or
    ``speed`` (time per call against size). A text renderer leaves the whole section out; the
    tables hold the same figures."""

    kind: str
    title: str
    intro: tuple[Inline, ...]


Block = Heading | Paragraph | Table | Bullets | Preformatted | Chart


def table(headers: list[str], rows: list[list[Cell | Inline]]) -> Table:
    """A table whose plain cells (text or a link) become :class:`Cell`."""
    return Table(
        tuple(headers),
        tuple(tuple(c if isinstance(c, Cell) else cell(c) for c in row) for row in rows),
    )


def paragraph(*parts: Inline) -> Paragraph:
    return Paragraph(tuple(parts))
