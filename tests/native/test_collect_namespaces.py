"""Attachments stay right when processes of another IPC namespace map segments of their own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from helpers import MakeShm, Spawn

from shmtop.core.snapshot.collect import Collector

# Runs in a fresh IPC namespace: makes a segment there, attaches it, says so, waits.
OTHER_NAMESPACE = """
import sys, time
from shmtop.core.binding import native
shmid = native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600)
native.shmat(shmid, 0)
native.shm_rmid(shmid)  # goes when this process exits, with its namespace
print(shmid, flush=True)
time.sleep(600)
"""


@pytest.fixture
def other_namespace() -> Iterator[int]:
    """A process in its own IPC namespace that has one of that namespace's segments mapped."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare(1) to make an IPC namespace")
    process = subprocess.Popen(
        ["unshare", "--ipc", sys.executable, "-c", OTHER_NAMESPACE],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip().isdigit(), "the other namespace is ready"
        yield process.pid
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


@pytest.mark.usefixtures("maps_reader")
def test_mappings_of_another_namespace_do_not_end_the_search_early(
    make_shm: MakeShm, spawn: Spawn, other_namespace: int
) -> None:
    shmid = make_shm()
    first = spawn(name="ns-first", attach=[(shmid, True)])
    collector = Collector()
    try:
        before = collector.snapshot().segment(shmid)
        assert before is not None and set(before.attached_pids) == {first.pid}
        # Started after the other namespace's process, so scanned after it: only the
        # last attacher (lpid) and the last scan's attachers are looked at first.
        second = spawn(name="ns-second", attach=[(shmid, False)])
        third = spawn(name="ns-third", attach=[(shmid, True)])
        assert other_namespace < second.pid < third.pid
        after = collector.snapshot()
    finally:
        collector.close()
    segment = after.segment(shmid)
    assert segment is not None
    assert set(segment.attached_pids) == {first.pid, second.pid, third.pid}
    assert after.blind_spots.other_namespace_mappings >= 1
    assert other_namespace not in {a.pid for s in after.segments for a in s.attachments}


def test_the_session_runs_in_a_private_ipc_namespace() -> None:
    """conftest entered a namespace of its own: the tests never see the machine's objects."""
    if os.geteuid() != 0:
        pytest.skip("only root can make an IPC namespace")
    from conftest import HOST_IPC_NAMESPACE

    assert os.stat("/proc/self/ns/ipc").st_ino != HOST_IPC_NAMESPACE
