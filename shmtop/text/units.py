"""How an IPC key, permission bits, sizes, times and durations are written, everywhere."""

from __future__ import annotations

import time
from functools import lru_cache


def hex_key(key: int) -> str:
    """An IPC key as ipcs shows it: 0x and 8 hex digits (unsigned)."""
    return f"0x{key:08x}"


@lru_cache(maxsize=512)  # a table's objects share a few permission words: each written once
def octal_perms(perms: int) -> str:
    """Permission bits as 3 octal digits (644)."""
    return f"{perms:03o}"


@lru_cache(maxsize=1024)  # a table's sizes repeat (segments made alike): each written once
def human_size(count: int | None) -> str:
    """Bytes as 4.0K, 1.5M...; '-' when unknown."""
    if count is None:
        return "-"
    size = float(count)
    for unit in ("B", "K", "M", "G", "T"):
        if size < 1024 or unit == "T":
            return f"{int(size)}{unit}" if unit == "B" else f"{size:.1f}{unit}"
        size /= 1024
    raise AssertionError("unreachable")


def duration(seconds: float) -> str:
    """'5s', '3m', '2h', '4d': the largest whole unit, so a table cell rarely changes;
    a negative span (a clock stepped back) is 0s."""
    whole = max(int(seconds), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def short_age(epoch: float, now: float) -> str:
    """How long before now an epoch second was ('5s'); '-' for never (0)."""
    return duration(now - epoch) if epoch else "-"


def lasted(epoch: float, now: float) -> str:
    """How long something has lasted since an epoch second ('5s'); 'never' for 0."""
    return duration(now - epoch) if epoch else "never"


def age(epoch: float, now: float | None = None) -> str:
    """How long ago an epoch second was ('5s ago'); 'never' for 0."""
    if not epoch:
        return "never"
    return f"{duration((time.time() if now is None else now) - epoch)} ago"


def clock(epoch: float) -> str:
    """Local date and time of an epoch second; 'never' for 0."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else "never"


def time_of_day(epoch: float | None = None) -> str:
    """Local time of day of an epoch second (now when None): '14:02:11'."""
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def since(epoch: float, now: float, *, assumed: bool = False) -> str:
    """'14:02:11 (42s)': when something began and how long it has lasted; ', assumed'
    when the start is a guess (a wait seen begin by a single scan)."""
    return f"{time_of_day(epoch)} ({lasted(epoch, now)}{', assumed' if assumed else ''})"
