"""Every IPC namespace: discovery, names, and snapshots taken by threads joined to each."""

from __future__ import annotations

import os

from ns_helpers import foreign_namespace

from shmtop.core.namespaces.discover import census, container_of, find
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.namespaces.snapshots import NamespaceCollectors
from shmtop.core.snapshot import procfs


def test_a_child_namespace_is_found_named_by_its_hostname_and_its_objects_seen() -> None:
    with foreign_namespace("ns-test-box") as made:
        found = census()
        ours = [ns for ns in found.namespaces if ns.current]
        assert len(ours) == 1 and ours[0].inode == os.stat("/proc/self/ns/ipc").st_ino
        theirs = find(found.namespaces, "ns-test-box")
        assert theirs is not None and theirs.inode == made["inode"]
        assert theirs.source == "hostname" and made["pid"] in theirs.pids
        assert find(found.namespaces, str(made["inode"])) == theirs
        assert find(found.namespaces, str(made["pid"])) == theirs
        collectors = NamespaceCollectors(only=[theirs], found=found)
        try:
            view = collectors.snapshot().views[0]
        finally:
            collectors.close()
        assert view.refused is None and view.snapshot is not None
        snapshot = view.snapshot
        assert snapshot.ipc_namespace == made["inode"]
        assert [s.id for s in snapshot.segments] == made["shm"]
        assert [s.id for s in snapshot.semaphore_sets] == [made["sem"]]
        assert [q.id for q in snapshot.queues] == [made["msg"]]
        (segment,) = snapshot.segments
        assert [(a.pid, a.writable) for a in segment.attachments] == [(made["pid"], True)]


def test_a_joined_thread_reads_the_joined_namespace_table() -> None:
    with foreign_namespace() as made:
        thread = JoinedThread(made["pid"], made["inode"])
        try:
            assert thread.error is None
            table = thread.run(procfs.read_sysvipc, "shm").decode()
            inode = thread.run(os.stat, "/proc/thread-self/ns/ipc").st_ino
        finally:
            thread.close()
        ids = [row["shmid"] for row in procfs.parse_sysvipc(table)]
        assert ids == made["shm"] and inode == made["inode"]
        # The caller's thread stayed where it was.
        assert os.stat("/proc/thread-self/ns/ipc").st_ino != made["inode"]


def test_container_ids_are_read_from_cgroup_paths() -> None:
    cid = "ab" * 32
    assert container_of(f"0::/system.slice/docker-{cid}.scope\n").name == f"docker:{cid[:12]}"  # type: ignore[union-attr]
    assert container_of(f"12:pids:/docker/{cid}\n").runtime == "docker"  # type: ignore[union-attr]
    assert container_of(f"0::/machine.slice/libpod-{cid}.scope\n").runtime == "podman"  # type: ignore[union-attr]
    pod = container_of(
        "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234abcd_"
        f"0000_1111_2222_333344445555.slice/cri-containerd-{cid}.scope\n"
    )
    assert pod is not None and pod.pod == "1234abcd-0000-1111-2222-333344445555"
    assert container_of("0::/user.slice/session-1.scope\n") is None
