"""`shmtop demo`: a small, realistic System V IPC workload to look at on an empty machine.

Everything is made with shmtop's own binding (shmtop.core.binding.native) by real child
processes forked from the demo process, each named with prctl(PR_SET_NAME):

- a ring buffer: one 64 KiB segment (a header of three little-endian u64,
  write index, read index and count, then RING_SLOTS records of RECORD_SIZE
  bytes of readable text such as "order #1234 qty 7 sku 512") guarded by a set
  of three semaphores (#0 mutex=1 taken with SEM_UNDO, #1 empty=RING_SLOTS,
  #2 full=0). demo-producer writes a few records a second, demo-consumer1 and
  demo-consumer2 take them, demo-reader has it attached read-only
  (SHM_RDONLY) and reads the header now and then;
- a message queue: demo-sender sends typed messages (types 1..3) every 0.5 s,
  demo-receiver takes them more slowly, so a few stay queued;
- a segment removed with IPC_RMID while demo-dest-hold keeps it attached
  (key 0, SHM_DEST; /proc/PID/maps still names it with its old key);
- an orphan segment: demo-orphan created it and exited (nattch 0, creator gone);
- a set of one semaphore kept at 0 on which demo-blocked waits in semop(-1);
- with posix=True (only in the demo's private mount namespace: namespace.isolate), POSIX
  objects too, see posix_objects: a shm object mapped read-write and read-only, one
  unlinked while mapped, a named semaphore with a waiter, a message queue with traffic.

The ring buffer and the removed segment get a random key (created with
IPC_EXCL, retried on EEXIST); every other object is IPC_PRIVATE.

Public API
----------
Demo
    Context manager. ``with Demo() as demo:`` builds everything (children are
    ready when it returns), leaving the block ends every child by PID (SIGTERM,
    SIGKILL after TERM_GRACE seconds), reaps them and removes every object by
    id, also when the block raises or the build fails half-way. ``demo.stop()``
    does the same and is safe to call more than once. ``demo.objects`` (every
    object made: DemoObject with kind, id, role, note), ``demo.processes``
    (every long-running child: DemoProcess with pid, name, note), ``demo.pids``,
    ``demo.orphan_creator`` (the exited creator of the orphan),
    ``demo.object(role)`` and ``demo.describe()`` (one line a thing, for
    people) tell what it made; they stay readable after stop().
    ``Demo(posix=True)`` also makes the POSIX objects (``demo.posix_objects``:
    PosixDemoObject with what, name, role, note), unlinked by name at the end; it
    refuses (RuntimeError) unless isolate() made this process's /dev/shm its own.

    While it is active (handle_signals=True, the default) SIGINT raises
    KeyboardInterrupt and SIGTERM/SIGHUP raise Stopped (a SystemExit, code
    128 + signal number) in the main thread, so the with-block unwinds and
    cleans up; the previous handlers come back on exit. That needs the main
    thread. With handle_signals=False the caller handles signals itself.

    Enter it from the main thread and before any other thread starts (before
    the TUI): children are forked from the calling thread, and die with
    PR_SET_PDEATHSIG when that thread ends, so no child outlives the demo even
    if it is SIGKILLed (objects can: nobody can clean up after SIGKILL).

run_headless(stop_after=None) -> int
    What ``shmtop demo --no-ui`` runs: builds a Demo, prints one line per
    object and per process to stderr ("demo: segment 1234: ring buffer ...",
    "demo: process 4321 demo-producer: ..."), then "demo: ready ...", and
    waits for SIGINT, SIGTERM or SIGHUP (or stop_after seconds); the death of its parent
    comes as a SIGTERM (die_with_parent). Returns
    EXIT_OK (0) once everything is removed, also when ended by one of those
    signals; EXIT_FAILED (1) when the demo could not be built or cleaned up
    (the reason is printed).

This module never imports textual.
"""

from __future__ import annotations

import os
import random
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import Any, Literal, TextIO, TypeAlias

from shmtop.core.binding import native
from shmtop.core.errors import GONE
from shmtop.core.model import Kind
from shmtop.core.verdicts import DEFAULT_GRACE
from shmtop.demo import children as roles
from shmtop.demo import posix_objects
from shmtop.demo.children import (
    DEST_SIZE,
    HEADER,
    RECORD_SIZE,
    RING_HEADER,
    RING_LABEL,
    RING_SIZE,
    RING_SLOTS,
    SENDER_PACE,
)
from shmtop.demo.namespace import CannotIsolate, Where, isolate, posix_private

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "HEADER",
    "RECORD_SIZE",
    "RING_HEADER",
    "RING_LABEL",
    "RING_SIZE",
    "RING_SLOTS",
    "STOP_SIGNALS",
    "CannotIsolate",
    "Demo",
    "DemoObject",
    "DemoProcess",
    "Role",
    "Stopped",
    "Where",
    "die_with_parent",
    "isolate",
    "run_headless",
]

EXIT_OK = 0
EXIT_FAILED = 1

# ---- bounds (never measurements) ----

READY_PATIENCE = 10.0  # for a child to report that it is set up
TERM_GRACE = 2.0  # between SIGTERM and SIGKILL
BLOCK_PATIENCE = 2.0  # for demo-blocked to be counted by GETNCNT before going on

VIEW_EXIT_GRACE = 5.0  # seconds the view has to close on a stop signal before the demo ends itself
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
_KEY_TRIES = 100

Role = Literal["ring", "ring-guard", "queue", "dest", "orphan", "blocked"]
_Handler: TypeAlias = Callable[[int, FrameType | None], Any] | int | None
_WORDS: dict[Kind, str] = {Kind.SHM: "segment", Kind.SEM: "semaphores", Kind.MSG: "queue"}


@dataclass(frozen=True, slots=True)
class DemoObject:
    """One System V object the demo made."""

    kind: Kind
    id: int
    role: Role
    note: str  # one line for people
    labels: tuple[str, ...] = ()  # a set's semaphores, by number: what each one counts


@dataclass(frozen=True, slots=True)
class DemoProcess:
    """One long-running child of the demo."""

    pid: int
    name: str  # its comm, set with prctl(PR_SET_NAME)
    note: str


class Stopped(SystemExit):
    """Raised in the main thread by SIGTERM or SIGHUP while a Demo handles signals."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


class Demo:
    """The demo workload; see the module docstring. Not reusable once stopped."""

    def __init__(self, *, handle_signals: bool = True, posix: bool = False) -> None:
        self.handle_signals = handle_signals
        self.posix = posix  # True only where /dev/shm and /dev/mqueue are the demo's own
        self.objects: list[DemoObject] = []
        self.posix_objects: list[posix_objects.PosixDemoObject] = []
        self._posix_pending: list[posix_objects.PosixDemoObject] = []
        self.processes: list[DemoProcess] = []
        self.orphan_creator: int | None = None  # pid of demo-orphan (exited and reaped)
        self._live: list[int] = []  # children not reaped yet: the only pids ever signalled
        self._pending: list[DemoObject] = []  # objects not removed yet
        self._old_handlers: dict[int, _Handler] = {}
        self._entered = False
        self._stopping = threading.RLock()  # stop() from the main thread and a watchdog

    # ---- what was made ----

    @property
    def pids(self) -> list[int]:
        """PIDs of every long-running child (running until stop())."""
        return [process.pid for process in self.processes]

    def object(self, role: Role) -> DemoObject:
        """The object playing a role (KeyError if not made)."""
        for made in self.objects:
            if made.role == role:
                return made
        raise KeyError(role)

    def semaphore_labels(self) -> dict[int, tuple[str, ...]]:
        """What each semaphore of the demo's sets counts, by set id."""
        return {o.id: o.labels for o in self.objects if o.kind is Kind.SEM and o.labels}

    def describe(self, *, processes: bool = True) -> list[str]:
        """One line per object and per process, e.g. "segment 1234: ring buffer ..."."""
        return (
            [f"{_WORDS[o.kind]} {o.id}: {o.note}" for o in self.objects]
            + [o.described() for o in self.posix_objects]
            + [f"process {p.pid} {p.name}: {p.note}" for p in self.processes if processes]
        )

    @property
    def made(self) -> int:
        """How many objects it made, System V and POSIX."""
        return len(self.objects) + len(self.posix_objects)

    # ---- lifetime ----

    def __enter__(self) -> Demo:
        if self._entered:
            raise RuntimeError("a Demo runs once; make a new one")
        self._entered = True
        self._install_signals()
        try:
            self._build()
        except BaseException:
            try:
                self.stop()
            finally:
                self._restore_signals()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.stop()
        finally:
            self._restore_signals()

    def stop(self) -> None:
        """End every child by PID and remove every object by id; safe to call again.

        Children get SIGTERM, then SIGKILL after TERM_GRACE seconds, and are
        reaped. Objects already gone are fine; any other failure is raised
        (RuntimeError) after everything else was tried, and is retried by the
        next call.
        """
        with self._stopping, self._signals_held_off():
            self._end_children()
            problems: list[str] = []
            for made in reversed(list(self._pending)):
                try:
                    _REMOVE[made.kind](made.id)
                except OSError as error:
                    if error.errno not in GONE:
                        problems.append(f"{_WORDS[made.kind]} {made.id}: {error}")
                        continue
                self._pending.remove(made)
            for named in reversed(list(self._posix_pending)):
                try:
                    posix_objects.remove(named)
                except OSError as error:
                    problems.append(f"{posix_objects.WORDS[named.what]} {named.name}: {error}")
                    continue
                self._posix_pending.remove(named)
        if problems:
            raise RuntimeError("demo: could not remove " + "; ".join(problems))

    def stop_signal_handler(
        self, ask_view_to_exit: Callable[[], Any]
    ) -> Callable[[int, FrameType | None], None]:
        """A SIGTERM/SIGHUP handler for the demo under its view: it asks the view to exit
        (the demo ends on the way out) and starts a watchdog. Textual's shutdown can hang
        when the terminal is gone (seen: its writer thread's queue after tmux was killed),
        so if the process is still here VIEW_EXIT_GRACE seconds later, the watchdog ends
        the children, removes the objects and exits the process."""
        armed = threading.Event()

        def watchdog(signum: int) -> None:
            time.sleep(VIEW_EXIT_GRACE)
            try:
                self.stop()
            finally:
                os._exit(128 + signum)

        def handler(signum: int, frame: FrameType | None) -> None:
            ask_view_to_exit()
            if not armed.is_set():
                armed.set()
                threading.Thread(target=watchdog, args=(signum,), name="shmtop-demo-watchdog",
                                 daemon=True).start()  # fmt: skip

        return handler

    # ---- signals ----

    def _install_signals(self) -> None:
        if not self.handle_signals:
            return
        if threading.current_thread() is not threading.main_thread():
            raise RuntimeError("Demo handles signals only in the main thread: handle_signals=False")
        for signum in STOP_SIGNALS:
            self._old_handlers[signum] = signal.signal(signum, _on_signal)

    def _restore_signals(self) -> None:
        for signum, handler in self._old_handlers.items():
            # None: a handler not set from Python; the default is the best we can do
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self._old_handlers.clear()

    @contextmanager
    def _signals_held_off(self) -> Iterator[None]:
        """Ignore stop signals while tearing down: a second Ctrl-C must not leave leftovers."""
        if not self._old_handlers or threading.current_thread() is not threading.main_thread():
            yield
            return
        saved = {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOP_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in saved.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)

    # ---- children ----

    def _end_children(self) -> None:
        for pid in self._live:
            _kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + TERM_GRACE
        while self._live:
            for pid in list(self._live):
                if _reaped(pid, block=False):
                    self._live.remove(pid)
            if not self._live or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        for pid in list(self._live):
            _kill(pid, signal.SIGKILL)
            _reaped(pid, block=True)
            self._live.remove(pid)

    def _fork(self, name: str, job: Callable[[roles.Report], None]) -> tuple[int, int]:
        """Fork a child named `name` that runs job; (pid, the fd its report comes on).

        Stop signals are blocked around the fork so that the PID is always
        recorded before a handler can unwind the build.
        """
        parent = os.getpid()
        with _signals_blocked():
            read_fd, write_fd = os.pipe()
            try:
                pid = os.fork()
                if pid == 0:
                    roles.child_main(name, parent, read_fd, write_fd, job)
                self._live.append(pid)
            except BaseException:
                os.close(read_fd)
                raise
            finally:
                os.close(write_fd)
        return pid, read_fd

    def _start(self, name: str, note: str, job: Callable[[roles.Report], None]) -> int:
        """Fork a long-running child and wait (bounded) until it reports ready."""
        pid, read_fd = self._fork(name, job)
        try:
            _await_report(name, pid, read_fd)
        finally:
            os.close(read_fd)
        self.processes.append(DemoProcess(pid, name, note))
        return pid

    def _made(
        self, kind: Kind, ident: int, role: Role, note: str, labels: tuple[str, ...] = ()
    ) -> int:
        """Record an object for stop(); call it with stop signals blocked since its creation
        (see _signals_blocked), so that no signal can unwind the build in between."""
        made = DemoObject(kind, ident, role, note, labels)
        self.objects.append(made)
        self._pending.append(made)
        return ident

    # ---- the build ----

    def _build(self) -> None:
        self._build_ring()
        self._build_queue()
        self._build_dest()
        self._build_orphan()
        self._build_blocked()
        if self.posix:
            self._build_posix()

    def _build_ring(self) -> None:
        with _signals_blocked():
            shmid, key = _keyed_segment(RING_SIZE, 0o640)
            ring = self._made(
                Kind.SHM, shmid, "ring",
                f"ring buffer (key {key:#010x}), 64 KiB: u64 header (write index, read index,"
                f" count), {RING_SLOTS} records of {RECORD_SIZE} bytes; attached rw by"
                " demo-producer, demo-consumer1, demo-consumer2, ro by demo-reader",
            )  # fmt: skip
        with _signals_blocked():
            semid = native.semget(native.IPC_PRIVATE, 3, native.IPC_CREAT | 0o640)
            guard = self._made(
                Kind.SEM, semid, "ring-guard",
                f"guards segment {ring}: #0 mutex (SEM_UNDO), #1 empty, #2 full slots",
                ("mutex", "empty slots", "full slots"),
            )  # fmt: skip
        native.sem_setall(guard, [1, RING_SLOTS, 0])
        self._start(
            "demo-producer",
            f"writes a few order records a second into segment {ring}",
            lambda report: roles.producer(report, ring, guard),
        )
        for number in (1, 2):
            self._start(
                f"demo-consumer{number}",
                f"takes records out of segment {ring}",
                lambda report: roles.consumer(report, ring, guard),
            )
        self._start(
            "demo-reader",
            f"has segment {ring} attached read-only (SHM_RDONLY), reads its header now and then",
            lambda report: roles.reader(report, ring),
        )

    def _build_queue(self) -> None:
        with _signals_blocked():
            msqid = native.msgget(native.IPC_PRIVATE, native.IPC_CREAT | 0o600)
            queue = self._made(
                Kind.MSG, msqid, "queue",
                "typed messages (1 order, 2 invoice, 3 alert) from demo-sender; demo-receiver is"
                " slower: a few stay queued",
            )  # fmt: skip
        self._start(
            "demo-sender",
            f"sends a typed message to queue {queue} every {SENDER_PACE:g} s",
            lambda report: roles.sender(report, queue),
        )
        self._start(
            "demo-receiver",
            f"receives from queue {queue}, more slowly",
            lambda report: roles.receiver(report, queue),
        )

    def _build_dest(self) -> None:
        with _signals_blocked():
            shmid, key = _keyed_segment(DEST_SIZE, 0o600)
            dest = self._made(
                Kind.SHM, shmid, "dest",
                f"removed with IPC_RMID (key now 0, was {key:#010x}) while demo-dest-hold keeps"
                " it attached: it goes at the last detach",
            )  # fmt: skip
        self._start(
            "demo-dest-hold",
            f"keeps segment {dest} attached after its removal",
            lambda report: roles.dest_holder(report, dest),
        )
        native.shm_rmid(dest)

    def _build_orphan(self) -> None:
        pid, read_fd = self._fork("demo-orphan", roles.orphan_maker)
        self.orphan_creator = pid
        try:
            reported = _await_report("demo-orphan", pid, read_fd)
            with _signals_blocked():
                self._made(
                    Kind.SHM, int(reported), "orphan",
                    f"made by demo-orphan (pid {pid}, exited), attached by nobody: STATUS says"
                    f" orphan once it is untouched for {DEFAULT_GRACE:g} s (the rule's grace)",
                )  # fmt: skip
        except BaseException:
            _sweep_segments_of(pid)  # made but maybe not recorded: find it by its creator
            raise
        finally:
            os.close(read_fd)
        # It exits right after reporting; reap it so that its PID is gone.
        if not _reaped(pid, block=False, patience=READY_PATIENCE):
            _kill(pid, signal.SIGKILL)
            _reaped(pid, block=True)
        self._live.remove(pid)

    def _build_blocked(self) -> None:
        with _signals_blocked():
            semid = native.semget(native.IPC_PRIVATE, 1, native.IPC_CREAT | 0o600)
            blocked = self._made(
                Kind.SEM, semid, "blocked",
                "one semaphore kept at 0: demo-blocked waits on it in semop(-1)",
                ("gate (kept at 0)",),
            )  # fmt: skip
        native.sem_setall(blocked, [0])
        self._start(
            "demo-blocked",
            f"blocked in semop(-1) on semaphore 0 of set {blocked} until the demo ends",
            lambda report: roles.blocked(report, blocked),
        )
        # Shown as a waiter at once when it can be; a slow machine shows it a moment later.
        deadline = time.monotonic() + BLOCK_PATIENCE
        while native.sem_counts(blocked, 0)[0] < 1 and time.monotonic() < deadline:
            time.sleep(0.005)

    # ---- POSIX (its own /dev/shm and /dev/mqueue only) ----

    def _named(
        self, what: posix_objects.PosixWhat, name: str, role: posix_objects.PosixRole, note: str,
        make: Callable[[], None],
    ) -> str:  # fmt: skip
        """Make a POSIX object and record it for stop(), with no signal in between."""
        with _signals_blocked():
            make()
            made = posix_objects.PosixDemoObject(what, name, role, note)
            self.posix_objects.append(made)
            self._posix_pending.append(made)
        return name

    def _build_posix(self) -> None:
        if not posix_private():  # a safety belt: never the machine's /dev/shm
            raise RuntimeError("the demo makes POSIX objects only in its own /dev/shm (isolate)")
        px = posix_objects
        prices = self._named(
            "pshm", px.PRICES, "pshm-ring",
            px.NOTES["pshm-ring"],
            lambda: px.make_shm(px.PRICES, px.PRICES_SIZE),
        )  # fmt: skip
        self._start("demo-pshm-rw", f"maps {prices} read-write, writes a line now and then",
                    px.price_writer)  # fmt: skip
        self._start("demo-pshm-ro", f"maps {prices} read-only (PROT_READ), reads it",
                    px.price_viewer)  # fmt: skip
        scratch = self._named(
            "pshm", px.SCRATCH, "pshm-leak",
            px.NOTES["pshm-leak"],
            lambda: px.make_shm(px.SCRATCH, px.SCRATCH_SIZE),
        )  # fmt: skip
        self._start("demo-pshm-hold", f"keeps {scratch} mapped after its unlink",
                    px.scratch_holder)  # fmt: skip
        px.unlink_shm(scratch)
        gate = self._named(
            "psem", px.GATE, "psem-gate",
            px.NOTES["psem-gate"],
            lambda: px.make_sem(px.GATE, 0),
        )  # fmt: skip
        self._start("demo-psem-wait", f"blocked in sem_wait on {gate} until the demo ends",
                    px.gate_waiter)  # fmt: skip
        jobs = self._named(
            "pmq", px.JOBS, "pmq-jobs",
            px.NOTES["pmq-jobs"],
            lambda: px.make_queue(px.JOBS),
        )  # fmt: skip
        self._start("demo-pmq-sender", f"sends a job to {jobs} every {px.PMQ_SEND_PACE:g} s",
                    px.job_sender)  # fmt: skip
        self._start("demo-pmq-recv", f"receives from {jobs}, more slowly (waits in mq_receive"
                    " when it is empty)", px.job_receiver)  # fmt: skip


@contextmanager
def _signals_blocked() -> Iterator[None]:
    """Hold stop signals back (this thread) so that what is made gets recorded first; one
    that arrives meanwhile is handled on the way out."""
    held = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


_REMOVE: dict[Kind, Callable[[int], None]] = {
    Kind.SHM: native.shm_rmid,
    Kind.SEM: native.sem_rmid,
    Kind.MSG: native.msg_rmid,
}


def _keyed_segment(size: int, mode: int) -> tuple[int, int]:
    """A new segment with a random key no other segment has; (shmid, key)."""
    for _ in range(_KEY_TRIES):
        key = random.randint(1, 0x7FFFFFFF)  # key_t is a signed int; 0 is IPC_PRIVATE
        try:
            return native.shmget(key, size, native.IPC_CREAT | native.IPC_EXCL | mode), key
        except FileExistsError:
            continue
    raise RuntimeError(f"no free segment key after {_KEY_TRIES} random tries")


def _kill(pid: int, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, signum)


def _reaped(pid: int, *, block: bool, patience: float = 0.0) -> bool:
    """Reap our child pid; True once it is reaped (or not ours to wait for any more)."""
    deadline = time.monotonic() + patience
    while True:
        try:
            done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            return True
        if done:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)


def _sweep_segments_of(pid: int) -> None:
    """Remove the segments our child pid created but could not report (the build was cut
    short): kill it, wait for it without reaping (so its PID cannot be reused), then look."""
    _kill(pid, signal.SIGKILL)
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    except ChildProcessError:
        return  # already reaped: its PID may name someone else now
    for segment in native.shm_stat_all():
        if segment.cpid == pid:
            with suppress(OSError):
                native.shm_rmid(segment.id)


def _await_report(name: str, pid: int, read_fd: int) -> str:
    """Read a child's report until it closes its end: "ok PAYLOAD" or "error WHY"."""
    deadline = time.monotonic() + READY_PATIENCE
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{name} (pid {pid}) was not ready within {READY_PATIENCE:g} s")
        if not select.select([read_fd], [], [], left)[0]:
            continue
        chunk = os.read(read_fd, 4096)
        if not chunk:
            break
        chunks.append(chunk)
    message = b"".join(chunks).decode(errors="replace")
    if message.startswith("ok "):
        return message[3:]
    if message.startswith("error "):
        raise RuntimeError(f"{name} (pid {pid}) failed: {message[6:]}")
    raise RuntimeError(f"{name} (pid {pid}) exited before it was ready")


def run_headless(
    stop_after: float | None = None, *, out: TextIO | None = None, where: Where | None = None
) -> int:
    """Run the demo without a UI until SIGINT/SIGTERM/SIGHUP or stop_after seconds.

    Prints to stderr (or out) one "demo: ..." line per object and process, where it
    runs (if told: see demo_namespace.isolate), then a line starting "demo: ready",
    and at the end "demo: stopped ...". Returns
    EXIT_OK when everything was removed (whatever ended it), EXIT_FAILED when
    the demo could not be built or cleaned up.
    """
    stream = sys.stderr if out is None else out

    def say(text: str) -> None:
        with suppress(OSError):  # nobody reads any more: keep going, the output is only news
            print(f"demo: {text}", file=stream, flush=True)

    demo = Demo(posix=where is not None and where.posix)
    ending = "" if stop_after is None else f"after {stop_after:g} s"
    try:
        with demo:  # its handlers first: the parent's death comes as a SIGTERM
            if not die_with_parent():
                raise Stopped(signal.SIGTERM)
            for line in demo.describe():
                say(line)
            if where is not None:
                say(where.line)
            say(
                f"ready (pid {os.getpid()}): Ctrl-C, SIGTERM or SIGHUP ends the demo and"
                " removes everything it made"
            )
            _wait(stop_after)
    except KeyboardInterrupt:
        ending = "on SIGINT"
    except Stopped as stopped:
        ending = f"on {signal.Signals(stopped.signum).name}"
    except (OSError, RuntimeError) as error:
        say(f"failed: {error}")
        return EXIT_FAILED
    say(
        f"stopped {ending}: ended {_count(len(demo.processes), 'process', 'processes')},"
        f" removed {_count(demo.made, 'object', 'objects')}"
    )
    return EXIT_OK


def die_with_parent() -> bool:
    """SIGTERM reaches this process when whoever started it ends (a killed shell, a test
    runner): the demo then stops as on any SIGTERM, removing what it made, rather than run
    on unwatched. False when that parent is already gone."""
    return native.die_with_parent(signal.SIGTERM, os.getppid())


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def _wait(stop_after: float | None) -> None:
    if stop_after is None:
        roles.forever()
    deadline = time.monotonic() + stop_after
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(left)
