"""`shmtop demo`: the workload is real, as the kernel sees it, and nothing of it outlives it.

Every object the demo makes is recorded (helpers.record) so the session fails
if one survives, and every test removes what a killed demo could not. Waits
are bounded polls (helpers.wait_until) or bounded reads; nothing asserts how
fast anything happened.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import helpers
import pytest
from helpers import PATIENCE, wait_until
from paths import ROOT, TESTS

from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.demo import children as demo_children
from shmtop.demo.workload import (
    EXIT_OK,
    HEADER,
    RING_HEADER,
    RING_LABEL,
    RING_SIZE,
    RING_SLOTS,
    STOP_SIGNALS,
    VIEW_EXIT_GRACE,
    Demo,
    Stopped,
    run_headless,
)

HEADLESS = "from shmtop.demo.workload import run_headless; raise SystemExit(run_headless())"
# A parent between us and the demo, to be killed: it starts the demo with our stderr pipe.
PARENT = (
    "import subprocess, sys; sys.exit(subprocess.call([sys.executable, '-c', sys.argv[1]],"
    " stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))"
)
READY_LINE = re.compile(r"^demo: ready \(pid (\d+)\)")
NAMES = {
    "demo-producer", "demo-consumer1", "demo-consumer2", "demo-reader",
    "demo-sender", "demo-receiver", "demo-dest-hold", "demo-blocked",
}  # fmt: skip
# With a private /dev/shm and /dev/mqueue (`shmtop demo` as root), the POSIX part too.
POSIX_NAMES = {
    "demo-pshm-rw", "demo-pshm-ro", "demo-pshm-hold", "demo-psem-wait",
    "demo-pmq-sender", "demo-pmq-recv",
}  # fmt: skip
POSIX_LINE = re.compile(r"^demo: POSIX (shm|semaphore|queue) (/\S+): ")
# What a Demo without private mounts (in this process, run_headless()) makes: System V only.
SYSV_ENDED = "ended 8 processes, removed 6 objects"
ALL_ENDED = "ended 14 processes, removed 10 objects"  # System V and POSIX
KIND: dict[Kind, helpers.Kind] = {Kind.SHM: "shm", Kind.SEM: "sem", Kind.MSG: "msg"}
WORD_KIND: dict[str, helpers.Kind] = {"segment": "shm", "semaphores": "sem", "queue": "msg"}
PR_SET_CHILD_SUBREAPER = 36
OBJECT_LINE = re.compile(r"^demo: (segment|semaphores|queue) (\d+): ")
PROCESS_LINE = re.compile(r"^demo: process (\d+) (\S+): ")


# ---- what the kernel says ----


def sysv_perms(pid: int, shmid: int) -> list[str]:
    """The permission column of each System V mapping of shmid in /proc/PID/maps
    (joined on device major 0 and inode, never on the /SYSV name)."""
    found = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split()
        if (
            len(fields) >= 6
            and fields[3].startswith("00:")
            and fields[4] == str(shmid)
            and fields[5].startswith("/SYSV")
        ):
            found.append(fields[1])
    return found


def start_ticks(pid: int) -> int | None:
    """Start time of a process (tells a reused PID apart), None if there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def dead(pid: int, started: int | None) -> bool:
    """No such process any more: gone, a zombie, or the PID now names another process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    fields = stat.rsplit(")", 1)[1].split()
    return fields[0] in ("Z", "X") or int(fields[19]) != started


def assert_all_removed(objects: list[tuple[helpers.Kind, int]]) -> None:
    """None of the objects is listed; a segment may still be listed only if marked SHM_DEST
    (its removal was asked for and its last mm goes a moment later): wait for it, bounded."""
    for kind, ident in objects:
        row = helpers.live_rows(kind).get(ident)
        if row is not None:
            assert kind == "shm" and row["perms"] & native.SHM_DEST, (kind, ident, row)
    wait_until(
        lambda: not any(ident in helpers.live_rows(kind) for kind, ident in objects),
        "the demo's objects are gone",
    )


def assert_no_process(pids: list[int]) -> None:
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def recorded(demo: Demo) -> list[tuple[helpers.Kind, int]]:
    """The demo's objects as (kind, id), each recorded for the end-of-session check."""
    return [(KIND[o.kind], helpers.record(KIND[o.kind], o.id)) for o in demo.objects]


def handlers() -> list[object]:
    return [signal.getsignal(signum) for signum in STOP_SIGNALS]


# ---- the demo in this process ----


def check_processes(demo: Demo) -> dict[str, int]:
    """Every child runs under its name; returns {name: pid}."""
    by_name = {p.name: p.pid for p in demo.processes}
    assert set(by_name) == NAMES
    for process in demo.processes:
        assert Path(f"/proc/{process.pid}/comm").read_text().strip() == process.name
    return by_name


def check_segments(demo: Demo, by_name: dict[str, int]) -> None:
    shm = helpers.live_rows("shm")
    ring = demo.object("ring").id
    assert shm[ring]["size"] == RING_SIZE
    assert shm[ring]["key"] != 0
    assert shm[ring]["nattch"] == 4
    for writer in ("demo-producer", "demo-consumer1", "demo-consumer2"):
        assert sysv_perms(by_name[writer], ring) == ["rw-s"]
    assert sysv_perms(by_name["demo-reader"], ring) == ["r--s"]

    dest = demo.object("dest").id
    assert shm[dest]["perms"] & native.SHM_DEST
    assert shm[dest]["key"] == 0
    assert shm[dest]["nattch"] == 1
    assert sysv_perms(by_name["demo-dest-hold"], dest) == ["rw-s"]

    orphan = demo.object("orphan").id
    assert shm[orphan]["nattch"] == 0
    assert not shm[orphan]["perms"] & native.SHM_DEST
    assert shm[orphan]["cpid"] == demo.orphan_creator
    assert demo.orphan_creator not in demo.pids
    with pytest.raises(ProcessLookupError):
        os.kill(shm[orphan]["cpid"], 0)


def check_ring_flows(ring: int) -> None:
    """Records go in and out (reading attaches us: nattch was checked before)."""

    def header() -> tuple[int, int, int]:
        write, read, count = HEADER.unpack(native.read_segment(ring, 0, HEADER.size))
        return write, read, count

    wait_until(lambda: header()[1] >= 1, "the consumers take a record")
    assert native.read_segment(ring, HEADER.size, len(RING_LABEL)) == RING_LABEL
    first = native.read_segment(ring, RING_HEADER, 64).rstrip(b"\0").decode("ascii")
    assert re.fullmatch(r"order #\d+ qty \d+ sku \d+", first)
    assert 0 <= header()[2] <= RING_SLOTS


def check_semaphores(demo: Demo) -> None:
    sem = helpers.live_rows("sem")
    assert sem[demo.object("ring-guard").id]["nsems"] == 3
    blocked = demo.object("blocked").id
    assert sem[blocked]["nsems"] == 1
    wait_until(lambda: native.sem_counts(blocked, 0)[0] == 1, "demo-blocked waits (GETNCNT)")
    assert native.sem_getval(blocked, 0) == 0


def check_queue(demo: Demo, by_name: dict[str, int]) -> None:
    queue = demo.object("queue").id
    wait_until(lambda: helpers.live_rows("msg")[queue]["qnum"] >= 1, "messages are queued")
    wait_until(
        lambda: helpers.live_rows("msg")[queue]["lrpid"] == by_name["demo-receiver"],
        "demo-receiver takes a message",
    )
    assert helpers.live_rows("msg")[queue]["lspid"] == by_name["demo-sender"]


def test_demo_shows_every_case_and_leaves_nothing_behind() -> None:
    before = handlers()
    demo = Demo()
    with demo:
        objects = recorded(demo)
        assert sorted(kind for kind, _ in objects) == ["msg", "sem", "sem", "shm", "shm", "shm"]
        by_name = check_processes(demo)
        check_segments(demo, by_name)
        check_semaphores(demo)
        check_queue(demo, by_name)
        check_ring_flows(demo.object("ring").id)
    assert_no_process(list(by_name.values()))
    assert_all_removed(objects)
    assert handlers() == before
    demo.stop()  # a second stop is harmless


def test_a_build_that_fails_half_way_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(report: object, dest: int) -> None:
        raise OSError("boom")

    monkeypatch.setattr(demo_children, "dest_holder", broken)
    before = handlers()
    demo = Demo()
    with pytest.raises(RuntimeError, match=r"demo-dest-hold \(pid \d+\) failed: .*boom"), demo:
        pass
    objects = recorded(demo)
    assert {o.role for o in demo.objects} == {"ring", "ring-guard", "queue", "dest"}
    assert len(demo.pids) == 6  # ring and queue children; the failed one was reaped too
    assert_no_process(demo.pids)
    assert_all_removed(objects)
    assert handlers() == before


def test_a_signal_during_the_build_unwinds_it_and_leaves_nothing_behind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    build_dest = Demo._build_dest

    def signalled(self: Demo) -> None:
        os.kill(os.getpid(), signal.SIGTERM)  # handled by the Demo: raises Stopped
        build_dest(self)

    monkeypatch.setattr(Demo, "_build_dest", signalled)
    before = handlers()
    demo = Demo()
    with pytest.raises(Stopped) as stopped, demo:
        pass
    assert stopped.value.code == 128 + signal.SIGTERM
    objects = recorded(demo)
    assert len(objects) >= 3  # ring, its set and the queue at least
    assert len(demo.pids) >= 6
    assert_no_process(demo.pids)
    assert_all_removed(objects)
    assert handlers() == before


def test_run_headless_stops_after_a_while_and_says_what_it_made() -> None:
    out = io.StringIO()
    assert run_headless(stop_after=0.2, out=out) == EXIT_OK
    lines = out.getvalue().splitlines()
    objects = [
        (WORD_KIND[m[1]], helpers.record(WORD_KIND[m[1]], int(m[2])))
        for m in map(OBJECT_LINE.match, lines)
        if m
    ]
    pids = [int(m[1]) for m in map(PROCESS_LINE.match, lines) if m]
    assert len(objects) == 6
    assert len(pids) == len(NAMES)
    assert any(line.startswith("demo: ready") for line in lines)
    assert lines[-1] == f"demo: stopped after 0.2 s: {SYSV_ENDED}"
    assert_no_process(pids)
    assert_all_removed(objects)


def test_the_module_does_not_import_textual() -> None:
    code = "import sys, shmtop.demo.workload; raise SystemExit('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode == 0


# ---- `shmtop demo --no-ui` as a separate process ----


class Lines:
    """Lines of a pipe, each read with a bound."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""
        self.closed = False

    def line(self) -> str:
        deadline = time.monotonic() + PATIENCE
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError(f"no line from the demo within {PATIENCE:.0f} s")
            chunk = os.read(self.fd, 4096)
            if not chunk:
                raise EOFError(f"the demo closed stderr; so far: {self.buffer!r}")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def rest(self) -> list[str]:
        """Every line until the end of the stream."""
        lines = []
        with suppress(EOFError):
            while True:
                lines.append(self.line())
        return lines


@dataclass
class Headless:
    process: subprocess.Popen[bytes]  # the demo, or its parent (with_parent=True)
    lines: Lines
    objects: list[tuple[helpers.Kind, int]] = field(default_factory=list)
    children: dict[int, int | None] = field(default_factory=dict)  # pid -> start ticks
    demo: tuple[int, int | None] = (0, None)  # the demo process: pid, start ticks


@contextmanager
def headless_demo(*, new_session: bool = False, with_parent: bool = False) -> Iterator[Headless]:
    """Start `run_headless()` in a python process (with_parent: a child of one more python
    process, ours), read until it is ready; whatever happens, end it and its children and
    remove what it made."""
    argv = [sys.executable, "-c", HEADLESS]
    process = subprocess.Popen(
        [sys.executable, "-c", PARENT, HEADLESS] if with_parent else argv,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=new_session,
    )
    assert process.stderr is not None
    demo = Headless(process, Lines(process.stderr.fileno()))
    try:
        while not (ready := READY_LINE.match(line := demo.lines.line())):
            if found := OBJECT_LINE.match(line):
                kind = WORD_KIND[found[1]]
                demo.objects.append((kind, helpers.record(kind, int(found[2]))))
            elif found := PROCESS_LINE.match(line):
                demo.children[int(found[1])] = start_ticks(int(found[1]))
        demo.demo = (int(ready[1]), start_ticks(int(ready[1])))
        assert len(demo.objects) == 6
        assert len(demo.children) == len(NAMES)
        yield demo
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=PATIENCE)
        process.stderr.close()
        if with_parent and not dead(*demo.demo):
            with suppress(ProcessLookupError):
                os.kill(demo.demo[0], signal.SIGKILL)
        for pid, started in demo.children.items():
            if not dead(pid, started):  # still ours: same PID, same start time
                with suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        wait_until(lambda: all(dead(p, s) for p, s in demo.children.items()), "children die")
        for pid in demo.children:  # zombies left to us by subreaper()
            with suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        for kind, ident in demo.objects:
            helpers.remove(kind, ident)


@pytest.mark.parametrize("signum", STOP_SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_stop_signal_ends_the_headless_demo_and_removes_everything(signum: int) -> None:
    with headless_demo() as demo:
        for pid in demo.children:
            os.kill(pid, 0)  # alive before
        os.kill(demo.process.pid, signum)
        rest = demo.lines.rest()
        assert demo.process.wait(timeout=PATIENCE) == EXIT_OK
        assert rest == [f"demo: stopped on {signal.Signals(signum).name}: {SYSV_ENDED}"]
        assert_no_process(list(demo.children))
        assert_all_removed(demo.objects)


def test_ctrl_c_reaches_the_whole_group_and_the_demo_still_ends_in_order() -> None:
    """A terminal's Ctrl-C signals the whole foreground group: the children leave it
    to the demo process, which ends them and removes everything."""
    with headless_demo(new_session=True) as demo:
        os.killpg(demo.process.pid, signal.SIGINT)
        rest = demo.lines.rest()
        assert demo.process.wait(timeout=PATIENCE) == EXIT_OK
        assert rest == [f"demo: stopped on SIGINT: {SYSV_ENDED}"]
        assert_no_process(list(demo.children))
        assert_all_removed(demo.objects)


@contextmanager
def subreaper() -> Iterator[None]:
    """Orphans of our descendants become our children meanwhile (PR_SET_CHILD_SUBREAPER),
    so that we can reap them rather than leave zombies to init."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def reap(pids: set[int]) -> bool:
    """Reap those of pids that have exited (they are our children); True when none is left."""
    for pid in list(pids):
        if os.waitpid(pid, os.WNOHANG)[0]:
            pids.discard(pid)
    return not pids


def test_children_die_with_a_killed_demo() -> None:
    """Nobody can clean up after SIGKILL: PR_SET_PDEATHSIG ends the children (which
    become ours to reap); the objects stay, and headless_demo() removes them."""
    with subreaper(), headless_demo() as demo:
        assert all(started is not None for started in demo.children.values())
        os.kill(demo.process.pid, signal.SIGKILL)
        assert demo.process.wait(timeout=PATIENCE) == -signal.SIGKILL
        left = set(demo.children)
        wait_until(lambda: reap(left), "every child of the killed demo dies (and is reaped)")
        assert_no_process(list(demo.children))


def test_the_headless_demo_ends_with_its_killed_parent_and_removes_everything() -> None:
    """Its parent (a shell, a test runner) SIGKILLed: PR_SET_PDEATHSIG sends the demo a
    SIGTERM, so it ends its children and removes its objects as on any SIGTERM."""
    with subreaper(), headless_demo(with_parent=True) as demo:
        pid, started = demo.demo
        assert started is not None and pid != demo.process.pid
        os.kill(demo.process.pid, signal.SIGKILL)
        assert demo.process.wait(timeout=PATIENCE) == -signal.SIGKILL
        rest = demo.lines.rest()  # until the demo, the last writer, closes our pipe
        assert rest == [f"demo: stopped on SIGTERM: {SYSV_ENDED}"]
        left = {pid}  # the orphaned demo is ours to reap; it reaped its own children
        wait_until(lambda: reap(left), "the demo ends (and is reaped)")
        assert_no_process([pid, *demo.children])
        assert_all_removed(demo.objects)


@pytest.mark.skipif(os.geteuid() != 0, reason="an IPC namespace needs root")
def test_a_view_that_hangs_on_a_stop_signal_still_ends_the_demo() -> None:
    """Textual's shutdown can hang when the terminal is gone (tmux killed): the signal's
    watchdog ends the children, removes the objects and exits 128+signal. (The objects go
    with the demo's IPC namespace anyway; the children are what would have kept it.)"""
    env = dict(os.environ, PROBE_HANG="1")
    with subreaper():
        process = subprocess.Popen(
            [sys.executable, str(TESTS / "demo_probe.py"), "demo"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            children = json.loads(process.stdout.readline())["children"]
            assert len(children) >= 8
            process.send_signal(signal.SIGTERM)
            bound = VIEW_EXIT_GRACE + PATIENCE
            assert process.wait(timeout=bound) == 128 + signal.SIGTERM
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        # The watchdog's stop() ended and reaped them before the exit: none was left for
        # PR_SET_PDEATHSIG to kill and for us (the subreaper) to reap.
        for pid in children:
            with pytest.raises(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        assert_no_process(children)


# ---- an IPC namespace of its own, and the view's options ----


@dataclass
class HostObjects:
    """Keyed objects of the test session's namespace, made before a demo starts."""

    shm: int
    sem: int
    msg: int
    keys: dict[helpers.Kind, int]

    def alive(self) -> bool:
        """All three still there, with their keys (an id alone could be reused)."""
        return (
            native.shm_stat(self.shm).key == self.keys["shm"]
            and helpers.live_rows("sem").get(self.sem, {}).get("key") == self.keys["sem"]
            and helpers.live_rows("msg").get(self.msg, {}).get("key") == self.keys["msg"]
        )


@pytest.fixture
def host_objects() -> Iterator[HostObjects]:
    rng = random.Random()
    keys: dict[helpers.Kind, int] = {k: rng.randint(1, 0x7FFFFFFF) for k in ("shm", "sem", "msg")}
    flags = native.IPC_CREAT | native.IPC_EXCL | 0o600
    made = HostObjects(
        helpers.record("shm", native.shmget(keys["shm"], 4096, flags)),
        helpers.record("sem", native.semget(keys["sem"], 1, flags)),
        helpers.record("msg", native.msgget(keys["msg"], flags)),
        keys,
    )
    yield made
    for kind in ("shm", "sem", "msg"):
        helpers.remove(kind, getattr(made, kind))


def probe(*args: str, remove: list[int] | None = None) -> dict[str, object]:
    """Run the demo's view headless in its own process (tests/demo_probe.py): what it saw."""
    env = dict(os.environ, XDG_CONFIG_HOME=str(Path(tempfile.mkdtemp(prefix="shmtop-test-"))))
    env.pop("NO_COLOR", None)
    if remove is not None:
        env["PROBE_REMOVE"] = ",".join(map(str, remove))
    done = subprocess.run(
        [sys.executable, str(TESTS / "demo_probe.py"), *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=4 * PATIENCE, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def own_namespace() -> int:
    return os.stat("/proc/self/ns/ipc").st_ino


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="an IPC namespace needs root")


@needs_root
def test_the_demo_view_shows_only_its_objects_and_its_removals_spare_the_host(
    host_objects: HostObjects,
) -> None:
    seen = probe("demo", remove=[host_objects.shm])
    assert seen["code"] == 0
    assert seen["namespace"] != own_namespace()
    keys = seen["keys"]
    assert isinstance(keys, list)
    assert not set(host_objects.keys.values()) & set(keys)
    assert len(seen["segments"]) == 3 and seen["dialog"] is True  # type: ignore[arg-type]
    assert seen["left"] == []  # the view removed what it showed (the demo's)...
    assert host_objects.alive()  # ...and nothing of the host's
    assert "own IPC namespace, its objects only" in str(seen["title"])


@needs_root
@pytest.mark.parametrize(
    "args", [("--readonly", "demo"), ("demo", "--readonly")], ids=["before", "after"]
)
def test_readonly_before_or_after_demo_makes_the_view_read_only(
    args: tuple[str, ...], host_objects: HostObjects
) -> None:
    seen = probe(*args, remove=[])
    assert seen["readonly"] is True and seen["main_readonly"] is True
    assert seen["dialog"] is False  # `d` opens no removal dialog
    assert seen["left"] == seen["live"] and seen["live"]  # nothing removed
    assert host_objects.alive()


@needs_root
def test_the_view_options_reach_the_demo_app() -> None:
    seen = probe("demo", "--theme", "textual-light", "--tab", "msg")
    assert (seen["theme"], seen["no_color"], seen["tab"]) == ("textual-light", False, "msg")
    seen = probe("--theme", "nord", "--tab", "sem", "demo")
    assert (seen["theme"], seen["no_color"], seen["tab"]) == ("nord", False, "sem")
    assert seen["readonly"] is False


@needs_root
def test_no_color_reaches_the_demo_app() -> None:
    for args in (("demo", "--no-color"), ("--no-color", "demo")):
        assert probe(*args)["no_color"] is True


@needs_root
def test_shmtop_demo_no_ui_runs_in_its_own_namespace_and_spares_the_host(
    host_objects: HostObjects,
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "shmtop", "demo", "--no-ui"], cwd=ROOT,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    lines = Lines(process.stderr.fileno())
    mounts = ours_mounted()
    try:
        said = []
        while not (line := lines.line()).startswith("demo: ready"):
            said.append(line)
        assert any("IPC namespace of its own" in line for line in said)
        assert os.stat(f"/proc/{process.pid}/ns/ipc").st_ino != own_namespace()
        ours = {k: set(helpers.live_rows(k)) for k in ("shm", "sem", "msg")}
        assert ours == {"shm": {host_objects.shm}, "sem": {host_objects.sem},
                        "msg": {host_objects.msg}}  # fmt: skip
        by_name = {m[2]: int(m[1]) for m in map(PROCESS_LINE.match, said) if m}
        assert set(by_name) == NAMES | POSIX_NAMES
        named = {m[2] for m in map(POSIX_LINE.match, said) if m}
        assert named == {"/demo-prices", "/demo-scratch", "/demo-gate", "/demo-jobs"}
        check_posix_mounts(process.pid, by_name)
        assert ours_mounted() == mounts  # no mount of the demo's reached ours
        assert not demo_names_here()
        process.send_signal(signal.SIGTERM)
        assert lines.rest() == [f"demo: stopped on SIGTERM: {ALL_ENDED}"]
        assert process.wait(timeout=PATIENCE) == EXIT_OK
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=PATIENCE)
        process.stderr.close()
    assert host_objects.alive()
    assert ours_mounted() == mounts
    assert not demo_names_here()


def ours_mounted() -> list[str]:
    """This session's mount table, less the mount ids (a mount's place and source)."""
    return [line.split(" ", 2)[2] for line in Path("/proc/self/mountinfo").read_text().splitlines()]


def demo_names_here() -> list[str]:
    """Names of the demo's POSIX objects in our /dev/shm and /dev/mqueue (none, ever)."""
    return [
        entry
        for directory in ("/dev/shm", "/dev/mqueue")
        if os.path.isdir(directory)
        for entry in os.listdir(directory)
        if "demo-" in entry
    ]


def shm_perms(pid: int, path: str) -> list[str]:
    """The permission column of each maps line of pid naming path (as its namespace sees it)."""
    found = []
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5] == path:
            found.append(fields[1])
    return found


def check_posix_mounts(demo: int, by_name: dict[str, int]) -> None:
    """The demo's POSIX objects, as its own mount namespace shows them (/proc/PID/root):
    named in its /dev/shm and /dev/mqueue, mapped as their roles say; the leak case
    unlinked while still mapped; a waiter on the semaphore."""
    root = Path(f"/proc/{demo}/root")
    assert os.stat(f"/proc/{demo}/ns/mnt").st_ino != os.stat("/proc/self/ns/mnt").st_ino
    assert (root / "dev/shm").stat().st_dev != os.stat("/dev/shm").st_dev
    assert sorted(os.listdir(root / "dev/shm")) == ["demo-prices", "sem.demo-gate"]
    assert shm_perms(by_name["demo-pshm-rw"], "/dev/shm/demo-prices") == ["rw-s"]
    assert shm_perms(by_name["demo-pshm-ro"], "/dev/shm/demo-prices") == ["r--s"]
    assert shm_perms(by_name["demo-pshm-hold"], "/dev/shm/demo-scratch (deleted)") == ["rw-s"]
    assert shm_perms(by_name["demo-psem-wait"], "/dev/shm/sem.demo-gate") == ["rw-s"]
    # glibc's sem_t: the value (u32), then nwaiters: the waiter counted itself
    gate = root / "dev/shm/sem.demo-gate"
    wait_until(
        lambda: int.from_bytes(gate.read_bytes()[4:8], "little") == 1,
        "demo-psem-wait waits in sem_wait",
    )
    assert int.from_bytes(gate.read_bytes()[0:4], "little") == 0
    if os.path.isdir("/dev/mqueue"):
        assert os.listdir(root / "dev/mqueue") == ["demo-jobs"]
        wait_until(
            lambda: b"QSIZE:0 " not in (root / "dev/mqueue/demo-jobs").read_bytes(),
            "jobs are queued on /demo-jobs",
        )


@needs_root
def test_the_demo_view_shows_its_posix_objects_from_its_own_mounts() -> None:
    mounts = ours_mounted()
    seen = probe("demo")
    posix = seen["posix"]
    assert isinstance(posix, dict)
    assert posix["mnt"] != os.stat("/proc/self/ns/mnt").st_ino
    assert posix["shm_dev"] != os.stat("/dev/shm").st_dev
    assert posix["objects"] == [
        ["psem", "/dev/shm/sem.demo-gate", True, [["demo-psem-wait", True]], 1],
        ["pshm", "/dev/shm/demo-prices", True, [["demo-pshm-ro", False], ["demo-pshm-rw", True]],
         None],
        ["pshm", "/dev/shm/demo-scratch (deleted)", False, [["demo-pshm-hold", True]], None],
    ]  # fmt: skip
    assert posix["queues"] == [["demo-jobs", ["demo-pmq-recv", "demo-pmq-sender"]]]
    assert ours_mounted() == mounts and not demo_names_here()  # it all went with the demo


@needs_root
def test_the_host_ipc_demo_has_no_posix_feed_and_leaves_dev_shm_alone() -> None:
    mounts, before = ours_mounted(), sorted(os.listdir("/dev/shm"))
    rows = {k: set(helpers.live_rows(k)) for k in ("shm", "sem", "msg")}
    seen = probe("demo", "--host-ipc")
    assert seen["posix"] is None
    assert seen["namespace"] == own_namespace()  # the session's: its System V objects here
    assert ours_mounted() == mounts and sorted(os.listdir("/dev/shm")) == before
    wait_until(
        lambda: {k: set(helpers.live_rows(k)) for k in ("shm", "sem", "msg")} == rows,
        "the host-ipc demo's System V objects are gone",
    )


def test_an_unknown_theme_is_refused_before_the_demo_makes_anything() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shmtop", "demo", "--no-ui", "--theme", "nosuch"], cwd=ROOT,
        capture_output=True, text=True, timeout=PATIENCE, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and "demo:" not in done.stderr
