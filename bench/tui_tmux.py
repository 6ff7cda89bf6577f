"""shmtop run for real in a tmux server of our own: launch to first filled frame, steady CPU."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.proc import (
    CLOCK_TICKS,
    command_of,
    cpu_ticks,
    machine_ticks,
    memory_mib,
    start_ticks,
    wait_gone,
)
from bench.stats import Measure
from bench.workload import Workload

SHMTOP = str(Path(sys.executable).parent / "shmtop")
COLUMNS, ROWS = 160, 48  # the terminal, also of the headless app whose keys are timed
POLL_SECONDS = 0.010  # how often the pane is captured while waiting for the first frame
FIRST_FRAME_TIMEOUT = 60.0
EXIT_TIMEOUT = 5.0  # how long a killed session's shmtop may take to go away
WORD_NUMBER = re.compile(r"\b\d+\b")
SEGMENT_TAB = re.compile(r"Segments \((\d+)(?:/(\d+))?\)")


@dataclass
class Steady:
    """shmtop left running in tmux: its CPU over the window, and its memory at the end."""

    seconds: float = 0.0
    cpu_percent: float | None = None
    per_second: Measure = field(
        default_factory=lambda: Measure("steady CPU, % of one core (1 s samples)")
    )
    vm_hwm_mib: float | None = None
    vm_rss_mib: float | None = None
    pid: int | None = None
    segments_tab: str | None = None  # the Segments tab's label at the end, e.g. "Segments (4300)"
    machine_busy_percent: float | None = None  # every CPU, every process, over the same window

    def as_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "cpu_percent_of_one_core": self.cpu_percent,
            "per_second": self.per_second.as_dict(),
            "vm_hwm_mib": self.vm_hwm_mib,
            "vm_rss_mib": self.vm_rss_mib,
            "pid": self.pid,
            "segments_tab": self.segments_tab,
            "machine_busy_percent_of_all_cpus": self.machine_busy_percent,
        }


@dataclass(frozen=True)
class Pane:
    """A shmtop started in a tmux session, and the moment its first filled frame was seen."""

    session: str
    pid: int
    start_ticks: int  # the process's start time, to never mistake a reused PID for it
    first_frame_ms: float
    matched_id: int  # the segment id whose row was seen first


class Tmux:
    """A tmux server of our own, so other users' sessions and servers are never touched.

    Its socket is in our temporary directory. `close()` kills the server and then, by PID,
    any shmtop it started that is still alive.
    """

    def __init__(self, config_home: str) -> None:
        self.socket = str(Path(config_home) / "tmux.socket")
        self.env = {**os.environ, "XDG_CONFIG_HOME": config_home}
        self.config_home = config_home
        self.started: list[tuple[int, int]] = []  # (pid, start ticks) of every shmtop seen
        self._count = 0

    def start(self) -> None:
        # Keep the server up between sessions: a launch then never pays for a server start.
        self.run("start-server", ";", "set-option", "-g", "exit-empty", "off")

    def run(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-S", self.socket, *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"tmux {args[0]}: {done.stderr.strip() or done.returncode}")
        return done.stdout

    def capture(self, session: str) -> str:
        return self.run("capture-pane", "-p", "-t", session)

    def launch(self, known_ids: set[str]) -> Pane:
        """Start shmtop in a new session; return when a row of a known segment is on screen."""
        self._count += 1
        session = f"bench-{os.getpid()}-{self._count}"
        command = f"{shlex.quote(SHMTOP)} --interval 1"
        start = time.perf_counter()
        self.run(
            "new-session", "-d", "-s", session, "-x", str(COLUMNS), "-y", str(ROWS),
            "-e", f"XDG_CONFIG_HOME={self.config_home}", command,
        )  # fmt: skip
        pid, ticks = 0, 0
        try:
            pid = shmtop_pid(int(self.run("list-panes", "-t", session, "-F", "#{pane_pid}")))
            ticks = start_ticks(pid) or 0
            self.started.append((pid, ticks))
            polls = 0
            while True:
                screen = self.capture(session)
                seen = time.perf_counter()
                matched = first_known_id(screen, known_ids)
                if matched is not None:
                    return Pane(session, pid, ticks, (seen - start) * 1000, matched)
                if seen - start > FIRST_FRAME_TIMEOUT:
                    raise RuntimeError(f"no table row within {FIRST_FRAME_TIMEOUT:.0f} s")
                polls += 1
                time.sleep(max(0.0, start + polls * POLL_SECONDS - time.perf_counter()))
        except BaseException:
            self.kill(session, pid, ticks)
            raise

    def kill(self, session: str, pid: int, ticks: int) -> None:
        """End a session and wait until its shmtop has exited (SIGKILL by PID if it lingers)."""
        with suppress(RuntimeError):  # already gone
            self.run("kill-session", "-t", session)
        if pid:
            wait_gone(pid, ticks, EXIT_TIMEOUT)

    def close(self) -> None:
        with suppress(RuntimeError):  # no server left
            self.run("kill-server")
        for pid, ticks in self.started:
            wait_gone(pid, ticks, EXIT_TIMEOUT)


def is_shmtop(pid: int) -> bool:
    comm, argv = command_of(pid)
    return comm == "shmtop" or any(Path(a).name == "shmtop" for a in argv[:2])


def shmtop_pid(pane_pid: int) -> int:
    """The pane's process if it is shmtop; else (a shell) its shmtop child. The pane's
    shell may not have exec'd shmtop yet when first looked at: keep looking."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if is_shmtop(pane_pid):
            return pane_pid
        with open(f"/proc/{pane_pid}/task/{pane_pid}/children", encoding="ascii") as file:
            children = [int(p) for p in file.read().split()]
        for child in children:
            if is_shmtop(child):
                return child
        time.sleep(0.01)
    comm, _ = command_of(pane_pid)
    raise RuntimeError(f"pane process {pane_pid} ({comm}) is not shmtop and has no shmtop child")


def current_segment_ids() -> set[str]:
    """Ids of every segment there is now (ours and other users')."""
    with open("/proc/sysvipc/shm", encoding="ascii") as file:
        next(file)
        return {line.split()[1] for line in file if line.strip()}


def first_known_id(screen: str, known_ids: set[str]) -> int | None:
    """A segment id standing as a whole word on a line of the screen, if any."""
    for line in screen.splitlines():
        for word in WORD_NUMBER.findall(line):
            if word in known_ids:
                return int(word)
    return None


# ---- measuring ----


def measure_launches(tmux: Tmux, workload: Workload, count: int) -> tuple[Measure, list[bool]]:
    """Launch to first filled frame, `count` times; also whether each matched one of ours."""
    ours = {str(i) for i in workload.shm_ids}
    measure = Measure("launch to first filled frame, ms")
    matched_ours = []
    for _ in range(count):
        known = ours | current_segment_ids()  # other users' segments may sort before ours
        pane: Pane | None = None
        try:
            pane = tmux.launch(known)
            measure.samples.append(pane.first_frame_ms)
            matched_ours.append(str(pane.matched_id) in ours)
        except (RuntimeError, OSError) as error:
            measure.error = str(error)
            break
        finally:
            if pane is not None:
                tmux.kill(pane.session, pane.pid, pane.start_ticks)
    return measure, matched_ours


def measure_steady(tmux: Tmux, workload: Workload, seconds: float, warmup: float) -> Steady:
    """CPU of a running shmtop over `seconds` after its first frame and `warmup`; its memory."""
    steady = Steady(seconds=seconds)
    known = {str(i) for i in workload.shm_ids} | current_segment_ids()
    pane: Pane | None = None
    try:
        pane = tmux.launch(known)
        steady.pid = pane.pid
        time.sleep(warmup)
        start, start_busy = time.monotonic(), machine_ticks()
        first = previous = cpu_ticks(pane.pid)
        for second in range(1, int(seconds) + 1):
            time.sleep(max(0.0, start + second - time.monotonic()))
            now = cpu_ticks(pane.pid)
            steady.per_second.samples.append((now - previous) / CLOCK_TICKS * 100)
            previous = now
        time.sleep(max(0.0, start + seconds - time.monotonic()))
        last, end_busy = cpu_ticks(pane.pid), machine_ticks()
        wall = time.monotonic() - start
        steady.seconds = wall
        steady.cpu_percent = (last - first) / CLOCK_TICKS / wall * 100
        busy, total = end_busy[0] - start_busy[0], end_busy[1] - start_busy[1]
        steady.machine_busy_percent = busy / total * 100 if total else None
        memory = memory_mib(pane.pid)
        steady.vm_hwm_mib, steady.vm_rss_mib = memory.get("VmHWM"), memory.get("VmRSS")
        label = SEGMENT_TAB.search(tmux.capture(pane.session))
        steady.segments_tab = label.group(0) if label else None
    except (RuntimeError, OSError, ValueError, IndexError) as error:
        steady.per_second.error = str(error)
        steady.cpu_percent = None
    finally:
        if pane is not None:
            tmux.kill(pane.session, pane.pid, pane.start_ticks)
    return steady
