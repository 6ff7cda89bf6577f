"""The values the bytes at an offset may hold: integers, floats, a C string, a time_t."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import NamedTuple

from shmtop.text.sanitize import safe_bytes

CSTRING_MAX = 48  # bytes of a C string shown before it is cut
BYTES_NEEDED = CSTRING_MAX + 1

# (name, struct code) for the numbers, smallest first
_NUMBERS = (
    ("i8", "b"), ("u8", "B"), ("i16", "h"), ("u16", "H"), ("i32", "i"), ("u32", "I"),
    ("i64", "q"), ("u64", "Q"), ("f32", "f"), ("f64", "d"),
)  # fmt: skip


class Value(NamedTuple):
    """One way to read the bytes: its name, and the value in little and big endian."""

    name: str
    little: str
    big: str  # same as little where byte order does not matter


def _number(code: str, value: float) -> str:
    if code == "f":
        return f"{value:.7g}"
    if code == "d":
        return repr(value)
    return str(value)


def decode(data: bytes) -> list[Value]:
    """Every reading of the bytes at the cursor; '-' where too few bytes are left."""
    values = []
    for name, code in _NUMBERS:
        width = struct.calcsize(code)
        if len(data) < width:
            values.append(Value(name, "-", "-"))
            continue
        little = _number(code, struct.unpack_from("<" + code, data)[0])
        big = _number(code, struct.unpack_from(">" + code, data)[0])
        values.append(Value(name, little, big if width > 1 else little))
    values.append(Value("cstring", c_string(data), ""))
    values.append(Value("time_t", time_t(data, "<"), time_t(data, ">")))
    return values


def c_string(data: bytes) -> str:
    """The NUL-terminated string at the start of data, through the byte table, quoted."""
    end = data.find(b"\0")
    if end < 0:
        text = safe_bytes(data[:CSTRING_MAX])
        return f'"{text}..." (no NUL)' if data else "-"
    shown = safe_bytes(data[: min(end, CSTRING_MAX)])
    cut = "..." if end > CSTRING_MAX else ""
    return f'"{shown}{cut}" ({end} bytes)'


def time_t(data: bytes, order: str = "<") -> str:
    """A 64-bit time_t as a UTC date, or why it is not one."""
    if len(data) < 8:
        return "-"
    seconds = struct.unpack_from(order + "q", data)[0]
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return "out of range"
