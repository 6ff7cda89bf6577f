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
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TextIO

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


def leave(code: int) -> None:
    """End the process now with code, its output flushed, leaving its heap as it is: the
    interpreter's exit would free a one-shot command's snapshot and what it was made of
    object by object and walk what is left with the cycle collector (20-70 ms of a `list`
    at the benchmark's workload, bench/bench_oneshot.py), where the kernel frees the whole
    address space at once. Returns, for the interpreter's own exit, under a tracer or
    coverage (they write their results at exit) or when the output cannot be flushed."""
    if sys.gettrace() is not None or "coverage" in sys.modules:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream: the exit says it as ever
        return
    os._exit(code)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _escaped(match: re.Match[str]) -> str:
    """A character as JSON's \\uXXXX (a surrogate pair beyond the BMP), as json.dumps does."""
    code = ord(match.group())
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def encode(document: Any) -> bytes:
    """A document (or any part of one) as compact JSON, ASCII only: untrusted text (process
    names, titles) reaches a terminal escaped, never as raw bidi or C1 control characters.

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
    _write([encode(document), b"\n"], out, flush)


# How much of a streamed document is gathered before it is written.
CHUNK_BYTES = 1 << 20


def emit_streamed(
    document: Struct,
    lists: Mapping[str, Iterable[Any]],
    out: TextIO | None = None,
    *,
    flush: bool = False,
) -> None:
    """emit(document) with each field named in lists holding those records instead, the same
    bytes, written as they are encoded: a list of thousands of objects is never held whole
    (as records or as its JSON), only a chunk of its text. The records may be made lazily,
    and may be given as their encode()d bytes."""
    chunks: list[bytes] = []
    size = 0

    def pieces() -> Iterator[bytes]:
        nonlocal size
        for piece in _streamed_pieces(document, lists):
            chunks.append(piece)
            size += len(piece)
            if size >= CHUNK_BYTES:
                yield b"".join(chunks)
                chunks.clear()
                size = 0
        chunks.append(b"\n")
        yield b"".join(chunks)

    _write(pieces(), out, flush)


def emit_encoded(
    document: Struct, lists: Mapping[str, Iterable[bytes]], out: TextIO | None = None,
    *, flush: bool = False,
) -> None:  # fmt: skip
    """emit_streamed(document, lists) where every record is given as its JSON already (a
    --watch line's, text/watch_records.py): the same bytes, handed to the kernel as they are
    (writev, IOV_MAX pieces a call), never joined or copied here (a steady line of the large
    workload is 9 MB of kept records: the joins were most of its writing)."""
    pieces = list(_streamed_pieces(document, lists, runs=_each_as_it_is))
    pieces.append(b"\n")
    out = sys.stdout if out is None else out
    buffer = getattr(out, "buffer", None)
    try:
        fd = buffer.fileno() if buffer is not None else -1
    except (OSError, ValueError):  # io.UnsupportedOperation is both: a BytesIO below
        fd = -1
    if fd < 0:
        _write(pieces, out, flush)
        return
    out.flush()  # whatever was printed before goes first
    buffer.flush()  # type: ignore[union-attr]  # (fd >= 0: there is a buffer)
    _write_all(fd, pieces)


# Pieces one writev takes at most (Linux's IOV_MAX).
IOV_MAX = 1024


def _write_all(fd: int, pieces: list[bytes]) -> None:
    """Every piece to fd in order, by writev; a short write goes on where it stopped."""
    at = 0
    while at < len(pieces):
        batch = pieces[at : at + IOV_MAX]
        wrote = os.writev(fd, batch)
        for piece in batch:  # whole pieces written
            if wrote < len(piece):
                break
            wrote -= len(piece)
            at += 1
        else:
            continue
        if wrote:  # a piece written in part: the rest of it as a piece of its own
            pieces[at] = pieces[at][wrote:]


def _each_as_it_is(records: Iterable[bytes]) -> Iterator[bytes]:
    return iter(records)


def _streamed_pieces(
    document: Struct,
    lists: Mapping[str, Iterable[Any]],
    runs: Callable[[Iterable[Any]], Iterator[bytes]] | None = None,
) -> Iterator[bytes]:
    """The JSON of document, field by field as msgspec writes a Struct (in order, UNSET ones
    left out), a list of lists one record at a time (runs: how a list's records become its
    comma-separated pieces; _record_runs unless told)."""
    from msgspec import UNSET

    config = document.__struct_config__
    if config.tag is not None or config.omit_defaults or config.array_like:
        raise TypeError(f"{type(document).__name__} is not a plain Struct: emit() it whole")
    sep = b"{"
    for name, field in zip(
        document.__struct_fields__, document.__struct_encode_fields__, strict=True
    ):
        value = getattr(document, name)
        if value is UNSET:
            continue
        head = sep + encode(field) + b":"
        sep = b","
        records = lists.get(name)
        if records is None:
            yield head + encode(value)
            continue
        yield head + b"["
        comma = b""
        for part in (runs or _record_runs)(records):
            if comma:
                yield comma
            yield part
            comma = b","
        yield b"]"
    yield b"}"


# How many records are encoded in one call: making and writing the 6000 records of the
# benchmark's workload took 126 ms CPU in runs of 32 against 158 one call each (medians of
# 21, loaded machine; 8 to 64 alike): msgspec writes a list faster than its records one at
# a time. Much longer runs lose it again (256: as slow as one call each), the run's records
# outgrowing the caches between being made and written.
RUN_RECORDS = 32


def _record_runs(records: Iterable[Any]) -> Iterator[bytes]:
    """The JSON of records, comma-separated, a run at a time: each run of Structs encoded
    as one list (the same bytes as each encoded alone, joined by commas: JSON's lists are
    so written, by msgspec and by the json fallback of encode()); a record given as its
    JSON already (text/watch_records.py) as it is."""
    run: list[Any] = []
    encoded: list[bytes] = []  # a run of records given as JSON, joined as one piece too
    for record in records:
        if type(record) is bytes:
            if run:
                yield encode(run)[1:-1]
                run = []
            encoded.append(record)
            if len(encoded) >= RUN_RECORDS:
                yield b",".join(encoded)
                encoded = []
            continue
        if encoded:
            yield b",".join(encoded)
            encoded = []
        run.append(record)
        if len(run) >= RUN_RECORDS:
            yield encode(run)[1:-1]
            run = []
    if run:
        yield encode(run)[1:-1]
    if encoded:
        yield b",".join(encoded)


def _write(data: Iterable[bytes], out: TextIO | None, flush: bool) -> None:
    """Bytes of a document to out (default: the stdout of the moment of the call)."""
    out = sys.stdout if out is None else out
    buffer = getattr(out, "buffer", None)
    if buffer is None:  # a text stream without bytes below (a test's StringIO)
        for piece in data:
            out.write(piece.decode("ascii"))
    else:
        out.flush()  # whatever was printed before goes first
        for piece in data:
            buffer.write(piece)
    if flush:
        (buffer or out).flush()
