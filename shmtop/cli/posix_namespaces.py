"""`list pshm|psem|pmq -A` and `--namespace NS`: the POSIX objects of each IPC namespace.

POSIX shared memory and named semaphores are files of a shm mount, which belongs to a mount
namespace: each IPC namespace's are read through /proc/PID/root/dev/shm of a member, and a
/dev/shm that an earlier namespace (the caller's first) showed is not shown again. Message
queues belong to the IPC namespace itself: they are read by a thread joined to it (its
mq_open and its detached mqueue mount are that namespace's).
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable
from typing import Any

from shmtop.cli import posix_choice
from shmtop.cli.namespaces import chosen, ended, partial_note
from shmtop.cli.output import EXIT_ERROR, EXIT_OK, CliError, emit, say_error
from shmtop.cli.pmq import queues_filtered
from shmtop.cli.posix import filtered, posix_filter
from shmtop.core.namespaces.discover import Census, Namespace
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.model import MQ_KIND, SHM_DIR, PosixKind, PosixSnapshot
from shmtop.core.posix.namespace_roots import scan_shm, shm_dir_of, shm_owners
from shmtop.text import mqueue_table, posix_table
from shmtop.text.documents import NamespaceRecord, namespace_record
from shmtop.text.namespace_table import namespace_label, rows_across
from shmtop.text.posix_table import Order


def run_list(args: argparse.Namespace) -> int:
    posix_choice.check(args, args.kind)
    matches = posix_filter(args)  # before any join or scan
    found, namespaces = chosen(args)
    if args.kind == MQ_KIND:
        return _list_queues(args, found, namespaces, matches)
    return _list_shm(args, found, namespaces, PosixKind(args.kind), matches)


def _partial(
    args: argparse.Namespace, found: Census, shown: list[Namespace], refused: int, code: int
) -> int:
    """-A without the privilege: after what could be read, the line that says what could
    not (cli/namespaces.partial_note), and the exit code that says the answer is partial."""
    note = partial_note(args, found, shown, refused)
    if note is not None:
        sys.stdout.flush()
        say_error(note)
    return ended(code, note)


def _where(namespace: Namespace) -> tuple[int, str, bool]:
    return (namespace.inode, namespace.name, namespace.current)


def shm_snapshots(
    namespaces: list[Namespace],
) -> tuple[list[tuple[Namespace, PosixSnapshot]], list[tuple[Namespace, str]]]:
    """A scan of each namespace's /dev/shm (once a device: the first namespace showing it
    keeps its objects), and the namespaces not scanned, with why."""
    found = shm_owners(namespaces)
    scans: list[tuple[Namespace, PosixSnapshot]] = []
    skipped: list[tuple[Namespace, str]] = []
    for namespace in namespaces:
        owner = found.shown_under(namespace)
        if isinstance(owner, str):
            skipped.append((namespace, owner))
        elif owner is not namespace:
            skipped.append((namespace, f"shares {SHM_DIR} with "
                                       f"{namespace_label(owner.name, owner.inode)}"))  # fmt: skip
        else:
            with PosixCollector(shm_dir_of(namespace)) as collector:
                scans.append((namespace, scan_shm(namespace, collector, found)))
    return scans, skipped


def _list_shm(
    args: argparse.Namespace, found: Census, namespaces: list[Namespace], kind: PosixKind,
    matches: Any,
) -> int:  # fmt: skip
    scans, skipped = shm_snapshots(namespaces)
    unread = {ns.inode for ns, why in skipped if not why.startswith("shares")}
    shown = [ns for ns in namespaces if ns.inode not in unread]  # a shared /dev/shm: shown
    scans = [(ns, filtered(matches, s, kind, _where(ns))) for ns, s in scans]
    posix_choice.check_user(args, (o.uid for _, s in scans for o in s.objects if o.stat_known))
    scans = [(ns, posix_choice.shm(args, s, kind)) for ns, s in scans]
    order = posix_choice.order(args)  # within each namespace, as System V tables across
    if args.json:
        from shmtop.text.posix_documents import posix_list_across

        if not scans:
            raise CliError(f"no {SHM_DIR} could be read")
        emit(posix_list_across([(s, namespace_record(ns)) for ns, s in scans], kind, order))
        return _partial(args, found, shown, 0, EXIT_OK)
    print("\n".join(shm_lines(scans, kind, order, with_ns=len(namespaces) > 1)))
    shm_notes(scans, skipped)
    return _partial(args, found, shown, 0, EXIT_OK)


def shm_lines(
    scans: list[tuple[Namespace, PosixSnapshot]], kind: PosixKind, order: Order, *, with_ns: bool
) -> list[str]:
    """The table of kind across the scans (an NS column first with_ns), in order's order
    within each namespace."""
    headers = [header for header, _ in posix_table.COLUMNS[kind]]
    parts = [
        (ns.name, [[cell(o, s) for _, cell in posix_table.COLUMNS[kind]]
                   for o in order(s, kind)])
        for ns, s in scans
    ]  # fmt: skip
    return rows_across(headers, parts, with_ns=with_ns)


def shm_notes(
    scans: list[tuple[Namespace, PosixSnapshot]], skipped: list[tuple[Namespace, str]]
) -> None:
    """On stderr: each partial scan, the namespaces sharing a /dev/shm shown, the unread."""
    for ns, snapshot in scans:  # only what is worth a line: a partial scan
        note = posix_table.blind_spot_note(snapshot)
        if note:
            print(f"{namespace_label(ns.name, ns.inode)}: {note}", file=sys.stderr)
    shared = sum(why.startswith("shares") for _, why in skipped)
    if shared:
        print(f"{shared} more IPC namespaces share a {SHM_DIR} shown above", file=sys.stderr)
    for ns, why in skipped:
        if not why.startswith("shares"):
            print(f"IPC namespace {namespace_label(ns.name, ns.inode)}: {why}", file=sys.stderr)


def _queues_of(namespace: Namespace) -> mqueue.MqSnapshot:
    """The namespace's queues, read by a thread joined to it (ours: here)."""
    if namespace.current:
        return mqueue.take_snapshot()
    thread = JoinedThread(namespace.pids[0], namespace.inode)
    try:
        if thread.error is not None:
            raise thread.error
        return thread.run(mqueue.take_snapshot, list(namespace.pids))
    finally:
        thread.close()


RunIn = Callable[..., Any]  # run_in(namespace, call, *args): call(*args) inside namespace


def queue_snapshots(
    namespaces: list[Namespace], matches: Any, run_in: RunIn | None = None,
    denied: list[Namespace] | None = None,
) -> list[tuple[Namespace, mqueue.MqSnapshot]]:  # fmt: skip
    """Each namespace's queues (--filter's: matches), one line on stderr for each not read;
    run_in: threads already joined to them (NamespaceCollectors.run_in), else one each;
    denied: where the namespaces not joined for want of privilege go, unsaid (a caller's
    one line counts them)."""
    scans: list[tuple[Namespace, mqueue.MqSnapshot]] = []
    for namespace in namespaces:
        try:
            found = _queues_of(namespace) if run_in is None else queues_in(run_in, namespace)
            scans.append((namespace, queues_filtered(matches, found, _where(namespace))))
        except OSError as error:
            if denied is not None and error.errno in (errno.EPERM, errno.EACCES):
                denied.append(namespace)
                continue
            label = namespace_label(namespace.name, namespace.inode)
            print(f"IPC namespace {label} not read: {error.strerror}", file=sys.stderr)
    return scans


def queues_in(run_in: RunIn, namespace: Namespace) -> mqueue.MqSnapshot:
    """The namespace's queues, read by run_in's thread joined to it (ours: here)."""
    if namespace.current:
        return mqueue.take_snapshot()
    found: mqueue.MqSnapshot = run_in(namespace, mqueue.take_snapshot, list(namespace.pids))
    return found


def _list_queues(
    args: argparse.Namespace, found: Census, namespaces: list[Namespace], matches: Any
) -> int:
    denied: list[Namespace] = []
    scans = queue_snapshots(namespaces, matches, denied=denied if args.all_namespaces else None)
    if not scans:
        raise CliError("no IPC namespace's queues could be read")
    shown = [ns for ns, _ in scans]
    posix_choice.check_user(args, (q.entry.uid for _, s in scans for q in s.queues))
    scans = [(ns, posix_choice.queues(args, s)) for ns, s in scans]
    listed = all(s.listed for _, s in scans)
    if args.json:
        from shmtop.text.mqueue_documents import pmq_list_across

        records: list[tuple[mqueue.MqSnapshot, NamespaceRecord]] = [
            (s, namespace_record(ns)) for ns, s in scans
        ]
        emit(pmq_list_across(records))
        return _partial(args, found, shown, len(denied), EXIT_OK if listed else EXIT_ERROR)
    print("\n".join(queue_lines(scans, with_ns=len(namespaces) > 1)))
    queue_notes(scans)
    return _partial(args, found, shown, len(denied), EXIT_OK if listed else EXIT_ERROR)


def queue_lines(scans: list[tuple[Namespace, mqueue.MqSnapshot]], *, with_ns: bool) -> list[str]:
    headers = [header for header, _ in mqueue_table.COLUMNS]
    parts = [
        (ns.name, [[cell(q, s) for _, cell in mqueue_table.COLUMNS] for q in s.queues])
        for ns, s in scans
    ]
    return rows_across(headers, parts, with_ns=with_ns)


def queue_notes(scans: list[tuple[Namespace, mqueue.MqSnapshot]]) -> None:
    for ns, snapshot in scans:
        note = mqueue_table.blind_spot_note(snapshot)
        if note:
            print(f"{namespace_label(ns.name, ns.inode)}: {note}", file=sys.stderr)
