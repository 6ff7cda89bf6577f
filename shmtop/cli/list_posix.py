"""The POSIX part of plain `shmtop list` (`list all`): after the System V tables, POSIX shared
memory, named semaphores and message queues, as `list pshm|psem|pmq` show them.

In the caller's namespace: a one-shot list from one full snapshot (scan), and each line of
`list --json --watch` from a kept FullCollector (part_of, cli/watch_all.py); `-A` and
`--namespace` are cli/list_all_namespaces.py's; `--from` shows a recording's POSIX half
(recorded_part).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from shmtop.cli import posix_choice
from shmtop.cli.output import CliError
from shmtop.core.model import Snapshot
from shmtop.core.posix import mqueue
from shmtop.core.posix.full import FullSnapshot
from shmtop.core.posix.full import take_snapshot as take_full_snapshot
from shmtop.core.posix.model import PosixKind, PosixObject, PosixSnapshot
from shmtop.text import posix_table
from shmtop.text.documents import ListDocument
from shmtop.text.errors import tables_unreadable
from shmtop.text.sanitize import safe_text

if TYPE_CHECKING:
    from shmtop.text.list_all_documents import ListAllDocument
    from shmtop.text.posix_watch_records import PosixWatchRecords

# An empty kind is one line, not a table of no row (a kind absent from /dev/shm is common).
EMPTY = {
    PosixKind.SHM: "POSIX shared memory: none (no object in /dev/shm, none mapped or open)",
    PosixKind.SEM: "POSIX named semaphores: none",
}
NO_QUEUES = "POSIX message queues: none"


class PosixPart(NamedTuple):
    """The POSIX scans of one `list`, and the objects of each kind it shows (--user's)."""

    snapshot: PosixSnapshot
    queues: mqueue.MqSnapshot
    objects: dict[PosixKind, list[PosixObject]]
    user: str | None  # list --user's U: the objects are U's only


class Filters(NamedTuple):
    """list all --filter's filter of each POSIX kind, parsed once (a watch's every line)."""

    shm: dict[PosixKind, Any]
    queues: Any


def filters(args: argparse.Namespace) -> Filters | None:
    """--filter parsed for each POSIX kind (None without --filter); list_filter.py says why
    a term no POSIX kind takes leaves their tables out (commands.list_once, before this)."""
    if args.filter_expr is None:
        return None
    from shmtop.cli import list_filter  # the filter language is imported only to be used

    expression = args.filter_expr
    return Filters({kind: list_filter.parse_posix(expression, kind) for kind in PosixKind},
                   list_filter.parse_posix(expression, "pmq"))  # fmt: skip


def scan(args: argparse.Namespace) -> tuple[Snapshot, PosixPart]:
    """The System V snapshot and the POSIX scans (shm and semaphores: maps and fds; queues:
    fds and threads), from one read of every process's maps and fds (core/posix/full.py)."""
    try:
        full = take_full_snapshot()
    except OSError as error:
        raise CliError(tables_unreadable(error)) from error
    return full.sysv, part_of(full, args, filters(args))


def part_of(full: FullSnapshot, args: argparse.Namespace, kept: Filters | None) -> PosixPart:
    """What `list` shows of a full snapshot's POSIX half: --filter's (kept), --user's
    objects, in --sort's order (posix_choice; a column a kind has not: its own order)."""
    snapshot, queues = full.posix, full.queues
    if kept is not None:
        from shmtop.cli import list_filter

        for kind in PosixKind:
            snapshot = list_filter.keep_shm(snapshot, kind, kept.shm[kind])
        queues = list_filter.keep_queues(queues, kept.queues)
    order = posix_choice.order(args)
    objects = {}
    for kind in PosixKind:
        objects[kind] = order(posix_choice.shm(args, snapshot, kind), kind)
    return PosixPart(snapshot, posix_choice.queues(args, queues), objects, args.user)


def recorded_part(args: argparse.Namespace, snapshot: Snapshot, record: Any) -> PosixPart | None:
    """list --from: the POSIX part of a recorded moment (record: a PosixRecord, None: the file
    holds none, said on stderr already); a scan that failed then is said on stderr."""
    if record is None:
        return None
    if record.shm is None or record.queues is None:
        print(f"shmtop: no POSIX table: at that moment {record.problem or 'no POSIX scan'}",
              file=sys.stderr)  # fmt: skip
        return None
    return part_of(FullSnapshot(snapshot, record.shm, record.queues), args, filters(args))


def none_line(line: str, user: str | None) -> str:
    """The line of a kind with no object (of --user's user)."""
    return line if user is None else f"{line.split(' (', 1)[0]} of user {safe_text(user)}"


def print_tables(part: PosixPart) -> None:
    """Each kind's title and table (a line saying none when it has no object), its notes on
    stderr."""
    from shmtop.text import mqueue_table  # the tables' code: `list --json` has no table
    from shmtop.text.report import render_table

    for kind in PosixKind:
        objects = part.objects[kind]
        if not objects:
            print(f"\n{none_line(EMPTY[kind], part.user)}")
            continue
        print(f"\n{posix_table.TITLES[kind]} ({len(objects)})")
        columns = posix_table.COLUMNS[kind]
        rows = [tuple(cell(o, part.snapshot) for _, cell in columns) for o in objects]
        print("\n".join(render_table([h for h, _ in columns], rows)))
    queues = part.queues
    if queues.listed and not queues.queues:
        print(f"\n{none_line(NO_QUEUES, part.user)}")
    else:
        print("\n" + mqueue_table.summary_line(queues))
        if queues.listed:
            print("\n".join(mqueue_table.table_lines(queues)))
    for note in (posix_table.blind_spot_note(part.snapshot), mqueue_table.blind_spot_note(queues)):
        if note:
            print(note, file=sys.stderr)


def json_parts(
    shell: ListDocument,
    lists: dict[str, Iterator[Any]],
    part: PosixPart,
    records: PosixWatchRecords | None = None,
) -> tuple[ListAllDocument, dict[str, Iterator[Any]]]:
    """The list document with the POSIX fields (its records made as they are encoded;
    records: a watch's, each kept encoded from the line before while it holds)."""
    from shmtop.text.list_all_documents import with_posix  # only list --json needs them

    shm, sem = part.objects[PosixKind.SHM], part.objects[PosixKind.SEM]
    document, made = with_posix(shell, lists, shm, sem, part.snapshot, part.queues)
    if records is not None:
        records.begin()
        made["posix_shm"] = records.encoded(shm, part.snapshot)
        made["posix_semaphores"] = records.encoded(sem, part.snapshot)
    return document, made
