"""`--idle-for` durations (shmtop.core.verdicts.parse_duration): whole s/m/h/d, bounded, ASCII."""

from __future__ import annotations

import pytest

from shmtop.core.verdicts import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("7d", 7 * 86400)]
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
