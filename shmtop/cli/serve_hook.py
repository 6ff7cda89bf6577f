"""`shmtop serve`: its options, and the lazy hook that starts it (the only import of
shmtop.serve outside it: aiohttp and textual-serve load for this command alone)."""

from __future__ import annotations

import argparse
import sys

from shmtop.cli.output import EXIT_USAGE, CliError
from shmtop.serve.settings import DEFAULT_HOST, DEFAULT_PORT


def add_arguments(serve: argparse.ArgumentParser, tabs: tuple[str, ...]) -> None:
    """`serve`'s arguments (cli/command_help.add_command adds them when it is used); `tabs`
    are the view's --tab choices."""
    serve.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"the address to listen on (default {DEFAULT_HOST}: this machine only)",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"the port (default {DEFAULT_PORT}; 0: a free one, printed at start)",
    )
    serve.add_argument(
        "--allow-changes",
        action="store_true",
        help="let a browser that presents the token printed at start remove objects"
        " (every other browser stays read-only)",
    )
    serve.add_argument("--tab", choices=tabs, default="shm",
                       help="the tab each session starts on")  # fmt: skip
    serve.add_argument("--interval", type=float, metavar="SECONDS",
                       help="each session's refresh interval (default: remembered)")  # fmt: skip


def view_command(args: argparse.Namespace, *, readonly: bool) -> list[str]:
    """The command a browser session runs: this Python's shmtop, read-only unless told."""
    command = [sys.executable, "-m", "shmtop", "--tab", args.tab]
    if args.interval is not None:
        command += ["--interval", repr(args.interval)]
    return [*command, "--readonly"] if readonly else command


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise CliError("--port must be between 0 and 65535", EXIT_USAGE)
    if args.interval is not None and not 0.1 <= args.interval <= 60:
        raise CliError("--interval must be between 0.1 and 60 seconds", EXIT_USAGE)
    try:
        from shmtop.serve import server
        from shmtop.serve.access import is_loopback, new_token
    except ImportError as error:
        raise CliError(
            f"shmtop serve needs textual-serve ({error.name} is missing):"
            " pip install 'shmtop[serve]'"
        ) from error

    token = new_token() if args.allow_changes else None
    changes = view_command(args, readonly=False) if args.allow_changes else None

    def started(url: str) -> None:
        if not is_loopback(args.host):
            print(f"shmtop serve: listening on {args.host}, beyond this machine: anyone who can"
                  " reach it sees every IPC object", flush=True)  # fmt: skip
        print(f"shmtop serve: read-only view at {url}", flush=True)
        if token is not None:
            # The one place the token is written: the server logs no request.
            print(f"shmtop serve: changes allowed at {url}?token={token}", flush=True)
        print("shmtop serve: Ctrl-C stops it", flush=True)

    try:
        return server.serve(
            view_command(args, readonly=True), changes, token, args.host, args.port, started
        )
    except OSError as error:
        raise CliError(
            f"cannot listen on {args.host}:{args.port}: {error.strerror or error}"
        ) from error
