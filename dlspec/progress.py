"""A long run's progress (``--progress SECONDS``, which ``make report`` passes): instead of a
letter per test, a line every so many seconds with the tests done of those collected, the
failures so far and the time elapsed. Registered by :mod:`dlspec.plugin` in the process that
reports (the xdist controller, or the only one)."""

from __future__ import annotations

import time
from collections.abc import Generator
from typing import Any

import pytest


def elapsed(seconds: float) -> str:
    """``12 min 05 s``, or ``42 s`` under a minute."""
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


class Progress:
    """Counts finished tests and prints where the run is, at most every ``every`` seconds."""

    def __init__(self, config: pytest.Config, every: float) -> None:
        self.config, self.every = config, every
        self.started = self.last = time.monotonic()
        self.total: int | None = None
        self.done = self.failed = 0

    def line(self) -> str:
        now = time.monotonic()
        of = f" of {self.total:,}" if self.total else ""
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        return (
            f"dlspec: {self.done:,}{of} tests{share}, {self.failed} failed, "
            f"{elapsed(now - self.started)}"
        )

    def _write(self) -> None:
        self.last = time.monotonic()
        terminal = self.config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            terminal.write_line(self.line())

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: pytest.TestReport) -> Generator[None, Any, Any]:
        """The category and word as the other plugins decide them; no letter per test."""
        status = yield
        if status and len(status) == 3:
            category, _, word = status
            return category, "", word
        return status

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items:
            self.total = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.total = len(ids)  # every worker collects the same tests

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            self.failed += 1
        if report.when != "teardown":
            return
        self.done += 1
        if time.monotonic() - self.last >= self.every:
            self._write()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self) -> None:
        self._write()
