"""What the POSIX tabs' scans cost across IPC namespaces (`shmtop -A` with a POSIX tab shown)
against the caller's namespace alone: N extra namespaces (`unshare --ipc --mount`, a tmpfs of
their own on /dev/shm), each holding one shm object its child maps and OBJECTS more files,
and a queue. Run as root:
    unshare --ipc .venv/bin/python bench/bench_tui_posix_namespaces.py [--namespaces 20]
Figures: the poll worker's PosixSource.snapshot (the caller's scan: every process's maps and
fds, and its queues) against the same plus tui/posix_across.PosixAcross.view (each other
namespace's /dev/shm through a member's root, its members' maps and fds, its queues by its
joined thread). Prints medians (wall, CPU) in ms; other load on the machine moves them."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ns_helpers import foreign_shm

from shmtop.core.binding import native
from shmtop.core.model import Snapshot
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.snapshot.collect import Collector
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.posix_source import PosixSource

OBJECTS = 50


def timed(call: Callable[[], object], rounds: int) -> tuple[float, float]:
    walls, cpus = [], []
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def _queue() -> None:
    mqd = native.mq_open("/bench-q", os.O_CREAT | os.O_RDWR, 0o600, max_messages=4, max_size=64)
    native.mq_send(mqd, b"x")
    os.close(mqd)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--namespaces", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root (unshare, setns)")
    with ExitStack() as stack:
        members = []
        for n in range(args.namespaces):
            made = stack.enter_context(foreign_shm(f"bench-posix-{n}"))
            root = f"/proc/{made['pid']}/root/dev/shm"
            for i in range(OBJECTS):
                with open(f"{root}/bench-file-{i}", "wb") as file:
                    file.truncate(4096)
            thread = JoinedThread(made["pid"], made["inode"])
            try:
                thread.run(_queue)
            finally:
                thread.close()
            members.append(made["pid"])
        pids = [os.getpid(), *members]
        source = PosixSource()
        feed = NamespaceFeed(every=True, census_seconds=3600.0, pids=lambda: pids)
        try:
            seen = feed.snapshot(_Sysv())[1]
            assert seen is not None
            view = feed.posix.view(source.snapshot(), seen)
            assert view.parts is not None
            shown = sum(len(p.shm.objects) for p in view.parts if p.shm and not p.namespace.current)
            print(f"{args.namespaces} extra namespaces, {shown} of their shm objects seen")
            alone = timed(source.snapshot, args.rounds)
            every = timed(lambda: feed.posix.view(source.snapshot(), seen), args.rounds)
        finally:
            feed.close()
            source.close()
    print(f"caller's POSIX scan alone   wall {alone[0]:7.1f}  cpu {alone[1]:7.1f} ms")
    print(f"with every namespace's      wall {every[0]:7.1f}  cpu {every[1]:7.1f} ms"
          f"  ({every[1] / max(alone[1], 1e-9):.2f}x cpu)")  # fmt: skip


class _Sysv:
    """The feed's System V source for the caller's namespace (across namespaces the feed
    takes the caller's snapshot from its own views: not called, not timed)."""

    def snapshot(self) -> Snapshot:
        collector = Collector()
        try:
            return collector.snapshot()
        finally:
            collector.close()


if __name__ == "__main__":
    main()
