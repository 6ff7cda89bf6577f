"""Cost of POSIX message queue waits in the waiter scan (core/waits/mq_waits).

As root, in an IPC namespace of its own (run it under `unshare --ipc`; nothing is left
behind): times WaiterScanner.scan with no queue waiter, then with one child blocked in
mq_receive on a queue another child holds open for sending (its holders found by reading
every process's fds, then reused while they live), then with a receiver nobody can send
to (its holders read again at every scan). Every process of the machine is scanned, so
other work on it shows up in the figures: run it twice.

    unshare --ipc .venv/bin/python bench/bench_mq_waiters.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.stats import time_calls  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.waits.waiters import WaiterScanner  # noqa: E402

CHILD = REPO_ROOT / "tests" / "pmq_child.py"


@contextmanager
def children(name: str, *modes: Sequence[str]) -> Iterator[None]:
    """Children of tests/pmq_child.py on queue name, each ready (killed at the end)."""
    started = []
    try:
        for mode in modes:
            kid = subprocess.Popen([sys.executable, str(CHILD), name, *mode],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
            started.append(kid)
            assert kid.stdout is not None and kid.stdout.readline()
        yield
    finally:
        for kid in started:
            kid.kill()
            kid.wait()


def steady_ms(repeat: int, waiters: int) -> tuple[float, int]:
    """Median of repeat scans by one scanner, after scans until it sees `waiters` waiters."""
    scanner = WaiterScanner()
    for _ in range(1000):  # bounded: the child blocks at once
        report = scanner.scan()
        if len(report.waiters) >= waiters:
            break
    return statistics.median(time_calls(scanner.scan, repeat)), report.processes_scanned


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("needs root (every process's fds), under unshare --ipc", file=sys.stderr)
        return 2
    name = f"/shmtop-bench-mqw-{os.getpid()}"
    native.mq_close(native.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600,
                                   max_messages=2, max_size=32))  # fmt: skip
    try:
        idle, processes = steady_ms(args.repeat, 0)
        print(f"waiter scan of {processes} processes, medians of {args.repeat}")
        print(f"  no queue waiter                                  {idle:8.1f} ms")
        with children(name, ("w",), ("r", "receive")):
            cached, _ = steady_ms(args.repeat, 1)
        print(f"  a receiver with a sender holding it (cached)     {cached:8.1f} ms")
        with children(name, ("r", "receive")):
            uncached, _ = steady_ms(args.repeat, 1)
        print(f"  a receiver nobody can send to (fds every scan)   {uncached:8.1f} ms")
    finally:
        native.mq_unlink(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
