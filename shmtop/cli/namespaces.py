"""-A/--all-namespaces and --namespace NS: list, show, dump, rm and waiters in other IPC
namespaces, each read (and acted on) by a thread joined to it (core/namespaces).

Imported only when one of the options is given: the default stays the caller's namespace,
as ipcs has it, at the cost it always had.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from shmtop.cli import commands
from shmtop.cli.output import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CliError, emit_streamed, say_error
from shmtop.core.model import Kind, Snapshot
from shmtop.core.namespaces.discover import (
    Census,
    Namespace,
    can_join,
    census,
    find,
    in_initial_user_namespace,
)
from shmtop.core.namespaces.snapshots import AllNamespaces, NamespaceCollectors, NamespaceView
from shmtop.text import report
from shmtop.text.documents import (
    ListPart,
    list_records_across,
    namespace_record,
    namespace_view_record,
)
from shmtop.text.errors import (
    namespaces_denied,
    namespaces_partial,
    no_such_namespace,
    tables_unreadable,
)
from shmtop.text.namespace_table import namespace_label, refusal_lines, table_lines_across

if TYPE_CHECKING:
    from shmtop.cli.list_all_namespaces import Across
    from shmtop.text.posix_watch_records import PosixWatchRecords
    from shmtop.tui.namespace_feed import NamespaceFeed

T = TypeVar("T")
TITLES = {"shm": "Shared memory segments", "sem": "Semaphore sets", "msg": "Message queues"}
DENIED = "permission denied"
# -A without the privilege to read every namespace: what could be seen is printed (stdout,
# the JSON whole), one line on stderr says what was not, and the exit code says the answer
# is partial. 1, as for `list pmq` with no mqueue fs read and `rm` with a failure among
# several: a script that trusts exit 0 for "everything" must not take it for the machine.
PARTIAL = EXIT_ERROR


def chosen(args: argparse.Namespace) -> tuple[Census, list[Namespace]]:
    """The census, and the namespaces -A or --namespace asks for (errors: a usage error, no
    such namespace). -A without the privilege: the namespaces that can be told (the
    caller's, and those of its own user's processes, which it cannot join)."""
    every = bool(getattr(args, "all_namespaces", False))
    if every and args.namespace is not None:
        raise CliError("-A or --namespace NS, not both", EXIT_USAGE)
    found = census()
    if every:
        return found, list(found.namespaces)
    namespace = find(found.namespaces, args.namespace)
    if namespace is None:
        raise CliError(no_such_namespace(args.namespace))
    return found, [namespace]


def view_feed(args: argparse.Namespace) -> NamespaceFeed:
    """The interactive view's namespaces: -A every one (without the privilege: the
    caller's, and the A key says why), --namespace NS that one, else the caller's (A
    toggles every one)."""
    from shmtop.tui.namespace_feed import NamespaceFeed

    every = bool(getattr(args, "all_namespaces", False))
    if getattr(args, "namespace", None) is None:
        return NamespaceFeed(every=every)
    _, (namespace,) = chosen(args)
    return NamespaceFeed(start=None if namespace.current else namespace)


@contextmanager
def snapshots(
    args: argparse.Namespace, *, attachments: bool = True
) -> Iterator[tuple[NamespaceCollectors, AllNamespaces]]:
    """The collectors of the namespaces asked for, and their first snapshots; --namespace's
    refused is an error (-A: the ones read, and partial_note says what was not)."""
    found, namespaces = chosen(args)
    collectors = NamespaceCollectors(attachments=attachments, only=namespaces, found=found)
    try:
        try:
            seen = collectors.snapshot()
        except OSError as error:
            raise CliError(tables_unreadable(error)) from error
        if args.namespace is not None and any(_denied(v) for v in seen.refused):
            raise CliError(namespaces_denied(0, 1))
        if args.namespace is not None and seen.refused:
            view = seen.refused[0]
            label = namespace_label(view.namespace.name, view.namespace.inode)
            raise CliError(f"IPC namespace {label}: {view.refused}")
        yield collectors, seen
    finally:
        collectors.close()


def _denied(view: NamespaceView) -> bool:
    return (view.refused or "").startswith(DENIED)


def partial_note(
    args: argparse.Namespace, found: Census, shown: Sequence[Namespace], refused: int
) -> str | None:
    """-A without the privilege to join or read every namespace: the line that says which
    namespaces were shown, how many processes' namespace could not be told and how many
    namespaces could not be joined (refused: for want of privilege), and what it takes;
    None when -A is whole. A namespace whose processes ended is no want of privilege; nor,
    for root of the host (CAP_SYS_ADMIN in the initial user namespace), is a process whose
    link even root may not read (an LSM's, a sandbox's PID 1: its own line); but a join
    refused all the same, or root of another user namespace (whose capabilities reach no
    host process's link), is."""
    if not getattr(args, "all_namespaces", False):
        return None
    unreadable = found.unplaced.get(DENIED, 0)
    if not refused and (not unreadable or (can_join() and in_initial_user_namespace())):
        return None
    labels = [namespace_label(ns.name, ns.inode) for ns in shown]
    return namespaces_partial(labels, unreadable, refused)


def _seen_note(args: argparse.Namespace, seen: AllNamespaces) -> str | None:
    """partial_note of the namespaces snapshots() read."""
    shown = [v.namespace for v in seen.views if v.snapshot is not None]
    denied = sum(_denied(v) for v in seen.refused)
    return partial_note(args, Census((), seen.unplaced), shown, denied)


def _say_refused(args: argparse.Namespace, seen: AllNamespaces, note: str | None) -> None:
    """On stderr: each namespace not read and the processes not placed (what the note
    says, for want of privilege, it alone says), then the note."""
    refused = [(v.namespace.name, v.namespace.inode, v.refused or "") for v in seen.refused
               if note is None or not _denied(v)]  # fmt: skip
    unplaced = seen.unplaced if args.all_namespaces else {}
    if note is not None:
        unplaced = {why: count for why, count in unplaced.items() if why != DENIED}
    for line in refusal_lines(refused, unplaced):
        print(line, file=sys.stderr)
    if note is not None:
        say_error(note)


def ended(code: int, note: str | None) -> int:
    """The exit code: the command's own, or PARTIAL if worse is not said and -A was not whole."""
    return max(code, PARTIAL) if note is not None else code


def inside(collectors: NamespaceCollectors, namespace: Namespace) -> Callable[..., Any]:
    """inside(call, *args): call(*args) in namespace (in its joined thread)."""

    def run(call: Callable[..., T], *args: Any) -> T:
        return collectors.run_in(namespace, call, *args)

    return run


def _one(seen: AllNamespaces) -> tuple[Namespace, Snapshot]:
    view = seen.views[0]
    assert view.snapshot is not None  # a refused one is an error in snapshots()
    return view.namespace, view.snapshot


def _say_where(namespace: Namespace) -> None:
    """The namespace a single-namespace command acts in, on stderr (stdout stays the table)."""
    print(f"IPC namespace {namespace_label(namespace.name, namespace.inode)}", file=sys.stderr)


# ---- list ----


def run_list(args: argparse.Namespace, kinds: tuple[str, ...]) -> int:
    """list -A / --namespace NS; of every kind (plain list), the POSIX tables after the
    System V ones (cli/list_all_namespaces.py)."""
    every = args.kind == "all" and not commands.posix_left_out(args)
    if args.watch is not None:
        return _watch(args, kinds, every=every)
    with snapshots(args, attachments="shm" in kinds) as (collectors, seen):
        parts = _parts(args, kinds, seen, check_user=True)
        read = [(view, snapshot) for view, snapshot, _ in parts]
        posix = _posix_across(args, seen, collectors) if every else None
        note = _seen_note(args, seen)
        if args.json:
            _emit_list(args, kinds, seen, parts, posix=posix)
            if note is not None:
                sys.stdout.flush()  # the document whole before the line that says it is partial
                say_error(note)
            return ended(EXIT_OK, note)
        with_ns = len(seen.views) > 1
        if not with_ns and read and note is None:  # the note names it
            _say_where(read[0][0].namespace)
        for index, kind in enumerate(kinds):
            rows = [(v.namespace.name, snap, chosen_of[kind]) for v, snap, chosen_of in parts]
            if len(kinds) > 1:
                count = sum(len(objects) for *_, objects in rows)
                print(("\n" if index else "") + f"{TITLES[kind]} ({count})")
            print("\n".join(table_lines_across(Kind(kind), rows, with_ns=with_ns)))
        blind = report.blind_spot_note(read[0][1]) if read and "shm" in kinds else None
        if blind:
            print(blind, file=sys.stderr)
        if posix is not None:
            from shmtop.cli import list_all_namespaces

            list_all_namespaces.print_tables(args, posix, with_ns=with_ns)
        sys.stdout.flush()  # the tables, then what they lack
        _say_refused(args, seen, note)
    return ended(EXIT_OK, note)


def _posix_across(
    args: argparse.Namespace, seen: AllNamespaces, collectors: NamespaceCollectors
) -> Across:
    """The POSIX scans of the namespaces read (a refused one: none of its POSIX either),
    their queues by the threads the collectors joined to them."""
    from shmtop.cli import list_all_namespaces

    read = [v.namespace for v in seen.views if v.snapshot is not None]
    return list_all_namespaces.scan(args, read, collectors.run_in)


Parts = list[tuple[NamespaceView, Snapshot, dict[str, list[Any]]]]


def _parts(
    args: argparse.Namespace, kinds: tuple[str, ...], seen: AllNamespaces, *, check_user: bool
) -> Parts:
    """Each namespace read: its view, snapshot and the objects --sort/--user choose."""
    read = [(v, v.snapshot) for v in seen.views if v.snapshot is not None]
    if check_user and args.user is not None and read:
        commands.check_user(args.user, read[0][1])
    return [(view, snapshot, commands.choose(snapshot, args, kinds)) for view, snapshot in read]


def _emit_list(
    args: argparse.Namespace,
    kinds: tuple[str, ...],
    seen: AllNamespaces,
    parts: Parts,
    *,
    flush: bool = False,
    posix: Across | None = None,
    posix_records: PosixWatchRecords | None = None,
) -> None:
    records = [ListPart(snap, namespace_record(v.namespace), c) for v, snap, c in parts]
    views = [namespace_view_record(v.namespace, v.snapshot, v.refused) for v in seen.views]
    unplaced = seen.unplaced if args.all_namespaces else None
    shell, lists = list_records_across(records, kinds, views, unplaced)
    if posix is not None:  # every kind: the POSIX fields, each object with its namespace
        from shmtop.cli import list_all_namespaces

        shell, lists = list_all_namespaces.json_parts(args, shell, lists, posix, posix_records)
    emit_streamed(shell, lists, flush=flush)


def _watch(args: argparse.Namespace, kinds: tuple[str, ...], *, every: bool) -> int:
    """`list --json --watch S` with -A or --namespace: a `list -A --json` document a line
    (JSON Lines), every object with its namespace. The namespaces are those found at the
    start, each one's collector kept from line to line (a steady line costs steady
    snapshots); one whose processes end is a refused view in the lines after. every: of
    every kind, the POSIX fields too, their collectors and joined threads kept as well
    (cli/list_all_namespaces.watcher)."""
    with snapshots(args, attachments="shm" in kinds) as (collectors, first):
        note = _seen_note(args, first)
        if note is not None:  # once, before the lines: each line's namespaces[] says it too
            say_error(note)
        posix, close = _posix_watch(args, first, collectors) if every else (None, None)
        from shmtop.cli.output import encode
        from shmtop.text.posix_watch_records import PosixWatchRecords

        records = PosixWatchRecords(encode)

        def line(number: int) -> None:
            seen = first if number == 0 else _again(collectors)
            parts = _parts(args, kinds, seen, check_user=number == 0)
            across = posix() if posix is not None else None
            _emit_list(args, kinds, seen, parts, flush=True, posix=across, posix_records=records)

        try:
            return ended(commands.watch_lines(args, line), note)
        finally:
            if close is not None:
                close()


def _posix_watch(
    args: argparse.Namespace, first: AllNamespaces, collectors: NamespaceCollectors
) -> tuple[Callable[[], Across], Callable[[], None]]:
    from shmtop.cli import list_all_namespaces

    read = [v.namespace for v in first.views if v.snapshot is not None]
    return list_all_namespaces.watcher(args, read, collectors.run_in)


def _again(collectors: NamespaceCollectors) -> AllNamespaces:
    try:
        return collectors.snapshot()
    except OSError as error:
        raise CliError(tables_unreadable(error)) from error


# ---- show, dump, rm, waiters: in one namespace ----


def run_show(args: argparse.Namespace) -> int:
    if getattr(args, "messages", False):
        return _show_messages(args)
    with snapshots(args, attachments=args.kind == "shm") as (_, seen):
        namespace, snapshot = _one(seen)
        if not args.json:
            _say_where(namespace)
        return commands.show_found(snapshot, args, namespace_record(namespace))


def _show_messages(args: argparse.Namespace) -> int:
    """show msg ID --messages in the namespace: its table, waiter scan and MSG_COPY reads
    all made by its joined thread (a queue id means that namespace's queue)."""
    from shmtop.cli import debug

    with snapshots(args, attachments=False) as (collectors, seen):
        namespace, _ = _one(seen)
        if not args.json:
            _say_where(namespace)
        record = namespace_record(namespace)
        return collectors.run_in(namespace, debug.run_show_messages, args, record)


def run_dump(args: argparse.Namespace) -> int:
    with snapshots(args, attachments=False) as (collectors, seen):
        namespace, _ = _one(seen)
        return commands.dump_segment(args, inside(collectors, namespace))


def run_rm(args: argparse.Namespace) -> int:
    """rm in one namespace: the plan from its snapshot, the identity check and removal
    (IPC_RMID) made by its joined thread, so an id means that namespace's object."""
    with snapshots(args) as (collectors, seen):
        namespace, snapshot = _one(seen)
        print(f"in IPC namespace {namespace_label(namespace.name, namespace.inode)}")
        return commands.remove_chosen(snapshot, args, inside(collectors, namespace))


def run_waiters(args: argparse.Namespace) -> int:
    """The waiter scan made in the namespace's joined thread: its ids and its waiters. With
    -A, one scan a namespace, each under a heading (--json: one document a line, JSON
    Lines, each with its namespace)."""
    from shmtop.cli import debug

    if args.all_namespaces and args.observe:
        raise CliError("--observe watches one namespace: use --namespace NS", EXIT_USAGE)
    with snapshots(args, attachments=False) as (collectors, seen):
        if not args.all_namespaces:
            namespace, _ = _one(seen)
            if not args.json:
                _say_where(namespace)
            return collectors.run_in(
                namespace, debug.run_waiters, args, namespace_record(namespace)
            )
        worst = EXIT_OK
        for index, view in enumerate(seen.views):
            if view.snapshot is None:
                continue  # said below, with the processes not placed
            if not args.json:
                label = namespace_label(view.namespace.name, view.namespace.inode)
                print(("\n" if index else "") + f"== IPC namespace {label}", flush=True)
            record = namespace_record(view.namespace)
            code = collectors.run_in(view.namespace, debug.run_waiters, args, record)
            worst = max(worst, code)
            sys.stdout.flush()  # each namespace's lines before the next one's
        note = _seen_note(args, seen)
        _say_refused(args, seen, note)
        return ended(worst, note)
