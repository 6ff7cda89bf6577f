"""A shared mapping of a file whose path is longer than PATH_MAX (4096 bytes, reachable by
relative paths in a deep tree) on both maps readers: the kernel cannot give PROCMAP_QUERY
that path (ENAMETOOLONG) and the text line outgrows the reader's line bound. Neither may
cost the process its other rows (its System V attachment), and the file row is kept: its
device and inode (what the POSIX join uses), the start of its path where the text gives it,
and whether the file was unlinked."""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import helpers
import pytest
from helpers import MakeShm
from maps_reader import MapsReader

from shmtop.core.binding import native

DEPTH = 40  # directories of 120 bytes: a path of ~4.9 KiB
PART = "d" * 120

# The child: walk the tree by relative opens, map its file shared, attach the segment, say
# where both are, then wait for a line on stdin (unlink the file), and for EOF.
CHILD = r"""
import ctypes, mmap, os, sys
root, shmid = sys.argv[1], int(sys.argv[2])
fd = os.open(root, os.O_RDONLY)
for _ in range(int(sys.argv[3])):
    step = os.open(sys.argv[4], os.O_RDONLY, dir_fd=fd); os.close(fd); fd = step
file = os.open("f", os.O_RDWR | os.O_CREAT, 0o600, dir_fd=fd)
os.ftruncate(file, 8192)
mapping = mmap.mmap(file, 8192, mmap.MAP_SHARED)
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
address = libc.shmat(shmid, None, 0)
if address == ctypes.c_void_p(-1).value:
    raise SystemExit("shmat failed: errno %d" % ctypes.get_errno())
info = os.fstat(file)
print(info.st_dev, info.st_ino, flush=True)
sys.stdin.readline()
os.unlink("f", dir_fd=fd)
print("unlinked", flush=True)
sys.stdin.read()
"""


class Mapper(NamedTuple):
    """The child, the segment it attached and the (device, inode) of the file it maps."""

    process: subprocess.Popen[str]
    shmid: int
    dev: int
    inode: int
    path: str  # the file's whole path, as maps prints it


@pytest.fixture
def deep_tree() -> Iterator[Path]:
    """A directory tree on /dev/shm (tmpfs) whose leaf's path is longer than PATH_MAX."""
    root = Path(tempfile.mkdtemp(prefix="shmtop-long-", dir="/dev/shm"))
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(DEPTH):
            os.mkdir(PART, dir_fd=fd)
            step = os.open(PART, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = step
    finally:
        os.close(fd)
    yield root
    # rmtree walks by relative fds too (shutil.rmtree's fd-based walk): no path is too long
    shutil.rmtree(root)


@pytest.fixture
def mapper(deep_tree: Path, make_shm: MakeShm) -> Iterator[Mapper]:
    shmid = make_shm()
    process = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(deep_tree), str(shmid), str(DEPTH), PART],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line, "the child died before it mapped its file"
        dev, inode = map(int, line.split())
        yield Mapper(process, shmid, dev, inode, str(deep_tree) + f"/{PART}" * DEPTH + "/f")
    finally:
        process.kill()
        process.wait(timeout=helpers.PATIENCE)


def rows_of(mapper: Mapper) -> native.SharedMapsScan:
    return native.scan_shared_maps([mapper.process.pid], [mapper.dev])


def test_the_path_is_really_longer_than_path_max(mapper: Mapper) -> None:
    lines = Path(f"/proc/{mapper.process.pid}/maps").read_text().splitlines()
    shared = [line for line in lines if f" {mapper.inode} " in line and " rw-s " in line]
    assert len(shared) == 1
    assert len(shared[0]) > os.pathconf("/", "PC_PATH_MAX") + 128  # past the line bound too


def test_a_too_long_path_costs_no_row(mapper: Mapper, maps_reader: MapsReader) -> None:
    scan = rows_of(mapper)

    assert scan.sysv.failures == {} and scan.files.failures == {}
    assert [row.shmid for row in scan.sysv.rows] == [mapper.shmid]
    [row] = [row for row in scan.files.rows if row.inode == mapper.inode]
    assert (row.dev, row.writable, row.deleted, row.end - row.start) == (mapper.dev, 1, 0, 8192)
    assert row.name_length >= os.pathconf("/", "PC_PATH_MAX")
    if maps_reader.name == native.TEXT:
        # the text gives the path: its start is kept (PROCMAP_QUERY's kernel gives none)
        assert row.name == mapper.path.encode()[: native.FMAP_NAME - 1]
        assert row.name_length == len(mapper.path)
    else:
        assert row.name == b""


def test_an_unlinked_long_path_is_seen_unlinked(mapper: Mapper, maps_reader: MapsReader) -> None:
    unlink_in(mapper)

    scan = rows_of(mapper)

    [row] = [row for row in scan.files.rows if row.inode == mapper.inode]
    assert row.deleted == 1
    assert [row.shmid for row in scan.sysv.rows] == [mapper.shmid]


def parse_in_pieces(text: bytes, cuts: list[int], mapper: Mapper) -> list[native.FileMapRow]:
    """The text reader on text that arrives in reads ending exactly at cuts: each piece is
    one packet of a SOCK_SEQPACKET pair, and a read of such a socket returns one packet."""
    reader, writer = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    bounds = [0, *sorted(set(cuts) - {0, len(text)}), len(text)]

    def write() -> None:
        with writer:
            for start, end in itertools.pairwise(bounds):
                writer.send(text[start:end])

    sending = threading.Thread(target=write)
    sending.start()
    try:
        return native.parse_file_maps_fd(reader.fileno(), mapper.process.pid, [mapper.dev])
    finally:
        sending.join()
        reader.close()


def unlink_in(mapper: Mapper) -> None:
    assert mapper.process.stdin is not None and mapper.process.stdout is not None
    mapper.process.stdin.write("unlink\n")
    mapper.process.stdin.flush()
    assert mapper.process.stdout.readline().strip() == "unlinked"


@pytest.mark.parametrize("unlinked", [False, True], ids=["linked", "unlinked"])
@pytest.mark.parametrize("where", ["every 333 bytes", "in the suffix", "after the prefix"])
def test_the_text_reader_keeps_a_long_line_that_spans_reads(
    mapper: Mapper, unlinked: bool, where: str
) -> None:
    # The child's real maps text in pieces, so that the long line arrives in several reads
    # (a maps file read whole fits the buffer: the line never meets the line bound).
    if unlinked:
        unlink_in(mapper)
    text = Path(f"/proc/{mapper.process.pid}/maps").read_bytes()
    line_end = text.index(b"\n", text.index(f" {mapper.inode} ".encode()))
    cuts = {
        "every 333 bytes": list(range(333, len(text), 333)),
        "in the suffix": [line_end - 5 - 4096, line_end - 5],  # " (del" | "eted)"
        "after the prefix": [text.rindex(b"\n", 0, line_end) + 120],
    }[where]

    rows = parse_in_pieces(text, cuts, mapper)

    [row] = [row for row in rows if row.inode == mapper.inode]
    assert (row.dev, row.writable, row.end - row.start) == (mapper.dev, 1, 8192)
    assert row.deleted == int(unlinked)
    assert row.name == mapper.path.encode()[: native.FMAP_NAME - 1]
    assert row.name_length == len(mapper.path) + len(" (deleted)") * unlinked
