"""Records the large C workload at 1 s with `shmtop record`, then replays the file.

Run as root: `.venv/bin/python -m bench.bench_record [--seconds 90] [--churn 20] [--touch N]
[--keep FILE]`
(--keep: a copy of the recording, to replay or profile later). Like
bench_oneshot, the script moves itself into a private IPC namespace first, builds
bench/workload.c and starts `workload -n 4000 -P 1000 -A 8 -S 1000 -K 16 -Q 1000`. The workload
sits still once ready, so while the recorder runs this script changes the IPC every second
(--churn N: N semaphore sets get a new value, N queues a message sent or taken, and one
segment in ten of N made or removed), as a busy machine would. --touch N: this script makes
N more segments of 1 MiB, attaches them, and writes to one new page of each every second for
the whole run (the snapshots alone and the in-process timings too): N lines of
/proc/sysvipc/shm move their RSS each second, nothing else moves (a workload filling its
segments).

It measures the recorder's CPU (utime + stime from /proc, % of one core) over the steady
part of the run (after its first snapshot), and the file: its key and change frames, and the
10-minute size extrapolated from them (10 key frames + 590 changes at the 60-frame key
interval, as 600 s at 1 s would hold). Then the replay: the first frame (open the file, rebuild
the first snapshot; and the whole headless ReplayApp until it shows it, beside the live
view's ShmtopApp on the workload measured the same way) and a step (the next
snapshot rebuilt; the worst step, the frame before a key frame, rebuilt from the key frame;
and a `]` in the headless app until the new snapshot is shown). The workload is stopped and
removed (SIGTERM), also on Ctrl-C; the namespace goes when the script exits.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.bench_oneshot import (  # noqa: E402
    SHMTOP,
    WORKLOAD_ARGS,
    build_workload,
    leftovers,
    running_workload,
)
from bench.harness import is_root  # noqa: E402
from bench.proc import cpu_ticks  # noqa: E402
from bench.report import check_table  # noqa: E402
from bench.stats import Check  # noqa: E402
from bench.workload import raise_exit  # noqa: E402
from shmtop.core.binding import native  # noqa: E402
from shmtop.core.recording.frames import HEADER_SIZE, FrameType  # noqa: E402
from shmtop.core.recording.reader import Recording  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
TEN_MINUTES = 600


TOUCH_PAGES = 256  # of each touched segment: a new page every second for over 4 minutes


class Toucher(threading.Thread):
    """Makes `count` segments, attaches them here and writes a new page of each a second."""

    def __init__(self, count: int) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        page = os.sysconf("SC_PAGE_SIZE")
        self.page = page
        self.made = [
            native.shmget(native.IPC_PRIVATE, TOUCH_PAGES * page, native.IPC_CREAT | 0o600)
            for _ in range(count)
        ]
        self.addresses = [native.shmat(shmid, 0) for shmid in self.made]

    def run(self) -> None:
        from shmtop.core.binding._native import ffi

        pages = [ffi.cast("char *", address) for address in self.addresses]
        touched = 0
        while not self.stop.wait(1.0):
            for base in pages:
                base[(touched % TOUCH_PAGES) * self.page] = b"t"
            touched += 1

    def close(self) -> None:
        self.stop.set()
        if self.ident is not None:
            self.join()
        for address in self.addresses:
            native.shmdt(address)
        for shmid in self.made:
            native.shm_rmid(shmid)


class Churn(threading.Thread):
    """Changes some objects every second: semaphore values, queued messages, segments."""

    def __init__(self, count: int) -> None:
        super().__init__(daemon=True)
        self.count = count
        self.stop = threading.Event()
        self.made: list[int] = []
        self.rounds = 0

    def run(self) -> None:
        sets = [row.id for row in native.sem_table()][: self.count]
        queues = [row.id for row in native.msg_table()][: self.count]
        while not self.stop.wait(1.0):
            up = self.rounds % 2 == 0
            for semid in sets:
                native.semop(semid, [(0, 1 if up else -1, 0)])
            for msqid in queues:
                if up:
                    native.msgsnd(msqid, 1, b"churn")
                else:
                    native.msgrcv(msqid, 64, 1, native.IPC_NOWAIT)
            for _ in range(max(1, self.count // 10)):
                if up or not self.made:
                    self.made.append(
                        native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600)
                    )
                else:
                    native.shm_rmid(self.made.pop(0))
            self.rounds += 1

    def close(self) -> None:
        self.stop.set()
        self.join()
        for shmid in self.made:
            native.shm_rmid(shmid)


def record(path: Path, seconds: float, churn: int, *, posix: bool = True) -> dict[str, Any]:
    """`shmtop record` for `seconds` under churn (posix False: `record --no-posix`); its CPU
    over the steady part."""
    changes = Churn(churn)
    recorder = subprocess.Popen(
        [*SHMTOP, "record", str(path), "--interval", "1", *(() if posix else ("--no-posix",))],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        while frames(path) < 1:  # the first (cold) snapshot: not the steady cost
            if recorder.poll() is not None:
                raise RuntimeError(f"shmtop record exited {recorder.returncode}")
            time.sleep(0.05)
        if churn:
            changes.start()
        ticks, begun = cpu_ticks(recorder.pid), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu_ticks(recorder.pid) - ticks, time.monotonic() - begun
        recorder.send_signal(signal.SIGINT)
        _, err = recorder.communicate(timeout=60)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
        if churn:
            changes.close()
    return {
        "cpu_percent": 100.0 * used / TICKS / elapsed,
        "elapsed": elapsed,
        "churn_rounds": changes.rounds,
        "said": err.decode(errors="replace").strip().splitlines()[-1:],
    }


def split(directory: Path, churn: int, count: int = 10) -> dict[str, float]:
    """In-process medians of CPU time, ms: a steady snapshot (no churn; the process's, its
    threads too) and writing it (diff, encode, compress, write; the thread's), then `count`
    frames written under the churn, and the key frame (the first, written whole). The
    recorder's own work, % of a core at 1 s: a key frame every 60, changes the rest."""
    from shmtop.core.recording.writer import KEYFRAME_EVERY, RecordingWriter
    from shmtop.core.snapshot.collect import Collector

    collector = Collector()
    snapshots: list[float] = []
    writes: list[float] = []
    churned: list[float] = []
    changes = Churn(churn)
    try:
        with RecordingWriter(directory / "split.rec", interval=1.0) as writer:
            first = collector.snapshot()
            at = time.thread_time()  # the writer works in this thread only
            writer.add(first)  # the key frame
            key = (time.thread_time() - at) * 1000
            for round_ in range(2 * count if churn else count):
                if churn and round_ == count:
                    changes.start()
                time.sleep(1.0)
                at = time.process_time()  # the collector's threads too
                snapshot = collector.snapshot()
                taken = (time.process_time() - at) * 1000
                middle = time.thread_time()
                writer.add(snapshot)
                written = (time.thread_time() - middle) * 1000
                if round_ < count:
                    snapshots.append(taken)
                    writes.append(written)
                else:
                    churned.append(written)
    finally:
        collector.close()
        if changes.ident is not None:  # started
            changes.close()
    snapshots.sort()
    writes.sort()
    churned.sort()
    change = (churned or writes)[len(churned or writes) // 2]
    own = (key + (KEYFRAME_EVERY - 1) * change) / KEYFRAME_EVERY / 1000 * 100
    return {"snapshot": snapshots[count // 2], "write": writes[count // 2], "key_write": key,
            "churn_write": change, "own_percent": own}  # fmt: skip


# The snapshots alone, as the recorder takes them (one Collector, every second from the
# first), written nowhere: the recorder's CPU less this is what recording adds.
SNAPSHOTS_ONLY = """
import sys, time
from shmtop.core.snapshot.collect import Collector
collector = Collector()
collector.snapshot()
print("first", flush=True)
due = time.monotonic()
while True:
    due = max(due + 1.0, time.monotonic())
    time.sleep(max(0.0, due - time.monotonic()))
    collector.snapshot()
"""


def snapshots_only(seconds: float) -> float:
    """CPU, % of one core, of SNAPSHOTS_ONLY over `seconds` after its first snapshot."""
    loop = subprocess.Popen([sys.executable, "-c", SNAPSHOTS_ONLY], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert loop.stdout is not None
        loop.stdout.readline()
        ticks, begun = cpu_ticks(loop.pid), time.monotonic()
        time.sleep(seconds)
        used, elapsed = cpu_ticks(loop.pid) - ticks, time.monotonic() - begun
    finally:
        loop.kill()
        loop.wait()
        if loop.stdout is not None:
            loop.stdout.close()
    return 100.0 * used / TICKS / elapsed


def frames(path: Path) -> int:
    try:
        return len(Recording.open(path))
    except ValueError:
        return 0


def file_figures(path: Path) -> dict[str, Any]:
    recording = Recording.open(path)
    # A moment's bytes: its System V frame and its POSIX frame (format 2: written with it;
    # none when the POSIX half did not change).
    posix = {f.taken_at: f.length + HEADER_SIZE for f in recording.posix_frames}
    sizes = [(f.type, f.length + HEADER_SIZE + posix.get(f.taken_at, 0))
             for f in recording.frames]  # fmt: skip
    keys = [size for kind, size in sizes if kind is FrameType.KEY]
    changes = [size for kind, size in sizes if kind is FrameType.CHANGE]
    every = recording.meta.keyframe_every
    key_mean = sum(keys) / len(keys)
    change_mean = sum(changes) / len(changes) if changes else 0.0
    key_count = -(-TEN_MINUTES // every)
    ten_minutes = key_count * key_mean + (TEN_MINUTES - key_count) * change_mean
    return {
        "bytes": path.stat().st_size,
        "frames": len(recording),
        "keys": len(keys),
        "key_mean": key_mean,
        "change_mean": change_mean,
        "seconds": recording.end - recording.start,
        "ten_minutes_mib": ten_minutes / MIB,
        "keyframe_every": every,
    }


def replay_figures(path: Path) -> dict[str, float]:
    """Milliseconds: open + first snapshot; next snapshot; the worst step (from a key frame)."""
    started = time.perf_counter()
    recording = Recording.open(path)
    recording.snapshot(0)
    first = (time.perf_counter() - started) * 1000
    steps = []
    for index in range(1, min(len(recording), 30)):
        at = time.perf_counter()
        recording.snapshot(index)
        steps.append((time.perf_counter() - at) * 1000)
    worst_index = next(
        (i - 1 for i, f in enumerate(recording.frames) if i > 1 and f.type is FrameType.KEY),
        len(recording) - 1,
    )
    fresh = Recording.open(path)
    fresh.snapshot(0)
    at = time.perf_counter()
    fresh.snapshot(worst_index)  # every change since the key frame applied
    worst = (time.perf_counter() - at) * 1000
    steps.sort()
    return {"first": first, "step": steps[len(steps) // 2], "worst_step": worst,
            "worst_index": worst_index}  # fmt: skip


def app_figures(path: Path) -> dict[str, float]:
    """The headless ReplayApp: created until its first snapshot is shown; `]` until shown."""
    from textual import events

    from shmtop.core.snapshot.collect import Collector
    from shmtop.tui.app import ShmtopApp
    from shmtop.tui.prefs import Preferences
    from shmtop.tui.replay_app import ReplayApp

    async def run() -> dict[str, float]:
        started = time.perf_counter()
        prefs = Path(tempfile.gettempdir()) / "bench-replay-prefs.json"  # never written
        app = ReplayApp(Recording.open(path), preferences=Preferences(), preferences_path=prefs)
        async with app.run_test(size=(160, 48)) as pilot:
            while app.polls < 1:
                await pilot.pause(0.01)
            await pilot.pause()
            first = (time.perf_counter() - started) * 1000
            steps = []
            for _ in range(min(10, len(app.recording) - 1)):
                seen = app.polls
                at = time.perf_counter()
                # The key as the terminal driver posts it (Pilot.press also waits for idle).
                app.post_message(events.Key("right_square_bracket", "]"))
                while app.polls <= seen:  # the new snapshot handed to every screen
                    await asyncio.sleep(0.001)
                steps.append((time.perf_counter() - at) * 1000)
                await pilot.pause()
        steps.sort()
        # The live view's first frame on the same workload, the same way (compared with).
        collector = Collector()
        try:
            started = time.perf_counter()
            live = ShmtopApp(collector, preferences=Preferences(), preferences_path=prefs)
            async with live.run_test(size=(160, 48)) as pilot:
                while live.polls < 1:
                    await pilot.pause(0.01)
                await pilot.pause()
                live_first = (time.perf_counter() - started) * 1000
        finally:
            collector.close()
        return {"app_first": first, "app_step": steps[len(steps) // 2], "live_first": live_first}

    return asyncio.run(run())


def report(ready: str, run: dict[str, Any], figures: dict[str, Any], replay: dict[str, float],
           app: dict[str, float], churn: int, parts: dict[str, float],
           touch: int = 0) -> str:  # fmt: skip
    lines = [
        f"Workload (C children): workload {' '.join(WORKLOAD_ARGS)}; churn {churn} a second;"
        f" RSS moved in {touch} more segments a second (--touch)",
        f"Workload said: {ready}",
        f"Recorder said: {' '.join(run['said'])}",
        f"Recorded {figures['frames']} snapshots over {figures['seconds']:.0f} s"
        f" ({run['churn_rounds']} rounds of churn); {figures['bytes'] / MIB:.2f} MiB;"
        f" a key frame every {figures['keyframe_every']}",
        "",
        "| measure | value |",
        "|---|---:|",
        f"| recorder CPU, % of one core (steady, {run['elapsed']:.0f} s) |"
        f" {run['cpu_percent']:.2f} |",
        f"| the snapshots alone (a Collector every second, no file; no churn), % of one core |"
        f" {run['snapshots_only']:.2f} |",
        f"| in-process, no churn: steady snapshot (median of 10), CPU ms |"
        f" {parts['snapshot']:.1f} |",
        f"| in-process, no churn: its frame written (diff, encode, compress), CPU ms |"
        f" {parts['write']:.2f} |",
        f"| in-process, churn {churn}: a change frame written (median), CPU ms |"
        f" {parts['churn_write']:.2f} |",
        f"| in-process: the key frame written, CPU ms | {parts['key_write']:.1f} |",
        f"| the recorder's own work (frames written: a key frame a minute), % of one core |"
        f" {parts['own_percent']:.2f} |",
        f"| key frame, KiB (mean of {figures['keys']}) | {figures['key_mean'] / 1024:.1f} |",
        f"| change frame, KiB (mean) | {figures['change_mean'] / 1024:.2f} |",
        f"| file after 10 min at 1 s, MiB (extrapolated) | {figures['ten_minutes_mib']:.2f} |",
        f"| replay: open + first snapshot, ms | {replay['first']:.1f} |",
        f"| replay: headless app until the first snapshot shows, ms | {app['app_first']:.1f} |",
        f"| live view (same workload): headless app until the first snapshot shows, ms |"
        f" {app['live_first']:.1f} |",
        f"| replay: next snapshot rebuilt (median), ms | {replay['step']:.2f} |",
        f"| replay: worst step (frame {replay['worst_index']:.0f}, from its key frame), ms |"
        f" {replay['worst_step']:.1f} |",
        f"| replay: `]` in the headless app until shown (median), ms | {app['app_step']:.1f} |",
        "",
    ]
    lines += check_table([
        Check("file for 10 min at 1 s, MB (extrapolated)",
              figures["ten_minutes_mib"] * MIB / 1e6, 20.0),
        Check("recorder CPU, % of a core", run["cpu_percent"], 3.0),
        Check("replay first frame (headless app), s", app["app_first"] / 1000, 1.0),
        Check("replay step (headless app `]`), ms", app["app_step"], 100.0),
    ], ".0f")  # fmt: skip
    return "\n".join(lines)


def say(text: str) -> None:
    print(f"bench_record: {text}", file=sys.stderr, flush=True)


@contextmanager
def touching(count: int) -> Iterator[None]:
    """A Toucher at work (none for 0), its segments removed afterwards whatever happens."""
    if count <= 0:
        yield
        return
    toucher = Toucher(count)
    try:
        time.sleep(1.1)  # our attach times fall in a second before the recorder's first scan
        toucher.start()
        yield
    finally:
        toucher.close()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=90.0,
                        help="seconds recorded after the first snapshot (default 90)")  # fmt: skip
    parser.add_argument("--churn", type=int, default=20,
                        help="sets and queues changed a second (default 20; 0: the workload"
                             " as it is, still)")  # fmt: skip
    parser.add_argument(
        "--no-posix", action="store_true", help="record the System V part only (record --no-posix)"
    )
    parser.add_argument("--touch", type=int, default=0, metavar="N",
                        help="N more segments whose RSS grows a page a second throughout"
                             " (default 0)")  # fmt: skip
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="FILE",
        help="copy the recording to FILE (to replay or profile it later)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not is_root("bench_record", "it makes an IPC namespace and reads every process's maps"):
        return 2
    compileall.compile_dir(REPO_ROOT / "shmtop", quiet=1)
    native.unshare(native.CLONE_NEWIPC)  # before any thread or child
    signal.signal(signal.SIGTERM, raise_exit)
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as directory:
            binary = build_workload(Path(directory))
            path = Path(directory) / "large.rec"
            with running_workload(binary, WORKLOAD_ARGS) as ready, touching(args.touch):
                say(f"workload ready; recording for {args.seconds:g} s")
                run = record(path, args.seconds, args.churn, posix=not args.no_posix)
                say(f"the snapshots alone, every second, for {args.seconds:g} s (no churn)")
                run["snapshots_only"] = snapshots_only(args.seconds)
                say("timing a steady snapshot and its write in-process (then under the churn)")
                parts = split(Path(directory), args.churn)
                say("recorded; replaying (the workload stays up for the live view's figure)")
                figures = file_figures(path)
                if args.keep is not None:
                    shutil.copyfile(path, args.keep)
                replay = replay_figures(path)
                app = app_figures(path)
    except KeyboardInterrupt:
        print("bench_record: interrupted; workload removed", file=sys.stderr)
        return 130
    except SystemExit as stop:
        print("bench_record: terminated; workload removed", file=sys.stderr)
        return stop.code if isinstance(stop.code, int) else 1
    print(report(ready, run, figures, replay, app, args.churn, parts, args.touch))
    left = leftovers()
    if any(left.values()):
        print(f"bench_record: left in the namespace: {left}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
