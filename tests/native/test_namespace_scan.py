"""Snapshots of several IPC namespaces share one maps scan, and act inside the right one."""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any

import pytest
from helpers import MakeShm, Spawn
from ns_helpers import foreign_namespace

from shmtop.core.actions import Outcome, identity_of, remove
from shmtop.core.binding import native
from shmtop.core.model import Kind, Snapshot
from shmtop.core.namespaces.discover import census
from shmtop.core.namespaces.snapshots import AllNamespaces, NamespaceCollectors

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to join IPC namespaces")


def snapshot_of(made: list[dict[str, Any]], *, ours: bool = True) -> AllNamespaces:
    """One first snapshot of the namespaces made (and, ours: the caller's)."""
    found = census()
    inodes = {m["inode"] for m in made}
    chosen = [ns for ns in found.namespaces if ns.inode in inodes or (ours and ns.current)]
    collectors = NamespaceCollectors(only=chosen, found=found)
    try:
        return collectors.snapshot()
    finally:
        collectors.close()


def by_inode(seen: AllNamespaces) -> dict[int, Snapshot]:
    return {v.namespace.inode: v.snapshot for v in seen.views if v.snapshot is not None}


def assert_own_objects(snapshots: dict[int, Snapshot], made: dict[str, Any]) -> None:
    snapshot = snapshots[made["inode"]]
    assert [s.id for s in snapshot.segments] == made["shm"]
    first = snapshot.segments[0]
    assert [(a.pid, a.writable) for a in first.attachments] == [(made["pid"], True)]
    assert all(not s.attachments for s in snapshot.segments[1:])


def test_the_callers_scan_of_every_process_serves_every_namespace(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm()
    reader = spawn(name="ns-shared-rd", attach=[(shmid, False)])
    with ExitStack() as stack:
        made = [stack.enter_context(foreign_namespace(objects=2)) for _ in range(2)]
        seen = snapshot_of(made)
    snapshots = by_inode(seen)
    ours = snapshots[os.stat("/proc/self/ns/ipc").st_ino]
    segment = ours.segment(shmid)
    assert segment is not None
    assert [(a.pid, a.writable) for a in segment.attachments] == [(reader.pid, False)]
    for each in made:
        assert_own_objects(snapshots, each)
        # Their rows came from the caller's scan of every process, not one of their own.
        scanned = snapshots[each["inode"]].blind_spots.processes_scanned
        assert scanned == ours.blind_spots.processes_scanned > len(made)


def test_with_nothing_attached_here_each_namespace_scans_its_own_members() -> None:
    with ExitStack() as stack:
        made = [stack.enter_context(foreign_namespace(objects=2)) for _ in range(2)]
        ours = snapshot_of([], ours=True).views[0].snapshot
        assert ours is not None
        assert sum(s.nattch for s in ours.segments) == 0, "the session's namespace maps nothing"
        seen = snapshot_of(made)
    snapshots = by_inode(seen)
    for each in made:
        assert_own_objects(snapshots, each)
        assert snapshots[each["inode"]].blind_spots.processes_scanned == 1  # its one member


def _reuse(shmid: int) -> int:
    """In the calling thread's namespace: remove shmid and make another with the same id."""
    native.shm_rmid(shmid)
    with open("/proc/sys/kernel/shm_next_id", "w", encoding="ascii") as knob:
        knob.write(str(shmid))  # the next id of this thread's IPC namespace
    return native.shmget(native.IPC_PRIVATE, 8192, native.IPC_CREAT | 0o600)


def test_a_removal_in_a_namespace_refuses_an_id_reused_there() -> None:
    with foreign_namespace(objects=2) as made:
        found = census()
        (namespace,) = [ns for ns in found.namespaces if ns.inode == made["inode"]]
        collectors = NamespaceCollectors(only=[namespace], found=found)
        try:
            snapshot = collectors.snapshot().views[0].snapshot
            assert snapshot is not None
            target = snapshot.segment(made["shm"][1])
            assert target is not None
            assert collectors.run_in(namespace, _reuse, target.id) == target.id
            refused = collectors.run_in(namespace, remove, Kind.SHM, target.id, identity_of(target))
            assert refused.outcome is Outcome.CHANGED
            again = collectors.snapshot().views[0].snapshot
            assert again is not None and again.segment(target.id) is not None  # left alone
            fresh = again.segment(target.id)
            assert fresh is not None and fresh.size == 8192
            done = collectors.run_in(namespace, remove, Kind.SHM, target.id, identity_of(fresh))
            assert done.outcome is Outcome.REMOVED
        finally:
            collectors.close()
