"""Samples and their median, min, p95 and max; the timing loop; targets that PASS or MISS."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measure:
    """Samples of one thing (unit in the name); error says why it could not be measured."""

    name: str
    samples: list[float] = field(default_factory=list)
    spread: str = "min"  # what a table's third column shows: "min" or "p95"
    error: str | None = None

    @property
    def available(self) -> bool:
        return self.error is None and bool(self.samples)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.available else None

    @property
    def minimum(self) -> float | None:
        return min(self.samples) if self.available else None

    @property
    def p95(self) -> float | None:
        if not self.available:
            return None
        if len(self.samples) == 1:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=20, method="inclusive")[18]

    @property
    def maximum(self) -> float | None:
        return max(self.samples) if self.available else None

    def as_dict(
        self, figures: Sequence[str] = ("median", "min", "p95", "max"), suffix: str = ""
    ) -> dict[str, Any]:
        """Availability, error, the named figures and the samples; suffix (a unit) on their keys."""
        value = {"median": self.median, "min": self.minimum, "p95": self.p95, "max": self.maximum}
        return {
            "available": self.available,
            "error": self.error,
            **{name + suffix: value[name] for name in figures},
            "samples" + suffix: self.samples,
        }


@dataclass(frozen=True)
class Check:
    """A ratio (or amount) the project must keep at or under its target."""

    label: str
    value: float | None
    target: float
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return "n/a"
        return "PASS" if self.value <= self.target else "MISS"

    def as_dict(self, with_note: bool = True) -> dict[str, Any]:
        found = {
            "label": self.label,
            "value": self.value,
            "target": self.target,
            "status": self.status,
        }
        if with_note:
            found["note"] = self.note
        return found


def time_calls(call: Callable[[], object], repeat: int) -> list[float]:
    """Wall time of each of `repeat` calls, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples
