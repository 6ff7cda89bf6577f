"""The segment, set and queue views of another IPC namespace's object (Enter on its row
across namespaces), and what the poll reads inside other namespaces for them and for the
main screen's waiter scan (`w`).

An object is (namespace, id): ids repeat across namespaces, so a view of another
namespace's object reads only that namespace's snapshots, waiter scans and queue copies
(each made by a thread joined to it), never the caller's same-id object. The segment
view attaches in a thread of its own joined to the namespace (shmat there; the mapping is
then this process's, read from any thread), and stats the segment there.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from shmtop.core.model import MessageQueue, Segment, Snapshot
from shmtop.core.namespaces.discover import ipc_inode
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.text.namespace_rows import NsRow
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.probes import ProbeRequest, Probes
from shmtop.tui.screens.posix_view import PosixObjectScreen
from shmtop.tui.screens.queue_view import QueueScreen
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.screens.semaphore_view import SemaphoreSetScreen
from shmtop.tui.screens.waiter_screen import WaiterScreen

if TYPE_CHECKING:
    from shmtop.tui.app import ShmtopApp


def inode_of(screen: Any) -> int | None:
    """The other IPC namespace a view shows an object of (None: the caller's)."""
    if isinstance(screen, WaiterScreen | SegmentViewScreen | PosixObjectScreen):
        return screen.namespace
    return None


def foreign(row: Any) -> NsRow | None:
    """The row, if it is another namespace's object."""
    return row if isinstance(row, NsRow) and not row.current else None


# ---- opening ----


def open_row(app: ShmtopApp, row: NsRow) -> None:
    """Enter on another namespace's row: its view, fed from inside that namespace."""
    main = app.main_screen
    namespace = main.namespaces.namespaces.get(row.inode)
    snapshot = main.namespaces.snapshots.get(row.inode)
    obj = row.obj
    if isinstance(obj, Segment):
        # A member still in it (the census's first may have ended since); none: the
        # join fails (pid 0) and the view says so.
        members = namespace.pids if namespace is not None else ()
        pid = next((p for p in members if ipc_inode(p) == row.inode), 0)
        place = JoinedThread(pid, row.inode)
        app.push_screen(SegmentViewScreen(obj.id, readonly=app.readonly, place=place,
                                          namespace=row.inode, where=row.label))  # fmt: skip
        return
    if isinstance(obj, MessageQueue):
        app.push_screen(QueueScreen(obj.id, snapshot, readonly=app.readonly,
                                    namespace=row.inode, where=row.label))  # fmt: skip
    else:
        app.push_screen(SemaphoreSetScreen(obj.id, snapshot, readonly=app.readonly,
                                           namespace=row.inode, where=row.label))  # fmt: skip
    app.request_poll()


# ---- a refresh ----


def extend_request(app: ShmtopApp, request: ProbeRequest) -> ProbeRequest:
    """The other namespaces to scan for waiters (the open views', and every shown one's
    while the main screen scans) and the queues whose messages a view shows."""
    inodes: set[int] = set()
    peeks: set[tuple[int, int]] = set()
    for screen in app.screen_stack:
        inode = inode_of(screen)
        if inode is None or getattr(screen, "gone", False):
            continue
        inodes.add(inode)
        if isinstance(screen, QueueScreen):
            peeks.add((inode, screen.ident))
    main = app.find_main_screen()
    seen = main.namespaces.seen if main is not None else None
    if main is not None and main.wants_waiters and seen is not None:
        inodes |= {i for i, ns in main.namespaces.namespaces.items() if not ns.current}
        if not any(v.namespace.current for v in seen.views) and not _caller_views(app):
            # --namespace NS: the main screen's scan is NS's alone, not the caller's too.
            request = replace(request, waiters=False)
    if not inodes and not peeks:
        return request
    return replace(request, foreign_waiters=frozenset(inodes), foreign_peek=frozenset(peeks))


def _caller_views(app: ShmtopApp) -> bool:
    """A view open on the caller's namespace wants its waiter scan (a set's, a queue's, a
    segment's content, the tree)."""
    return any(
        (isinstance(s, WaiterScreen | SegmentViewScreen) and s.namespace is None and not s.gone)
        or getattr(s, "WANTS_WAITERS", False)
        for s in app.screen_stack
    )  # fmt: skip


def probe(feed: NamespaceFeed, request: ProbeRequest, probes: Probes) -> Probes:
    """In the poll worker: the scans and copies asked for, each inside its namespace."""
    if not request.foreign_waiters and not request.foreign_peek:
        return probes
    waits, peeks = feed.probe(request.foreign_waiters, request.foreign_peek)
    return replace(probes, foreign_waits=MappingProxyType(waits),
                   foreign_peeks=MappingProxyType(peeks))  # fmt: skip


def snapshot_for(screen: Any, snapshot: Snapshot, probes: Probes) -> Snapshot | None:
    """The snapshot a screen is shown: its namespace's for a view of another namespace's
    object (None when this refresh has none of it: the view keeps what it showed)."""
    inode = inode_of(screen)
    if inode is None:
        return snapshot
    seen = probes.namespaces
    view = next((v for v in seen.views if v.namespace.inode == inode), None) if seen else None
    if view is not None and view.snapshot is not None:
        return view.snapshot
    if isinstance(screen, WaiterScreen) and not screen.gone:  # say why it stands still
        why = view.refused if view is not None else "no longer shown"
        screen.say(f"IPC namespace {screen.where}: {why}; shown as last read")
    return None
