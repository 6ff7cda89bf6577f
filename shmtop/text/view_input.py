"""What a user types into the segment view: offsets, search patterns, export requests."""

from __future__ import annotations

import os
import shlex
from typing import NamedTuple

from shmtop.text import numbers

_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
OFFSET_HELP = "0x1f0, 496, +16, -0x10, 4k, 2M, 50%, end"
PATTERN_HELP = "text, or x: and hex bytes (x:de ad be ef)"
EXPORT_HELP = "FILE [all | START END | START +LENGTH] [raw | hex]"


class ExportRequest(NamedTuple):
    path: str
    start: int
    end: int  # exclusive
    hex_dump: bool


def parse_number(text: str) -> int:
    """A count of bytes in the commands' number syntax (text/numbers.py: decimal, 0x hex or
    0o octal) with an optional k/M/G (KiB...) unit."""
    word = text.strip()
    unit = 1
    if word[-1:].lower() in _UNITS and not word.lower().startswith("0x"):
        unit, word = _UNITS[word[-1].lower()], word[:-1]
    try:
        return numbers.parse_number(word) * unit
    except ValueError:
        raise ValueError(f"not an offset: {text!r} (try {OFFSET_HELP})") from None


def parse_offset(text: str, cursor: int, size: int) -> int:
    """Where 'go to' goes: absolute, relative to the cursor (+/-), a percentage, or end."""
    word = text.strip()
    if not word:
        raise ValueError(f"type an offset: {OFFSET_HELP}")
    if word.lower() in ("end", "$"):
        return max(size - 1, 0)
    if word.endswith("%"):
        percent = float(word[:-1])
        if not 0 <= percent <= 100:
            raise ValueError("a percentage runs from 0 to 100")
        return min(int(size * percent / 100), max(size - 1, 0))
    if word[0] in "+-":
        offset = cursor + (1 if word[0] == "+" else -1) * parse_number(word[1:])
    else:
        offset = parse_number(word)
    if not 0 <= offset < size:
        raise ValueError(f"offset {offset:#x} is outside the segment (0 to {size - 1:#x})")
    return offset


def parse_pattern(text: str) -> bytes:
    """The bytes to search for: the text as UTF-8, or hex bytes after x:."""
    if text[:2].lower() == "x:":
        digits = "".join(text[2:].split())
        try:
            pattern = bytes.fromhex(digits)
        except ValueError:
            raise ValueError(f"not hex bytes: {text[2:].strip()!r}") from None
    else:
        pattern = text.encode("utf-8")
    if not pattern:
        raise ValueError(f"type what to search for: {PATTERN_HELP}")
    return pattern


def parse_export(text: str, cursor: int, size: int) -> ExportRequest:
    """FILE [all | START END | START +LENGTH | START] [raw | hex]; START may be relative."""
    try:
        words = shlex.split(text)
    except ValueError as error:
        raise ValueError(f"{error}: {EXPORT_HELP}") from None
    if not words:
        raise ValueError(f"type {EXPORT_HELP}")
    hex_dump = False
    if len(words) > 1 and words[-1].lower() in ("hex", "raw"):
        hex_dump = words.pop().lower() == "hex"
    path, rest = os.path.expanduser(words[0]), words[1:]
    start, end = 0, size
    if rest and rest != ["all"]:
        if len(rest) > 2:
            raise ValueError(f"too many words: {EXPORT_HELP}")
        start = parse_offset(rest[0], cursor, size)
        if len(rest) == 2:
            last = rest[1]
            if last.lower() == "end":
                end = size
            elif last.startswith("+"):
                end = start + parse_number(last[1:])
            else:
                end = parse_number(last)
    if not 0 <= start < end <= size:
        raise ValueError(f"empty or outside range {start:#x}-{end:#x} (segment: {size:#x} bytes)")
    return ExportRequest(path, start, end, hex_dump)
