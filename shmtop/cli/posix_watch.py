"""`list pshm|psem|pmq --json --watch S`: one posix-list (pmq-list) document a line, JSON
Lines, as `list KIND --json` prints it; with -A or --namespace, as `list KIND -A --json`
does, every object with its namespace.

The scanners are kept from line to line: a PosixCollector for each /dev/shm shown (it
remembers other mount namespaces' shm devices), and for queues a thread joined to each
other namespace (its joins made once). The namespaces are those found at the start.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import Struct

from shmtop.cli import commands, posix_choice
from shmtop.cli.namespaces import chosen
from shmtop.cli.output import CliError, emit
from shmtop.cli.pmq import queues_filtered
from shmtop.cli.posix import filtered, posix_filter
from shmtop.core.namespaces.discover import Namespace, ipc_inode
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.model import MQ_KIND, PosixKind, PosixSnapshot
from shmtop.core.posix.namespace_roots import scan_shm, shm_dir_of, shm_owners
from shmtop.text.documents import namespace_record
from shmtop.text.namespace_table import namespace_label


def run(args: argparse.Namespace) -> int:
    posix_choice.check(args, args.kind)
    matches = posix_filter(args)
    every = commands.namespace_asked(args)
    namespaces = chosen(args)[1] if every else None
    watcher = (
        QueueWatch(namespaces, matches, args) if args.kind == MQ_KIND
        else ShmWatch(namespaces, PosixKind(args.kind), matches, args)
    )  # fmt: skip
    try:
        return commands.watch_lines(args, lambda _: emit(watcher.document(), flush=True))
    finally:
        watcher.close()


def _chosen(args: argparse.Namespace, kind: PosixKind, scans: list[PosixSnapshot]
            ) -> list[PosixSnapshot]:  # fmt: skip
    """--user's objects of each scan (an unknown --user: a usage error at the first line)."""
    if args.user is None:
        return scans
    posix_choice.check_user(args, (o.uid for s in scans for o in s.objects if o.stat_known))
    return [posix_choice.shm(args, scan, kind) for scan in scans]


class ShmWatch:
    """pshm or psem: each /dev/shm shown, by a collector of its own kept between lines."""

    def __init__(
        self, namespaces: list[Namespace] | None, kind: PosixKind, matches: Any,
        args: argparse.Namespace,
    ) -> None:  # fmt: skip
        self._kind = kind
        self._args = args  # --user, --sort, --reverse
        self._matches = matches  # list --filter's (None: every object)
        self._namespaces = namespaces
        self._owners = shm_owners(namespaces) if namespaces is not None else None
        shown = [ns for ns in namespaces or () if self._shown(ns)]
        if namespaces is not None and not shown:
            raise CliError("no /dev/shm of these namespaces could be read")
        self._collectors = {ns.inode: PosixCollector(shm_dir_of(ns)) for ns in shown}
        self._ours = PosixCollector() if namespaces is None else None

    def _shown(self, namespace: Namespace) -> bool:
        return self._owners is not None and self._owners.shown_under(namespace) is namespace

    def document(self) -> Struct:
        from shmtop.text.posix_documents import posix_list_across, posix_list_document

        kind, matches, order = self._kind, self._matches, posix_choice.order(self._args)
        if self._ours is not None:
            (scan,) = _chosen(self._args, kind, [filtered(matches, self._ours.snapshot(), kind)])
            return posix_list_document(scan, kind, order)
        raw = self.scans()
        scans = _chosen(self._args, kind, [
            filtered(matches, scan, kind, (ns.inode, ns.name, ns.current)) for ns, scan in raw
        ])  # fmt: skip
        parts = [(scan, namespace_record(ns)) for scan, (ns, _) in zip(scans, raw, strict=True)]
        return posix_list_across(parts, self._kind, order)

    def scans(self) -> list[tuple[Namespace, PosixSnapshot]]:
        """Each /dev/shm shown (with -A or --namespace), scanned again, nothing filtered."""
        assert self._namespaces is not None and self._owners is not None
        self._namespaces = [self._followed(ns) for ns in self._namespaces]
        return [
            (ns, scan_shm(ns, self._collectors[ns.inode], self._owners))
            for ns in self._namespaces if ns.inode in self._collectors
        ]  # fmt: skip

    def _followed(self, namespace: Namespace) -> Namespace:
        """The namespace read through a process still in it: /proc/PID/root of a member that
        left (or whose pid now names another process) is another namespace's /dev/shm."""
        if namespace.current or namespace.inode not in self._collectors:
            return namespace
        pids = namespace.pids
        # The first member still in it (most lines: the first one, one stat).
        first = next((n for n, pid in enumerate(pids) if ipc_inode(pid) == namespace.inode), None)
        if first is None:
            label = namespace_label(namespace.name, namespace.inode)
            raise CliError(f"IPC namespace {label} ended: every process of it exited")
        if first == 0:
            return namespace
        followed = msgspec.structs.replace(namespace, pids=pids[first:])
        self._collectors.pop(namespace.inode).close()
        self._collectors[namespace.inode] = PosixCollector(shm_dir_of(followed))
        return followed

    def close(self) -> None:
        for collector in (*self._collectors.values(), *([self._ours] if self._ours else [])):
            collector.close()


class QueueWatch:
    """pmq: each namespace's queues, ours here, the others' by threads joined once."""

    def __init__(
        self, namespaces: list[Namespace] | None, matches: Any, args: argparse.Namespace
    ) -> None:
        self._namespaces = namespaces
        self._matches = matches
        self._args = args  # --user, --sort, --reverse
        self._threads: dict[int, JoinedThread] = {}
        for ns in namespaces or ():
            if ns.current:
                continue
            thread = JoinedThread(ns.pids[0], ns.inode)
            self._threads[ns.inode] = thread
            if thread.error is not None:
                self.close()
                label = namespace_label(ns.name, ns.inode)
                raise CliError(f"IPC namespace {label} not read: {thread.error.strerror}")

    def _scan(self, namespace: Namespace) -> mqueue.MqSnapshot:
        where = (namespace.inode, namespace.name, namespace.current)
        return queues_filtered(self._matches, self.scan(namespace), where)

    def scan(self, namespace: Namespace) -> mqueue.MqSnapshot:
        """The namespace's queues now, nothing filtered (ours here, others' joined)."""
        if namespace.current:
            return mqueue.take_snapshot()
        run: Callable[..., mqueue.MqSnapshot] = self._threads[namespace.inode].run
        return run(mqueue.take_snapshot, list(namespace.pids))

    def document(self) -> Struct:
        from shmtop.text.mqueue_documents import pmq_list_across, pmq_list_document

        if self._namespaces is None:
            scans = [queues_filtered(self._matches, mqueue.take_snapshot())]
        else:
            scans = [self._scan(ns) for ns in self._namespaces]
        if self._args.user is not None:  # an unknown one: a usage error at the first line
            posix_choice.check_user(self._args, (q.entry.uid for s in scans for q in s.queues))
        scans = [posix_choice.queues(self._args, scan) for scan in scans]
        if self._namespaces is None:
            return pmq_list_document(scans[0])
        return pmq_list_across(
            [(scan, namespace_record(ns)) for scan, ns in zip(scans, self._namespaces, strict=True)]
        )

    def close(self) -> None:
        for thread in self._threads.values():
            thread.close()
