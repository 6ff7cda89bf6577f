"""Cost of a POSIX shared memory scan (core/posix) on a machine with a few hundred processes.

Makes OBJECTS objects in /dev/shm and forks CHILDREN Python children; child k maps
PER_CHILD of them (alternately read-write and read-only) and holds one more open, then
sleeps. As root everything happens in a private mount namespace with a fresh tmpfs on
/dev/shm (nothing can be left behind); otherwise under a unique prefix, unlinked at the
end. Prints the median / min / max of whole scans and of each phase, on both maps
readers, and the System V snapshot of the same machine for scale. Other work on the
machine shows up in the figures: run it twice.

    .venv/bin/python bench/bench_posix.py [--children 300] [--objects 1000] [--per-child 4]
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.stats import time_calls  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.posix.collect import PosixCollector, all_pids  # noqa: E402
from shmtop.core.posix.mounts import our_mounts  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402

PROT_READ, PROT_WRITE, MAP_SHARED = 1, 2, 1
SIZE = 64 * 1024
ROOM = 8192  # rows the phase timers make room for (the workload has 1200 mappings)
_CLONE_NEWNS = 0x00020000
_MS_REC, _MS_PRIVATE = 0x4000, 1 << 18


def private_dev_shm(libc: ctypes.CDLL) -> bool:
    """A mount namespace of our own with a fresh /dev/shm (root); False where not allowed."""
    if os.geteuid() != 0 or libc.unshare(_CLONE_NEWNS) != 0:
        return False
    if libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    return bool(libc.mount(b"bench", b"/dev/shm", b"tmpfs", 0, b"mode=1777") == 0)


def child(libc: ctypes.CDLL, paths: list[str], ready: int) -> None:
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    for index, path in enumerate(paths[:-1]):
        writable = index % 2 == 0
        fd = os.open(path, os.O_RDWR if writable else os.O_RDONLY)
        prot = PROT_READ | (PROT_WRITE if writable else 0)
        if libc.mmap(None, SIZE, prot, MAP_SHARED, fd, 0) in (None, ctypes.c_void_p(-1).value):
            os._exit(3)
        os.close(fd)
    held = os.open(paths[-1], os.O_RDONLY)  # a holder that maps nothing
    os.write(ready, b"r")
    os.close(ready)
    signal.pause()
    os.close(held)


def figures(name: str, samples: list[float]) -> None:
    print(f"  {name:<34} median {statistics.median(samples):7.2f} ms   "
          f"min {min(samples):7.2f}   max {max(samples):7.2f}   (n={len(samples)})")  # fmt: skip


def phase_timers(pids: list[int]) -> dict[str, Callable[[], object]]:
    mounts = our_mounts()
    devs = list(mounts)
    shm_dev = next(m.dev for m in mounts.values() if m.shm_dir)
    return {
        "list /dev/shm (scandir + stat)": lambda: [e.stat() for e in os.scandir("/dev/shm")],
        "process facts (C)": lambda: native.process_facts(pids),
        # room for every row, as a collector's steady scans have: one pass
        "maps scan (C, shm devices)": lambda: native.scan_file_maps(
            pids, devs, any_anonymous=True, capacity=ROOM
        ),
        "fd scan (C, /proc/PID/fd)": lambda: native.scan_fds(pids, [shm_dev], capacity=ROOM),
        "for scale: System V maps scan, same pids": lambda: native.scan_maps(pids),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=300)
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--per-child", type=int, default=4, help="objects each child maps")
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]  # fmt: skip
    private = private_dev_shm(libc)
    prefix = f"/dev/shm/bench-posix-{os.getpid()}-"
    paths = [f"{prefix}{i}" for i in range(args.objects)]
    kids: list[int] = []
    try:
        for path in paths:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            os.ftruncate(fd, SIZE)
            os.pwrite(fd, b"x", 0)
            os.close(fd)
        for k in range(args.children):
            mine = [paths[(k * args.per_child + j) % len(paths)] for j in range(args.per_child + 1)]
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                try:
                    child(libc, mine, write_end)
                finally:
                    os._exit(0)
            os.close(write_end)
            if os.read(read_end, 1) != b"r":
                raise RuntimeError(f"child {pid} failed")
            os.close(read_end)
            kids.append(pid)
        measure(args, private, [os.getpid(), *kids])
    finally:
        for pid in kids:
            os.kill(pid, signal.SIGKILL)
        for pid in kids:
            os.waitpid(pid, 0)
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


def measure(args: argparse.Namespace, private: bool, workload: list[int]) -> None:
    """Print the figures (the workload is running)."""
    pids = all_pids()
    print(f"processes on the machine: {len(pids)} ({args.children} children, each mapping "
          f"{args.per_child} of {args.objects} objects of {SIZE // 1024} KiB and holding one"
          f" more); private /dev/shm: {private}")  # fmt: skip
    for reader in native.READERS:
        native.use_procmap_query(reader == native.PROCMAP_QUERY)
        print(f"reader {reader}:")
        collector = PosixCollector()
        start = time.perf_counter()
        snapshot = collector.snapshot()
        first = (time.perf_counter() - start) * 1000
        mapped = sum(1 for o in snapshot.objects if o.mappings)
        print(f"  first full scan {first:.2f} ms: {len(snapshot.objects)} objects, {mapped}"
              f" mapped, {sum(len(o.mappings) for o in snapshot.objects)} mappings,"
              f" {sum(len(o.holders) for o in snapshot.objects)} fds, reader"
              f" {snapshot.reader}, uninspected {len(snapshot.uninspected)}")  # fmt: skip
        figures("full scan (steady)", time_calls(collector.snapshot, args.repeat))
        only_workload = functools.partial(collector.snapshot, workload)
        figures(f"scan of the workload's {len(workload)} pids only",
                time_calls(only_workload, args.repeat))  # fmt: skip
        collector.close()
        with PosixCollector(threads=1) as serial:
            serial.snapshot()
            figures("full scan (steady, one thread)", time_calls(serial.snapshot, args.repeat))
        for name, call in phase_timers(pids).items():
            figures(name, time_calls(call, args.repeat))
    native.use_procmap_query(True)
    sysv = Collector()
    figures("System V snapshot, same machine", time_calls(sysv.snapshot, args.repeat))
    sysv.close()


if __name__ == "__main__":
    main()
