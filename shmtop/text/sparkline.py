"""Sparklines as block characters: the meters, the set view and the detail pane's history."""

from __future__ import annotations

from collections.abc import Sequence

SPARK_BLOCKS = " ▁▂▃▄▅▆▇█"
GAP_MARK = " "  # no value yet (before an object was first seen)


def sparkline(values: Sequence[float | None], width: int) -> str:
    """The last `width` values as block characters between their minimum and maximum;
    a flat history is a flat low line, so only movement catches the eye. None (no value)
    is a blank."""
    recent = list(values[-width:]) if width > 0 else []
    known = [v for v in recent if v is not None]
    if not known:
        return GAP_MARK * len(recent)
    low, high = min(known), max(known)
    top = len(SPARK_BLOCKS) - 1
    cells = []
    for v in recent:
        if v is None:
            cells.append(GAP_MARK)
        elif high == low:
            cells.append(SPARK_BLOCKS[1])
        else:
            cells.append(SPARK_BLOCKS[1 + round((v - low) / (high - low) * (top - 1))])
    return "".join(cells)
