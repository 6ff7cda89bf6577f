"""cli/output.emit_encoded (a --watch line's writer): the bytes emit_streamed writes for the
same records, to a real descriptor by writev (a short write goes on where it stopped) and
to a stream without one."""

from __future__ import annotations

import io
import os
import threading

import msgspec
import pytest

from shmtop.cli import output


class Doc(msgspec.Struct):
    schema_version: str
    items: list[int]
    others: list[int]
    note: str = "x"


RECORDS = [output.encode({"n": n, "pad": "y" * (n % 50)}) for n in range(3000)]
OTHERS = [output.encode(n) for n in range(5)]


def expected() -> bytes:
    written = io.BytesIO()
    out = io.TextIOWrapper(written, encoding="ascii")
    output.emit_streamed(Doc("1", [], []), {"items": RECORDS, "others": OTHERS}, out)
    out.flush()
    return written.getvalue()


def through_a_pipe() -> bytes:
    """What emit_encoded writes to stdout-like text stream over a real pipe."""
    read_end, write_end = os.pipe()
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(_read_all(read_end)))
    reader.start()
    with open(write_end, "w", encoding="ascii") as out:
        out.write("")  # something buffered before: flushed first
        output.emit_encoded(Doc("1", [], []), {"items": RECORDS, "others": OTHERS}, out)
    reader.join(timeout=60)
    os.close(read_end)
    return got[0]


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    return b"".join(chunks)


def test_the_same_bytes_as_emit_streamed_over_a_pipe() -> None:
    assert through_a_pipe() == expected()
    assert expected().endswith(b'],"note":"x"}\n')
    assert msgspec.json.decode(expected())["items"][2999]["n"] == 2999


def test_short_writes_go_on_where_they_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel may take part of a writev (a signal, a socket's timeout): each call here
    takes at most 5000 bytes of what it is given, cutting pieces in the middle."""
    real = os.writev
    calls = []

    def short(fd: int, pieces: list[bytes]) -> int:
        calls.append(len(pieces))
        taken, left = [], 5000
        for piece in pieces:
            taken.append(piece[:left])
            left -= len(taken[-1])
            if not left:
                break
        return real(fd, taken)

    monkeypatch.setattr(os, "writev", short)  # (output calls os.writev at each write)
    assert through_a_pipe() == expected()
    assert len(calls) > 10


def test_a_stream_without_a_descriptor_gets_the_same_text() -> None:
    text = io.StringIO()
    output.emit_encoded(Doc("1", [], []), {"items": RECORDS, "others": OTHERS}, text)
    assert text.getvalue().encode() == expected()
    written = io.BytesIO()
    out = io.TextIOWrapper(written, encoding="ascii")  # a buffer without a fileno
    output.emit_encoded(Doc("1", [], []), {"items": RECORDS, "others": OTHERS}, out, flush=True)
    assert written.getvalue() == expected()
