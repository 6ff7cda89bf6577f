"""Cost of a POSIX message queue scan (core/posix/mqueue) with queues, holders and waiters.

As root, in an IPC namespace and a mount namespace of its own (nothing is left behind):
makes QUEUES queues with a few messages each, forks CHILDREN children that each hold one
queue open (every WAIT-th of them blocked in mq_receive on an empty one), then times
whole scans with no mqueue fs mounted (through a detached mount, and through the helper
process's private mount), through a mounted mqueue fs, and each phase alone. Other work
on the machine shows up in the figures: run it twice.

    .venv/bin/python bench/bench_pmq.py [--queues 100] [--children 200] [--wait 10]
"""

from __future__ import annotations

import argparse
import ctypes
import functools
import os
import signal
import statistics
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.stats import time_calls  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.posix import mqueue, mqueue_private  # noqa: E402
from shmtop.core.posix.collect import all_pids  # noqa: E402


def figures(name: str, samples: list[float]) -> None:
    print(f"  {name:<44} median {statistics.median(samples):8.2f} ms   "
          f"min {min(samples):8.2f}   max {max(samples):8.2f}   (n={len(samples)})")  # fmt: skip


def child(name: str, receive: bool, ready: int) -> None:
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    mqd = native.mq_open(name, os.O_RDONLY)
    os.write(ready, b"r")
    os.close(ready)
    if receive:
        native.mq_receive(mqd, 64)
    signal.pause()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queues", type=int, default=100)
    parser.add_argument("--children", type=int, default=200)
    parser.add_argument("--wait", type=int, default=10, help="every WAIT-th child receives")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("run as root: the bench makes namespaces of its own")
    native.unshare(native.CLONE_NEWIPC | native.CLONE_NEWNS)  # before any thread
    native.mount("none", "/", None, native.MS_REC | native.MS_PRIVATE)
    names = [f"/bench-pmq-{i}" for i in range(args.queues)]
    empty = "/bench-pmq-empty"
    for name in [*names, empty]:
        mqd = native.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, max_messages=10, max_size=64)
        if name != empty:
            for _ in range(3):
                native.mq_send(mqd, b"message")
        native.mq_close(mqd)
    kids = []
    try:
        for k in range(args.children):
            receive = k % args.wait == 0
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                try:
                    child(empty if receive else names[k % len(names)], receive, write_end)
                finally:
                    os._exit(0)
            os.close(write_end)
            if os.read(read_end, 1) != b"r":
                raise RuntimeError(f"child {pid} failed")
            os.close(read_end)
            kids.append(pid)
        measure(args)
    finally:
        for pid in kids:
            os.kill(pid, signal.SIGKILL)
        for pid in kids:
            os.waitpid(pid, 0)


def measure(args: argparse.Namespace) -> None:
    pids = all_pids()
    snapshot = mqueue.take_snapshot()
    waiting = sum(len(q.waiters) for q in snapshot.queues)
    print(f"processes on the machine: {len(pids)}; {len(snapshot.queues)} queues,"
          f" {sum(len(q.holders) for q in snapshot.queues)} holders, {waiting} blocked"
          f" receivers; source: {snapshot.source}")  # fmt: skip
    figures("full scan, no mount (detached mount)",
            time_calls(mqueue.take_snapshot, args.repeat))  # fmt: skip
    figures("  the detached mount's listing alone",
            time_calls(mqueue.list_detached, args.repeat))  # fmt: skip
    figures("full scan, no mount (helper process)",
            time_calls(lambda: mqueue.take_snapshot(detached=False), args.repeat))  # fmt: skip
    figures("  the helper's listing alone",
            time_calls(mqueue_private.list_privately, args.repeat))  # fmt: skip
    with tempfile.TemporaryDirectory() as point:
        native.mount("bench", point, "mqueue")  # in our private mount namespace only
        try:
            scan = functools.partial(mqueue.take_snapshot, directory=point)
            figures("full scan, mqueue fs mounted", time_calls(scan, args.repeat))
            figures("  listing the mount alone (open, read, mq_getattr)",
                    time_calls(lambda: mqueue.list_directory(point), args.repeat))  # fmt: skip
            dev = mqueue.list_directory(point).dev
            assert dev is not None
            figures("  fd scan (C, /proc/PID/fd)",
                    time_calls(lambda: native.scan_fds(pids, [dev]), args.repeat))  # fmt: skip
            numbers = list(mqueue.MQ_SYSCALLS["x86_64"])
            threads = functools.partial(native.scan_syscalls, pids, numbers)
            figures("  syscall scan (C, every thread)", time_calls(threads, args.repeat))
        finally:
            native.umount(point, native.MNT_DETACH)


if __name__ == "__main__":
    main()
