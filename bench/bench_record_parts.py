"""Where a steady recording's CPU goes, phase by phase, on the large C workload (issue 14).

Run as root: `.venv/bin/python -m bench.bench_record_parts [--repeat 21]`. Like bench_record
it moves into a private IPC namespace, builds bench/workload.c and starts `workload -n 4000
-P 1000 -A 8 -S 1000 -K 16 -Q 1000`, then times in this process (CPU time, median of
--repeat; cProfile inflates small calls, so these are plain process_time/thread_time):

- reading /proc/sysvipc/shm: open().read() as the collector does, one read() into a buffer
  kept between reads, and lseek(0) on a descriptor kept open (all kernel formatting);
- parsing it: the whole table in C (native.parse_columns), and table_lines.TableLines with
  1, 10 and 100 lines changed (the rest reused from the table before);
- the other steady reads: the queues' and sets' tables, the limits;
- a steady snapshot (nothing changed: its semaphore values in a worker thread too), one after
  a segment's RSS moved (a page touched), and the frame the recorder writes for each
  (diff, encode, compress, write), and a key frame.

The workload is stopped and removed (SIGTERM), also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_oneshot import WORKLOAD_ARGS, build_workload, running_workload  # noqa: E402
from bench.harness import is_root  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.binding._native import ffi  # noqa: E402

SHM = "/proc/sysvipc/shm"


def median_ms(work: Callable[[], object], repeat: int, clock: Callable[[], float]) -> float:
    times = []
    for _ in range(repeat):
        at = clock()
        work()
        times.append((clock() - at) * 1000)
    times.sort()
    return times[len(times) // 2]


def reads(repeat: int) -> list[tuple[str, float]]:
    from shmtop.core.snapshot import procfs

    buffer = bytearray(4 << 20)
    view = memoryview(buffer)

    def into(fd: int) -> bytes:
        got = 0
        while chunk := os.readv(fd, [view[got:]]):
            got += chunk
        return bytes(view[:got])

    def fresh_fd() -> bytes:
        fd = os.open(SHM, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return into(fd)
        finally:
            os.close(fd)

    kept = os.open(SHM, os.O_RDONLY | os.O_CLOEXEC)

    def kept_fd() -> bytes:
        os.lseek(kept, 0, os.SEEK_SET)
        return into(kept)

    try:
        assert fresh_fd() == kept_fd() == procfs.read_sysvipc("shm")
        clock = time.process_time
        return [
            ("read /proc/sysvipc/shm: open().read() (as collected)",
             median_ms(lambda: procfs.read_sysvipc("shm"), repeat, clock)),
            ("read it: one read() into a kept buffer",
             median_ms(fresh_fd, repeat, clock)),
            ("read it: lseek(0) on a kept descriptor, kept buffer",
             median_ms(kept_fd, repeat, clock)),
        ]  # fmt: skip
    finally:
        os.close(kept)


def with_changed_lines(table: bytes, count: int) -> bytes:
    """The table with `count` lines' last number (swap) changed by one digit's worth."""
    header, _, body = table.partition(b"\n")
    lines = body.split(b"\n")
    step = max(1, len(lines) // max(count, 1))
    for index in range(0, min(len(lines), step * count), step):
        head, _, last = lines[index].rpartition(b" ")
        if last.isdigit():
            lines[index] = head + b" " + str(int(last) + 1).encode()
    return header + b"\n" + b"\n".join(lines)


def parses(repeat: int) -> list[tuple[str, float]]:
    from shmtop.core.snapshot import procfs
    from shmtop.core.snapshot.table_lines import TableLines

    table = procfs.read_sysvipc("shm")
    bases = procfs.column_bases(procfs.header_columns(table))
    clock = time.process_time
    results = [("parse it whole (native.parse_columns, as before)",
                median_ms(lambda: native.parse_columns(table, bases), repeat, clock))]  # fmt: skip
    for count in (1, 10, 100):
        changed = with_changed_lines(table, count)
        reader = TableLines()

        def again(reader: TableLines = reader, changed: bytes = changed) -> None:
            # Back and forth: each read finds `count` lines unlike the table before.
            reader.rows(table, bases)
            reader.rows(changed, bases)

        assert reader.rows(changed, bases) == native.parse_columns(changed, bases)
        both = median_ms(again, repeat, clock)
        results.append((f"parse it by changed lines (TableLines), {count} changed: two tables,"
                        " /2", both / 2))  # fmt: skip
    return results


def other_reads(repeat: int) -> list[tuple[str, float]]:
    from shmtop.core.snapshot.collect import msg_rows, read_limits, sem_rows

    clock = time.process_time
    return [
        ("queues' table (msgctl MSG_STAT_ANY x 1000)", median_ms(msg_rows, repeat, clock)),
        ("sets' table (semctl SEM_STAT_ANY x 1000)", median_ms(sem_rows, repeat, clock)),
        ("limits (IPC_INFO, *_INFO)", median_ms(read_limits, repeat, clock)),
    ]


def snapshots(repeat: int, directory: Path) -> list[tuple[str, float]]:
    from shmtop.core.recording.writer import RecordingWriter
    from shmtop.core.snapshot.collect import Collector

    collector = Collector()
    shmid = native.shmget(native.IPC_PRIVATE, 64 * 4096, native.IPC_CREAT | 0o600)
    address = native.shmat(shmid, 0)
    pages = ffi.cast("char *", address)
    try:
        with RecordingWriter(directory / "parts.rec", interval=1.0) as writer:
            first = collector.snapshot()
            at = time.thread_time()
            writer.add(first)
            key = (time.thread_time() - at) * 1000  # the first frame is a key frame
            time.sleep(1.1)  # attach times fall in a second before the scan's
            writer.add(collector.snapshot())
            steady: list[float] = []
            steady_write: list[float] = []
            moved: list[float] = []
            moved_write: list[float] = []
            for round_ in range(repeat):
                touch = round_ % 2 == 1
                if touch:  # one more page resident: one line of the table changes
                    pages[(round_ // 2 % 64) * 4096] = b"x"
                at = time.process_time()  # the worker thread's semaphore reads too
                snapshot = collector.snapshot()
                taken = (time.process_time() - at) * 1000
                middle = time.thread_time()
                writer.add(snapshot)
                written = (time.thread_time() - middle) * 1000
                (moved if touch else steady).append(taken)
                (moved_write if touch else steady_write).append(written)
    finally:
        native.shmdt(address)
        native.shm_rmid(shmid)
        collector.close()

    def mid(values: list[float]) -> float:
        values.sort()
        return values[len(values) // 2]

    return [
        ("steady snapshot (nothing changed; with its semaphore values)", mid(steady)),
        ("  its frame written (diff, encode, compress, write)", mid(steady_write)),
        ("snapshot after one segment's RSS moved (a page touched)", mid(moved)),
        ("  its frame written", mid(moved_write)),
        ("the key frame written (the first snapshot, whole)", key),
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=21, help="timings a figure (median)")
    args = parser.parse_args(argv)
    if not is_root("bench_record_parts", "it makes an IPC namespace"):
        return 2
    native.unshare(native.CLONE_NEWIPC)  # before any thread or child
    signal.signal(signal.SIGTERM, raise_exit)
    with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as name:
        directory = Path(name)
        binary = build_workload(directory)
        with running_workload(binary, WORKLOAD_ARGS) as ready:
            print(f"Workload said: {ready}")
            figures = reads(args.repeat) + parses(args.repeat) + other_reads(args.repeat)
            figures += snapshots(args.repeat, directory)
    print(f"\n| phase (CPU ms, median of {args.repeat}) | ms |\n|---|---:|")
    for label, value in figures:
        print(f"| {label} | {value:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
