"""Times the waiter scan against the attachment scan of the same refresh, on the large workload."""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.harness import is_root  # noqa: E402
from bench.stats import Check, time_calls  # noqa: E402
from bench.workload import Workload  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.snapshot import procfs  # noqa: E402
from shmtop.core.snapshot.collect import Collector  # noqa: E402
from shmtop.core.waits.waiters import WaiterScanner  # noqa: E402


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def median_ms(call: Callable[[], object], repeat: int) -> float:
    """Median wall time of repeat calls (after one warm-up call), in milliseconds."""
    call()
    return statistics.median(time_calls(call, repeat))


def attachment_scan() -> object:
    """What a refresh that must look for attachers does: every process's maps, in C."""
    return native.scan_maps(all_pids())


def python_syscall_scan() -> int:
    """The waiter scan's loop in Python (procfs.parse_task_syscall), to show why it is in C."""
    wanted = procfs.ipc_syscalls(os.uname().machine) or {}
    found = 0
    for pid in all_pids():
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/syscall", encoding="ascii") as file:
                    call = procfs.parse_task_syscall(file.read())
            except OSError:
                continue
            found += call is not None and call.number in wanted
    return found


@contextmanager
def blocked_children(count: int) -> Iterator[int]:
    """count children blocked in semop (half) and msgrcv (half); all ended and removed after."""
    semid = native.semget(native.IPC_PRIVATE, 2, native.IPC_CREAT | 0o600)
    msqid = native.msgget(native.IPC_PRIVATE, native.IPC_CREAT | 0o600)
    pids: list[int] = []
    try:
        for n in range(count):
            pid = os.fork()
            if pid == 0:
                try:
                    if n % 2:
                        native.msgrcv(msqid, 64, 7, 0)
                    else:
                        native.semop(semid, [(1, -1, native.SEM_UNDO)])
                finally:
                    os._exit(0)
            pids.append(pid)
        deadline = time.monotonic() + 60
        while native.sem_counts(semid, 1)[0] < (count + 1) // 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the semop children did not block")
            time.sleep(0.01)
        yield count
    finally:
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in pids:
            with suppress(ChildProcessError):
                os.waitpid(pid, 0)
        native.sem_rmid(semid)
        native.msg_rmid(msqid)


@contextmanager
def semaphore_waiters(count: int) -> Iterator[int]:
    """count children blocked in sem_wait on one named semaphore (futex waits in shared
    memory, whose releasers are their mappers); all ended and the name unlinked after."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sem_open.restype = ctypes.c_void_p
    libc.sem_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_uint, ctypes.c_uint]
    name = f"/shmtop-bench-{os.getpid()}".encode()
    sem = libc.sem_open(name, os.O_CREAT, 0o600, 0)
    if not sem:
        raise OSError(ctypes.get_errno(), "sem_open")
    pids: list[int] = []
    try:
        for _ in range(count):
            pid = os.fork()
            if pid == 0:
                try:
                    libc.sem_wait(ctypes.c_void_p(sem))
                finally:
                    os._exit(0)
            pids.append(pid)
        deadline = time.monotonic() + 60
        while ctypes.c_uint32.from_address(sem + 4).value < count:  # glibc's nwaiters
            if time.monotonic() > deadline:
                raise RuntimeError("the sem_wait children did not block")
            time.sleep(0.01)
        yield count
    finally:
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        for pid in pids:
            with suppress(ChildProcessError):
                os.waitpid(pid, 0)
        libc.sem_unlink(name)


def measure(repeat: int, blocked: int, futex: int = 0) -> list[tuple[str, float]]:
    with blocked_children(blocked), semaphore_waiters(futex):  # forked before any thread
        scanner = WaiterScanner()
        collector = Collector()
        collector.snapshot()
        report = scanner.scan()
        print(
            f"waiter scan sees {len(report.waiters)} waiters in {report.tasks_scanned} threads "
            f"of {report.processes_scanned} processes; unreadable {dict(report.unreadable)}"
        )
        return [
            ("attachment scan (every maps file, C)", median_ms(attachment_scan, repeat)),
            ("waiter scan (WaiterScanner.scan, C loop)", median_ms(scanner.scan, repeat)),
            ("waiter scan loop alone in Python", median_ms(python_syscall_scan, repeat)),
            (
                "first snapshot (collector, maps in 2 threads)",
                median_ms(lambda: Collector().snapshot(), repeat),
            ),
            ("steady snapshot (attachment scan reused)", median_ms(collector.snapshot, repeat)),
            (
                "first waiter scan (a new scanner: futex mappers read)",
                median_ms(lambda: WaiterScanner().scan(), repeat),
            ),
        ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--children", type=int, default=Workload.children, help="attached workload processes"
    )
    parser.add_argument("--segments", type=int, default=Workload.segments)
    parser.add_argument("--blocked", type=int, default=0, help="extra children blocked in IPC")
    parser.add_argument(
        "--futex", type=int, default=0, help="children blocked in sem_wait on a named semaphore"
    )
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args(argv)
    if not is_root("bench_waiters", "it reads every process"):
        return 2
    with Workload(segments=args.segments, children=args.children):
        figures = measure(args.repeat, args.blocked, args.futex)
    print(f"{args.children} workload children, {args.blocked} blocked, {args.futex} in sem_wait; "
          f"medians of {args.repeat}")  # fmt: skip
    for name, value in figures:
        print(f"  {name:<48} {value:8.2f} ms")
    target = Check("waiter scan / attachment scan", figures[1][1] / figures[0][1], 1.0)
    print(f"{target.label} = {target.value:.2f} (target <= {target.target:g}): {target.status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
