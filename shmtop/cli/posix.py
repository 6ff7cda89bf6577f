"""The POSIX commands: `list pshm|psem` and `rm pshm|psem --name NAME | --orphans` (pmq:
cli/pmq.py)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from shmtop.cli import posix_choice
from shmtop.cli.commands import write_dump
from shmtop.cli.output import EXIT_ERROR, EXIT_USAGE, CliError, emit, say_error
from shmtop.cli.posix_removal import remove_after_plan
from shmtop.core.posix import actions, content
from shmtop.core.posix.collect import take_snapshot
from shmtop.core.posix.model import MQ_KIND, PosixKind, PosixObject, PosixSnapshot
from shmtop.core.posix.verdicts import DEFAULT_GRACE, judge
from shmtop.text import posix_table
from shmtop.text.errors import no_such_name
from shmtop.text.sanitize import safe_text

if TYPE_CHECKING:  # the JSON's types, imported only to be used
    from shmtop.text.documents import NamespaceRecord


def posix_filter(args: argparse.Namespace) -> Any:
    """list --filter's Filter of args.kind's rows (None without --filter); a usage error
    (exit 2) for a term the kind does not take, before any scan."""
    if getattr(args, "filter_expr", None) is None:
        return None
    from shmtop.cli import list_filter  # the filter language is imported only to be used

    return list_filter.parse_posix(args.filter_expr, args.kind)


def filtered(matches: Any, snapshot: PosixSnapshot, kind: PosixKind, where: Any = None
             ) -> PosixSnapshot:  # fmt: skip
    """The scan with only what --filter keeps of kind (unchanged without --filter)."""
    if matches is None:
        return snapshot
    from shmtop.cli import list_filter

    return list_filter.keep_shm(snapshot, kind, matches, where)


def run_list(args: argparse.Namespace, recorded: PosixSnapshot | None = None) -> int:
    """A table, or the posix-list JSON document: --filter's, --user's objects in --sort's
    order (cli/posix_choice.py); recorded: a recording's scan (list --from), not the kernel's."""
    if args.kind == MQ_KIND:
        from shmtop.cli import pmq

        return pmq.run_list(args)
    posix_choice.check(args, args.kind)
    kind = PosixKind(args.kind)
    matches = posix_filter(args)
    scan = filtered(matches, recorded if recorded is not None else take_snapshot(), kind)
    posix_choice.check_user(args, (o.uid for o in scan.objects if o.stat_known))
    snapshot, order = posix_choice.shm(args, scan, kind), posix_choice.order(args)
    if args.json:
        from shmtop.text.posix_documents import posix_list_document

        emit(posix_list_document(snapshot, kind, order))
        return 0
    print(posix_table.summary_line(snapshot, kind))
    print("\n".join(posix_table.table_lines(snapshot, kind, order)))
    _blind_note(snapshot)
    return 0


def _blind_note(snapshot: PosixSnapshot) -> None:
    note = posix_table.blind_spot_note(snapshot)
    if note:
        print(note, file=sys.stderr)


class Scope(NamedTuple):
    """One scan, as shown and as acted on: the same objects in the same order. In another
    namespace (cli/posix_ns_objects.py) `shown` names them as its processes do (/dev/shm)
    and `acting` has the paths that reach them from here (/proc/PID/root/dev/shm)."""

    shown: PosixSnapshot
    acting: PosixSnapshot

    @classmethod
    def here(cls) -> Scope:
        snapshot = take_snapshot()
        return cls(snapshot, snapshot)

    def reach(self, obj: PosixObject) -> PosixObject:
        """The acting twin of a shown object (the same device and inode)."""
        found = self.acting.find(obj.dev, obj.inode)
        return obj if found is None else found


def rm_usage(args: argparse.Namespace) -> None:
    """rm pshm|psem's usage errors, before any scan."""
    if args.kind not in tuple(str(k) for k in PosixKind):
        raise CliError("--name goes with a POSIX kind: rm pshm --name NAME", EXIT_USAGE)
    if bool(args.names) == bool(args.orphans) or args.ids or args.key is not None:
        raise CliError(f"rm {args.kind} takes --name NAME or --orphans (one of them)", EXIT_USAGE)


def _targets(args: argparse.Namespace, snapshot: PosixSnapshot) -> list[PosixObject]:
    rm_usage(args)
    kind = PosixKind(args.kind)
    objects = [o for o in snapshot.objects if o.kind is kind]
    if args.orphans:
        grace = DEFAULT_GRACE if args.idle_for is None else args.idle_for
        return [o for o in objects if judge(o, snapshot, grace=grace).orphan]
    chosen = []
    for name in dict.fromkeys(args.names):
        found = [o for o in objects if o.name == name]  # named ones, and unlinked (refused)
        if not found:
            say_error(no_such_name(str(kind), name))
        chosen.extend(found)
    return chosen


def run_rm(args: argparse.Namespace, scope: Scope | None = None) -> int:
    if args.kind == MQ_KIND:
        from shmtop.cli import pmq

        return pmq.run_rm(args)
    scope = scope or Scope.here()
    snapshot = scope.shown
    targets = _targets(args, snapshot)
    missing = len(dict.fromkeys(args.names)) - len({o.name for o in targets})
    if not targets:
        if args.orphans:
            _blind_note(snapshot)
            raise CliError("nothing matches: no orphan to remove")
        return EXIT_ERROR
    grace = DEFAULT_GRACE if args.idle_for is None else args.idle_for
    return remove_after_plan(
        args, args.kind, posix_table.plan_lines(snapshot, targets, grace), targets,
        lambda o: _remove(scope, o, idle=args.orphans), missing=missing,
    )  # fmt: skip


def _remove(scope: Scope, obj: PosixObject, *, idle: bool) -> actions.PosixRemoval:
    """Unlink obj by its acting path (the identity check is on that file), told by its name."""
    done = actions.remove(scope.reach(obj), scope.acting, idle=idle)
    return msgspec.structs.replace(done, name=obj.name)


DUMP_CHUNK = 1 << 16


def named(snapshot: PosixSnapshot, name: str) -> list[PosixObject]:
    """The objects called name: ours in /dev/shm first, then a container's, then unlinked."""
    found = [o for o in snapshot.objects if o.name == name]
    found.sort(key=lambda o: (not o.in_shm_dir, not o.linked))
    return found


def run_show(
    args: argparse.Namespace, scope: Scope | None = None, namespace: NamespaceRecord | None = None
) -> int:
    """`show pshm|psem --name NAME [--json]`: every object of that name; namespace: the
    IPC namespace of scope (--namespace), written into the JSON's records."""
    if args.kind == MQ_KIND:
        from shmtop.cli import pmq

        return pmq.run_show(args)
    if args.name is None or args.id is not None or args.messages:
        raise CliError(f"show {args.kind} takes --name NAME", EXIT_USAGE)
    snapshot = (scope or Scope.here()).shown
    found = [o for o in named(snapshot, args.name) if o.kind is PosixKind(args.kind)]
    if not found:
        raise CliError(no_such_name(args.kind, args.name))
    if args.json:
        from shmtop.core.snapshot.procs import command_line
        from shmtop.text.posix_show_documents import posix_show_document, users_of

        lines = {pid: command_line(pid) for pid in users_of(found)}
        emit(posix_show_document(args.name, found, snapshot, lines, namespace))
        return 0
    pages = [posix_table.detail_lines(snapshot, obj) for obj in found]
    print("\n\n".join("\n".join(page) for page in pages))
    _blind_note(snapshot)
    return 0


def run_dump(args: argparse.Namespace, scope: Scope | None = None) -> int:
    """`dump --name NAME`: hex (or --raw) of a POSIX object, read with pread only."""
    scope = scope or Scope.here()
    found = named(scope.shown, args.name)
    if not found:
        raise CliError(no_such_name("pshm", args.name))
    try:
        reader = content.ObjectReader(scope.reach(found[0]))
    except content.Unreadable as error:
        raise CliError(safe_text(str(error))) from error
    with reader:
        start = min(args.offset, reader.size)
        stop = reader.size if args.length is None else min(reader.size, start + args.length)
        write_dump(reader.chunks(start, stop, DUMP_CHUNK), start, raw=args.raw)
    return 0
