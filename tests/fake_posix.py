"""Fixed POSIX scans for the POSIX tabs' layout snapshots (the kernel claims are tested on
real objects in tests/tui/test_tui_posix.py)."""

from __future__ import annotations

import os

from fake_source import TAKEN_AT

from shmtop.core.posix.limits import MqueueLimits, PosixLimits, ShmFilesystem
from shmtop.core.posix.model import (
    Holder,
    Mapping,
    PosixKind,
    PosixObject,
    PosixProcess,
    PosixSnapshot,
    SemState,
    ShmMount,
)
from shmtop.core.posix.mqueue import MqQueue, MqSnapshot, MqWaiter, QueueEntry, QueueState
from shmtop.tui.posix_source import PosixView

DEV = os.makedev(0, 27)
MQ_DEV = os.makedev(0, 19)
EARLIER = TAKEN_AT - 95


def _obj(inode: int, path: bytes, size: int, *, kind: PosixKind = PosixKind.SHM,
         linked: bool = True, mappings: tuple[Mapping, ...] = (),
         holders: tuple[Holder, ...] = (), sem: SemState | None = None) -> PosixObject:  # fmt: skip
    return PosixObject(
        DEV, inode, kind, path, linked, linked, size, size // 2, 0, 0, 0o600, EARLIER, EARLIER,
        EARLIER, mappings, holders, sem,
    )  # fmt: skip


def _maps(pid: int, start: int, size: int, writable: bool) -> Mapping:
    return Mapping(pid, start, start + size, writable, 0)


def fixed_posix_snapshot() -> PosixSnapshot:
    objects = (
        _obj(11, b"/dev/shm/PostgreSQL.1804289383", 1 << 20, mappings=(
            _maps(4150, 0x7F0000000000, 1 << 20, True), _maps(4151, 0x7F0000000000, 1 << 20, True),
        )),
        _obj(12, b"/dev/shm/app-ring", 65536, mappings=(
            _maps(5001, 0x7F1000000000, 65536, True), _maps(5002, 0x7F1000000000, 65536, False),
        ), holders=(Holder(5003, 7, True, False),)),
        _obj(13, b"/dev/shm/evil\x1b[2Jname", 4096),
        _obj(14, b"/dev/shm/sem.jobs", 32, kind=PosixKind.SEM,
             mappings=(_maps(5001, 0x7F2000000000, 4096, True),), sem=SemState(2, 0)),
        _obj(15, b"/dev/shm/old-cache (deleted)", 8 << 20, linked=False,
             mappings=(_maps(5002, 0x7F3000000000, 8 << 20, False),)),
    )  # fmt: skip
    processes = {
        pid: PosixProcess(pid, command, 0, EARLIER)
        for pid, command in ((4150, "postgres"), (4151, "postgres"), (5001, "producer"),
                             (5002, "consumer"), (5003, "backup"))
    }  # fmt: skip
    return PosixSnapshot(
        TAKEN_AT, objects, (ShmMount(DEV, "tmpfs", "/dev/shm", True),), processes,
        frozenset({0}), {}, "PROCMAP_QUERY", 120,
    )  # fmt: skip


def fixed_mq_snapshot() -> MqSnapshot:
    state = QueueState(qsize=96, notify=0, signo=0, notify_pid=0, messages=3,
                       max_messages=10, max_size=8192)  # fmt: skip
    entry = QueueEntry(b"jobs", MQ_DEV, 21, 1, 0, 0, 0o600, EARLIER, EARLIER, EARLIER, state)
    queue = MqQueue(entry, (Holder(5001, 4, False, True), Holder(5002, 5, True, False)),
                    (MqWaiter(5002, 5010, 5, False),))  # fmt: skip
    processes = {pid: PosixProcess(pid, name, 0, EARLIER)
                 for pid, name in ((5001, "producer"), (5002, "consumer"))}  # fmt: skip
    return MqSnapshot(TAKEN_AT, (queue,), "/dev/mqueue", processes, {}, 120)


def fixed_posix_limits() -> PosixLimits:
    return PosixLimits(
        MqueueLimits(256, 10, 8192, 10, 8192, 1, 10, 8192),
        (ShmFilesystem("/dev/shm", "tmpfs", DEV, 4 << 30, (9 << 20) + 65536, 1 << 20, 6, 5),),
    )


class FixedPosix:
    """Returns the same POSIX scans every time."""

    def snapshot(self, shown: bool = True) -> PosixView:
        return PosixView(fixed_posix_snapshot(), fixed_mq_snapshot(), fixed_posix_limits())
