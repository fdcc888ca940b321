"""The report page as Markdown (``README.md``): GitHub tables; charts are left to the HTML page."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate

from dlspec.report import blocks


def inline(parts: Sequence[blocks.Inline]) -> str:
    return "".join(f"[{p.label}]({p.href})" if isinstance(p, blocks.Link) else p for p in parts)


def _cell(value: blocks.Cell) -> str:
    return inline(value.parts).replace("|", "\\|")  # a bar would end the cell


def block(value: blocks.Block) -> list[str]:
    """The lines of one block, each block followed by a blank line."""
    if isinstance(value, blocks.Heading):
        return ["#" * value.level + " " + value.text, ""]
    if isinstance(value, blocks.Paragraph):
        return [inline(value.parts), ""]
    if isinstance(value, blocks.Table):
        rows = [[_cell(c) for c in row] for row in value.rows]
        return [tabulate(rows, headers=list(value.headers), tablefmt="github"), ""]
    if isinstance(value, blocks.Bullets):
        return [*(f"- {inline(item)}" for item in value.items), ""]
    if isinstance(value, blocks.Preformatted):
        return [f"```{value.language}", value.text, "```", ""]
    if isinstance(value, blocks.Chart):
        return []
    raise TypeError(f"markdown: no rendering for {type(value).__name__}")


def render(page: Sequence[blocks.Block]) -> str:
    lines = [line for b in page for line in block(b)]
    return "\n".join(lines).rstrip("\n") + "\n"
