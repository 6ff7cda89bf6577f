"""What the poll worker reads beyond the snapshot (waiters, queue contents) for the open views."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Protocol

from textual.message import Message

from shmtop.core.binding import native
from shmtop.core.binding.native import MsgPeek
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text.errors import waiter_scan_failed
from shmtop.tui.posix_source import PosixView

if TYPE_CHECKING:
    from shmtop.core.namespaces.snapshots import AllNamespaces

PEEK_MESSAGES = 100  # messages a queue view reads each refresh
PEEK_BYTES = 256 * 1024  # bytes of message text it keeps in all

Peeker = Callable[[int], MsgPeek]


class WaiterSource(Protocol):
    """Anything that scans for waiters: the WaiterScanner, or a fake in tests."""

    def scan(self) -> WaitReport: ...


def peek_queue(msqid: int) -> MsgPeek:
    """The messages of a queue, copied with MSG_COPY (they stay queued); OSError if unreadable."""
    return native.msg_peek(msqid, PEEK_MESSAGES, PEEK_BYTES)


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """What the screens open now need: a waiter scan, and the queues whose messages they show."""

    waiters: bool = False
    peek: frozenset[int] = frozenset()
    posix_shown: bool = False  # a POSIX tab is on screen: scan POSIX objects now
    # Other IPC namespaces (by inode): those to scan for waiters inside, and their queues
    # whose messages a view shows (namespace_views.py).
    foreign_waiters: frozenset[int] = frozenset()
    foreign_peek: frozenset[tuple[int, int]] = frozenset()


@dataclass(frozen=True, slots=True)
class Probes:
    """What one refresh read beyond the snapshot; travels with it to the screens."""

    waits: WaitReport | None = None  # None: no scan was asked for (or it failed)
    waits_error: str | None = None  # why the scan failed
    peeks: Mapping[int, MsgPeek | OSError] = field(default_factory=lambda: MappingProxyType({}))
    posix: PosixView | None = None  # the POSIX scans (None: the app has no POSIX feed)
    namespaces: AllNamespaces | None = None  # every namespace shown (None: the caller's)
    # Each other namespace's waiter scan (report, or why it failed), made inside it, and
    # its queues' messages: by inode, and by (inode, msqid).
    foreign_waits: Mapping[int, tuple[WaitReport | None, str | None]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    foreign_peeks: Mapping[tuple[int, int], MsgPeek | OSError] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def scanned(self) -> bool:
        """A scan was asked for: it either found something or says why not."""
        return self.waits is not None or self.waits_error is not None

    def inside(self, inode: int) -> Probes:
        """What this refresh read inside another IPC namespace, as a view of its objects
        reads it: its waiter scan and its queues' messages (nothing: not scanned)."""
        waits, error = self.foreign_waits.get(inode, (None, None))
        peeks = {msqid: peek for (ns, msqid), peek in self.foreign_peeks.items() if ns == inode}
        return Probes(waits, error, MappingProxyType(peeks), namespaces=self.namespaces)


def run_probes(request: ProbeRequest, waiters: WaiterSource, peeker: Peeker) -> Probes:
    """Run in the poll worker: a failure becomes text for the screens, never an exception."""
    waits: WaitReport | None = None
    error: str | None = None
    if request.waiters:
        waits, error = scan_waiters(waiters)
    peeks: dict[int, MsgPeek | OSError] = {}
    for msqid in sorted(request.peek):
        try:
            peeks[msqid] = peeker(msqid)
        except OSError as failure:
            peeks[msqid] = failure
    return Probes(waits, error, MappingProxyType(peeks))


_SCANNING = threading.Lock()  # one scan at a time: a scanner remembers waits between scans


def scan_waiters(waiters: WaiterSource) -> tuple[WaitReport | None, str | None]:
    """One scan (in a worker thread: the poll's, or a removal's question), or why it failed."""
    with _SCANNING:
        try:
            return waiters.scan(), None
        except OSError as failure:
            return None, waiter_scan_failed(failure)


class PollRequested(Message):
    """A screen wants fresh data now (a view opened, a scan was switched on, a signal sent)."""
