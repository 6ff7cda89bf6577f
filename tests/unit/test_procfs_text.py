"""The pure /proc parsers (core.snapshot.procfs) on captured text (tests/samples)."""

from __future__ import annotations

import pytest
from paths import sample

from shmtop.core.snapshot import procfs
from shmtop.core.snapshot.procfs import SysvMapping

SHM_DEST = 0o1000
SHM_LOCKED = 0o2000
CREATOR, CHILD, CTIME = 15559, 15560, 1795723380


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
