"""The POSIX shm objects of each IPC namespace: its mount namespace's /dev/shm, reached
through /proc/PID/root of a member (the IPC namespace does not hold them, a mount does).

A /dev/shm is one device: namespaces that share one (`unshare --ipc` alone shares the
caller's) are shown once, under the first that has it (the caller's first).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import msgspec

from shmtop.core.binding import native
from shmtop.core.namespaces.discover import Namespace
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.model import SHM_DIR, PosixSnapshot


def root_of(namespace: Namespace) -> str:
    """Where the namespace's files are seen from here ("" for ours)."""
    return "" if namespace.current else f"/proc/{namespace.pids[0]}/root"


def shm_dir_of(namespace: Namespace) -> str:
    return root_of(namespace) + SHM_DIR


def as_seen_inside(snapshot: PosixSnapshot, root: str) -> PosixSnapshot:
    """The objects' paths as the namespace's processes name them (without /proc/PID/root)."""
    prefix = os.fsencode(root)
    objects = tuple(
        msgspec.structs.replace(o, path=o.path.removeprefix(prefix), in_shm_dir=True)
        if o.path.startswith(prefix + SHM_DIR.encode()) else o
        for o in snapshot.objects
    )  # fmt: skip
    return msgspec.structs.replace(snapshot, objects=objects)


_SHM_FILESYSTEMS = (native.TMPFS_MAGIC, native.HUGETLBFS_MAGIC)


def _unreadable(error: OSError) -> str:
    return f"its {SHM_DIR} cannot be read ({os.strerror(error.errno or 0).lower()})"


def shm_device(namespace: Namespace) -> int | str:
    """The device of the namespace's /dev/shm, or why it cannot be read.

    Another namespace's is reached as /proc/PID/root/dev/shm, a path whose symlinks and ".."
    the kernel follows from our root: a container could point it at any directory of the
    host, which would then be listed, read and unlinked in as its objects. So it is taken
    only where it is the directory the member itself reaches (resolved inside its root,
    native.open_in_root) and a tmpfs or hugetlbfs. An object later listed there is kept
    only on this device (confined_to), and a removal opens the directory the same way
    (actions.remove), so a link swapped in after this look reaches nothing of ours."""
    if namespace.current:
        try:
            return os.stat(SHM_DIR).st_dev
        except OSError as error:
            return _unreadable(error)
    try:
        fd = native.open_in_root(namespace.pids[0], SHM_DIR.lstrip("/"),
                                 os.O_PATH | os.O_DIRECTORY)  # fmt: skip
    except OSError as error:
        return _unreadable(error)
    try:
        inside, magic = os.fstat(fd), native.fs_magic(fd)
        seen = os.stat(shm_dir_of(namespace))
    except OSError as error:
        return _unreadable(error)
    finally:
        os.close(fd)
    if (seen.st_dev, seen.st_ino) != (inside.st_dev, inside.st_ino):
        return f"its {SHM_DIR} is a link (or under one): not followed from outside"
    if magic not in _SHM_FILESYSTEMS:
        return f"its {SHM_DIR} is no tmpfs or hugetlbfs: not read"
    return inside.st_dev


def confined_to(snapshot: PosixSnapshot, device: int) -> PosixSnapshot:
    """The snapshot without the names listed in its directory on another device than the one
    shm_device() checked: what a link swapped in since that look would have listed."""
    kept = tuple(o for o in snapshot.objects if not o.in_shm_dir or o.dev == device)
    if len(kept) == len(snapshot.objects):
        return snapshot
    return msgspec.structs.replace(snapshot, objects=kept)


class ShmOwners(msgspec.Struct, frozen=True):
    """Each namespace's /dev/shm device (or why it cannot be read), and the namespace that
    shows each device: the first that has it."""

    devices: dict[int, int | str]  # namespace inode -> device, or the reason
    owners: dict[int, Namespace]  # device -> the namespace its objects are shown under
    ours: int | None = None  # the caller's /dev/shm device (None: unreadable)

    def shown_under(self, namespace: Namespace) -> Namespace | str:
        """The namespace whose scan shows namespace's /dev/shm (itself: scan it), or why it
        cannot be read."""
        device = self.devices[namespace.inode]
        return device if isinstance(device, str) else self.owners[device]


def shm_owners(namespaces: Sequence[Namespace]) -> ShmOwners:
    devices = {ns.inode: shm_device(ns) for ns in namespaces}
    owners: dict[int, Namespace] = {}
    for namespace in namespaces:
        device = devices[namespace.inode]
        if isinstance(device, int):
            owners.setdefault(device, namespace)
    try:
        ours: int | None = os.stat(SHM_DIR).st_dev
    except OSError:
        ours = None
    return ShmOwners(devices, owners, ours)


def scan_shm(namespace: Namespace, collector: PosixCollector, found: ShmOwners) -> PosixSnapshot:
    """A scan of namespace's /dev/shm by collector (made on shm_dir_of(namespace)): its
    members' mappers (every process's for ours, and for a namespace that shares our
    /dev/shm: our processes map it too), the objects of another namespace's /dev/shm
    left to that one, the paths as its processes name them."""
    return scan_shm_acting(namespace, collector, found)[0]


def scan_shm_acting(
    namespace: Namespace, collector: PosixCollector, found: ShmOwners
) -> tuple[PosixSnapshot, PosixSnapshot]:
    """scan_shm()'s scan, and the same with the paths reachable from here (through
    /proc/PID/root): what an unlink or a read acts on."""
    shared = found.devices[namespace.inode] == found.ours
    snapshot = collector.snapshot(None if namespace.current or shared else namespace.pids)
    # A scan of every process (ours) sees a container's objects through its mappers:
    # they are that container's namespace's, shown there.
    others = set(found.owners) - {found.devices[namespace.inode]}
    kept = tuple(o for o in snapshot.objects if o.dev not in others)
    snapshot = msgspec.structs.replace(snapshot, objects=kept)
    if namespace.current:
        return snapshot, snapshot
    device = found.devices[namespace.inode]
    if isinstance(device, int):
        snapshot = confined_to(snapshot, device)
    return as_seen_inside(snapshot, root_of(namespace)), snapshot
