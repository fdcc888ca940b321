"""The report page as Markdown (``README.md``): GitHub tables; charts are left to the HTML page."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from dlspec.report.blocks import (
    Block,
    Bullets,
    Cell,
    Chart,
    Heading,
    Inline,
    Link,
    Paragraph,
    Preformatted,
    Table,
)


def inline(parts: Sequence[Inline]) -> str:
    return "".join(f"[{p.label}]({p.href})" if isinstance(p, Link) else p for p in parts)


def _cell(value: Cell) -> str:
    return inline(value.parts).replace("|", "\\|")  # a bar would end the cell


def block(value: Block) -> list[str]:
    """The lines of one block, each block followed by a blank line."""
    if isinstance(value, Heading):
        return ["#" * value.level + " " + value.text, ""]
    if isinstance(value, Paragraph):
        return [inline(value.parts), ""]
    if isinstance(value, Table):
        rows = [[_cell(c) for c in row] for row in value.rows]
        return [tabulate(rows, headers=list(value.headers), tablefmt="github"), ""]
    if isinstance(value, Bullets):
        return [*(f"- {inline(item)}" for item in value.items), ""]
    if isinstance(value, Preformatted):
        return ["```text", value.text, "```", ""]
    if isinstance(value, Chart):
        return []
    raise TypeError(f"markdown: no rendering for {type(value).__name__}")


def render(blocks: Sequence[Block]) -> str:
    lines = [line for b in blocks for line in block(b)]
    return "\n".join(lines).rstrip("\n") + "\n"
