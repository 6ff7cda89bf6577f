"""`shmtop exporter`: its options, and the lazy hook that starts it (the only import of
shmtop.exporter outside it: prometheus_client loads for this command alone)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from shmtop.cli.output import EXIT_USAGE, CliError
from shmtop.exporter.settings import (
    DEFAULT_INTERVAL,
    DEFAULT_LISTEN,
    DEFAULT_MAX_OBJECTS,
    DEFAULT_POSIX_INTERVAL,
    MAX_INTERVAL,
    MAX_OBJECTS,
)


def add_arguments(exporter: argparse.ArgumentParser) -> None:
    """`exporter`'s arguments (cli/command_help.add_command adds them when it is used)."""
    exporter.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="ADDR:PORT",
        help=f"where to serve /metrics (default {DEFAULT_LISTEN}; port 0: a"
        " free one, printed at start)",
    )
    exporter.add_argument(
        "--interval",
        type=float,
        default=DEFAULT_INTERVAL,
        metavar="SECONDS",
        help="scrapes within SECONDS of a snapshot reuse it; with --textfile,"
        f" how often it is written (default {DEFAULT_INTERVAL:g})",
    )
    exporter.add_argument(
        "--posix-interval",
        type=float,
        default=DEFAULT_POSIX_INTERVAL,
        metavar="SECONDS",
        help="reuse the POSIX scan (every process's maps and fds) for SECONDS"
        f" (default {DEFAULT_POSIX_INTERVAL:g}; 0: with every snapshot)",
    )
    exporter.add_argument(
        "--max-objects",
        type=int,
        default=DEFAULT_MAX_OBJECTS,
        metavar="N",
        help="per-object series for at most N objects of each kind: orphans"
        f" first, then the largest (default {DEFAULT_MAX_OBJECTS})",
    )
    exporter.add_argument(
        "-A",
        "--all-namespaces",
        action="store_true",
        help="every IPC namespace on the machine (root): each series labelled with its"
        " namespace, shmtop_namespace_info naming them",
    )
    exporter.add_argument(
        "--textfile",
        type=Path,
        metavar="PATH",
        help="write the metrics to PATH every interval (node_exporter's"
        " textfile collector: name it *.prom) instead of serving",
    )


def run(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.interval) and 0.1 <= args.interval <= MAX_INTERVAL):
        raise CliError(f"--interval must be between 0.1 and {MAX_INTERVAL:g} seconds", EXIT_USAGE)
    if not (math.isfinite(args.posix_interval) and 0 <= args.posix_interval <= MAX_INTERVAL):
        raise CliError(f"--posix-interval must be between 0 and {MAX_INTERVAL:g} seconds",
                       EXIT_USAGE)  # fmt: skip
    if not 0 <= args.max_objects <= MAX_OBJECTS:
        raise CliError(f"--max-objects must be between 0 and {MAX_OBJECTS}", EXIT_USAGE)
    from shmtop.exporter import serve
    from shmtop.exporter.exposition import Exposition
    from shmtop.exporter.posix_source import PosixSource
    from shmtop.exporter.source import SnapshotSource

    try:
        host, port = serve.parse_listen(args.listen)
    except ValueError as error:
        raise CliError(str(error), EXIT_USAGE) from error

    def said(error: str) -> None:
        print(f"shmtop: snapshot failed (shmtop_up 0): {error}", file=sys.stderr, flush=True)

    every = None
    if args.all_namespaces:
        from shmtop.core.namespaces.discover import can_join
        from shmtop.exporter.namespace_source import EveryNamespace

        if not can_join():
            print(
                "shmtop: -A without CAP_SYS_ADMIN: only the caller's IPC namespace is read"
                " (the others count in shmtop_namespaces_unreadable)",
                file=sys.stderr,
            )
        every = EveryNamespace(args.posix_interval)
    # The textfile gets a new snapshot each write; scrapes share one an interval.
    source = SnapshotSource(
        0.0 if args.textfile else args.interval,
        posix=PosixSource(args.posix_interval),
        on_error=said,
        every=every,
    )
    exposition = Exposition(source, args.max_objects)
    try:
        if args.textfile is not None:
            try:
                return serve.write_textfile(exposition, args.textfile, args.interval)
            except OSError as error:
                raise CliError(
                    f"cannot write {args.textfile}: {error.strerror or error}"
                ) from error
        try:
            return serve.serve_http(exposition, host, port)
        except OSError as error:
            raise CliError(f"cannot listen on {args.listen}: {error.strerror or error}") from error
    finally:
        source.close()
