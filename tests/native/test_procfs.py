"""The C parsers of the binding (tables, maps, stat) against the Python ones on captured text
(tests/samples; the Python parsers alone: tests/unit/test_procfs_text.py) and real /proc files."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
from paths import sample

from shmtop.core.binding import native
from shmtop.core.snapshot import procfs

SHM_DEST = 0o1000
SHM_LOCKED = 0o2000


# ---- the C parser (native.parse_columns) must agree with the Python one ----


@pytest.mark.parametrize("name", ["shm-6.18.txt", "shm-old.txt", "sem-6.18.txt", "msg-6.18.txt"])
def test_c_parser_equals_python_parser(name: str) -> None:
    text = sample(name)
    columns = procfs.header_columns(text)
    c_rows = native.parse_columns(text.encode(), procfs.column_bases(columns))
    key = columns.index("key")
    masked = [
        {col: (value & 0xFFFFFFFF if index == key else value)
         for index, (col, value) in enumerate(zip(columns, row, strict=True))}
        for row in c_rows
    ]  # fmt: skip

    assert masked == procfs.parse_sysvipc(text)
    assert len(c_rows) == len(text.splitlines()) - 1
    # The C parser does not mask: it hands back the signed key the kernel printed
    # (every sample has a negative one).
    assert any(row[key] < 0 for row in c_rows)


def test_c_parser_skips_columns_it_was_not_asked_for() -> None:
    text = sample("shm-6.18.txt")
    columns = procfs.header_columns(text)
    assert columns[-2:] == ["rss", "swap"]
    first = len(columns) - 2  # ask only for the columns an old kernel has

    short = native.parse_columns(text.encode(), procfs.column_bases(columns)[:first])
    full = native.parse_columns(text.encode(), procfs.column_bases(columns))

    assert short == [row[:first] for row in full]
    assert [row[columns.index("shmid")] for row in short] == [0, 1, 2, 3, 4]


def test_c_parser_reads_perms_in_octal() -> None:
    text = sample("shm-6.18.txt")
    columns = procfs.header_columns(text)
    perms = [row[columns.index("perms")] for row in
             native.parse_columns(text.encode(), procfs.column_bases(columns))]  # fmt: skip
    assert perms == [0o600, 0o640, 0o666, SHM_DEST | 0o600, SHM_LOCKED | 0o600]


def test_c_parser_rejects_a_short_last_line() -> None:
    lines = sample("sem-6.18.txt").splitlines()
    truncated = "\n".join([lines[0], lines[1], lines[2].rsplit(" ", 1)[0]]) + "\n"
    with pytest.raises(ValueError, match="fewer numbers"):
        native.parse_columns(truncated.encode(), [10, 10, 8, *[10] * 7])


def test_c_parser_rejects_a_short_line_in_the_middle() -> None:
    lines = sample("sem-6.18.txt").splitlines()
    truncated = "\n".join([lines[0], lines[1].rsplit(" ", 1)[0], lines[2]]) + "\n"
    try:
        rows = native.parse_columns(truncated.encode(), [10, 10, 8, *[10] * 7])
    except ValueError:
        return
    pytest.fail(f"a short line was parsed into {rows!r} instead of being rejected")


# ---- the scan's own C text reader (native.parse_maps_fd) on crafted text ----

SYSV_LINE = "7f1000040000-7f1000041000 r--s 00000000 00:01 32769    /SYSV00000000 (deleted)\n"
SYSV_ROW = (4242, 0x7F1000040000, 0x7F1000041000, 0, 32769)
OTHER_LINE = "7f1000060000-7f1000062000 rw-s 00000000 00:01 7        /SYSVdeadbeef (deleted)\n"
OTHER_ROW = (4242, 0x7F1000060000, 0x7F1000062000, 1, 7)
# Read sizes that cut lines everywhere: one byte, odd sizes, the carry limit,
# a page, and the scan's own (0).
CHUNKS = [1, 7, 64, 100, native.MAPS_LINE_MAX, native.MAPS_LINE_MAX + 1, 4096, 0]


def c_rows(text: bytes, tmp_path: Path, chunk: int, pid: int = 4242) -> list[native.MapRow]:
    """What the scan's text reader makes of text read from a file, chunk bytes a read."""
    path = tmp_path / "maps"
    path.write_bytes(text)
    fd = os.open(path, os.O_RDONLY)
    try:
        return native.parse_maps_fd(fd, pid, chunk=chunk)
    finally:
        os.close(fd)


def python_rows(text: str, pid: int = 4242) -> list[tuple[int, ...]]:
    return [(pid, m.start, m.end, int(m.writable), m.shmid)
            for m in procfs.parse_sysv_mappings(text)]  # fmt: skip


@pytest.mark.parametrize("chunk", CHUNKS)
@pytest.mark.parametrize("name", ["maps-6.18.txt", "maps-decoys.txt"])
def test_c_maps_reader_equals_python_parser(name: str, chunk: int, tmp_path: Path) -> None:
    text = sample(name)
    rows = c_rows(text.encode(), tmp_path, chunk)

    assert rows == python_rows(text)
    assert len(rows) == 2


def test_c_maps_reader_from_a_pipe_written_in_pieces() -> None:
    text = (sample("maps-6.18.txt") * 40).encode()  # larger than a pipe holds at once
    read_end, write_end = os.pipe()

    def write() -> None:
        with os.fdopen(write_end, "wb", buffering=0) as pipe:
            for at in range(0, len(text), 333):
                pipe.write(text[at : at + 333])

    writer = threading.Thread(target=write)
    writer.start()
    try:
        rows = native.parse_maps_fd(read_end, 4242)
    finally:
        writer.join()
        os.close(read_end)

    assert rows == python_rows(sample("maps-6.18.txt")) * 40


@pytest.mark.parametrize("chunk", CHUNKS)
def test_an_over_long_line_is_skipped_to_its_newline(chunk: int, tmp_path: Path) -> None:
    # An over-long line whose tail is a perfect segment line: read from its middle
    # (the old reader dropped the carried part and parsed on from the next read) it
    # would invent one. Lengths: the first read boundaries past the carry limit
    # (where that reader dropped what it carried), and a few others.
    size = chunk or native.MAPS_READ
    beyond = size * (native.MAPS_LINE_MAX // size + 1)
    tail = SYSV_LINE.replace("32769", "11111")
    head = "7f10000f0000-7f10000f1000 r--p 00000000 fe:00 99 /"
    for length in sorted({beyond, beyond + size, beyond + 2 * size, 1000, 5000, 70000}):
        long_line = head + "x" * (length - len(head)) + tail
        rows = c_rows((long_line + OTHER_LINE + SYSV_LINE).encode(), tmp_path, chunk)
        assert rows == [OTHER_ROW, SYSV_ROW], f"a line of {len(long_line)} bytes"
    assert python_rows(long_line + OTHER_LINE) == [OTHER_ROW]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # no inode field: the number of the next line must not be taken for it
        (
            "7f1000040000-7f1000041000 rw-s 00000000 00:01 \n4242   /SYSV00000000 (deleted)\n",
            "no inode",
        ),
        (
            "7f1000040000-7f1000041000 rw-s 00000000 00:01\n4242 /SYSV00000000 (deleted)\n",
            "no inode, no space",
        ),
        ("7f1000040000-7f1000041000 rw-s 00000000 00:01 +42 /SYSV00000000 (deleted)\n", "sign"),
        ("7f1000040000-7f1000041000 rw-s 00000000 :01 42 /SYSV00000000 (deleted)\n", "no major"),
        ("7f1000040000-7f1000041000 rw-s  00:01 42 /SYSV00000000 (deleted)\n", "no offset"),
        ("-7f1000041000 rw-s 00000000 00:01 42 /SYSV00000000 (deleted)\n", "no start"),
        ("7f1000040000- rw-s 00000000 00:01 42 /SYSV00000000 (deleted)\n", "no end"),
        ("7f1000040000-7f1000041000 rw-s 00000000 00:01 42 /SYSV0000000 (deleted)\n", "7 digits"),
        ("7f1000040000-7f1000041000 rw-s 00000000 00:01 42 /SYSV00000000 (deleted)x\n", "suffix"),
    ],
)
def test_malformed_maps_lines_are_no_attachments(text: str, why: str, tmp_path: Path) -> None:
    for chunk in CHUNKS:
        assert c_rows(text.encode(), tmp_path, chunk) == [], why
    assert python_rows(text) == [], why


def test_a_last_line_without_its_newline_was_cut_short(tmp_path: Path) -> None:
    # The kernel ends every maps line with a newline; the C reader, which sees the
    # text as reads bring it, does not trust a line the file ended inside of.
    text = SYSV_LINE + OTHER_LINE.rstrip("\n")
    for chunk in CHUNKS:
        assert c_rows(text.encode(), tmp_path, chunk) == [SYSV_ROW]


def test_every_truncation_of_a_segment_line_parses_as_python_does(tmp_path: Path) -> None:
    line = SYSV_LINE.rstrip("\n")
    whole = [n for n in range(len(line) + 1) if python_rows(line[:n] + "\n")]

    for n in range(len(line) + 1):
        cut = line[:n] + "\n"
        assert c_rows(cut.encode(), tmp_path, 0) == python_rows(cut), repr(cut)
    # Only the line itself and the line without " (deleted)" are whole lines.
    assert whole == [len(line) - len(" (deleted)"), len(line)]


# ---- the C /proc/PID/stat parser of process_facts (native.parse_stat) ----

STAT = (
    "4242 ({comm}) S 1 4242 4242 0 -1 4194560 120 0 0 0 1 2 0 0 20 0 1 0 987654 "
    "12345678 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
)


@pytest.mark.parametrize("comm", ["python3", "a b", "a) (b", ")", "x) S 1 2 3 (", ""])
def test_stat_comm_ends_at_the_last_parenthesis(comm: str) -> None:
    assert native.parse_stat(STAT.format(comm=comm).encode()) == (0, comm.encode(), 987654)


def test_stat_comm_is_cut_to_fifteen_bytes() -> None:
    assert native.parse_stat(STAT.format(comm="c" * 40).encode()) == (0, b"c" * 15, 987654)


def test_every_truncation_of_a_stat_line_is_refused_until_starttime_is_whole() -> None:
    text = STAT.format(comm="a) b").encode()
    whole = text.index(b" 987654 ") + len(b" 987654 ")  # starttime and the space after it

    for n in range(len(text) + 1):
        expected = (0, b"a) b", 987654) if n >= whole else (errno.EPROTO, b"", 0)
        assert native.parse_stat(text[:n]) == expected, text[:n]


@pytest.mark.parametrize(
    "text",
    [b"4242 (name)", b"4242 (name) ", b"4242 name) S 1", b"4242 (name S 1", b"(", b")(",
     b"4242 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 -5 20 ",
     b"4242 (x) S  1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 "],
)  # fmt: skip
def test_malformed_stat_text_is_a_protocol_error(text: bytes) -> None:
    assert native.parse_stat(text) == (errno.EPROTO, b"", 0)


def test_stat_parser_agrees_with_the_real_proc_files() -> None:
    for pid in (os.getpid(), 1):
        raw = Path(f"/proc/{pid}/stat").read_bytes()
        comm = raw[raw.index(b"(") + 1 : raw.rindex(b")")]
        start = int(raw[raw.rindex(b")") + 2 :].split()[19])
        [(number, name, ticks, _uid, _title)] = native.process_facts([pid])

        assert native.parse_stat(raw) == (0, comm[:15], start) == (number, name, ticks)
