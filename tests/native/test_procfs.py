"""The pure /proc parsers on captured text (tests/samples), and the C table parser against them."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
from paths import SAMPLES

from shmtop.core.binding import native
from shmtop.core.snapshot import procfs
from shmtop.core.snapshot.procfs import SysvMapping

SHM_DEST = 0o1000
SHM_LOCKED = 0o2000
CREATOR, CHILD, CTIME = 15559, 15560, 1795723380


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="ascii")


def by_id(rows: list[dict[str, int]], column: str) -> dict[int, dict[str, int]]:
    return {row[column]: row for row in rows}


# ---- /proc/sysvipc tables ----


def test_current_shm_table_parses_by_header_with_rss_and_swap() -> None:
    rows = by_id(procfs.parse_sysvipc(sample("shm-6.18.txt")), "shmid")

    assert sorted(rows) == [0, 1, 2, 3, 4]
    assert rows[1] == {
        "key": 0xDEADBEEF, "shmid": 1, "perms": 0o640, "size": 8192, "cpid": CREATOR,
        "lpid": CHILD, "nattch": 1, "uid": 0, "gid": 0, "cuid": 0, "cgid": 0,
        "atime": CTIME, "dtime": 0, "ctime": CTIME, "rss": 4096, "swap": 0,
    }  # fmt: skip
    assert rows[0]["rss"] == 0  # never touched: no resident page


def test_negative_keys_come_out_as_unsigned_32_bits() -> None:
    shm = by_id(procfs.parse_sysvipc(sample("shm-6.18.txt")), "shmid")
    sem = by_id(procfs.parse_sysvipc(sample("sem-6.18.txt")), "semid")
    msg = by_id(procfs.parse_sysvipc(sample("msg-6.18.txt")), "msqid")
    old = by_id(procfs.parse_sysvipc(sample("shm-old.txt")), "shmid")

    assert "-559038737" in sample("shm-6.18.txt")  # the kernel really prints keys signed
    assert shm[1]["key"] == 0xDEADBEEF
    assert shm[2]["key"] == 0xFFFFFFFF
    assert sem[1]["key"] == 0xDEADBEEF
    assert msg[1]["key"] == 0xFFFFFFFF
    assert [old[i]["key"] for i in (32768, 65537, 98306)] == [1234, 0xFFFFFFFF, 0xDEADBEEF]


def test_removed_but_attached_segment_has_key_0_and_dest() -> None:
    rows = by_id(procfs.parse_sysvipc(sample("shm-6.18.txt")), "shmid")

    removed = rows[3]  # created with key 0x0badc0de, attached read-only, then IPC_RMID
    assert removed["key"] == 0
    assert removed["perms"] == SHM_DEST | 0o600
    assert removed["nattch"] == 1
    assert removed["lpid"] == CHILD
    assert rows[4]["perms"] == SHM_LOCKED | 0o600  # SHM_LOCK shows in perms too
    assert not rows[1]["perms"] & (SHM_DEST | SHM_LOCKED)


def test_old_kernel_shm_table_without_rss_and_swap() -> None:
    table = sample("shm-old.txt")
    rows = by_id(procfs.parse_sysvipc(table), "shmid")

    assert "rss" not in procfs.header_columns(table)
    assert all("rss" not in row and "swap" not in row for row in rows.values())
    assert rows[32768] == {
        "key": 1234, "shmid": 32768, "perms": 0o666, "size": 1048576, "cpid": 812,
        "lpid": 977, "nattch": 2, "uid": 1000, "gid": 1000, "cuid": 1000, "cgid": 1000,
        "atime": 1400000100, "dtime": 1400000050, "ctime": 1400000000,
    }  # fmt: skip
    assert rows[65537]["perms"] == SHM_DEST | 0o600
    assert rows[98306]["perms"] == SHM_LOCKED | 0o640
    assert (rows[98306]["gid"], rows[98306]["cgid"]) == (33, 33)


def test_semaphore_table() -> None:
    rows = by_id(procfs.parse_sysvipc(sample("sem-6.18.txt")), "semid")

    assert rows[0] == {
        "key": 0, "semid": 0, "perms": 0o600, "nsems": 3, "uid": 0, "gid": 0, "cuid": 0,
        "cgid": 0, "otime": 0, "ctime": CTIME,
    }  # fmt: skip
    assert (rows[1]["perms"], rows[1]["nsems"]) == (0o644, 1)


def test_message_queue_table() -> None:
    rows = by_id(procfs.parse_sysvipc(sample("msg-6.18.txt")), "msqid")

    assert rows[0] == {
        "key": 0, "msqid": 0, "perms": 0o600, "cbytes": 12, "qnum": 2, "lspid": CREATOR,
        "lrpid": 0, "uid": 0, "gid": 0, "cuid": 0, "cgid": 0, "stime": CTIME, "rtime": 0,
        "ctime": CTIME,
    }  # fmt: skip
    assert (rows[1]["perms"], rows[1]["qnum"], rows[1]["cbytes"]) == (0o620, 0, 0)


def test_columns_are_found_by_name_not_position() -> None:
    # A later kernel adding a column in the middle must not shift the others.
    lines = sample("msg-6.18.txt").splitlines()
    moved = [line.replace(" qnum", " qnum  future", 1) for line in lines[:1]]
    moved += [" ".join([*line.split()[:5], "77", *line.split()[5:]]) for line in lines[1:]]
    rows = by_id(procfs.parse_sysvipc("\n".join(moved) + "\n"), "msqid")

    assert rows[0]["future"] == 77
    assert (rows[0]["qnum"], rows[0]["lspid"], rows[0]["ctime"]) == (2, CREATOR, CTIME)


def test_short_line_is_an_error_not_a_shifted_row() -> None:
    lines = sample("sem-6.18.txt").splitlines()
    truncated = "\n".join([lines[0], lines[1].rsplit(" ", 1)[0], lines[2]]) + "\n"
    with pytest.raises(ValueError, match="short"):
        procfs.parse_sysvipc(truncated)


def test_header_and_bases() -> None:
    columns = procfs.header_columns(sample("sem-6.18.txt").encode())
    assert columns[:3] == ["key", "semid", "perms"]
    assert procfs.column_bases(columns) == [10, 10, 8, 10, 10, 10, 10, 10, 10, 10]
    assert procfs.parse_sysvipc("") == []
    assert procfs.parse_sysvipc(sample("sem-6.18.txt").splitlines()[0]) == []


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


# ---- /proc/PID/maps ----


def test_captured_maps_yield_the_two_attachments_joined_by_inode() -> None:
    mappings = procfs.parse_sysv_mappings(sample("maps-6.18.txt"))

    assert mappings == [
        SysvMapping(start=0x7FF01DF2F000, end=0x7FF01DF3F000, readable=True, writable=False,
                    device=(0, 1), shmid=3),
        SysvMapping(start=0x7FF01ED65000, end=0x7FF01ED67000, readable=True, writable=True,
                    device=(0, 1), shmid=1),
    ]  # fmt: skip
    # The name of shmid 3 still carries its creation key; the table says 0: the
    # inode, not the name, is what ties the mapping to the segment.
    assert "/SYSV0badc0de (deleted)" in sample("maps-6.18.txt")
    table = by_id(procfs.parse_sysvipc(sample("shm-6.18.txt")), "shmid")
    assert table[3]["key"] == 0
    assert mappings[1].end - mappings[1].start == table[1]["size"]


def test_decoys_are_not_attachments() -> None:
    mappings = procfs.parse_sysv_mappings(sample("maps-decoys.txt"))

    assert [(m.shmid, m.writable, m.readable) for m in mappings] == [
        (7, True, True),
        (2147483647, False, True),
    ]


@pytest.mark.parametrize(
    "line",
    [
        # a regular file on a disk (major 0xfe) that happens to be named like a segment
        "7f1000000000-7f1000001000 rw-s 00000000 fe:00 123456   /SYSVdeadbeef",
        "7f1000010000-7f1000011000 rw-s 00000000 fe:00 123457   /SYSV0badc0de (deleted)",
        # a private mapping is not an attachment
        "7f1000020000-7f1000021000 rw-p 00000000 00:01 5        /SYSV00000000 (deleted)",
        # a POSIX shm file on tmpfs
        "7f1000030000-7f1000032000 rw-s 00000000 00:1a 77       /dev/shm/SYSV00000000",
        # names that only look alike
        "7f1000030000-7f1000032000 rw-s 00000000 00:01 77       /SYSV0000 (deleted)",
        "7f1000030000-7f1000032000 rw-s 00000000 00:01 77       /SYSV0000000g (deleted)",
        "7f1000050000-7f1000051000 rw-p 00000000 00:00 0 ",
        "not a maps line",
    ],
)
def test_single_decoy_lines(line: str) -> None:
    assert procfs.parse_sysv_mapping(line) is None


def test_single_attachment_line() -> None:
    line = "7f1000040000-7f1000041000 r--s 00000000 00:01 32769    /SYSV00000000 (deleted)\n"
    assert procfs.parse_sysv_mapping(line) == SysvMapping(
        start=0x7F1000040000, end=0x7F1000041000, readable=True, writable=False,
        device=(0, 1), shmid=32769,
    )  # fmt: skip


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
