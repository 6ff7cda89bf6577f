"""What the workload benchmarks' mains share: the root check, the size flags, the guarded run."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from bench.workload import Workload, raise_exit


class Results(Protocol):
    """What a benchmark found; as_dict() is what --json prints."""

    def as_dict(self) -> dict[str, Any]: ...


R = TypeVar("R", bound=Results)


def is_root(name: str, why: str) -> bool:
    """Whether we run as root; if not, says on stderr that `name` must (`why` says why)."""
    if os.geteuid() == 0:
        return True
    print(f"{name}: must run as root ({why})", file=sys.stderr)
    return False


def add_workload_args(parser: argparse.ArgumentParser) -> None:
    """--segments, --children, --sets and --queues; the defaults are the large workload's."""
    parser.add_argument("--segments", type=int, default=Workload.segments)
    parser.add_argument("--children", type=int, default=Workload.children)
    parser.add_argument("--sets", type=int, default=Workload.semaphore_sets, help="semaphore sets")
    parser.add_argument("--queues", type=int, default=Workload.queues)


def workload_of(args: argparse.Namespace) -> Workload:
    """The workload the flags of add_workload_args ask for."""
    return Workload(
        segments=args.segments,
        children=args.children,
        semaphore_sets=args.sets,
        queues=args.queues,
    )


def run_benchmark(
    name: str,
    workload: Workload,
    benchmark: Callable[[Workload], R],
    report: Callable[[R], str],
    *,
    json_too: bool,
    removed: str = "workload removed",
    unwind_on: Sequence[signal.Signals] = (),
) -> int:
    """Build the workload, measure, tear it down, print the report (and JSON): the exit status.

    Ctrl-C ends the run once the workload is removed (exit 130). The signals in unwind_on
    unwind like it from here on (SystemExit, so every finally runs: tmux and workload go away,
    exit 128 + signal); without them SIGTERM is the Workload's alone, and only while it is up.
    """
    for signum in unwind_on:
        signal.signal(signum, raise_exit)
    try:
        with workload as up:
            results = benchmark(up)
    except KeyboardInterrupt:
        print(f"{name}: interrupted; {removed}", file=sys.stderr)
        return 130
    except SystemExit as stop:
        if not unwind_on:
            raise
        print(f"{name}: terminated; {removed}", file=sys.stderr)
        return stop.code if isinstance(stop.code, int) else 1
    print(report(results))
    if json_too:
        print(json.dumps(results.as_dict(), indent=2))
    return 0
