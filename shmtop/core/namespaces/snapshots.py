"""A System V snapshot of each IPC namespace, each taken by a thread joined to it."""

from __future__ import annotations

import errno
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import msgspec

from shmtop.core.model import Snapshot
from shmtop.core.namespaces.discover import Census, Namespace, all_pids, census
from shmtop.core.namespaces.joined import CLONE_NEWIPC, JoinError, join
from shmtop.core.snapshot.collect import Collector, describe_errno
from shmtop.core.snapshot.scan_parts import SharedScan
from shmtop.core.snapshot.workers import Task, Workers

T = TypeVar("T")


class NamespaceView(msgspec.Struct, frozen=True, gc=False):
    """One namespace and what could be seen of it: its snapshot, or why there is none."""

    namespace: Namespace
    snapshot: Snapshot | None
    refused: str | None = None  # why it could not be joined ("permission denied", ...)


class AllNamespaces(msgspec.Struct, frozen=True, gc=False):
    """The views of the namespaces asked for, the caller's first when it is among them."""

    views: tuple[NamespaceView, ...]
    unplaced: dict[str, int]  # reason -> processes whose namespace could not be told

    @property
    def refused(self) -> tuple[NamespaceView, ...]:
        return tuple(view for view in self.views if view.snapshot is None)


class _Member:
    """A foreign namespace's collector, made and used only in its joined thread.

    Nothing here waits: the join, the collector and each snapshot are calls queued to that
    one thread, in order, so twenty namespaces join and read side by side (waiting for each
    join in turn cost a thread hand-off a namespace)."""

    def __init__(
        self, namespace: Namespace, attachments: bool, values: bool, shared: SharedScan | None
    ) -> None:
        self.namespace = namespace
        self.pids = list(namespace.pids)  # its collector's members: follow() updates them
        self._pool = Workers(1, f"shmtop-ns-{namespace.inode}")
        self._collector: Collector | None = None  # set and used in the thread only
        self._ready = self._pool.submit(self._join, attachments, values, shared)

    def _join(self, attachments: bool, values: bool, shared: SharedScan | None) -> None:
        join(self.namespace.pids[0], CLONE_NEWIPC, self.namespace.inode)
        self._collector = Collector.made_for(self.pids, attachments, values, shared)

    def _snapshot(self) -> Snapshot:
        if self._collector is None:  # the join failed: _ready holds why
            self._ready.result()
            raise JoinError(errno.ESRCH, "not joined")
        return self._collector.snapshot()

    def start(self) -> Task[Snapshot]:
        return self._pool.submit(self._snapshot)

    def view(self, task: Task[Snapshot]) -> NamespaceView:
        try:
            self._ready.result()
            return NamespaceView(self.namespace, task.result())
        except OSError as error:  # not joined, or it ended while being read
            return NamespaceView(self.namespace, None, refusal(error))

    def run(self, call: Callable[..., T], *args: Any) -> T:
        """call(*args) in the joined thread (a removal, an attach): its namespace's."""
        self._ready.result()
        return self._pool.submit(call, *args).result()

    def close(self) -> None:
        collector = self._collector
        if collector is not None:
            self._pool.submit(collector.close).result()
        self._pool.shutdown()


def refusal(error: OSError) -> str:
    if error.errno in (errno.EPERM, errno.EACCES):
        return "permission denied (joining needs CAP_SYS_ADMIN)"
    if error.errno == errno.ESRCH:
        return "its processes ended"
    return describe_errno(error.errno or 0)


class NamespaceCollectors:
    """Takes a snapshot of every namespace asked for (all, or those `only` names) at once:
    ours in the calling thread, each other one in a thread joined to it, all in parallel.

    With more than one namespace, a first snapshot scans every process's maps once, for all
    of them (SharedScan); each joined thread reads only its namespace's System V tables."""

    def __init__(
        self,
        *,
        attachments: bool = True,
        semaphore_values: bool = True,
        only: Sequence[Namespace] | None = None,
        found: Census | None = None,
    ) -> None:
        self._census = found if found is not None else census()
        chosen = self._census.namespaces if only is None else tuple(only)
        self._chosen = chosen
        self._ours = next((ns for ns in chosen if ns.current), None)
        # Only with the caller's namespace: its scan of every process covers the others'.
        self._shared = (
            SharedScan(all_pids) if attachments and self._ours is not None and len(chosen) > 1
            else None
        )  # fmt: skip
        self._collector = (
            Collector(attachments=attachments, semaphore_values=semaphore_values,
                      shared=self._shared)
            if self._ours is not None else None
        )  # fmt: skip
        self._members = [
            _Member(ns, attachments, semaphore_values, self._shared)
            for ns in chosen
            if not ns.current
        ]

    @property
    def census(self) -> Census:
        return self._census

    def snapshot(self) -> AllNamespaces:
        started = [(member, member.start()) for member in self._members]
        views: list[NamespaceView] = []
        if self._ours is not None and self._collector is not None:
            try:
                views.append(NamespaceView(self._ours, self._collector.snapshot()))
            finally:
                if self._shared is not None:  # decided by now, unless it failed: then skip
                    self._shared.skip()
        views.extend(member.view(task) for member, task in started)
        return AllNamespaces(tuple(views), self._census.unplaced)

    def follow(self, found: Census) -> bool:
        """Take a newer census's members for the next snapshots (a long-lived user, the
        exporter: processes start and end in a container); False when the namespaces are
        no longer the same ones (a new or ended namespace: make new collectors)."""
        now = {ns.inode: ns for ns in found.namespaces}
        if set(now) != {ns.inode for ns in self._chosen}:
            return False
        for member in self._members:
            member.pids[:] = now[member.namespace.inode].pids  # in place: its collector's list
        self._census = found
        return True

    def run_in(self, namespace: Namespace, call: Callable[..., T], *args: Any) -> T:
        """call(*args) in namespace: in this thread for ours, else in its joined thread."""
        if namespace.current:
            return call(*args)
        for member in self._members:
            if member.namespace.inode == namespace.inode:
                return member.run(call, *args)
        raise KeyError(namespace.inode)

    def close(self) -> None:
        if self._collector is not None:
            self._collector.close()
        for member in self._members:
            member.close()
        if self._shared is not None:
            self._shared.close()
