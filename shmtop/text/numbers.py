"""The number syntax (IPC ids, keys, offsets, counts) the commands and the filter language share.

A number is ASCII only: decimal digits, or `0x` hex, or `0o` octal (prefix in
either case). A leading zero before more digits (`010`) is refused rather than
guessed at: C tools read it as octal, Python refuses it, a person may mean ten.
A `-` sign is read (keys take the signed form, see ipc_key; elsewhere a negative
number is out of range), no `+`, no underscores, no `0b`, no spaces,
no non-ASCII digits (`int()` takes ARABIC-INDIC DIGIT ONE for 1). Each type checks its range
and names it in the error, so a value the kernel would cut or wrap never
reaches a syscall.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable

INT32_MAX = 2**31 - 1
KEY_MAX = 2**32 - 1  # key_t is a C int; shmtop shows keys unsigned (0x00000000..0xffffffff)
OFF_MAX = 2**63 - 1  # off_t: the largest offset pread takes
SYNTAX = "decimal, 0x hex or 0o octal"

_NUMBER = re.compile(r"(-?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0|[1-9][0-9]*)")


def parse_number(text: str) -> int:
    """The integer text spells in the syntax above; ValueError (saying why) otherwise."""
    match = _NUMBER.fullmatch(text)
    if match is None:
        if re.fullmatch(r"-?0[0-9]+", text):
            raise ValueError(f"{text!r} has a leading zero: write 0o... for octal, or drop it")
        raise ValueError(f"not a number: {text!r} ({SYNTAX})")
    value = int(match[2], 0)
    return -value if match[1] else value


def bounded(what: str, low: int, high: int, shown: str | None = None) -> Callable[[str], int]:
    """An argparse type for a number in [low, high]; errors name `what` and the range
    (`shown`, where the range reads better in other words)."""

    def parse(text: str) -> int:
        try:
            value = parse_number(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        if not low <= value <= high:
            span = shown or f"{low} to {high}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: {what} is {span}")
        return value

    parse.__name__ = what  # argparse's fallback messages name the type
    return parse


ipc_id = bounded("an IPC id", 0, INT32_MAX)
byte_offset = bounded("an offset", 0, OFF_MAX)
byte_count = bounded("a length", 0, OFF_MAX)
counted = bounded("a count", 0, INT32_MAX)
line_count = bounded("a number of lines", 1, INT32_MAX)
_key = bounded(
    "a key", -(2**31), KEY_MAX,
    f"0 to {KEY_MAX:#x} ({KEY_MAX}), or {-(2**31)} to -1 as /proc/sysvipc prints it",
)  # fmt: skip


def ipc_key(text: str) -> int:
    """A 32-bit key, returned unsigned: 0..0xffffffff, or the signed form -2**31..-1 that
    /proc/sysvipc prints (-1 is 0xffffffff). Key 0 passes here: the command refuses it."""
    return _key(text) & KEY_MAX
