"""`shmtop record`, `shmtop replay` and `list --from FILE --at TIME`: their options, and the
hooks that run them (shmtop.core.recording loads only for them)."""

from __future__ import annotations

import argparse
import math
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shmtop.cli.output import EXIT_OK, EXIT_USAGE, CliError

if TYPE_CHECKING:
    from shmtop.core.model import Snapshot
    from shmtop.core.recording.reader import Recording
    from shmtop.core.recording.recorder import Taken

# The same words as core/recording/moments.MOMENT_HELP (not imported: every command builds
# the parser, and only these commands may load the recording code).
MOMENT = (
    "TIME: an ISO time (no offset: local), +30s after the start, -5m before the end, start, end"
)
MAX_INTERVAL = 3600.0
SYSV_ONLY = "the recording holds no POSIX objects"  # format 1, record -A or --no-posix


def record_arguments(record: argparse.ArgumentParser) -> None:
    """`record`'s arguments (cli/command_help.add_command adds them when it is used)."""
    record.add_argument("file", type=Path, metavar="FILE", help="a new file (never overwritten)")
    record.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                        help="seconds between snapshots (default 1)")  # fmt: skip
    record.add_argument("-A", "--all-namespaces", action="store_true",
                        help="every IPC namespace on the machine (root), each a stream of"
                             " its own in the file (System V objects only); those made"
                             " after the start are not recorded")  # fmt: skip
    record.add_argument("--no-posix", action="store_true",
                        help="System V objects only: no POSIX scan each round (the scan"
                             " reads every process's maps and fds: about half the"
                             " recorder's CPU on a large machine)")  # fmt: skip
    record.add_argument("--duration", metavar="DURATION",
                        help="stop after this long (30s, 10m, 2h); default: until Ctrl-C"
                             " or SIGTERM")  # fmt: skip


def replay_arguments(replay: argparse.ArgumentParser, add_view_options: Any) -> None:
    """`replay`'s arguments; `add_view_options` adds the interactive view's options
    (cli/commands.add_view_options)."""
    dashes_are_moments(replay)
    replay.add_argument("file", type=Path, metavar="FILE")
    replay.add_argument("--at", default="start", metavar="TIME",
                        help=f"where the cursor starts (default start); {MOMENT}")  # fmt: skip
    replay.add_argument("--namespace", type=namespace_inode, metavar="INODE",
                        help="of a recording of every namespace (record -A): the one to"
                             " show, by its inode or ipc:[INODE] (default: the recorder's"
                             " own)")  # fmt: skip
    replay.add_argument("--speed", type=float, default=1.0, metavar="X",
                        help="playing speed, recorded seconds a second (default 1)")  # fmt: skip
    add_view_options(replay.add_argument_group("interactive view"), after_command=True)


def dashes_are_moments(parser: argparse.ArgumentParser) -> None:
    """Let `--at -5m` through: argparse takes a word that starts with a dash for an option,
    unless it looks like a negative number; these parsers have no option like that, so a
    dash and a digit is a value (a moment before the end), as `-5` already is."""
    parser._negative_number_matcher = re.compile(r"^-\d")


def add_list_options(listing: argparse.ArgumentParser) -> None:
    dashes_are_moments(listing)
    listing.add_argument("--from", type=Path, dest="from_file", metavar="FILE",
                         help="answer from a recording (shmtop record) instead of the"
                              " kernel")  # fmt: skip
    listing.add_argument("--at", metavar="TIME",
                         help="with --from: the snapshot shown at TIME, the last taken at"
                              f" or before it (default end); {MOMENT}")  # fmt: skip


def namespace_inode(text: str) -> int:
    """--namespace of replay: 4026531839 or ipc:[4026531839]."""
    digits = text.removeprefix("ipc:[").removesuffix("]") if text.startswith("ipc:[") else text
    if not (digits.isascii() and digits.isdigit()):
        raise argparse.ArgumentTypeError(f"not a namespace inode: {text!r} (4026531839 or"
                                         " ipc:[4026531839])")  # fmt: skip
    return int(digits)


def open_recording(path: Path, namespace: int | None = None) -> Recording:
    from shmtop.core.recording.reader import Recording, RecordingError

    try:
        recording = Recording.open(path, namespace)
    except RecordingError as error:
        said = str(error)
        raise CliError(said if str(path) in said else f"{path}: {said}") from error
    if not len(recording):
        raise CliError(f"{path}: the recording holds no snapshot yet")
    return recording


def moment(recording: Recording, text: str, option: str) -> float:
    from shmtop.core.recording.moments import parse_moment

    try:
        return parse_moment(text, recording.start, recording.end)
    except ValueError as error:
        raise CliError(f"{option}: {error}", EXIT_USAGE) from error


def recorded_snapshot(args: argparse.Namespace, posix: bool) -> Snapshot | None:
    """list --from: the recorded snapshot at --at (None without --from); usage errors first.
    Its POSIX half goes to args.recorded_posix (a PosixRecord, None: the file has none)."""
    args.recorded_posix = None
    if args.from_file is None:
        if args.at is not None:
            raise CliError("--at goes with --from FILE", EXIT_USAGE)
        return None
    if args.watch is not None:
        raise CliError("--watch reads the kernel; --from reads a recording: not both", EXIT_USAGE)
    if getattr(args, "all_namespaces", False):
        raise CliError("-A with --from: not yet; --namespace INODE picks one of the"
                       " recording's namespaces", EXIT_USAGE)  # fmt: skip
    namespace = None
    if getattr(args, "namespace", None) is not None:
        try:
            namespace = namespace_inode(args.namespace)
        except argparse.ArgumentTypeError as error:
            raise CliError(f"--namespace with --from: {error}", EXIT_USAGE) from error
    from shmtop.text.units import clock

    recording = open_recording(args.from_file, namespace)
    when = moment(recording, args.at or "end", "--at")
    index = recording.index_at(when)
    snapshot = recording.snapshot(index)
    args.recorded_posix = recording.posix(index)
    if posix and args.recorded_posix is None:
        raise CliError(f"{args.from_file}: {SYSV_ONLY} (it answers shm, sem, msg)", EXIT_USAGE)
    print(f"shmtop: from the recording {args.from_file}: the snapshot of"
          f" {clock(snapshot.taken_at)} (recorded {clock(recording.start)} to"
          f" {clock(recording.end)})", file=sys.stderr)  # fmt: skip
    if args.kind == "all" and args.recorded_posix is None:  # the System V tables alone
        print(f"shmtop: {SYSV_ONLY}: no POSIX table", file=sys.stderr)
    others = len(recording.namespaces) - 1
    if others:
        print(f"shmtop: it holds {others} more IPC namespace(s); shown: ipc:[{recording.namespace}]"
              " (--namespace INODE shows another)", file=sys.stderr)  # fmt: skip
    return snapshot


def list_recorded_posix(args: argparse.Namespace) -> int:
    """list pshm|psem|pmq --from: the recorded scan at --at (recorded_snapshot's)."""
    record = args.recorded_posix
    scan = record.queues if args.kind == "pmq" else record.shm
    if scan is None:
        raise CliError(f"{args.from_file}: no POSIX scan at that moment:"
                       f" {record.problem or 'not recorded'}")  # fmt: skip
    if args.kind == "pmq":
        from shmtop.cli import pmq

        return pmq.run_list(args, scan)
    from shmtop.cli import posix

    return posix.run_list(args, scan)


def snapshot_source(
    every: bool, posix: bool = True
) -> tuple[Callable[[], Sequence[Taken]], Callable[[], None]]:
    """What record takes each round (one snapshot a namespace) and how to close it; the
    first round is taken here, so that unreadable tables fail before the file is made."""
    from shmtop.cli.commands import take_snapshot
    from shmtop.core.snapshot.collect import Collector
    from shmtop.text.errors import tables_unreadable

    if not every and not posix:
        collector = Collector()
        take_snapshot(collector=collector)
        return (lambda: (collector.snapshot(),)), collector.close
    if not every:
        from shmtop.core.posix.full import FullCollector

        full = FullCollector(sysv=Collector())
        take_snapshot(collector=full.sysv)  # unreadable tables: said before the file is made
        return (lambda: (full_round(full),)), full.close
    if os.geteuid() != 0:
        raise CliError("-A needs root: joining another IPC namespace takes CAP_SYS_ADMIN")
    from shmtop.core.namespaces.snapshots import NamespaceCollectors

    collectors = NamespaceCollectors()

    def take() -> list[Taken]:
        views = collectors.snapshot().views
        return [view.snapshot for view in views if view.snapshot is not None]

    try:
        take()
    except OSError as error:
        collectors.close()
        raise CliError(tables_unreadable(error)) from error
    return take, collectors.close


def full_round(full: Any) -> tuple[Snapshot, Any]:
    """One round of a recording: the System V snapshot and its POSIX half, from one read
    (a FullCollector); where the full read fails, the System V one alone and why."""
    from shmtop.core.recording.posix_changes import PosixRecord

    try:
        taken = full.snapshot()
    except OSError as error:
        return full.sysv.snapshot(), PosixRecord(None, None, f"POSIX scan failed: {error}")
    return taken.sysv, PosixRecord(taken.posix, taken.queues)


def run_record(args: argparse.Namespace) -> int:
    from shmtop.core.recording.recorder import record
    from shmtop.core.recording.writer import RecordingWriter
    from shmtop.core.verdicts import parse_duration
    from shmtop.text.units import human_size, time_of_day

    if not (math.isfinite(args.interval) and 0.1 <= args.interval <= MAX_INTERVAL):
        raise CliError(f"--interval must be between 0.1 and {MAX_INTERVAL:g} seconds", EXIT_USAGE)
    duration = None
    if args.duration is not None:
        try:
            duration = parse_duration(args.duration)
        except ValueError as error:
            raise CliError(f"--duration: {error}", EXIT_USAGE) from error
    posix = not (args.all_namespaces or args.no_posix)
    take, close = snapshot_source(args.all_namespaces, posix)
    try:
        writer = RecordingWriter(args.file, interval=args.interval, posix=posix)
    except OSError as error:
        close()
        raise CliError(f"cannot create {args.file}: {error.strerror or error}") from error
    stop = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stop.set())
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    }
    until = f"for {args.duration}" if duration else "until Ctrl-C"
    print(f"shmtop: recording to {args.file} every {args.interval:g}s {until}",
          file=sys.stderr, flush=True)  # fmt: skip

    def failed(error: OSError) -> None:
        print(f"shmtop: {time_of_day()} snapshot failed, skipped: {error}", file=sys.stderr,
              flush=True)  # fmt: skip

    try:
        with writer:
            record(writer, take, interval=args.interval, duration=duration,
                   stop=stop, on_error=failed)  # fmt: skip
    except OSError as error:
        raise CliError(f"cannot write {args.file}: {error.strerror or error}") from error
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        close()
    print(f"shmtop: {writer.frames} snapshots, {human_size(writer.bytes)} in {args.file}",
          file=sys.stderr)  # fmt: skip
    return EXIT_OK


def run_replay(args: argparse.Namespace) -> int:
    from shmtop.cli.commands import served, view_options

    options = view_options(args)
    if not (math.isfinite(args.speed) and 0 < args.speed <= 1000):
        raise CliError("--speed must be above 0 and at most 1000", EXIT_USAGE)
    recording = open_recording(args.file, args.namespace)
    when = moment(recording, args.at, "--at")
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not served():
        raise CliError("the replay needs a terminal; try 'shmtop list --from FILE --at TIME'",
                       EXIT_USAGE)  # fmt: skip
    from shmtop.tui.crash import run_app
    from shmtop.tui.prefs import Preferences
    from shmtop.tui.replay_app import ReplayApp

    options.pop("readonly", None)  # a replay changes nothing, whatever was asked
    app = ReplayApp(recording, at=when, speed=args.speed, preferences=Preferences.load(),
                    **options)  # fmt: skip
    return run_app(app, "the replay")
