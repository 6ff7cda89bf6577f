"""`list -A` and `list --namespace NS` of every kind (and their `--json --watch`): after the
System V tables across the namespaces (cli/namespaces.py), the POSIX ones, as `list
pshm|psem|pmq -A` read them (cli/posix_namespaces.py: each IPC namespace's /dev/shm through
a member's root, shown once a device; its queues by a thread joined to it), in text and in
the list document's posix_* fields, each object with its namespace.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any, NamedTuple

from shmtop.cli import list_posix, posix_choice, posix_namespaces
from shmtop.cli.list_posix import EMPTY, NO_QUEUES
from shmtop.cli.output import CliError, say_error
from shmtop.core.namespaces.discover import Namespace
from shmtop.core.posix.model import SHM_DIR, PosixKind, PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot
from shmtop.text import posix_table
from shmtop.text.documents import ListDocument, namespace_record

if TYPE_CHECKING:
    from shmtop.text.posix_watch_records import PosixWatchRecords

ShmScans = list[tuple[Namespace, PosixSnapshot]]
QueueScans = list[tuple[Namespace, MqSnapshot]]


class Across(NamedTuple):
    """The POSIX scans of the namespaces, as list shows them (--filter's, --user's)."""

    shm: ShmScans  # each /dev/shm shown, under the first namespace that has it
    skipped: list[tuple[Namespace, str]]  # the namespaces whose /dev/shm is not shown: why
    queues: QueueScans


def _where(namespace: Namespace) -> tuple[int, str, bool]:
    return (namespace.inode, namespace.name, namespace.current)


def chosen(
    args: argparse.Namespace,
    kept: list_posix.Filters | None,
    shm: ShmScans,
    skipped: list[tuple[Namespace, str]],
    queues: QueueScans,
) -> Across:
    """The scans with what --filter (kept), --user keep, queues in --sort's order."""
    if kept is not None:
        from shmtop.cli import list_filter

        for kind in PosixKind:
            shm = [(ns, list_filter.keep_shm(s, kind, kept.shm[kind], _where(ns)))
                   for ns, s in shm]  # fmt: skip
        queues = [(ns, list_filter.keep_queues(s, kept.queues, _where(ns))) for ns, s in queues]
    for kind in PosixKind:
        shm = [(ns, posix_choice.shm(args, s, kind)) for ns, s in shm]
    queues = [(ns, posix_choice.queues(args, s)) for ns, s in queues]
    return Across(shm, skipped, queues)


def scan(
    args: argparse.Namespace, namespaces: list[Namespace], run_in: posix_namespaces.RunIn
) -> Across:
    """One-shot: each namespace's /dev/shm and queues read now (the queues by the threads
    run_in has joined to them, the System V side's)."""
    kept = list_posix.filters(args)
    shm, skipped = posix_namespaces.shm_snapshots(namespaces)
    queues = posix_namespaces.queue_snapshots(namespaces, None, run_in)
    return chosen(args, kept, shm, skipped, queues)


def print_tables(args: argparse.Namespace, across: Across, *, with_ns: bool) -> None:
    """Each POSIX kind's title and table across the namespaces (one line when it has no
    object), the notes on stderr, as plain `list` prints its own."""
    order = posix_choice.order(args)
    for kind in PosixKind:
        count = sum(len(order(s, kind)) for _, s in across.shm)
        if not count:
            print(f"\n{list_posix.none_line(EMPTY[kind], args.user)}")
            continue
        print(f"\n{posix_table.TITLES[kind]} ({count})")
        print("\n".join(posix_namespaces.shm_lines(across.shm, kind, order, with_ns=with_ns)))
    queues = sum(len(s.queues) for _, s in across.queues)
    if not queues:
        print(f"\n{list_posix.none_line(NO_QUEUES, args.user)}")
    else:
        print(f"\nPOSIX message queues ({queues})")
        print("\n".join(posix_namespaces.queue_lines(across.queues, with_ns=with_ns)))
    posix_namespaces.shm_notes(across.shm, across.skipped)
    posix_namespaces.queue_notes(across.queues)
    if not across.shm:
        print(f"shmtop: no {SHM_DIR} of these namespaces could be read", file=sys.stderr)


def json_parts(
    args: argparse.Namespace,
    shell: ListDocument,
    lists: dict[str, Iterator[Any]],
    across: Across,
    records: PosixWatchRecords | None = None,
) -> tuple[ListDocument, dict[str, Iterator[Any]]]:
    """The list document with the POSIX fields, every object with its namespace (as they
    are without: no /dev/shm of the namespaces could be read); records: a watch's, each
    kept encoded from the line before while it holds."""
    if not across.shm:
        return shell, lists
    from shmtop.text.list_all_documents import with_posix_across

    order = posix_choice.order(args)
    shm = [(s, namespace_record(ns), order(s, PosixKind.SHM), order(s, PosixKind.SEM))
           for ns, s in across.shm]  # fmt: skip
    queues = [(s, namespace_record(ns)) for ns, s in across.queues]
    document, made = with_posix_across(shell, lists, shm, queues)
    if records is not None:
        records.begin()
        made["posix_shm"] = chain.from_iterable(records.encoded(o, s, ns) for s, ns, o, _ in shm)
        made["posix_semaphores"] = chain.from_iterable(
            records.encoded(o, s, ns) for s, ns, _, o in shm
        )
    return document, made


def watcher(
    args: argparse.Namespace, namespaces: Sequence[Namespace], run_in: posix_namespaces.RunIn
) -> tuple[Callable[[], Across], Callable[[], None]]:
    """A --watch's POSIX side: what each line reads (the collectors of each /dev/shm shown
    kept from line to line, cli/posix_watch.py; the queues by the System V side's joined
    threads, run_in) and how to close."""
    from shmtop.cli.posix_watch import ShmWatch

    kept = list_posix.filters(args)
    every = list(namespaces)
    try:
        shm: ShmWatch | None = ShmWatch(every, PosixKind.SHM, None, args)
    except CliError as error:  # no /dev/shm of them readable: the lines have no POSIX part
        say_error(str(error))
        shm = None

    def line() -> Across:  # (a watch is JSON: no note of the namespaces not shown)
        raw = []
        for ns in every:
            try:
                raw.append((ns, posix_namespaces.queues_in(run_in, ns)))
            except OSError:  # its members ended: its System V view says it is refused
                continue
        return chosen(args, kept, shm.scans() if shm is not None else [], [], raw)

    def close() -> None:
        if shm is not None:
            shm.close()

    return line, close
