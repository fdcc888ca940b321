"""What each test observed, for the report: examples checked, errors seen, the worst input.

The plugin opens a :class:`Recorder` around each test call and stores its summary in the test's
``user_properties``, which pytest (and pytest-xdist, across workers) hands to the report.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_SAMPLES = 2000


@dataclass
class Observation:
    concept: str
    backend: str
    dtype: str
    kind: str
    examples: int = 0
    failures: int = 0
    max_ulps: float = 0.0
    max_relative: float = 0.0
    max_budget_fraction: float = 0.0
    worst_input: str = ""
    ulps_samples: list[float] = field(default_factory=list)
    max_ulps_by_step: list[float] = field(default_factory=list)
    """For k-step trajectories: the largest error (ulps) seen after step 1, 2, ..."""

    def add(
        self,
        *,
        ulps: float,
        relative: float,
        budget_fraction: float,
        failed: bool,
        input_text: str | Callable[[], str],
        ulps_by_step: Sequence[float] = (),
    ) -> None:
        """Count one example; ``input_text`` (or a function that writes it, called only when
        this example is the worst so far: most examples pass unremarked) describes its input."""
        self.max_ulps_by_step = merge_by_step(self.max_ulps_by_step, ulps_by_step)
        self.examples += 1
        self.failures += int(failed)
        if len(self.ulps_samples) < MAX_SAMPLES:
            self.ulps_samples.append(ulps)
        if budget_fraction > self.max_budget_fraction or not self.worst_input:
            self.max_budget_fraction = max(self.max_budget_fraction, budget_fraction)
            self.worst_input = input_text if isinstance(input_text, str) else input_text()
        self.max_ulps = max(self.max_ulps, ulps)
        self.max_relative = max(self.max_relative, relative)


def merge_by_step(seen: Sequence[float], new: Sequence[float]) -> list[float]:
    """The elementwise maximum of two per-step error lists of any lengths."""
    longer, shorter = (seen, new) if len(seen) >= len(new) else (new, seen)
    return [max(a, b) for a, b in zip(longer, shorter, strict=False)] + list(longer[len(shorter) :])


class Recorder:
    def __init__(self) -> None:
        self.observations: dict[tuple[str, str, str, str], Observation] = {}
        self.divergences: dict[Any, str] = {}
        """Each written-up divergence seen in this test, with the evidence of its first sight."""
        self.porting: dict[str, Any] = {}
        """A porting mapping's test: what it found (``tests/test_porting.py``), for the guide."""

    def divergence_seen(self, divergence: Any, evidence: Callable[[], str]) -> None:
        if divergence not in self.divergences:
            self.divergences[divergence] = evidence()

    def observation(self, concept: str, backend: str, dtype: str, kind: str) -> Observation:
        key = (concept, backend, dtype, kind)
        if key not in self.observations:
            self.observations[key] = Observation(concept, backend, dtype, kind)
        return self.observations[key]

    def summary(self) -> list[dict[str, Any]]:
        return [asdict(o) for o in self.observations.values()]


_active: list[Recorder] = []


@contextlib.contextmanager
def recording() -> Iterator[Recorder]:
    recorder = Recorder()
    _active.append(recorder)
    try:
        yield recorder
    finally:
        _active.remove(recorder)


def current() -> Recorder:
    """The recorder of the running test, or a throwaway one outside the plugin."""
    return _active[-1] if _active else Recorder()
