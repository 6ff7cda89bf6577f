"""Command line: the TUI, and list/show/dump/rm/limits/schema that print and exit (no Textual
import); how each ends (exit codes, errors, JSON) is cli/output.py.

Each command imports what it alone uses in its own function (tests/cli/test_oneshot_imports.py
checks it): a one-shot command pays its interpreter and imports at every call, so `list`,
`show` and `limits` import no TUI, no debugger (cli/debug, the wait scan), no segment reader
and no removal code; only what every reading command needs is imported here.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import operator
import os
import pwd
import signal
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from shmtop import __version__
from shmtop.cli import output, parser_text, record_hook
from shmtop.cli.command_help import add_command
from shmtop.cli.output import (
    EXIT_ERROR,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    emit,
    emit_encoded,
    emit_streamed,
    say_error,
)
from shmtop.core.model import IpcObject, Kind, Segment, Snapshot
from shmtop.core.posix.model import MQ_KIND, PosixKind
from shmtop.core.snapshot.collect import Collector, collector_paused
from shmtop.core.snapshot.procs import command_line
from shmtop.core.verdicts import DEFAULT_GRACE, judge, parse_duration
from shmtop.text.errors import (
    bad_sort,
    cannot_read,
    no_such_object,
    no_such_user,
    object_error,
    removal_text,
    tables_unreadable,
)
from shmtop.text.numbers import byte_count, byte_offset, counted, ipc_id, ipc_key, line_count
from shmtop.text.sanitize import safe_text
from shmtop.text.units import hex_key

if TYPE_CHECKING:
    from shmtop.core.actions import Removal
    from shmtop.demo.workload import Demo
    from shmtop.text.documents import NamespaceRecord
    from shmtop.text.watch_records import WatchRecords
    from shmtop.tui.app import ShmtopApp
    from shmtop.tui.posix_source import PosixSource

T = TypeVar("T")
Inside = Callable[..., Any]  # inside(call, *args): call(*args) in the objects' IPC namespace

KINDS = ("shm", "sem", "msg")
POSIX_KINDS = (*(str(kind) for kind in PosixKind), MQ_KIND)  # "pshm", "psem", "pmq"
VIEW_TABS = (*KINDS, *POSIX_KINDS)  # the view's tabs: a System V kind's, then the POSIX ones
DUMP_CHUNK = 1 << 16
SHOWN_BYTES = 256  # show msg --messages: bytes shown of each message
_OBJECT_ID = operator.attrgetter("id")


@functools.cache
def help_width() -> int:
    """The width argparse would give help text (shutil.get_terminal_size's columns, less 2),
    found once: COLUMNS, else the terminal of stdout, else 80."""
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() else 0
    if width <= 0:
        try:
            width = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            width = 0
    return (width or 80) - 2


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, given the width: argparse makes one for every argument added (to
    check its metavar), and each imported shutil and asked the terminal for its size."""

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
        width: int | None = None,
    ) -> None:  # fmt: skip
        super().__init__(prog, indent_increment, max_help_position, width or help_width())

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # argparse joins a description's or epilog's lines into one paragraph; keep the
        # indented lines (the examples of cli/command_help.py) as they are.
        lines = text.splitlines()
        if not any(line.startswith("  ") for line in lines):
            return super()._fill_text(text, width, indent)
        return "\n".join(indent + line for line in lines)


class Parser(argparse.ArgumentParser):
    """argparse's parser with HelpFormatter (its subcommands' parsers are of this class too).

    A command's parser is given its arguments (`arguments(parser)`, cli/command_help.py)
    when it is first used: parsing, help or usage. argparse hands the words after a command
    to that command's parser alone, so a command line builds only the command it names (the
    others' arguments were ~7 ms of every one-shot command); what it parses and prints is
    the same as a parser built whole.
    """

    def __init__(
        self, *args: Any, arguments: Callable[[Parser], object] | None = None, **kwargs: Any
    ) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
        self._arguments = arguments

    def filled(self) -> Parser:
        """This parser with its arguments added (once)."""
        arguments, self._arguments = self._arguments, None
        if arguments is not None:
            arguments(self)
        return self

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        return super(Parser, self.filled()).parse_known_args(args, namespace)

    def format_usage(self) -> str:
        return super(Parser, self.filled()).format_usage()

    def format_help(self) -> str:
        return super(Parser, self.filled()).format_help()


def add_selection_options(listing: argparse.ArgumentParser) -> None:
    """list's choice of objects and their order: --sort, --reverse, --user, --filter."""
    listing.add_argument(
        "--sort",
        metavar="COL",
        help="sort by a column key, the TUI's too (id, key, size, creator, atime, status...;"
        " POSIX kinds: name, size, alloc, value, msgs, lastop...); times sort as ages,"
        " newest first",
    )
    listing.add_argument("--reverse", action="store_true", help="reverse the order")
    listing.add_argument("--user", metavar="U", help="only objects owned by user name or uid U")
    listing.add_argument("--filter", metavar="EXPR", dest="filter_expr",
                         help="only objects every term of EXPR matches, the TUI's filter"
                              " language (nattch:>0 size:>1M age:>1h user:NAME key:0x..,"
                              " ns:NAME, !dest, orphan...; POSIX kinds: the terms that apply"
                              " to them)")  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """shmtop's parser: its own options and every command's name and summary; a command's
    arguments are added when its parser is first used (Parser.filled)."""
    parser = Parser(
        prog="shmtop",
        description="Show and debug System V and POSIX shared memory, semaphores and message"
        " queues.",
        epilog="Without a command, shmtop starts the interactive view.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    add_view_options(parser.add_argument_group("interactive view (no command, or demo)"),
                     namespaces=True)  # fmt: skip
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_command(commands, "list", list_arguments)
    add_command(commands, "show", show_arguments)
    add_command(commands, "dump", dump_arguments)
    add_command(commands, "view", view_arguments)
    add_command(commands, "rm", rm_arguments)
    add_command(commands, "demo", demo_arguments)
    add_command(commands, "limits", limits_arguments)
    add_command(commands, "waiters", waiters_arguments)
    add_command(commands, "exporter", exporter_arguments)
    add_command(commands, "serve", serve_arguments)
    add_command(commands, "record", record_hook.record_arguments)
    replay = functools.partial(record_hook.replay_arguments, add_view_options=add_view_options)
    add_command(commands, "replay", replay)
    add_command(commands, "schema", schema_arguments)
    return parser


def list_arguments(listing: argparse.ArgumentParser) -> None:
    listing.add_argument("kind", nargs="?", default="all", choices=(*KINDS, "all", *POSIX_KINDS))
    listing.add_argument("--json", action="store_true", help="typed JSON instead of a table")
    add_selection_options(listing)
    listing.add_argument("--watch", type=float, metavar="SECONDS",
                         help="with --json: a snapshot every SECONDS, one a line (JSON Lines),"
                              " until Ctrl-C")  # fmt: skip
    listing.add_argument("--count", type=line_count, metavar="N",
                         help="with --watch: stop after N lines")  # fmt: skip
    record_hook.add_list_options(listing)
    add_namespace_options(listing, every=True)


def show_arguments(show: argparse.ArgumentParser) -> None:
    show.add_argument("kind", choices=(*KINDS, *POSIX_KINDS))
    show.add_argument("id", type=ipc_id, nargs="?")
    show.add_argument("--name", metavar="NAME", help="pshm, psem, pmq: the object named NAME")
    show.add_argument("--json", action="store_true")
    add_show_options(show)
    add_namespace_options(show)


def dump_arguments(dump: argparse.ArgumentParser) -> None:
    dump.add_argument("id", type=ipc_id, nargs="?", help="shmid")
    dump.add_argument("--name", metavar="NAME",
                      help="a POSIX object instead (/NAME, as list pshm shows it)")  # fmt: skip
    dump.add_argument("--offset", type=byte_offset, default=0, metavar="N")
    dump.add_argument("--length", type=byte_count, default=None, metavar="N")
    dump.add_argument("--raw", action="store_true", help="raw bytes, for a pipe")
    add_namespace_options(dump)


def view_arguments(viewer: argparse.ArgumentParser) -> None:
    viewer.add_argument("id", type=ipc_id, nargs="?", help="shmid")
    viewer.add_argument("--name", metavar="NAME",
                        help="a POSIX object instead (/NAME, as list pshm shows it)")  # fmt: skip
    viewer.add_argument("--no-attach", action="store_true",
                        help="read through a process that has it attached (root): "
                             "nattch, lpid and atime stay untouched")  # fmt: skip
    add_namespace_options(viewer)


def rm_arguments(rm: argparse.ArgumentParser) -> None:
    rm.add_argument("kind", nargs="?", choices=(*KINDS, "all", *POSIX_KINDS),
                    help="kind of the ids or key (pshm, psem, pmq: of the --name)")  # fmt: skip
    rm.add_argument("ids", nargs="*", type=ipc_id, metavar="ID")
    rm.add_argument("--key", type=ipc_key, help="remove the objects with this key")
    rm.add_argument("--name", action="append", default=[], dest="names", metavar="NAME",
                    help="pshm, psem, pmq: the object named NAME (/NAME); may repeat")  # fmt: skip
    rm.add_argument("--orphans", action="store_true",
                    help="remove orphans of every kind: private, unused, their creator or last "
                         "users gone, untouched for 60 s (see --idle-for)")  # fmt: skip
    rm.add_argument("--idle-for", type=duration, metavar="DURATION",
                    help="with --orphans: untouched this long (90s, 10m, 2h, 7d), and take "
                         "keyed objects (unattached, unused) untouched that long too")  # fmt: skip
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask (needed off a terminal)")
    rm.add_argument("--dry-run", action="store_true", help="show what would go, remove nothing")
    add_namespace_options(rm)


def demo_arguments(demo: argparse.ArgumentParser) -> None:
    demo.add_argument("--no-ui", action="store_true",
                      help="run the workload only, until Ctrl-C or SIGTERM")  # fmt: skip
    demo.add_argument("--host-ipc", action="store_true",
                      help="run among this machine's objects (no namespace of its own: the"
                           " view shows, and can remove, every object)")  # fmt: skip
    add_view_options(demo.add_argument_group("interactive view"), after_command=True)


def limits_arguments(limits: argparse.ArgumentParser) -> None:
    limits.add_argument("--json", action="store_true")


def schema_arguments(schema: argparse.ArgumentParser) -> None:
    schema.add_argument("document", nargs="?", metavar="DOCUMENT",
                        help="list, show, show-messages, waiters or limits")  # fmt: skip


def exporter_arguments(exporter: argparse.ArgumentParser) -> None:
    from shmtop.cli import exporter_hook  # its settings, for this command alone

    exporter_hook.add_arguments(exporter)


def serve_arguments(serve: argparse.ArgumentParser) -> None:
    from shmtop.cli import serve_hook  # its settings, for this command alone

    serve_hook.add_arguments(serve, VIEW_TABS)


def waiters_arguments(waiters: argparse.ArgumentParser) -> None:
    """`waiters`'s arguments. They are here, not in cli/debug: building them must not import
    the debugger (its limits come from core/waits/settings.py, apart from the scanner)."""
    from shmtop.core.waits.settings import DEFAULT_STUCK_AFTER, MAX_SECONDS

    waiters.add_argument("--json", action="store_true", help="typed JSON instead of a table")
    waiters.add_argument(
        "--observe",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=f"scan once a second for SECONDS (at most {MAX_SECONDS:g}), then report: "
        "how long waits last (a single scan sees each one begin now)",
    )
    waiters.add_argument(
        "--stuck-after",
        "--stall-after",  # the old name, from when a long wait was called a stall
        type=float,
        default=DEFAULT_STUCK_AFTER,
        dest="stuck_after",
        metavar="SECONDS",
        help="a wait nobody can release is called stuck once its object has not changed "
        f"for SECONDS (default {DEFAULT_STUCK_AFTER:g}, at most {MAX_SECONDS:g}): "
        "a wake-up on its way is not stuck",
    )
    add_namespace_options(waiters, every=True)


def add_namespace_options(parser: argparse.ArgumentParser, *, every: bool = False) -> None:
    """--namespace (and, every: -A/--all-namespaces); cli/namespaces.py carries them out."""
    if every:
        parser.add_argument(
            "-A",
            "--all-namespaces",
            action="store_true",
            help="every IPC namespace on the machine (root; without the privilege: those it"
            " can read, the rest counted on stderr, exit 1), with an NS column",
        )
    parser.add_argument(
        "--namespace", metavar="NS",
        help="in the IPC namespace NS: a container (docker:ID, an id prefix), a hostname,"
        " ipc:[INODE], an inode or a member PID (root)",
    )  # fmt: skip


def namespace_asked(args: argparse.Namespace) -> bool:
    """Whether the command was given -A or --namespace (else: the caller's namespace)."""
    return (
        bool(getattr(args, "all_namespaces", False)) or getattr(args, "namespace", None) is not None
    )


def add_show_options(show: argparse.ArgumentParser) -> None:
    """Add --messages (and its limits) to the `show` command's parser."""
    show.add_argument(
        "--messages",
        action="store_true",
        help="msg only: blocked senders and receivers, and the queued messages "
        "read without taking them off the queue (MSG_COPY)",
    )
    show.add_argument(
        "--max-messages",
        type=counted,
        default=100,
        metavar="N",
        help="with --messages: read at most N messages (default 100)",
    )
    show.add_argument(
        "--bytes",
        type=counted,
        default=SHOWN_BYTES,
        metavar="N",
        dest="shown_bytes",
        help=f"with --messages: show N bytes of each (default {SHOWN_BYTES})",
    )


def add_view_options(
    group: argparse._ActionsContainer, *, after_command: bool = False, namespaces: bool = False
) -> None:
    """The interactive view's options, defined once for `shmtop` and for `shmtop demo`.

    After a command they default to SUPPRESS: argparse copies a subcommand's defaults
    over what was given before it, and `shmtop --readonly demo` must stay read-only.
    """

    def default(value: object) -> object:
        return argparse.SUPPRESS if after_command else value

    group.add_argument("--interval", type=float, metavar="SECONDS", default=default(None),
                       help="refresh interval (default: remembered, else 1)")  # fmt: skip
    group.add_argument("--readonly", action="store_true", default=default(False),
                       help="disable every changing action")  # fmt: skip
    group.add_argument("--theme", metavar="NAME", default=default(None),
                       help="a Textual theme, e.g. textual-light")  # fmt: skip
    group.add_argument("--no-color", action="store_true", default=default(False),
                       help="no colours (also: NO_COLOR=1)")  # fmt: skip
    group.add_argument("--tab", choices=VIEW_TABS, default=default("shm"),
                       help="the tab to start on")  # fmt: skip
    if namespaces:  # the view's own (not demo's: it runs in a namespace of its own)
        add_namespace_options(group, every=True)  # type: ignore[arg-type]


def view_options(args: argparse.Namespace) -> dict[str, Any]:
    """The view's options checked (a usage error before anything starts) as ShmtopApp's
    keyword arguments; --no-color is passed on the way Textual reads it (NO_COLOR)."""
    if args.interval is not None and not 0.1 <= args.interval <= 60:
        raise CliError("--interval must be between 0.1 and 60 seconds", EXIT_USAGE)
    if args.theme is not None:
        # The view's path only: the other commands never import Textual.
        from textual.theme import BUILTIN_THEMES

        if args.theme not in BUILTIN_THEMES:
            themes = ", ".join(sorted(BUILTIN_THEMES))
            raise CliError(f"no theme {args.theme!r}; themes: {themes}", EXIT_USAGE)
    if args.no_color:
        os.environ["NO_COLOR"] = "1"
    return {
        "readonly": args.readonly,
        "start_tab": Kind(args.tab) if args.tab in KINDS else args.tab,  # pshm... as named
        "interval": args.interval, "theme": args.theme,
    }  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """The command argv names (default: sys.argv's), run: its exit code."""
    return run_command(parse_command_line(argv))


def script() -> NoReturn:
    """The program (`shmtop`, `python -m shmtop`): main() of sys.argv, then the exit; a
    one-shot command's without tearing down the heap (cli/output.leave)."""
    args = parse_command_line(None)
    one_shot = args.command in ONE_SHOT and getattr(args, "watch", None) is None
    if one_shot:
        # The cycle collector off until the exit, not only over the snapshot and output
        # (one_shot_gc): its first collection once on again walked every object they left
        # in its youngest generation, 5-25 ms of a `list` at the benchmark's workload.
        gc.disable()
    code = run_command(args)
    if one_shot:
        output.leave(code)
    raise SystemExit(code)


# The commands that print and end (`list --watch` excepted: it runs on): read-only, no
# child, thread or file of theirs left once their output is written (the workers of a
# snapshot are stopped by its collector's close).
ONE_SHOT = frozenset({"list", "show", "limits", "schema"})


def parse_command_line(argv: Sequence[str] | None) -> argparse.Namespace:
    with parser_text.words_looked_up_once():  # argparse's words, looked up once
        return build_parser().parse_args(argv)  # the command's parser is built in here


def run_command(args: argparse.Namespace) -> int:
    handlers: dict[str | None, Callable[[argparse.Namespace], int]] = {
        None: run_tui, "list": run_list, "show": run_show, "dump": run_dump, "view": run_view,
        "rm": run_rm, "limits": run_limits, "demo": run_demo, "schema": run_schema,
        "waiters": run_waiters,
        "exporter": run_exporter, "serve": run_serve,
        "record": record_hook.run_record, "replay": record_hook.run_replay,
    }  # fmt: skip
    return output.run(handlers[args.command], args)


def run_exporter(args: argparse.Namespace) -> int:
    from shmtop.cli import exporter_hook

    return exporter_hook.run(args)


def run_serve(args: argparse.Namespace) -> int:
    from shmtop.cli import serve_hook

    return serve_hook.run(args)


def served() -> bool:
    """A browser session of `shmtop serve`: textual-serve runs the view on pipes and names
    Textual's web driver, which speaks its protocol on them (no terminal needed)."""
    return os.environ.get("TEXTUAL_DRIVER", "").endswith("web_driver:WebDriver")


def run_tui(args: argparse.Namespace) -> int:
    """The interactive view on this machine's objects (Textual is imported only here)."""
    options = view_options(args)
    from shmtop.cli.namespaces import view_feed

    feed = view_feed(args)  # -A, --namespace NS (a usage error, no such namespace: here)
    if not (sys.stdin.isatty() and sys.stdout.isatty()) and not served():
        raise CliError("the interactive view needs a terminal; try 'shmtop list'", EXIT_USAGE)
    from shmtop.tui.app import ShmtopApp
    from shmtop.tui.crash import run_app
    from shmtop.tui.full_feed import FullFeed
    from shmtop.tui.prefs import Preferences

    shared = FullFeed()  # System V and POSIX from one read of every process a refresh
    try:
        shared.full.sysv.snapshot()  # fail here, with a message, rather than inside the UI
    except OSError as error:
        shared.close()
        raise CliError(tables_unreadable(error)) from error
    app = ShmtopApp(shared.system_v, preferences=Preferences.load(), posix_source=shared.posix,
                    namespace_feed=feed, **options)  # fmt: skip
    try:
        return run_app(app)  # a crash: non-zero, and one line saying where its traceback is
    finally:
        shared.close()
        feed.close()


def run_demo(args: argparse.Namespace, *, play: Callable[[ShmtopApp], object] | None = None) -> int:
    """The demo workload in an IPC namespace of its own, in the interactive view with every
    option of the view (or alone with --no-ui). `play` runs the app instead of app.run()
    (tests drive it headless with Pilot)."""
    from shmtop.demo import workload as demo
    from shmtop.tui.prefs import Preferences

    options = view_options(args)
    if not args.no_ui and play is None and not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise CliError("the demo's view needs a terminal; try 'shmtop demo --no-ui'", EXIT_USAGE)
    try:
        # Before any child is forked and any thread starts: all of them inherit it.
        where = demo.isolate(host_ipc=args.host_ipc)
    except demo.CannotIsolate as error:
        raise CliError(str(error)) from error
    if args.no_ui:
        return demo.run_headless(where=where)
    if not demo.die_with_parent():  # then SIGTERM, below: the view ends, and the demo with it
        return EXIT_OK
    from shmtop.tui.app import ShmtopApp

    # The demo's children are forked here, in the main thread, before Textual starts.
    from shmtop.tui.screens.demo_guide import guide_lines

    with demo.Demo(handle_signals=False, posix=where.posix) as made:
        collector = Collector()
        posix = demo_posix_feed(made)
        guide = guide_lines(made.describe(processes=False), posix=where.posix)
        app = ShmtopApp(
            collector, preferences=Preferences.load(), guide=guide,
            semaphore_labels=made.semaphore_labels(), posix_source=posix, **options,
        )  # fmt: skip
        app.title = f"shmtop demo: {where.title}"
        on_stop = made.stop_signal_handler(lambda: app.call_later(app.exit))
        previous = {
            signum: signal.signal(signum, on_stop) for signum in (signal.SIGTERM, signal.SIGHUP)
        }
        # leaving the view, whatever the way, ends the demo's processes and objects
        try:
            if play is not None:
                play(app)
                return EXIT_OK
            from shmtop.tui.crash import run_app

            return run_app(app, "the demo's view")  # a crash: non-zero, and where its traceback is
        finally:
            collector.close()
            if posix is not None:
                posix.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def demo_posix_feed(made: Demo) -> PosixSource | None:
    """The demo's POSIX tabs: its private /dev/shm and /dev/mqueue, and only its own
    processes (the demo and its children) scanned for mappers and waiters; none with
    --host-ipc, which makes no POSIX objects."""
    if not made.posix:
        return None
    from shmtop.tui.posix_source import PosixSource

    return PosixSource(pids=lambda: [os.getpid(), *made.pids])


def take_snapshot(*, attachments: bool = True, collector: Collector | None = None) -> Snapshot:
    """A snapshot (by collector, reused between --watch lines); unreadable tables: an error."""
    try:
        if collector is None:
            collector = Collector(attachments=attachments)
        return collector.snapshot()
    except OSError as error:
        raise CliError(tables_unreadable(error)) from error


# ---- list ----


def run_list(args: argparse.Namespace) -> int:
    recorded = record_hook.recorded_snapshot(args, args.kind in POSIX_KINDS)  # --from FILE
    if args.kind in POSIX_KINDS and recorded is not None:  # its POSIX half
        return record_hook.list_recorded_posix(args)
    if args.kind in POSIX_KINDS and (args.watch is not None or args.count is not None):
        from shmtop.cli import posix_watch

        check_watch(args)
        return posix_watch.run(args)
    if args.kind in POSIX_KINDS and namespace_asked(args):
        from shmtop.cli import posix_namespaces

        return posix_namespaces.run_list(args)
    if args.kind in POSIX_KINDS:
        from shmtop.cli import posix  # the POSIX commands import what only they need

        return posix.run_list(args)
    kinds = KINDS if args.kind == "all" else (args.kind,)
    check_listing(args, kinds)
    if namespace_asked(args) and recorded is None:  # --from: --namespace picks its stream
        from shmtop.cli import namespaces

        return namespaces.run_list(args, kinds)
    if args.watch is not None:
        return watch_list(args, kinds)
    with one_shot_gc():
        return list_once(args, kinds, recorded)


def list_once(args: argparse.Namespace, kinds: Sequence[str], recorded: Snapshot | None) -> int:
    """`list` of the caller's namespace, once: the snapshot, then its tables or its JSON."""
    posix_part = None
    if args.kind == "all" and recorded is not None:  # and its POSIX half, if it has one
        from shmtop.cli import list_posix

        snapshot = recorded
        if not posix_left_out(args):
            posix_part = list_posix.recorded_part(args, recorded, args.recorded_posix)
    elif args.kind == "all" and posix_left_out(args):
        snapshot = take_snapshot(attachments=True)  # System V tables only
    elif args.kind == "all":  # and the POSIX tables (cli/list_posix.py)
        from shmtop.cli import list_posix

        snapshot, posix_part = list_posix.scan(args)  # one maps and fd read for both
    else:
        snapshot = recorded or take_snapshot(attachments=args.kind in ("shm", "all"))
    if args.user is not None:
        check_user(args.user, snapshot)
    chosen = choose(snapshot, args, kinds)
    if args.json:
        from shmtop.text.documents import list_records

        shell, lists = list_records(snapshot, chosen)
        if posix_part is not None:
            shell, lists = list_posix.json_parts(shell, lists, posix_part)
        emit_streamed(shell, lists)
        return EXIT_OK
    from shmtop.text import columns

    titles = {"shm": "Shared memory segments", "sem": "Semaphore sets", "msg": "Message queues"}
    for index, kind in enumerate(kinds):
        if len(kinds) > 1:
            print(("\n" if index else "") + f"{titles[kind]} ({len(chosen[kind])})")
        print("\n".join(columns.table_lines(Kind(kind), snapshot, chosen[kind])))
    from shmtop.text import report

    note = report.blind_spot_note(snapshot) if "shm" in kinds else None
    if note:
        print(note, file=sys.stderr)
    if posix_part is not None:
        list_posix.print_tables(posix_part)
    return EXIT_OK


def posix_left_out(args: argparse.Namespace) -> bool:
    """list all --filter with a term no POSIX kind takes: the POSIX tables are left out,
    and stderr says which term."""
    if args.filter_test is None:
        return False
    from shmtop.cli.list_filter import posix_refusal

    left_out = posix_refusal(args.filter_expr)
    if left_out:
        print(left_out, file=sys.stderr)
    return left_out is not None


def one_shot_gc() -> contextlib.AbstractContextManager[None]:
    """The cycle collector off for a one-shot command's snapshot and output.

    The snapshot's and the records' objects hold no cycles and go by reference counting;
    what the collector did with them was walk them: its first collection after the
    snapshot (core/snapshot/collect.collector_paused) walked every container the snapshot
    had made, 10-17 ms, and about 40 more ~6 ms while the records were made (4000 segments
    of the benchmark's workload, bench/bench_oneshot_phases.py). The collector is as it was
    after (a test may run main() in its own process)."""
    return collector_paused()  # the same switch, held over the output too


def check_listing(args: argparse.Namespace, kinds: Sequence[str]) -> None:
    """Usage errors of list's options, before any snapshot: --sort's column, --watch, --count."""
    if args.sort:
        from shmtop.text import columns

        if not any(columns.column(Kind(k), args.sort) for k in kinds):
            from shmtop.text import posix_sorting  # list all: the POSIX tables' columns too

            posix = POSIX_KINDS if args.kind == "all" else ()
            if not any(posix_sorting.takes(k, args.sort) for k in posix):
                known = {name for k in kinds for name in columns.sort_names(Kind(k))}
                known.update(name for k in posix for name in posix_sorting.sort_names(k))
                raise CliError(bad_sort(args.sort, known), EXIT_USAGE)
    args.filter_test = None
    if args.filter_expr is not None:  # the filter language is imported only to be used
        from shmtop.cli import list_filter

        args.filter_test = list_filter.parse(args.filter_expr)
    check_watch(args)


def check_watch(args: argparse.Namespace) -> None:
    """Usage errors of --watch and --count (every kind's)."""
    if args.count is not None and args.watch is None:
        raise CliError("--count goes with --watch", EXIT_USAGE)
    if args.watch is not None:
        if not args.json:
            raise CliError("--watch prints JSON Lines: add --json", EXIT_USAGE)
        from shmtop.cli.debug import seconds_problem  # the watch is no one-shot command

        problem = seconds_problem("--watch", args.watch, zero=False)
        if problem:
            raise CliError(problem, EXIT_USAGE)


def choose(
    snapshot: Snapshot, args: argparse.Namespace, kinds: Sequence[str]
) -> dict[str, list[Any]]:
    """The objects list shows, by kind: --user's and --filter's, in --sort's order (none
    given: by id, as columns.sort_objects orders them, whose table code `list --json` and a
    --watch line need not import)."""
    chosen: dict[str, list[Any]] = {}
    for kind in kinds:
        objects = list(snapshot.objects(Kind(kind)))
        if args.user is not None:  # the filter language is imported only to be used
            from shmtop.text.filtering import owner_matches

            objects = [o for o in objects if owner_matches(o.owner, args.user)]
        if args.filter_test is not None:
            objects = [o for o in objects if args.filter_test(o, snapshot)]
        if not args.sort:
            chosen[kind] = sorted(objects, key=_OBJECT_ID, reverse=args.reverse)
            continue
        from shmtop.text import columns

        chosen[kind] = columns.sort_objects(
            Kind(kind), objects, args.sort, snapshot, reverse=args.reverse
        )
    return chosen


def watch_list(args: argparse.Namespace, kinds: Sequence[str]) -> int:
    """`list --json --watch SECONDS [--count N]`: one snapshot a line, each flushed, by one
    Collector (a steady line costs a steady snapshot). Ctrl-C ends it between two lines,
    so the last line is whole, and exits 0: that is how a watch is meant to end. Every kind
    (`list --json --watch`): System V and POSIX, by a FullCollector (cli/watch_all.py)."""
    if args.kind == "all" and not posix_left_out(args):
        from shmtop.cli import watch_all

        return watch_all.run(args, kinds)
    collector = Collector(attachments=args.kind in ("shm", "all"))
    records = watch_records()

    def line(number: int) -> None:
        snapshot = take_snapshot(collector=collector)
        if number == 0 and args.user is not None:
            check_user(args.user, snapshot)
        emit_encoded(*records.records(snapshot, choose(snapshot, args, kinds)), flush=True)

    try:
        return watch_lines(args, line)
    finally:
        collector.close()


def watch_lines(args: argparse.Namespace, line: Callable[[int], None]) -> int:
    """Call line(0), line(1), ... every --watch seconds from the first, --count times (or
    until Ctrl-C, between two lines); exit 0."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        lines, due = 0, time.monotonic()
        while not stop.is_set():
            line(lines)
            lines += 1
            if args.count is not None and lines >= args.count:
                break
            # Every SECONDS from the first line; after a slow snapshot, no burst to catch up.
            due = max(due + args.watch, time.monotonic())
            stop.wait(due - time.monotonic())
    finally:
        signal.signal(signal.SIGINT, previous)
    return EXIT_OK


def watch_records() -> WatchRecords:
    """What a watch keeps of its lines' records (the same bytes, encoded once)."""
    from shmtop.text.watch_records import WatchRecords

    return WatchRecords(output.encode)


def check_user(user: str, snapshot: Snapshot | None) -> None:
    """A usage error unless user is a uid, a known user name or an owner's name (any case)
    of snapshot (None: of no snapshot, the POSIX kinds' check after their owners')."""
    from shmtop.text.filtering import owner_matches

    if user.isascii() and user.isdigit():
        return
    found = () if snapshot is None else (snapshot.objects(Kind(kind)) for kind in KINDS)
    owners = (o.owner for objects in found for o in objects)
    if any(owner_matches(owner, user) for owner in owners):
        return
    with contextlib.suppress(KeyError):
        pwd.getpwnam(user)
        return
    if any(entry.pw_name.lower() == user.lower() for entry in pwd.getpwall()):
        return
    raise CliError(no_such_user(user), EXIT_USAGE)


# ---- show ----


def run_show(args: argparse.Namespace) -> int:
    if args.kind in POSIX_KINDS and namespace_asked(args):
        from shmtop.cli import posix_ns_objects

        return posix_ns_objects.run_show(args)
    if args.kind in POSIX_KINDS:
        from shmtop.cli import posix

        return posix.run_show(args)
    if args.id is None or args.name is not None:
        raise CliError(f"show {args.kind} takes an id", EXIT_USAGE)
    if namespace_asked(args):
        from shmtop.cli import namespaces

        return namespaces.run_show(args)
    if getattr(args, "messages", False):
        from shmtop.cli import debug

        return debug.run_show_messages(args)
    snapshot = take_snapshot(attachments=args.kind == "shm")
    return show_found(snapshot, args)


def show_found(
    snapshot: Snapshot, args: argparse.Namespace, namespace: NamespaceRecord | None = None
) -> int:
    """Print the object args name, of snapshot (of namespace: default the caller's)."""
    found = snapshot.find(Kind(args.kind), args.id)
    if found is None:
        raise CliError(no_such_object(args.kind, args.id))
    # A segment's attachers' command lines, asked one process at a time, only here: the
    # list and the TUI never need them.
    lines = (
        {pid: command_line(pid) for pid in found.attached_pids}
        if isinstance(found, Segment)
        else {}
    )
    if args.json:
        from shmtop.text.documents import show_document

        emit(show_document(found, snapshot, lines, namespace))
        return EXIT_OK
    from shmtop.text import report  # the text pages' code: `show --json` has none

    if isinstance(found, Segment):
        print("\n".join(report.segment_detail(snapshot, found, lines)))
    else:
        pages: dict[str, Callable[[Snapshot, Any], list[str]]] = {
            "sem": report.semaphore_detail, "msg": report.queue_detail,
        }  # fmt: skip
        print("\n".join(pages[args.kind](snapshot, found)))
    return EXIT_OK


# ---- waiters (shmtop.cli.debug) ----


def run_waiters(args: argparse.Namespace) -> int:
    if namespace_asked(args):
        from shmtop.cli import namespaces

        return namespaces.run_waiters(args)
    from shmtop.cli import debug

    return debug.run_waiters(args)


# ---- dump ----


def run_dump(args: argparse.Namespace) -> int:
    if args.raw and sys.stdout.isatty():
        raise CliError(
            "refusing to write raw bytes to a terminal; pipe them or drop --raw", EXIT_USAGE
        )
    if (args.id is None) == (args.name is None):
        raise CliError("dump takes a shmid or --name NAME (one of them)", EXIT_USAGE)
    if args.name is not None and namespace_asked(args):
        from shmtop.cli import posix_ns_objects

        return posix_ns_objects.run_dump(args)
    if args.name is not None:
        from shmtop.cli import posix

        return posix.run_dump(args)
    if namespace_asked(args):
        from shmtop.cli import namespaces

        return namespaces.run_dump(args)
    return dump_segment(args)


def dump_segment(args: argparse.Namespace, inside: Inside | None = None) -> int:
    """dump of a shmid; inside(call, *args): runs call in the segment's namespace (attach and
    its table are per namespace), default here."""
    from shmtop.core.segment.segment_reader import CannotRead, SegmentReader

    run = inside or here
    # The viewer's reader: as root pread on the segment's file, holes never read
    # nor allocated; otherwise through the read-only attachment (see SegmentReader).
    try:
        reader = run(SegmentReader.attach, args.id)
    except CannotRead as error:
        raise CliError(cannot_read(error)) from error
    with reader:
        start, stop = clamp_range(args.id, reader.size, args.offset, args.length)
        if reader.touches_pages:
            resident = run(resident_bytes, args.id)
            from shmtop.text import report

            note = report.allocating_read_note(args.id, resident, reader.size)
            if note:
                print(note, file=sys.stderr)
        try:
            write_dump(reader.chunks(start, stop, DUMP_CHUNK), start, raw=args.raw)
        except BrokenPipeError:
            raise  # the reader of the pipe is done: main() ends quietly
        except OSError as error:
            raise CliError(object_error(error.errno, "shm", args.id, str(error))) from error
    return EXIT_OK


def write_dump(chunks: Iterable[bytes], start: int, *, raw: bool) -> None:
    """`dump`'s output, of a segment or a POSIX object: the bytes as they are (--raw, for a
    pipe), or hex + ASCII lines with their offsets from `start`."""
    if raw:
        for chunk in chunks:
            sys.stdout.buffer.write(chunk)
        return
    from shmtop.text.hexdump import hex_lines

    for line in hex_lines(chunks, start):
        sys.stdout.write(line + "\n")


def run_view(args: argparse.Namespace) -> int:
    """The hex viewer of one object (cli/view_hook.py)."""
    from shmtop.cli import view_hook

    return view_hook.run(args, namespace_asked(args))


def resident_bytes(shmid: int) -> int | None:
    """rss + swap of a segment from /proc/sysvipc/shm; None where the kernel has no such
    columns or the segment is gone."""
    from shmtop.core.snapshot import procfs

    rows = procfs.parse_sysvipc(procfs.read_sysvipc("shm").decode("ascii"))
    for row in rows:
        if row["shmid"] == shmid and "rss" in row:
            return row["rss"] + row.get("swap", 0)
    return None


def clamp_range(shmid: int, size: int, offset: int, length: int | None) -> tuple[int, int]:
    if offset > size:
        raise CliError(
            f"offset {offset} is past the end of segment {shmid} ({size} bytes)", EXIT_USAGE
        )
    stop = size if length is None else min(size, offset + length)
    return offset, stop


# ---- rm ----


def run_rm(args: argparse.Namespace) -> int:
    if (args.kind in POSIX_KINDS or args.names) and namespace_asked(args):
        from shmtop.cli import posix_ns_objects

        return posix_ns_objects.run_rm(args)
    if args.kind in POSIX_KINDS or args.names:
        from shmtop.cli import posix

        return posix.run_rm(args)
    if namespace_asked(args):
        from shmtop.cli import namespaces

        return namespaces.run_rm(args)
    return remove_chosen(take_snapshot(), args)


def here(call: Callable[..., T], *args: Any) -> T:
    """Inside the caller's namespace: call it now, in this thread."""
    return call(*args)


def remove_chosen(
    snapshot: Snapshot, args: argparse.Namespace, inside: Inside | None = None
) -> int:
    """rm's plan, confirmation and removals on snapshot; inside(call, *args) runs the waiter
    scan and the removals in the snapshot's namespace (default: here)."""
    run = inside or here
    targets = removal_targets(snapshot, args, lambda: run(blocked_on))
    # Ids that name nothing: one line each, and no plan rows for them.
    missing = list(dict.fromkeys(t for t in targets if snapshot.find(*t) is None))
    for kind, ident in missing:
        say_error(no_such_object(kind, ident))
    targets = [t for t in targets if t not in missing]
    if not targets:
        if missing:
            return EXIT_ERROR
        raise CliError("nothing matches: no object to remove")
    # A queue's header shows no blocked process: the plan's verdict on one needs a scan.
    blocked = run(blocked_on) if any(kind is Kind.MSG for kind, _ in targets) else None
    print("\n".join(removal_plan(snapshot, targets, args.idle_for or DEFAULT_GRACE, blocked)))
    failed = EXIT_ERROR if missing else EXIT_OK
    if args.dry_run:
        return failed
    if not args.yes and not confirmed(len(targets)):
        print("nothing removed")
        return EXIT_ERROR
    outcomes = run(functools.partial(carry_out, idle=args.orphans), snapshot, targets)
    for outcome in outcomes:
        if outcome.outcome.ok:
            print(removal_text(outcome))
        else:
            say_error(removal_text(outcome))
    return failed if all(o.outcome.ok for o in outcomes) else EXIT_ERROR


def confirmed(count: int) -> bool:
    """Ask on the terminal; end of input (Ctrl-D) is a no."""
    if not sys.stdin.isatty():
        raise CliError("not a terminal, so nothing was removed; add --yes to confirm", EXIT_USAGE)
    try:
        answer = input(f"Remove {count} object(s)? [y/N] ")
    except EOFError:
        print()  # end the prompt's line
        return False
    return answer.strip().lower() in ("y", "yes")


def duration(text: str) -> float:
    """An --idle-for value in seconds: 90s, 10m, 2h, 7d."""
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def removal_targets(
    snapshot: Snapshot,
    args: argparse.Namespace,
    blocked_scan: Callable[[], set[tuple[Kind, int]]] | None = None,
) -> list[tuple[Kind, int]]:
    """What rm was asked to remove, as (kind, id); ids not in the snapshot are kept (reported).
    blocked_scan: the waiter scan of the snapshot's namespace (default blocked_on)."""
    chosen = sum(bool(x) for x in (args.ids, args.key is not None, args.orphans))
    if chosen != 1:
        raise CliError("rm takes ids, --key KEY or --orphans (exactly one of them)", EXIT_USAGE)
    if args.idle_for is not None and not args.orphans:
        raise CliError("--idle-for goes with --orphans", EXIT_USAGE)
    if args.ids:
        if args.kind in (None, "all"):
            raise CliError("rm with ids needs the kind first: shm, sem or msg", EXIT_USAGE)
        return [(Kind(args.kind), ident) for ident in args.ids]
    kinds = {Kind(k) for k in KINDS} if args.kind in (None, "all") else {Kind(args.kind)}
    if args.orphans:
        grace = DEFAULT_GRACE if args.idle_for is None else args.idle_for
        candidates = [
            (kind, o)
            for kind in sorted(kinds)
            for o in snapshot.objects(kind)
            if judge(o, snapshot, grace=grace, blocked=()).selected(args.idle_for)
        ]  # fmt: skip  (as if nothing were blocked: only candidate queues need the scan)
        scan = blocked_scan or blocked_on
        blocked = scan() if any(k is Kind.MSG for k, _ in candidates) else set()
        return [
            (kind, o.id) for kind, o in candidates
            if judge(o, snapshot, grace=grace, blocked=blocked).selected(args.idle_for)
        ]  # fmt: skip
    if args.key == 0:
        raise CliError("key 0 is IPC_PRIVATE and names no object; remove those by id", EXIT_USAGE)
    key = args.key & 0xFFFFFFFF
    return [
        (kind, o.id) for kind in sorted(kinds) for o in snapshot.objects(kind)
        if o.owner.key == key
    ]  # fmt: skip


def blocked_on() -> set[tuple[Kind, int]]:
    """The objects a waiter scan finds threads blocked on (a queue's header shows none)."""
    from shmtop.core.waits.waiters import WaiterScanner  # only rm --orphans pays for the debugger

    report = WaiterScanner().scan()
    return {(w.kind, w.object_id) for w in report.waiters if isinstance(w.kind, Kind)}


def removal_plan(
    snapshot: Snapshot,
    targets: Sequence[tuple[Kind, int]],
    grace: float = DEFAULT_GRACE,
    blocked: Collection[tuple[Kind, int]] | None = None,
) -> list[str]:
    """The table of what goes, each object with the evidence the orphan rule sees."""
    from shmtop.text import report

    rows = []
    index = objects_by_id(snapshot)
    for kind, ident in targets:
        found = index.get((kind, ident))
        if found is None:
            rows.append((str(kind), str(ident), "-", "-", "not found", "-", "-"))
            continue
        attached = report.attached_summary(found, 60) if isinstance(found, Segment) else "-"
        verdict = judge(found, snapshot, grace=grace, blocked=blocked)
        rows.append((str(kind), str(ident), hex_key(found.owner.key),
                     safe_text(found.owner.user), attached,
                     ",".join(report.status_words(found, verdict)) or "-",
                     report.evidence_text(found, verdict, snapshot.taken_at)))  # fmt: skip
    headers = ("KIND", "ID", "KEY", "OWNER", "ATTACHED", "STATUS", "EVIDENCE")
    return report.render_table(headers, rows)


def carry_out(
    snapshot: Snapshot, targets: Sequence[tuple[Kind, int]], *, idle: bool
) -> list[Removal]:
    """Remove each target if it is still the object the plan showed (idle: and unused since);
    an id the plan did not find is not touched, whatever has that id now."""
    from shmtop.core.actions import Outcome, Removal, identity_of, remove

    outcomes = []
    index = objects_by_id(snapshot)
    for kind, ident in targets:
        found = index.get((kind, ident))
        if found is None:
            outcomes.append(Removal(kind, ident, Outcome.NOT_FOUND))
        else:
            outcomes.append(remove(kind, ident, identity_of(found, idle=idle)))
    return outcomes


def objects_by_id(snapshot: Snapshot) -> dict[tuple[Kind, int], IpcObject]:
    """Every object by (kind, id): one pass, where a find() per target would be quadratic."""
    return {(kind, o.id): o for kind in Kind for o in snapshot.objects(kind)}


# ---- limits ----


def run_limits(args: argparse.Namespace) -> int:
    from shmtop.core.posix.limits import read_posix_limits

    snapshot = take_snapshot(attachments=False)
    posix = read_posix_limits()
    if args.json:
        from shmtop.text.documents import limits_document

        emit(limits_document(snapshot.limits, posix))
    else:
        from shmtop.text import posix_limits, report

        print("\n".join(report.limits_lines(snapshot, posix_limits.mqueue_rows(posix))))
        print(posix_limits.defaults_line(posix))
        print()
        print("\n".join(posix_limits.filesystem_lines(posix)))
    return EXIT_OK


# ---- schema ----


def run_schema(args: argparse.Namespace) -> int:
    """The JSON Schema of one document; without a name, the documents and their commands."""
    from shmtop.text import schemas

    if args.document is None:
        print("\n".join(schemas.catalogue()))
    elif args.document in schemas.DOCUMENTS:
        sys.stdout.write(schemas.schema_text(args.document))
    else:
        names = ", ".join(schemas.DOCUMENTS)
        raise CliError(f"no document {safe_text(args.document)!r}; documents: {names}", EXIT_USAGE)
    return EXIT_OK
