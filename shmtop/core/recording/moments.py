"""A moment of a recording as a person writes it: ISO time, or a duration from its start or end."""

from __future__ import annotations

import re
from datetime import UTC, datetime

MOMENT_HELP = (
    "an ISO time (2026-12-01T14:03:00; no offset: local time), +DURATION after the start,"
    " -DURATION before the end (+30s, -5m, +1h2m3s), or start / end"
)
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def relative_seconds(text: str) -> float:
    """Seconds in '30s', '5m', '1h2m3s', '1.5s', '250ms' (ValueError if not one of them)."""
    at, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != at:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        at = match.end()
    if at == 0 or at != len(text):
        raise ValueError(f"not a duration: {text!r}; use s, m, h or d (30s, 5m, 1h2m)")
    return total


def parse_moment(text: str, start: float, end: float) -> float:
    """Epoch seconds of `text` in a recording that runs from start to end (MOMENT_HELP)."""
    text = text.strip()
    if text in ("start", "end"):
        return start if text == "start" else end
    if text[:1] in "+-" and text[1:2].isdigit():
        seconds = relative_seconds(text[1:])
        return start + seconds if text[0] == "+" else end - seconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a moment: {text!r}; {MOMENT_HELP}") from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as a person reads the clock
    return moment.astimezone(UTC).timestamp()
