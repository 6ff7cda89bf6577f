"""A System V snapshot of each IPC namespace, each taken by a thread joined to it."""

from __future__ import annotations

import errno
from collections.abc import Sequence

import msgspec

from shmtop.core.model import Snapshot
from shmtop.core.namespaces.discover import Census, Namespace, census
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.snapshot.collect import Collector, describe_errno
from shmtop.core.snapshot.workers import Task


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
    """A foreign namespace's collector, made and used only in its joined thread."""

    def __init__(self, namespace: Namespace, attachments: bool, values: bool) -> None:
        self.namespace = namespace
        self.thread = JoinedThread(namespace.pids[0], namespace.inode)
        self.collector: Task[Collector] | None = None
        if self.thread.error is None:
            pids = list(namespace.pids)
            self.collector = self.thread.submit(Collector.made_for, pids, attachments, values)

    def start(self) -> Task[Snapshot] | None:
        if self.collector is None:
            return None
        collector = self.collector.result()
        return self.thread.submit(collector.snapshot)

    def close(self) -> None:
        if self.collector is not None:
            collector = self.collector.result()
            self.thread.run(collector.close)
        self.thread.close()


def refusal(error: OSError) -> str:
    if error.errno in (errno.EPERM, errno.EACCES):
        return "permission denied (joining needs CAP_SYS_ADMIN)"
    if error.errno == errno.ESRCH:
        return "its processes ended"
    return describe_errno(error.errno or 0)


class NamespaceCollectors:
    """Takes a snapshot of every namespace asked for (all, or those `only` names) at once:
    ours in the calling thread, each other one in a thread joined to it, all in parallel."""

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
        self._collector = (
            Collector(attachments=attachments, semaphore_values=semaphore_values)
            if self._ours is not None else None
        )  # fmt: skip
        self._members = [
            _Member(ns, attachments, semaphore_values) for ns in chosen if not ns.current
        ]

    def snapshot(self) -> AllNamespaces:
        started = [(member, member.start()) for member in self._members]
        views: list[NamespaceView] = []
        if self._ours is not None and self._collector is not None:
            views.append(NamespaceView(self._ours, self._collector.snapshot()))
        for member, task in started:
            error = member.thread.error
            if task is None and error is not None:
                views.append(NamespaceView(member.namespace, None, refusal(error)))
                continue
            assert task is not None
            try:
                views.append(NamespaceView(member.namespace, task.result()))
            except OSError as failure:  # it ended while being read
                views.append(NamespaceView(member.namespace, None, refusal(failure)))
        return AllNamespaces(tuple(views), self._census.unplaced)

    def close(self) -> None:
        if self._collector is not None:
            self._collector.close()
        for member in self._members:
            member.close()
