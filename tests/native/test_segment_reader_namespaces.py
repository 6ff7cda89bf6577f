"""SegmentReader.through_process(namespace=INODE): another IPC namespace's segment read
through a mapper of that namespace, never through a mapping of a same-id segment of
another one (ids, and so the maps lines' inodes, repeat across namespaces).

A real child maps one of our segments, then moves to an IPC namespace of its own
(unshare(CLONE_NEWIPC) keeps its mappings), makes there a segment of the same id and
another size and maps it too: its ns/ipc link names the new namespace, yet one of its
mappings is of ours. The reader must take the new one."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import helpers
import pytest
from helpers import MakeShm

from shmtop.core.binding import native
from shmtop.core.binding._native import ffi
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.segment.segment_reader import CannotRead, ReadPath, SegmentReader

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="unshare and map_files: root")
OURS, THEIRS = b"OUR SEGMENT", b"the moved child's own segment"

_CHILD = r"""
import ctypes, json, os, sys
from shmtop.core.binding import native
from shmtop.core.binding._native import ffi, lib
ours = int(sys.argv[1])
low = lib.shmat(ours, ffi.cast("void *", 0x200000000), 0)  # ours, first in its maps
assert int(ffi.cast("uintptr_t", low)) == 0x200000000
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x08000000) != 0:           # CLONE_NEWIPC: its mappings stay
    raise OSError(ctypes.get_errno(), "unshare")
with open("/proc/sys/kernel/shm_next_id", "w") as knob:
    knob.write(str(ours))                   # the new namespace's next id: the same
theirs = native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600)
address = native.shmat(theirs, 0)
data = sys.argv[2].encode()
ctypes.memmove(int(ffi.cast("uintptr_t", address)), data, len(data))
inode = os.stat("/proc/self/ns/ipc").st_ino
print(json.dumps({"pid": os.getpid(), "inode": inode, "theirs": theirs}), flush=True)
sys.stdin.read()
"""


@pytest.fixture
def moved(make_shm: MakeShm) -> Iterator[dict[str, Any]]:
    ours = make_shm(size=8192)
    address = native.shmat(ours, 0)
    try:
        ctypes.memmove(int(ffi.cast("uintptr_t", address)), OURS, len(OURS))
    finally:
        native.shmdt(address)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(ours), THEIRS.decode()],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line, f"the child failed (exit {child.wait()})"
        yield {**json.loads(line), "ours": ours}
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(timeout=helpers.PATIENCE)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def test_through_a_mapper_of_the_segments_namespace_not_a_same_id_twin(
    moved: dict[str, Any],
) -> None:
    assert moved["theirs"] == moved["ours"]  # the same id in two namespaces
    thread = JoinedThread(moved["pid"], moved["inode"])
    try:
        reader = thread.run(
            lambda: SegmentReader.through_process(moved["theirs"], namespace=moved["inode"])
        )
    finally:
        thread.close()
    with reader:
        assert reader.path is ReadPath.PROCESS and reader.pid == moved["pid"]
        assert reader.size == 4096
        assert reader.read(0, len(THEIRS)) == THEIRS


def test_from_our_namespace_the_moved_child_is_no_mapper_of_ours(moved: dict[str, Any]) -> None:
    with pytest.raises(CannotRead, match="no other process has it attached"):
        SegmentReader.through_process(moved["ours"])  # its ns/ipc is no longer ours
