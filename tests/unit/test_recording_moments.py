"""The moments `--at` and the replay's `t` take: ISO times and durations from the ends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shmtop.core.recording.moments import parse_moment, relative_seconds

START, END = 1_700_000_000.0, 1_700_000_600.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("5m", 300.0), ("1h2m3s", 3723.0), ("1.5s", 1.5), ("250ms", 0.25),
     ("2d", 172800.0)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert relative_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "m", "5x", "5m 3s", "-5m", "5m3"])
def test_what_is_no_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        relative_seconds(text)


def test_moments_from_the_ends_and_by_the_clock() -> None:
    assert parse_moment("start", START, END) == START
    assert parse_moment("end", START, END) == END
    assert parse_moment("+30s", START, END) == START + 30
    assert parse_moment("-5m", START, END) == END - 300
    utc = datetime.fromtimestamp(START + 42.5, UTC)
    assert parse_moment(utc.isoformat(), START, END) == START + 42.5
    local = datetime.fromtimestamp(START + 7)  # naive: local time
    assert parse_moment(local.isoformat(), START, END) == START + 7
    with pytest.raises(ValueError, match="not a moment"):
        parse_moment("yesterday", START, END)
