"""A fixed snapshot for UI layout tests (claims about the kernel are tested on the kernel)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import msgspec

from shmtop.core.binding.native import MsgPeek, PeekedMessage
from shmtop.core.model import (
    Attachment,
    BlindSpots,
    Kind,
    Limits,
    MessageQueue,
    Owner,
    Process,
    Segment,
    Semaphore,
    SemaphoreSet,
    Snapshot,
)
from shmtop.core.namespaces.discover import Container, Namespace
from shmtop.core.namespaces.snapshots import AllNamespaces, NamespaceView
from shmtop.core.waits.records import QueueState, SemOp, SemState, Waiter
from shmtop.core.waits.wait_report import WaitReport, assemble
from shmtop.core.waits.wait_verdict import Liveness, ProcessStatus
from shmtop.tui.namespace_feed import NamespaceFeed

TAKEN_AT = 1_795_000_000.0  # a fixed moment: ages in the tables never move
POSTMASTER = "/usr/lib/postgresql/15/bin/postgres -D /srv/pg"  # titles, as /proc has them
PG_WORKER = "pg-worker: parallel worker for PID 4150"


def owner(key: int, user: str = "postgres", mode: int = 0o600) -> Owner:
    return Owner(key, 1001, 1001, 1001, 1001, mode, user, user, user, user)


def fixed_snapshot() -> Snapshot:
    """A small, realistic machine: a database's segments, a ring buffer, a leak, sets, queues."""
    t = int(TAKEN_AT)
    procs = {
        4100: Process(4100, "postgres", "postgres", TAKEN_AT - 9000, POSTMASTER),
        4200: Process(4200, "pg-worker", "postgres", TAKEN_AT - 8000, PG_WORKER),
        4300: Process(4300, "producer", "app", TAKEN_AT - 600),
        4301: Process(4301, "consumer\x1b[31m", "app", TAKEN_AT - 600),
    }
    segments = (
        Segment(32768, owner(0x0052E2C1), 148 * 2**20, 40 * 2**20, 0, 2, 4100, 4200,
                t - 5, 0, t - 9000, True,
                (Attachment(4100, "postgres", "postgres", True, 0x7F0000000000, 0x7F0009400000,
                            title=POSTMASTER),
                 Attachment(4200, "pg-worker", "postgres", True, 0x7F1000000000,
                            0x7F1009400000, title=PG_WORKER))),
        Segment(32769, owner(0x1234, "app", 0o640), 65536, 65536, 0, 2, 4300, 4301,
                t - 40, t - 3600, t - 600, True,
                (Attachment(4300, "producer", "app", True, 0x7F2000000000, 0x7F2000010000),
                 Attachment(4301, "consumer\x1b[31m", "app", False, 0x7F3000000000,
                            0x7F3000010000))),
        Segment(32770, owner(0, "app", 0o600 | 0o1000), 4096, 4096, 0, 1, 4300, 4300,
                t - 100, 0, t - 100, True,
                (Attachment(4300, "producer", "app", True, 0x7F4000000000, 0x7F4000001000),)),
        Segment(32771, owner(0, "nobody"), 8192, 0, 0, 0, 3999, 3999, t - 7200, t - 7100,
                t - 7200, False),
    )  # fmt: skip
    sets = (
        SemaphoreSet(65536, owner(0x1234, "app"), 3, t - 1, t - 600,
                     (Semaphore(0, 1, 0, 0, 4300), Semaphore(1, 14, 0, 0, 4301),
                      Semaphore(2, 0, 1, 0, 4301))),
        SemaphoreSet(65537, owner(0x0052E2C2), 16, t - 30, t - 9000,
                     tuple(Semaphore(n, 1, 0, 0, 4100) for n in range(16))),
        SemaphoreSet(65538, owner(0, "root"), 2, 0, t - 50, None, "permission denied"),
    )  # fmt: skip
    queues = (
        MessageQueue(98304, owner(0x5678, "app"), 120, 3, 16384, 4300, 4301, t - 2, t - 9,
                     t - 600),
        MessageQueue(98305, owner(0, "app"), 0, 0, 16384, 0, 0, 0, 0, t - 60),
    )  # fmt: skip
    limits = Limits(
        page_size=4096, shmmax=2**64 - 2**24, shmall=2**64 - 2**24, shmmni=4096,
        shm_segments=4, shm_pages=37906, shm_rss_pages=10258, shm_swap_pages=0,
        semmni=32000, semmns=1024000000, semmsl=32000, semopm=500, semvmx=32767, sem_sets=3,
        sem_semaphores=21, msgmni=32000, msgmax=8192, msgmnb=16384, msg_queues=2,
        msg_messages=3, msg_bytes=120,
    )  # fmt: skip
    return Snapshot(
        taken_at=TAKEN_AT,
        segments=segments,
        semaphore_sets=sets,
        queues=queues,
        limits=limits,
        processes=MappingProxyType(procs),
        blind_spots=BlindSpots(processes_scanned=120),
        viewer_pid=1,
        ipc_namespace=4026531839,
    )


class FixedSource:
    """Returns the same snapshot every time."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self.fixed = snapshot or fixed_snapshot()
        self.calls = 0

    def snapshot(self) -> Snapshot:
        self.calls += 1
        return self.fixed


# ---- waiters and queue contents for the set and queue views (fixed, like the snapshot) ----

SEM_UNDO = 0o10000


def fixed_wait_report() -> WaitReport:
    """Waiters that fit fixed_snapshot(): a consumer on a semaphore it changed last (a deadlock
    of one, resting on a hint), a producer sending a message too big for the queue whose only
    receiver is that consumer (stuck), a reader wanting a type only the stuck producer sends
    (stuck), and a waiter on the set nobody may read (unknown). The verdicts are the real
    code's, on these facts."""
    since = TAKEN_AT - 42
    waiters = (
        Waiter(4301, 4301, "consumer\x1b[31m", Kind.SEM, 65536, "semtimedop", since, True,
               operations=(SemOp(2, -1, SEM_UNDO),), waits_for=(2,)),
        Waiter(4400, 4401, "batch", Kind.SEM, 65538, "semtimedop", since + 30, True,
               operations=(SemOp(0, -1, 0),), waits_for=(0,)),
        Waiter(4300, 4300, "producer", Kind.MSG, 98304, "msgsnd", since + 40, True,
               direction="send", msg_type=9, msg_size=16300),
        Waiter(4302, 4302, "reader", Kind.MSG, 98304, "msgrcv", since, True,
               direction="receive", msg_type=7, msg_size=8192),
    )  # fmt: skip
    sets = {
        65536: SemState(65536, 3, (1, 14, 0), (4300, 4301, 4301), None, TAKEN_AT - 600),
        65538: SemState(65538, 2, None, None, "permission denied", TAKEN_AT - 50),
    }
    queues = {98304: QueueState(98304, 3, 120, 4300, 4301, TAKEN_AT - 50)}
    names = {4300: "producer", 4301: "consumer\x1b[31m", 4302: "reader", 4400: "batch"}
    statuses = {pid: ProcessStatus(pid, Liveness.BLOCKED, "every thread is blocked",
                                   TAKEN_AT - 600) for pid in names}  # fmt: skip
    return assemble(
        TAKEN_AT, waiters, sets, queues, statuses, 10.0,
        processes=MappingProxyType(names), processes_scanned=120, tasks_scanned=180,
        unreadable=MappingProxyType({"permission denied": 2}), ignored=MappingProxyType({}),
    )  # fmt: skip


# The three messages of queue 98304 (120 bytes): a job line, a binary record, and bytes a
# terminal would act on (OSC 2 sets the title, CSI 41m paints red) that must show as dots.
FIXED_MESSAGES = (
    (1, b"job 17: resize /srv/img/0042.png\x00\x00\x00\x00\x00\x00\x00\x00"),
    (3, bytes(range(40))),
    (9, b"\x1b]2;pwned\x07\x1b[41mred alert\x9b" + b"." * 15),
)


def fixed_peek(msqid: int) -> MsgPeek:
    """The messages of queue 98304; every other queue is empty."""
    if msqid != 98304:
        return MsgPeek(())
    return MsgPeek(
        tuple(PeekedMessage(i, mtype, len(data), data) for i, (mtype, data) in
              enumerate(FIXED_MESSAGES))
    )  # fmt: skip


class FixedWaiters:
    """A waiter source that returns the same report every time, and counts its scans."""

    def __init__(self, report: WaitReport | None = None) -> None:
        self.fixed = report or fixed_wait_report()
        self.scans = 0

    def scan(self) -> WaitReport:
        self.scans += 1
        return self.fixed


# ---- a segment's bytes for the hex view (fixed, like the snapshot) ----

FIXED_SHMID = 32768


def fixed_bytes(size: int = 0x2000) -> bytes:
    """A ring buffer's header, some records and a run of every byte value."""
    data = bytearray(size)
    data[0:16] = (12).to_bytes(8, "little") * 2
    data[0x18:0x30] = b"shmtop demo ring buffer\0"
    for n in range(8):
        record = f"order #{1001 + n} qty {n % 7 + 1} sku {(n * 347) % 1000}".encode()
        data[0x40 + n * 0x40 : 0x40 + n * 0x40 + len(record)] = record
    data[0x400:0x500] = bytes(range(256))
    return bytes(data)


class FixedReader:
    """Reads fixed bytes, as a SegmentReader attached read-only would (for snapshots)."""

    touches_pages = False
    closed = False

    def __init__(self, data: bytes | None = None) -> None:
        from shmtop.core.segment.segment_reader import ReadPath

        self.data = data if data is not None else fixed_bytes()
        self.size = len(self.data)
        self.path = ReadPath.ATTACH
        self.shmid = FIXED_SHMID

    def describe(self) -> str:
        return "attached read-only: nattch +1"

    def read(self, offset: int, length: int) -> bytes:
        return self.data[max(offset, 0) : max(offset, 0) + max(length, 0)]

    def close(self) -> None:
        self.closed = True


# ---- the view across IPC namespaces (layout only: the namespaces are tested on the kernel) ----

FOREIGN_INODE = 4026532300
REFUSED_INODE = 4026532400


def fixed_namespaces() -> AllNamespaces:
    """The fixed snapshot as the caller's namespace, a container's with two of its segments
    (the same ids as ours), and a namespace that could not be joined."""
    ours = fixed_snapshot()
    theirs = msgspec.structs.replace(
        ours, segments=ours.segments[:2], semaphore_sets=(), queues=(),
        ipc_namespace=FOREIGN_INODE,
    )  # fmt: skip
    box = Container("docker", "0123456789ab" + "cd" * 26)
    views = (
        NamespaceView(Namespace(ours.ipc_namespace, f"ipc:[{ours.ipc_namespace}]", "inode",
                                (1,), True), ours),
        NamespaceView(Namespace(FOREIGN_INODE, box.name, "docker", (4500,), False, box), theirs),
        NamespaceView(Namespace(REFUSED_INODE, "web-box", "hostname", (4600,), False,
                                hostname="web-box"), None, "its processes ended"),
    )  # fmt: skip
    return AllNamespaces(views, {"permission denied": 2})


class FixedNamespaces(NamespaceFeed):
    """A feed that shows fixed_namespaces() while on (A toggles it, as the real one)."""

    def __init__(self, *, every: bool = True) -> None:
        super().__init__(every=every)
        self.fixed = fixed_namespaces()

    def snapshot(self, ours: Any) -> tuple[Snapshot, AllNamespaces | None]:
        if not self.active:
            return ours.snapshot(), None
        return ours.snapshot(), self.fixed

    def why_not_every(self) -> str | None:
        return None
