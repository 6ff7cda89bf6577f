"""Times the interactive view on the large workload: launch to first filled frame, steady CPU
and memory of `shmtop` running in tmux, and key press latency while it refreshes."""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import random
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from rich.console import RenderableType  # noqa: E402
from textual.actions import ActionParseResult  # noqa: E402
from textual.dom import DOMNode  # noqa: E402
from textual.screen import Screen  # noqa: E402

from bench.workload import Workload  # noqa: E402
from shmtop.ipc.collect import Collector  # noqa: E402
from shmtop.ipc.model import Kind  # noqa: E402
from shmtop.prefs import Preferences  # noqa: E402
from shmtop.tui.app import ShmtopApp  # noqa: E402

SHMTOP = str(Path(sys.executable).parent / "shmtop")
COLUMNS, ROWS = 160, 48
POLL_SECONDS = 0.010  # how often the pane is captured while waiting for the first frame
FIRST_FRAME_TIMEOUT = 60.0
EXIT_TIMEOUT = 5.0  # how long a killed session's shmtop may take to go away
KEYS = ("down", "down", "pagedown", "2", "1", ">", "<", "i")
KEY_GAP_SECONDS = 0.1  # up to this much idle time (random, seeded) between two presses
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KIB_PER_MIB = 1024
WORD_NUMBER = re.compile(r"\b\d+\b")
SEGMENT_TAB = re.compile(r"Segments \((\d+)(?:/(\d+))?\)")


@dataclass
class Measure:
    """Samples of one thing (unit in the name); error says why it could not be measured."""

    name: str
    samples: list[float] = field(default_factory=list)
    spread: str = "min"  # the third column: "min" or "p95"
    error: str | None = None

    @property
    def available(self) -> bool:
        return self.error is None and bool(self.samples)

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.available else None

    @property
    def p95(self) -> float | None:
        if not self.available:
            return None
        if len(self.samples) == 1:
            return self.samples[0]
        return statistics.quantiles(self.samples, n=20, method="inclusive")[18]

    @property
    def maximum(self) -> float | None:
        return max(self.samples) if self.available else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "error": self.error,
            "median": self.median,
            "min": min(self.samples) if self.available else None,
            "p95": self.p95,
            "max": self.maximum,
            "samples": self.samples,
        }


@dataclass(frozen=True)
class Check:
    """An amount the project must keep at or under its target."""

    label: str
    value: float | None
    target: float
    note: str = ""

    @property
    def status(self) -> str:
        if self.value is None:
            return "n/a"
        return "PASS" if self.value <= self.target else "MISS"


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


@dataclass
class Keys:
    """Key presses in the headless app while it refreshes."""

    latency: Measure = field(default_factory=lambda: Measure("key press + pause, ms", spread="p95"))
    frame: Measure = field(
        default_factory=lambda: Measure("key to the first frame after its action, ms", spread="p95")
    )
    by_key: dict[str, list[float]] = field(default_factory=dict)  # press + pause, per key
    frame_by_key: dict[str, list[float]] = field(default_factory=dict)
    overlapped: int = 0  # presses during which a snapshot was applied
    effects_seen: int = 0  # presses whose effect (cursor, tab, sort) was seen afterwards
    polls: int = 0  # snapshots applied while the keys were pressed
    seconds: float = 0.0

    def add(self, key: str, latency_ms: float, frame_ms: float | None) -> None:
        self.latency.samples.append(latency_ms)
        self.by_key.setdefault(key, []).append(latency_ms)
        if frame_ms is not None:
            self.frame.samples.append(frame_ms)
            self.frame_by_key.setdefault(key, []).append(frame_ms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency.as_dict(),
            "frame_ms": self.frame.as_dict(),
            "latency_ms_by_key": self.by_key,
            "frame_ms_by_key": self.frame_by_key,
            "presses": len(self.latency.samples),
            "overlapped_a_snapshot": self.overlapped,
            "effects_seen": self.effects_seen,
            "snapshots_during_presses": self.polls,
            "seconds": self.seconds,
        }


@dataclass
class Results:
    """Everything one run of the benchmark found."""

    workload: dict[str, int]
    sanity: dict[str, Any]
    load: dict[str, str]
    launch: Measure
    steady: Steady
    keys: Keys
    checks: list[Check]

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": self.workload,
            "sanity": self.sanity,
            "load": self.load,
            "launch_ms": self.launch.as_dict(),
            "steady": self.steady.as_dict(),
            "keys": self.keys.as_dict(),
            "checks": [
                {
                    "label": c.label,
                    "value": c.value,
                    "target": c.target,
                    "status": c.status,
                    "note": c.note,
                }
                for c in self.checks
            ],
        }


# ---- tmux and /proc ----


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
        pid = shmtop_pid(int(self.run("list-panes", "-t", session, "-F", "#{pane_pid}")))
        ticks = start_ticks(pid)
        if ticks is not None:
            self.started.append((pid, ticks))
        polls = 0
        while True:
            screen = self.capture(session)
            seen = time.perf_counter()
            matched = first_known_id(screen, known_ids)
            if matched is not None:
                return Pane(session, pid, ticks or 0, (seen - start) * 1000, matched)
            if seen - start > FIRST_FRAME_TIMEOUT:
                self.kill(session, pid)
                raise RuntimeError(f"no table row within {FIRST_FRAME_TIMEOUT:.0f} s")
            polls += 1
            time.sleep(max(0.0, start + polls * POLL_SECONDS - time.perf_counter()))

    def kill(self, session: str, pid: int | None) -> None:
        """End a session and wait until its shmtop has exited (SIGKILL by PID if it lingers)."""
        with suppress(RuntimeError):  # already gone
            self.run("kill-session", "-t", session)
        if pid is not None:
            wait_gone(pid, EXIT_TIMEOUT)

    def close(self) -> None:
        with suppress(RuntimeError):  # no server left
            self.run("kill-server")
        for pid, ticks in self.started:
            if start_ticks(pid) == ticks:
                wait_gone(pid, EXIT_TIMEOUT)


def read_stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (field 3, the state, is [0])."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as file:
        return file.read().rpartition(")")[2].split()


def start_ticks(pid: int) -> int | None:
    try:
        return int(read_stat(pid)[19])
    except (OSError, IndexError, ValueError):
        return None


def cpu_ticks(pid: int) -> int:
    """utime + stime of every thread of the process, in clock ticks."""
    fields = read_stat(pid)
    return int(fields[11]) + int(fields[12])


def alive(pid: int) -> bool:
    try:
        return read_stat(pid)[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def wait_gone(pid: int, timeout: float) -> None:
    """Wait for a process that is not our child to exit; SIGKILL it if it does not."""
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if alive(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while alive(pid) and time.monotonic() < deadline + timeout:
            time.sleep(0.02)


def command_of(pid: int) -> tuple[str, list[str]]:
    with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as file:
        comm = file.read().strip()
    with open(f"/proc/{pid}/cmdline", "rb") as file:
        argv = [a.decode(errors="replace") for a in file.read().split(b"\0") if a]
    return comm, argv


def is_shmtop(pid: int) -> bool:
    comm, argv = command_of(pid)
    return comm == "shmtop" or any(Path(a).name == "shmtop" for a in argv[:2])


def shmtop_pid(pane_pid: int) -> int:
    """The pane's process if it is shmtop; else (a shell) its shmtop child."""
    if is_shmtop(pane_pid):
        return pane_pid
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open(f"/proc/{pane_pid}/task/{pane_pid}/children", encoding="ascii") as file:
            children = [int(p) for p in file.read().split()]
        for child in children:
            if is_shmtop(child):
                return child
        time.sleep(0.01)
    comm, _ = command_of(pane_pid)
    raise RuntimeError(f"pane process {pane_pid} ({comm}) is not shmtop and has no shmtop child")


def memory_mib(pid: int) -> dict[str, float]:
    """VmHWM and VmRSS from /proc/PID/status, in MiB."""
    found: dict[str, float] = {}
    with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as file:
        for line in file:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                found[name] = int(rest.split()[0]) / KIB_PER_MIB
    return found


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs from /proc/stat; idle and iowait are not busy."""
    with open("/proc/stat", encoding="ascii") as file:
        values = [int(v) for v in file.readline().split()[1:]]
    total = sum(values[:8])  # guest time is already counted in user and nice
    return total - values[3] - values[4], total


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


def loadavg() -> str:
    with open("/proc/loadavg", encoding="ascii") as file:
        return " ".join(file.read().split()[:3])


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
                tmux.kill(pane.session, pane.pid)
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
            tmux.kill(pane.session, pane.pid)
    return steady


class TimedApp(ShmtopApp):
    """ShmtopApp that notes when each action ends and when each frame is composed."""

    # A relative CSS_PATH is found next to the module of the class: keep the app's own file.
    CSS_PATH = str(Path(inspect.getfile(ShmtopApp)).parent / str(ShmtopApp.CSS_PATH))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actions_done: list[float] = []
        self.frames: list[float] = []

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        try:
            return await super().run_action(action, default_namespace, namespaces)
        finally:
            self.actions_done.append(time.perf_counter())

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        # Called with the compositor's update once it is rendered (headless: not written out).
        if renderable is not None:
            self.frames.append(time.perf_counter())
        super()._display(screen, renderable)


def frame_after(app: TimedApp, start: float) -> float | None:
    """When the first frame after the key's action (or after the key) was composed."""
    since = max((t for t in app.actions_done if t >= start), default=start)
    return next((t for t in app.frames if t >= since), None)


async def press_keys(presses: int, seed: int) -> Keys:
    """Press KEYS in turn in the headless app on a real collector, timing each press."""
    keys = Keys()
    gaps = random.Random(seed)
    collector = Collector()
    try:
        with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as config:
            app = TimedApp(
                collector,
                preferences=Preferences(interval=1.0),
                preferences_path=Path(config) / "preferences.json",
            )
            async with app.run_test(size=(COLUMNS, ROWS)) as pilot:
                deadline = time.monotonic() + FIRST_FRAME_TIMEOUT
                while app.polls < 1:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"no snapshot within {FIRST_FRAME_TIMEOUT:.0f} s")
                    await pilot.pause(0.05)
                first_poll, began = app.polls, time.monotonic()
                for number in range(presses):
                    key = KEYS[number % len(KEYS)]
                    before = effect_state(app)
                    polls = app.polls
                    start = time.perf_counter()
                    await pilot.press(key)
                    await pilot.pause()
                    end = time.perf_counter()
                    frame = frame_after(app, start)
                    frame_ms = None if frame is None or frame > end else (frame - start) * 1000
                    keys.add(key, (end - start) * 1000, frame_ms)
                    keys.overlapped += app.polls != polls
                    keys.effects_seen += took_effect(key, before, effect_state(app))
                    app.actions_done.clear()
                    app.frames.clear()
                    await asyncio.sleep(gaps.uniform(0, KEY_GAP_SECONDS))
                keys.polls = app.polls - first_poll
                keys.seconds = time.monotonic() - began
    except (RuntimeError, OSError) as error:
        keys.latency.error = str(error)
    finally:
        collector.close()
    return keys


@dataclass(frozen=True)
class EffectState:
    """What the keys change: the tab, the cursor's row and object, the sort."""

    kind: Kind
    selected: int | None
    at_last_row: bool
    sort_key: str
    sort_reverse: bool


def effect_state(app: ShmtopApp) -> EffectState:
    table = app.main_screen.table
    last = table.cursor_row >= len(table.ordered_ids) - 1
    return EffectState(
        app.main_screen.kind, table.selected_id, last, table.sort_key, table.sort_reverse
    )


def took_effect(key: str, before: EffectState, after: EffectState) -> bool:
    if key in ("down", "pagedown"):  # at the last row there is nowhere to go
        return after.selected != before.selected or before.at_last_row
    if key in ("1", "2"):
        return after.kind is (Kind.SHM if key == "1" else Kind.SEM)
    if key in (">", "<"):
        return after.sort_key != before.sort_key
    return after.sort_reverse != before.sort_reverse  # "i"


# ---- the whole run ----


def sizes_of(workload: Workload, args: argparse.Namespace) -> dict[str, int]:
    return {
        "segments": workload.segments,
        "segment_size": workload.segment_size,
        "children": workload.children,
        "attaches_per_child": workload.attaches_per_child,
        "semaphore_sets": workload.semaphore_sets,
        "semaphores_per_set": workload.semaphores_per_set,
        "queues": workload.queues,
        "messages_per_queue": workload.messages_per_queue,
        "launches": args.launches,
        "cpu_seconds": args.cpu_seconds,
        "warmup_seconds": args.warmup,
        "presses": args.presses,
    }


def benchmark(workload: Workload, args: argparse.Namespace) -> Results:
    """Measure everything against a workload that is up."""
    load = {"before": loadavg()}
    with tempfile.TemporaryDirectory(prefix="shmtop-bench-") as config_home:
        tmux = Tmux(config_home)
        try:
            tmux.start()
            launch, matched_ours = measure_launches(tmux, workload, args.launches)
            steady = measure_steady(tmux, workload, args.cpu_seconds, args.warmup)
        finally:
            tmux.close()
        leftover = sorted(p for p in Path(config_home).rglob("*") if p.name != "tmux.socket")
    load["after tmux"] = loadavg()
    keys = asyncio.run(press_keys(args.presses, seed=args.seed))
    load["after keys"] = loadavg()
    max_ms = keys.latency.maximum
    checks = [
        Check("launch to first filled frame, median (s)", seconds(launch.median), 1.5),
        Check("steady CPU, % of one core", steady.cpu_percent, 10.0),
        Check("VmRSS at the end (MiB)", steady.vm_rss_mib, 150.0),
        Check(
            "key press + pause, p95 (ms)",
            keys.latency.p95,
            100.0,
            note="" if max_ms is None else f"max {max_ms:.1f} ms",
        ),
        Check(
            "key to first frame, p95 (ms; diagnostic)",
            keys.frame.p95,
            100.0,
            note="" if keys.frame.maximum is None else f"max {keys.frame.maximum:.1f} ms",
        ),
    ]
    ours = len(workload.shm_ids)
    return Results(
        workload=sizes_of(workload, args),
        sanity={
            "first_frames_showing_a_workload_row": sum(matched_ours),
            "first_frames": len(matched_ours),
            "segments_tab_at_end": steady.segments_tab,
            "workload_segments": ours,
            "key_effects_seen": keys.effects_seen,
            "presses": len(keys.latency.samples),
            "files_written_to_config_home": [str(p) for p in leftover],
        },
        load=load,
        launch=launch,
        steady=steady,
        keys=keys,
        checks=checks,
    )


def seconds(milliseconds: float | None) -> float | None:
    return None if milliseconds is None else milliseconds / 1000


# ---- reporting ----


def workload_line(sizes: dict[str, int]) -> str:
    return (
        f"Workload: {sizes['segments']} segments of {sizes['segment_size']} B, "
        f"{sizes['children']} children x {sizes['attaches_per_child']} attaches "
        f"(every second read-only), {sizes['semaphore_sets']} sets x "
        f"{sizes['semaphores_per_set']} semaphores, {sizes['queues']} queues x "
        f"{sizes['messages_per_queue']} messages; {sizes['launches']} launches, "
        f"CPU window {sizes['cpu_seconds']:g} s after {sizes['warmup_seconds']:g} s warm-up, "
        f"{sizes['presses']} key presses; terminal {COLUMNS}x{ROWS}"
    )


def sanity_lines(results: Results) -> list[str]:
    found, steady, keys = results.sanity, results.steady, results.keys
    busy = steady.machine_busy_percent
    ours, frames = found["first_frames_showing_a_workload_row"], found["first_frames"]
    others = " (the others: other users' segments, which sort first by id)" if ours < frames else ""
    lines = [
        f"Sanity: first frames showing a row of the workload's segments {ours} / {frames}"
        f"{others}; Segments tab at the end: {found['segments_tab_at_end'] or 'n/a'} (workload "
        f"{found['workload_segments']}); key effects seen {found['key_effects_seen']} / "
        f"{found['presses']}",
        f"Keys: {keys.overlapped} of {len(keys.latency.samples)} presses overlapped a snapshot "
        f"being applied; {keys.polls} snapshots in {keys.seconds:.1f} s of presses",
        "Load average (1/5/15 min): "
        + ", ".join(f"{when} {value}" for when, value in results.load.items())
        + (
            ""
            if busy is None
            else f"; all CPUs {busy:.0f}% busy during the CPU window (shmtop's share included)"
        ),
    ]
    if found["files_written_to_config_home"]:
        lines.append(f"Preferences written: {found['files_written_to_config_home']}")
    return lines


def cell(text: str) -> str:
    """Text made safe for a Markdown table cell."""
    return text.replace("|", "\\|")


def measure_row(measure: Measure) -> str:
    if not measure.available:
        return f"| {cell(measure.name)} | not available | | |"
    spread = min(measure.samples) if measure.spread == "min" else measure.p95
    return (
        f"| {cell(measure.name)} | {measure.median:.1f} | {measure.spread} {spread:.1f} "
        f"| {measure.maximum:.1f} |"
    )


def value_row(name: str, value: float | None) -> str:
    return f"| {cell(name)} | {'n/a' if value is None else f'{value:.1f}'} | | |"


def key_lines(keys: Keys) -> list[str]:
    """Median and max of each key; and what the press + pause figure includes."""
    if not keys.latency.available:
        return []

    def spread(samples: list[float]) -> str:
        return f"{statistics.median(samples):.0f}/{max(samples):.0f}" if samples else "-"

    per_key = ", ".join(
        f"{key} {spread(samples)} ({spread(keys.frame_by_key.get(key, []))})"
        for key, samples in keys.by_key.items()
    )
    frames = len(keys.frame.samples)
    return [
        f"Per key, median/max ms of press + pause (of key to frame): {per_key}",
        "press + pause includes Textual's pilot waits: three idle checks of at least 20 ms "
        "each, animations (the tab underline) run to the end, and idle means the whole "
        "process, the snapshot thread included; key to frame is from the press to the "
        f"first frame composed after the key's action ({frames} of "
        f"{len(keys.latency.samples)} presses drew one).",
        "",
    ]


def check_row(check: Check) -> str:
    value = "n/a" if check.value is None else f"{check.value:.2f}"
    note = f" ({check.note})" if check.note else ""
    return f"| {check.label} | {value} | <= {check.target:g} | {check.status}{note} |"


def report(results: Results) -> str:
    """The Markdown report."""
    steady = results.steady
    lines = [workload_line(results.workload), *sanity_lines(results), ""]
    lines += ["| measure | median | min/p95 | max |", "|---|---:|---:|---:|"]
    lines += [measure_row(results.launch), measure_row(steady.per_second)]
    cpu_name = f"steady CPU over {steady.seconds:.0f} s, % of one core"
    lines += [value_row(cpu_name, steady.cpu_percent)]
    lines += [value_row("VmHWM at the end, MiB", steady.vm_hwm_mib)]
    lines += [value_row("VmRSS at the end, MiB", steady.vm_rss_mib)]
    lines += [measure_row(results.keys.latency), measure_row(results.keys.frame), ""]
    lines += key_lines(results.keys)
    measures = (results.launch, steady.per_second, results.keys.latency)
    lines += [f"{m.name}: not available ({m.error})" for m in measures if m.error]
    lines += ["| target | value | limit | result |", "|---|---:|---:|---|"]
    lines += [check_row(c) for c in results.checks]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--segments", type=int, default=4000)
    parser.add_argument("--children", type=int, default=1000)
    parser.add_argument("--sets", type=int, default=1000, help="semaphore sets")
    parser.add_argument("--queues", type=int, default=1000)
    parser.add_argument("--launches", type=int, default=5, help="timed launches to first frame")
    parser.add_argument("--cpu-seconds", type=float, default=60.0, help="steady CPU window")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds after the first frame")
    parser.add_argument("--presses", type=int, default=60, help="timed key presses")
    parser.add_argument("--seed", type=int, default=1, help="of the random gaps between presses")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args(argv)
    if min(args.segments, args.launches, args.presses) < 1 or args.cpu_seconds < 1:
        parser.error("--segments, --launches, --presses and --cpu-seconds must be >= 1")
    if min(args.children, args.sets, args.queues) < 0 or args.warmup < 0:
        parser.error("the other sizes and --warmup must be >= 0")
    return args


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench_tui: must run as root (shmtop reads every process's maps)", file=sys.stderr)
        return 2
    try:
        subprocess.run(["tmux", "-V"], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        print("bench_tui: needs tmux", file=sys.stderr)
        return 2
    # SIGTERM (and SIGHUP) unwind like Ctrl-C: every finally runs, tmux and workload go away.
    signal.signal(signal.SIGTERM, _raise_exit)
    signal.signal(signal.SIGHUP, _raise_exit)
    sizes = Workload(
        segments=args.segments,
        children=args.children,
        semaphore_sets=args.sets,
        queues=args.queues,
    )
    try:
        with sizes as workload:
            results = benchmark(workload, args)
    except KeyboardInterrupt:
        print("bench_tui: interrupted; tmux sessions and workload removed", file=sys.stderr)
        return 130
    print(report(results))
    if args.json:
        print(json.dumps(results.as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
