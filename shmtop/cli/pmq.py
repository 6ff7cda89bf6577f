"""The POSIX message queue commands: `list pmq`, `show pmq --name NAME`, `rm pmq --name NAME`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shmtop.cli import posix_choice
from shmtop.cli.output import EXIT_ERROR, EXIT_USAGE, CliError, emit, say_error
from shmtop.cli.posix import posix_filter
from shmtop.cli.posix_removal import remove_after_plan
from shmtop.core.posix import mqueue_actions
from shmtop.core.posix.model import MQ_KIND
from shmtop.core.posix.mqueue import MqSnapshot, take_snapshot
from shmtop.text import mqueue_table
from shmtop.text.errors import no_such_name

if TYPE_CHECKING:  # the JSON's types, imported only to be used
    from shmtop.text.documents import NamespaceRecord


def _note(snapshot: MqSnapshot) -> None:
    note = mqueue_table.blind_spot_note(snapshot)
    if note:
        print(note, file=sys.stderr)


def run_list(args: argparse.Namespace, recorded: MqSnapshot | None = None) -> int:
    """A table, or the pmq-list JSON document (--filter's, --user's queues in --sort's
    order; recorded: a recording's scan, list --from). Exit 1 when no mqueue fs could be
    read at all."""
    posix_choice.check(args, MQ_KIND)
    matches = posix_filter(args)
    scan = queues_filtered(matches, recorded if recorded is not None else take_snapshot())
    posix_choice.check_user(args, (q.entry.uid for q in scan.queues))
    snapshot = posix_choice.queues(args, scan)
    if args.json:
        from shmtop.text.mqueue_documents import pmq_list_document

        emit(pmq_list_document(snapshot))
        return 0 if snapshot.listed else EXIT_ERROR
    print(mqueue_table.summary_line(snapshot))
    if snapshot.listed:
        print("\n".join(mqueue_table.table_lines(snapshot)))
    _note(snapshot)
    return 0 if snapshot.listed else EXIT_ERROR


def queues_filtered(matches: Any, snapshot: MqSnapshot, where: Any = None) -> MqSnapshot:
    """The queue scan with only what --filter keeps (unchanged without --filter)."""
    if matches is None:
        return snapshot
    from shmtop.cli import list_filter

    return list_filter.keep_queues(snapshot, matches, where)


def _here(call: Callable[..., Any], *args: Any) -> Any:
    return call(*args)


def run_show(
    args: argparse.Namespace, snapshot: MqSnapshot | None = None,
    namespace: NamespaceRecord | None = None,
) -> int:  # fmt: skip
    """Every queue of that name (a named one, and unlinked ones still held open), in text or
    the pmq-show document; snapshot: of another namespace's queues (cli/posix_ns_objects.py),
    default ours, and namespace its record for the JSON."""
    if args.name is None or args.id is not None or args.messages:
        raise CliError(f"show {MQ_KIND} takes --name NAME", EXIT_USAGE)
    snapshot = snapshot or take_snapshot()
    found = snapshot.named(args.name)
    if not found:
        _note(snapshot)
        raise CliError(no_such_name(MQ_KIND, args.name))
    if args.json:
        from shmtop.core.snapshot.procs import command_line
        from shmtop.text.posix_show_documents import pmq_show_document, queue_users

        lines = {pid: command_line(pid) for pid in queue_users(found)}
        emit(pmq_show_document(args.name, found, snapshot, lines, namespace))
        _note(snapshot)
        return 0
    pages = [mqueue_table.detail_lines(snapshot, queue) for queue in found]
    print("\n\n".join("\n".join(page) for page in pages))
    _note(snapshot)
    return 0


def usage(args: argparse.Namespace) -> None:
    """rm pmq's usage error, before any scan."""
    if not args.names or args.orphans or args.ids or args.key is not None:
        raise CliError(f"rm {MQ_KIND} takes --name NAME (may repeat)", EXIT_USAGE)


def run_rm(
    args: argparse.Namespace,
    snapshot: MqSnapshot | None = None,
    inside: Callable[..., Any] = _here,
) -> int:
    """mq_unlink of each --name, after the plan and a confirmation (as rm pshm). snapshot
    and inside(call, *args): another namespace's queues and its joined thread, where the
    identity check and mq_unlink run (a name means that namespace's queue)."""
    usage(args)
    snapshot = snapshot or take_snapshot()
    names = list(dict.fromkeys(args.names))
    targets = []
    for name in names:
        found = snapshot.named(name)
        if not found:
            say_error(no_such_name(MQ_KIND, name))
        targets.extend(found)
    missing = len(names) - len({q.name for q in targets})
    if not targets:
        _note(snapshot)
        return EXIT_ERROR
    plan = mqueue_table.plan_lines(targets)
    return remove_after_plan(
        args, MQ_KIND, plan, targets, lambda q: inside(mqueue_actions.remove, q), missing=missing
    )
