"""Times the tree view (t) on a synthetic snapshot of the benchmark's size: 1000 segments of 8
attachers each (1000 processes), 1000 sets of 16, 100 queues; what building the rows costs
(shmtop.text.usage_tree) and what drawing them anew costs (the widget's show, headless).

Run: .venv/bin/python bench/bench_tree.py  (no root, no kernel objects: the snapshot is made
here; the figures are the best of several runs, on a machine others may share).
"""

from __future__ import annotations

import asyncio
import sys
import time
import timeit
from pathlib import Path
from types import MappingProxyType

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "tests"))

import msgspec  # noqa: E402
from fake_source import fixed_snapshot  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402

from shmtop.core.model import (  # noqa: E402
    Attachment,
    MessageQueue,
    Owner,
    Process,
    Segment,
    Semaphore,
    SemaphoreSet,
    Snapshot,
)  # fmt: skip
from shmtop.core.posix.model import (  # noqa: E402
    Holder,
    Mapping,
    PosixKind,
    PosixObject,
    PosixProcess,
    PosixSnapshot,
)
from shmtop.text.usage_tree import build_tree  # noqa: E402
from shmtop.tui.widgets.usage_tree import OPEN_LIMIT, UsageTreeView  # noqa: E402

SEGMENTS, ATTACHERS, PROCESSES, SETS, NSEMS, QUEUES = 1000, 8, 1000, 1000, 16, 100


def big_snapshot() -> Snapshot:
    users = [f"user{n}" for n in range(20)]
    owner = [Owner(0x1000 + n, n, n, n, n, 0o600, u, u, u, u) for n, u in enumerate(users)]
    procs = {1000 + p: Process(1000 + p, f"worker{p}", users[p % 20], 0.0, f"worker {p}")
             for p in range(PROCESSES)}  # fmt: skip
    segments = tuple(
        Segment(s, owner[s % 20], 65536, 65536, 0, ATTACHERS, 1000 + s % PROCESSES,
                1000 + (s + 1) % PROCESSES, 0, 0, 0, True,
                tuple(Attachment(1000 + (s + a) % PROCESSES, f"worker{(s + a) % PROCESSES}",
                                 users[(s + a) % PROCESSES % 20], a == 0, 0, 65536)
                      for a in range(ATTACHERS)))
        for s in range(SEGMENTS)
    )  # fmt: skip
    sets = tuple(
        SemaphoreSet(s, owner[s % 20], NSEMS, 0, 0,
                     tuple(Semaphore(n, 1, 0, 0, 1000 + (s + n) % PROCESSES)
                           for n in range(NSEMS)))
        for s in range(SETS)
    )  # fmt: skip
    queues = tuple(
        MessageQueue(q, owner[q % 20], 0, 0, 16384, 1000 + q, 1001 + q, 0, 0, 0)
        for q in range(QUEUES)
    )
    return msgspec.structs.replace(
        fixed_snapshot(), segments=segments, semaphore_sets=sets, queues=queues,
        processes=MappingProxyType(procs),
    )  # fmt: skip


POSIX_OBJECTS = 1000  # each mapped by 2 of the same processes, held by one


def big_posix() -> PosixSnapshot:
    """1000 POSIX shm objects of 64K, each mapped by two of the processes and held by one."""
    objects = tuple(
        PosixObject(
            1, n, PosixKind.SHM, f"/dev/shm/obj{n}".encode(), True, True, 65536, 4096, n % 20,
            0, 0o600, 0.0, 0.0, 0.0,
            tuple(Mapping(1000 + (n + m) % PROCESSES, 0x1000, 0x11000, True, 0) for m in (0, 1)),
            (Holder(1000 + n % PROCESSES, 5, True, True),),
        )
        for n in range(POSIX_OBJECTS)
    )  # fmt: skip
    processes = {1000 + p: PosixProcess(1000 + p, f"worker{p}", p % 20, 0.0)
                 for p in range(PROCESSES)}  # fmt: skip
    return PosixSnapshot(0.0, objects, (), processes, frozenset(range(20)), {}, "text",
                         PROCESSES)  # fmt: skip


class TreeApp(App[None]):
    def compose(self) -> ComposeResult:
        yield UsageTreeView(id="tree")


async def draw_ms(snapshot: Snapshot, repeat: int = 5) -> dict[str, float]:
    """Best times of the widget's show(): a tree drawn anew (another user's, then all users
    again), and a refresh where every queue's line changed (the lines relabelled in place)."""
    busier = msgspec.structs.replace(
        snapshot, queues=tuple(msgspec.structs.replace(q, qnum=q.qnum + 1) for q in snapshot.queues)
    )
    rows = [build_tree(s, None, user) for s, user in ((snapshot, None), (snapshot, "user1"))]
    refreshed = build_tree(busier, None)
    times: dict[str, float] = {"anew": float("inf"), "refresh": float("inf")}
    async with TreeApp().run_test(size=(160, 45)) as pilot:
        tree = pilot.app.query_one(UsageTreeView)
        for _ in range(repeat):
            for shown, name in ((rows[1], None), (rows[0], "anew"), (refreshed, "refresh")):
                start = time.perf_counter()
                tree.show(shown)
                _ = tree.last_line  # the lines are laid out lazily: count them in
                if name is not None:
                    times[name] = min(times[name], time.perf_counter() - start)
                await pilot.pause()
        times["lines"] = tree.last_line + 1
    return times


def main() -> None:
    snapshot = big_snapshot()
    tree = build_tree(snapshot, None)
    lines = sum(1 for section in tree.sections for _ in section.walk())
    build = min(timeit.repeat(lambda: build_tree(snapshot, None), number=1, repeat=7)) * 1e3
    one_user = min(timeit.repeat(lambda: build_tree(snapshot, None, "user3"), number=1,
                                 repeat=7)) * 1e3  # fmt: skip
    same = min(timeit.repeat(lambda: tree == build_tree(snapshot, None), number=1, repeat=7))
    posix = big_posix()
    with_posix = min(timeit.repeat(lambda: build_tree(snapshot, None, None, posix), number=1,
                                   repeat=7)) * 1e3  # fmt: skip
    drawn = asyncio.run(draw_ms(snapshot))
    print(f"workload: {SEGMENTS} segments x {ATTACHERS} attachers, {PROCESSES} processes, "
          f"{SETS} sets of {NSEMS}, {QUEUES} queues; {lines} rows")  # fmt: skip
    print("| step | best ms |")
    print("|---|---:|")
    print(f"| build_tree, all users | {build:.1f} |")
    print(f"| build_tree, one user | {one_user:.1f} |")
    print(f"| build_tree, all users, with {POSIX_OBJECTS} POSIX objects (2 mappers, 1 holder"
          f" each) | {with_posix:.1f} |")  # fmt: skip
    print(f"| build + compare with the rows shown (an unchanged refresh) | {same * 1e3:.1f} |")
    print(f"| show(), drawn anew ({drawn['lines']:.0f} lines: folded past {OPEN_LIMIT} rows) "
          f"| {drawn['anew'] * 1e3:.1f} |")  # fmt: skip
    print(f"| show(), a refresh that changed {QUEUES * 3} lines | {drawn['refresh'] * 1e3:.1f} |")


if __name__ == "__main__":
    main()
