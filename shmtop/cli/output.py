"""How every command ends, defined once: exit codes, the one-line error, JSON documents.

commands.py and debug.py raise CliError for a mistake or a failure and hand their JSON to
emit(); run() turns what a handler did into the exit code. msgspec is imported by emit()
alone: the commands that print tables never load it.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from msgspec import Struct

EXIT_OK = 0
EXIT_ERROR = 1  # the command failed: no such object, permission denied, unreadable tables
EXIT_USAGE = 2  # the command line is wrong (argparse uses 2 as well)
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT (but --watch: that is its end)


class CliError(Exception):
    """A one-line message for the user, and the exit code that goes with it."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def say_error(message: str) -> None:
    """The one error line on stderr, `shmtop: message` (also for each failure of several)."""
    print(f"shmtop: {message}", file=sys.stderr)


def run(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one command: its exit code; a CliError as its line and code; a closed pipe
    quietly (0: the reader is done, not our error); Ctrl-C 130."""
    try:
        code = handler(args)
        sys.stdout.flush()  # here, where a closed pipe is caught, not at exit
        return code
    except CliError as error:
        say_error(str(error))
        return error.code
    except BrokenPipeError:
        # Output piped to head and the like; stdout to /dev/null so the exit's flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _escaped(match: re.Match[str]) -> str:
    """A character as JSON's \\uXXXX (a surrogate pair beyond the BMP), as json.dumps does."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def encode(document: Struct) -> bytes:
    """A document as compact JSON, ASCII only: untrusted text (process names, titles) reaches
    a terminal escaped, never as raw bidi or C1 control characters.

    msgspec writes UTF-8; the rare document with non-ASCII text has it escaped after, and one
    whose text cannot be UTF-8 at all (a lone surrogate from an undecodable command line)
    goes through json, which escapes those too."""
    import msgspec

    try:
        data = msgspec.json.encode(document)
    except UnicodeEncodeError:
        import json

        return json.dumps(msgspec.to_builtins(document), separators=(",", ":")).encode()
    if data.isascii():
        return data
    return _NON_ASCII.sub(_escaped, data.decode("utf-8")).encode("ascii")


def emit(document: Struct, out: TextIO | None = None, *, flush: bool = False) -> None:
    """One document on one line of out (default: the stdout of the moment of the call)."""
    out = sys.stdout if out is None else out
    data = encode(document) + b"\n"
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # a text stream without bytes below (a test's StringIO)
        out.write(data.decode("ascii"))
    else:
        out.flush()  # whatever was printed before goes first
        buffer.write(data)
    if flush:
        (buffer or out).flush()
