"""`shmtop view`: the live hex view of one object, alone. A System V segment by its shmid
(ours, or with --namespace another IPC namespace's, attached and stat'ed inside it), or a
POSIX shm object or named semaphore by --name (read with pread, never mapped; with
--namespace, through a member's root). Why it cannot be read is told before the view starts,
and so is a missing terminal."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from shmtop.cli.output import EXIT_USAGE, CliError
from shmtop.text.errors import cannot_read, no_such_name

if TYPE_CHECKING:
    from textual.screen import Screen

NO_TERMINAL = "the viewer needs a terminal; try 'shmtop dump ID' (or dump --name NAME)"


def run(args: argparse.Namespace, namespace_asked: bool) -> int:
    if (args.id is None) == (args.name is None):
        raise CliError("view takes a shmid or --name NAME (one of them)", EXIT_USAGE)
    if args.name is not None:
        if args.no_attach:
            raise CliError("--no-attach is for a segment: a POSIX object is never mapped",
                           EXIT_USAGE)  # fmt: skip
        return _posix(args, namespace_asked)
    if namespace_asked:
        return _segment_inside(args)
    return _segment(args)


def _segment(args: argparse.Namespace) -> int:
    from shmtop.core.segment.segment_reader import CannotRead, SegmentReader

    try:
        reader = SegmentReader.open(args.id, no_attach=args.no_attach)
    except CannotRead as error:
        raise CliError(cannot_read(error)) from error
    try:
        _need_terminal()
        from shmtop.tui.screens.segment_view import SegmentViewScreen

        return _show(SegmentViewScreen(args.id, args.no_attach, reader=reader))
    finally:
        reader.close()


def _segment_inside(args: argparse.Namespace) -> int:
    """Another namespace's segment: attached and stat'ed by a thread joined to it."""
    if args.no_attach:
        raise CliError("--no-attach reads through a process of ours: not with --namespace",
                       EXIT_USAGE)  # fmt: skip
    from shmtop.cli.posix_ns_objects import namespace_of
    from shmtop.core.namespaces.joined import JoinedThread
    from shmtop.core.segment.segment_reader import CannotRead, SegmentReader
    from shmtop.text.namespace_table import namespace_label

    namespace = namespace_of(args)
    if namespace.current:
        return _segment(args)
    place = JoinedThread(namespace.pids[0], namespace.inode)
    try:
        if place.error is not None:
            where = namespace_label(namespace.name, namespace.inode)
            raise CliError(f"IPC namespace {where}: {place.error.strerror}")
        try:
            place.run(SegmentReader.attach, args.id).close()  # readable there: say it now
        except CannotRead as error:
            raise CliError(cannot_read(error)) from error
        _need_terminal()
        from shmtop.tui.screens.segment_view import SegmentViewScreen

        where = namespace_label(namespace.name, namespace.inode)
        return _show(SegmentViewScreen(args.id, place=place, namespace=namespace.inode,
                                       where=where))  # fmt: skip
    finally:
        place.close()


def _posix(args: argparse.Namespace, namespace_asked: bool) -> int:
    from shmtop.cli import posix
    from shmtop.core.posix import content

    if namespace_asked:
        from shmtop.cli.posix_ns_objects import namespace_of, scope_of

        namespace = namespace_of(args)
        scope, inode = scope_of(namespace), None if namespace.current else namespace.inode
    else:
        scope, inode = posix.Scope.here(), None
    found = posix.named(scope.shown, args.name)
    if not found:
        raise CliError(no_such_name("pshm", args.name))
    obj = scope.reach(found[0])  # as dump: ours in /dev/shm first, then unlinked ones
    try:
        content.ObjectReader(obj).close()  # readable: say why not before the view
    except content.Unreadable as error:
        from shmtop.text.sanitize import safe_text

        raise CliError(safe_text(str(error))) from error
    _need_terminal()
    from shmtop.tui.screens.posix_view import PosixObjectScreen

    return _show(PosixObjectScreen(obj, scope.acting, inode))


def _need_terminal() -> None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError(NO_TERMINAL, EXIT_USAGE)


def _show(screen: Screen[None]) -> int:
    from shmtop.tui.crash import run_app
    from shmtop.tui.viewer_app import ViewerApp

    return run_app(ViewerApp.of(screen), "the viewer")
