"""The detail pane's history: one sparkline a figure, over the minutes kept."""

from __future__ import annotations

from shmtop.core.history import Series, resample
from shmtop.text.sparkline import sparkline
from shmtop.text.units import duration, human_size

MAX_FIGURES = 6  # a large set shows its first semaphores (the set view shows them all)
NAME_WIDTH = 9
BYTE_FIGURES = frozenset({"bytes", "rss"})


def _value(name: str, value: int) -> str:
    return human_size(value) if name in BYTE_FIGURES else str(value)


def value_range(values: list[tuple[float, int]], start: float) -> tuple[int, int]:
    """The lowest and highest value in effect from start on (the last point before it
    gives the value the window starts with)."""
    first = max((i for i, (when, _) in enumerate(values) if when <= start), default=0)
    kept = [value for _, value in values[first:]]
    return min(kept), max(kept)


def history_lines(series: Series | None, now: float, width: int, window: float) -> list[str]:
    """'history (last 1m 5s)' and '  messages  ▁▃█▅  0..12, now 5' lines; none before
    anything was recorded. width is the sparkline's, in cells."""
    if series is None or not series.points or not series.names:
        return []
    start = max(series.first_seen, now - window)
    cells = max(1, width)
    lines = [f"history (last {duration(now - start)}; lowest..highest, now)"]
    for index, name in enumerate(series.names[:MAX_FIGURES]):
        values = series.values(index)
        sampled = resample(values, start, now, cells)
        low, high = value_range(values, start)
        moved = f"{_value(name, low)}..{_value(name, high)}" if low != high else "steady"
        spark = sparkline([None if v is None else float(v) for v in sampled], cells)
        last = _value(name, values[-1][1])
        lines.append(f"  {name:<{NAME_WIDTH}} {spark:<{cells}}  {moved}, now {last}")
    hidden = len(series.names) - MAX_FIGURES
    if hidden > 0:
        lines.append(f"  ... {hidden} more (Enter opens the set)")
    return lines
