"""The ``dlspec`` command: ``dlspec report --compare OLD.json NEW.json`` lists what changed
between two runs' reports (``report.json``, written by ``pytest --report DIR``; what counts as a
change: :mod:`dlspec.report.compare`). Exit status 1 when something newly fails, so CI can gate
on it. ``dlspec report --merge FIRST SECOND --out DIR`` writes one report from two runs made in
separate processes (a backend that fixes its framework per process, such as Keras's), each
backend's rows from the run it was available in.
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
    action = report.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--compare",
        nargs=2,
        metavar=("OLD", "NEW"),
        help="two report.json files (or the folders holding them)",
    )
    action.add_argument(
        "--merge",
        nargs=2,
        metavar=("FIRST", "SECOND"),
        help="two reports of one seed and profile, run in separate processes",
    )
    report.add_argument("--out", help="with --merge: the folder the merged report goes in")
    arguments = parser.parse_args(argv)
    if arguments.merge:
        from pathlib import Path

        from dlspec.report import rewrite
        from dlspec.report.document import merge

        if not arguments.out:
            parser.error("--merge needs --out DIR")
        first, second = (load(path) for path in arguments.merge)
        print(f"merged report written to {rewrite(Path(arguments.out), merge(first, second))}")
        return 0
    old, new = (load(path) for path in arguments.compare)
    lines, newly_failing = compare(old, new)
    print("\n".join(lines) if lines else "no changes beyond noise")
    return 1 if newly_failing else 0


if __name__ == "__main__":
    sys.exit(main())
