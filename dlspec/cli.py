"""The ``dlspec`` command: ``dlspec report --compare OLD.json NEW.json`` lists what changed
between two runs' reports (``report.json``, written by ``pytest --report DIR``; what counts as a
change: :mod:`dlspec.report.compare`). Exit status 1 when something newly fails, so CI can gate
on it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from dlspec.report.compare import compare, load


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlspec", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    report = commands.add_parser("report", help="work with conformance reports")
    report.add_argument(
        "--compare",
        nargs=2,
        metavar=("OLD", "NEW"),
        required=True,
        help="two report.json files (or the folders holding them)",
    )
    arguments = parser.parse_args(argv)
    old, new = (load(path) for path in arguments.compare)
    lines, newly_failing = compare(old, new)
    print("\n".join(lines) if lines else "no changes beyond noise")
    return 1 if newly_failing else 0


if __name__ == "__main__":
    sys.exit(main())
