"""Times `rm --orphans` on 4000 orphan segments through shmtop's own removal path.

Runs in a private IPC namespace of its own (entered first), so it can neither see nor
remove anybody else's objects. A child creates the segments (IPC_PRIVATE, never
attached) and exits: they are orphans by shmtop's rule once untouched for the
period, here `--idle-for 1s`. Then, timed: a snapshot, the selection by the rule,
and the removal of each with its identity check (IPC_STAT by id, then IPC_RMID,
then one IPC_STAT to tell removed from marked). For comparison it also times the
old per-object check, a re-read of the whole table, at the same table size.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import is_root  # noqa: E402
from shmtop.cli import commands as cli  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.snapshot import procfs  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402

CLONE_NEWIPC = 0x08000000
TARGET_SECONDS = 2.0


def private_namespace() -> None:
    """A fresh IPC namespace for this process (before any thread starts)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWIPC) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWIPC)")


def make_orphans(count: int) -> list[int]:
    """count private segments made by a child that then exits (so their creator is gone)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            flags = native.IPC_CREAT | 0o600
            ids = [native.shmget(native.IPC_PRIVATE, 4096, flags) for _ in range(count)]
            os.write(write_fd, json.dumps(ids).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        made: list[int] = json.loads(pipe.read() or b"[]")
    os.waitpid(pid, 0)
    if len(made) != count:
        raise RuntimeError(f"the child made {len(made)} of {count} segments")
    return made


def old_exists_ms(shmid: int, repeat: int = 20) -> float:
    """Median ms of the check the removal used to make per object: the whole table re-read."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        rows = procfs.parse_sysvipc(procfs.read_sysvipc("shm").decode("ascii"))
        any(row["shmid"] == shmid for row in rows)
        times.append((time.perf_counter() - start) * 1000)
    return sorted(times)[len(times) // 2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--segments", type=int, default=4000)
    args = parser.parse_args(argv)
    if not is_root("bench_remove", "it makes a private IPC namespace"):
        return 1
    private_namespace()
    made = make_orphans(args.segments)
    try:
        ctime = max(native.shm_stat(i).ctime for i in made[:: max(len(made) // 50, 1)])
        while time.time() < ctime + 2:  # untouched for --idle-for 1s, at 1 s resolution
            time.sleep(0.05)
        old_ms = old_exists_ms(made[-1])
        rm = cli.build_parser().parse_args(["rm", "--orphans", "--idle-for", "1s", "--yes"])

        start = time.perf_counter()
        collector = Collector()
        snapshot = collector.snapshot()
        snapped = time.perf_counter()
        targets = cli.removal_targets(snapshot, rm)
        chosen = time.perf_counter()
        outcomes = cli.carry_out(snapshot, targets, idle=True)
        done = time.perf_counter()
        collector.close()
    finally:
        for shmid in made:  # whatever the removal left (nothing, when it worked)
            with contextlib.suppress(OSError):
                native.shm_rmid(shmid)
    removed = sum(o.outcome.ok for o in outcomes)
    total = done - start
    print(f"orphans made: {len(made)}; selected by the rule: {len(targets)}; removed: {removed}")
    print(f"snapshot                      {1000 * (snapped - start):8.1f} ms")
    print(f"selection (the orphan rule)   {1000 * (chosen - snapped):8.1f} ms")
    print(f"removal with identity checks  {1000 * (done - chosen):8.1f} ms"
          f"  ({1e6 * (done - chosen) / max(len(targets), 1):.1f} us an object)")  # fmt: skip
    print(f"total                         {1000 * total:8.1f} ms")
    print(f"old per-object check (whole table re-read at {len(made)} segments): {old_ms:.1f} ms,"
          f" {old_ms * len(made) / 1000:.0f} s for all of them")  # fmt: skip
    verdict = "PASS" if total <= TARGET_SECONDS and removed == len(made) else "FAIL"
    print(f"target: all removed in <= {TARGET_SECONDS:.0f} s: {total:.2f} s {verdict}")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
