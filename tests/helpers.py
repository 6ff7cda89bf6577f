"""Real child processes, the registry of created IPC objects, and bounded waits.

Run as a script (``python helpers.py SPEC_JSON``) this file *is* the child
process the tests start: it attaches the segments it is told to (read-only or
read-write), may create a segment or fork grandchildren that inherit its
attachments, reports one JSON line on stdout when everything is in place, and
then obeys commands read from stdin (``fork``, ``reap PID``) until stdin
closes, when it kills and reaps its grandchildren and exits. Readiness is the
report line, never a sleep.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from shmtop.core.binding import native
from shmtop.core.snapshot import procfs

Kind = Literal["shm", "sem", "msg"]
KINDS: tuple[Kind, ...] = ("shm", "sem", "msg")
ID_COLUMN: dict[Kind, str] = {"shm": "shmid", "sem": "semid", "msg": "msqid"}

# Upper bound for a child to report or for a condition to come true. A bound,
# not a measurement: nothing asserts how fast anything happened.
PATIENCE = 30.0

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15

# ---- every object a fixture or a test made: checked at the end of the session ----

CREATED: dict[Kind, set[int]] = {kind: set() for kind in KINDS}


def record(kind: Kind, ident: int) -> int:
    """Remember an object the tests made, so the session fails if it outlives them."""
    CREATED[kind].add(ident)
    return ident


def live_rows(kind: Kind) -> dict[int, dict[str, int]]:
    """Every object of this IPC namespace by id, from /proc/sysvipc (all of them, any owner)."""
    table = procfs.read_sysvipc(kind).decode("ascii")
    return {row[ID_COLUMN[kind]]: row for row in procfs.parse_sysvipc(table)}


def remove(kind: Kind, ident: int) -> bool:
    """IPC_RMID; False when the object was already gone (EINVAL/EIDRM)."""
    rmid = {"shm": native.shm_rmid, "sem": native.sem_rmid, "msg": native.msg_rmid}[kind]
    try:
        rmid(ident)
    except OSError as error:
        if error.errno in (errno.EINVAL, errno.EIDRM):
            return False
        raise
    return True


def leftovers() -> dict[Kind, list[int]]:
    """The recorded objects that are still listed in /proc/sysvipc."""
    found: dict[Kind, list[int]] = {}
    for kind in KINDS:
        alive = sorted(CREATED[kind] & live_rows(kind).keys())
        if alive:
            found[kind] = alive
    return found


def removed_but_attached(kind: Kind, ident: int) -> bool:
    """A segment already marked SHM_DEST that only waits for its last detach."""
    row = live_rows(kind).get(ident)
    return kind == "shm" and row is not None and bool(row["perms"] & native.SHM_DEST)


# ---- plain libc, independent of the binding under test ----

_LIBC = ctypes.CDLL(None, use_errno=True)
_LIBC.shmat.restype = ctypes.c_void_p
_LIBC.shmat.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_int)
_LIBC.shmdt.argtypes = (ctypes.c_void_p,)
_LIBC.semop.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t)
_LIBC.prctl.argtypes = (ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong)  # fmt: skip
_SHMAT_FAILED = ctypes.c_void_p(-1).value


class _Sembuf(ctypes.Structure):
    _fields_ = (("sem_num", ctypes.c_ushort), ("sem_op", ctypes.c_short),
                ("sem_flg", ctypes.c_short))  # fmt: skip


def libc_shmat(shmid: int, *, writable: bool) -> int:
    """shmat(2) through libc (not shmtop's binding); returns the address."""
    address = _LIBC.shmat(shmid, None, 0 if writable else native.SHM_RDONLY)
    if address is None or address == _SHMAT_FAILED:
        number = ctypes.get_errno()
        raise OSError(number, f"shmat({shmid}): {os.strerror(number)}")
    return int(address)


def libc_shmdt(address: int) -> None:
    if _LIBC.shmdt(address) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"shmdt: {os.strerror(number)}")


def libc_semop(semid: int, num: int, op: int) -> None:
    """One semop(2) through libc; blocks like the real thing."""
    operation = _Sembuf(num, op, 0)
    if _LIBC.semop(semid, ctypes.byref(operation), 1) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"semop({semid}): {os.strerror(number)}")


def _prctl(option: int, value: int) -> None:
    if _LIBC.prctl(option, value, 0, 0, 0) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"prctl({option}): {os.strerror(number)}")


# ---- bounded waiting ----


def wait_until(condition: Callable[[], bool], what: str, patience: float = PATIENCE) -> None:
    """Poll condition until it holds; TimeoutError if it never does.

    For things the kernel finishes asynchronously (a process exiting, a waiter
    queueing). The bound only keeps a broken run from hanging. Not an
    AssertionError, so a strict xfail(raises=AssertionError) never mistakes a
    precondition that did not happen for the bug it expects.
    """
    deadline = time.monotonic() + patience
    delay = 0.001
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {patience:.0f} s waiting until {what}")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def process_gone(pid: int) -> bool:
    """The PID names no process, not even a zombie."""
    return not os.path.exists(f"/proc/{pid}")


# ---- the test side of a child ----


class _Lines:
    """Lines from a pipe, each read with a bound (select), never a sleep."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = b""

    def read(self, patience: float = PATIENCE) -> bytes:
        deadline = time.monotonic() + patience
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._fd], [], [], left)[0]:
                raise TimeoutError(f"no line from the child within {patience:.0f} s")
            chunk = os.read(self._fd, 4096)
            if not chunk:
                raise EOFError("the child closed its stdout")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line


@dataclass
class Child:
    """A real child process (python running this file) and what it reported."""

    process: subprocess.Popen[bytes]
    name: str
    report: dict[str, Any]
    lines: _Lines
    grandchildren: list[int] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def created(self) -> int | None:
        """Id of the segment the child created, if it was told to create one."""
        created = self.report.get("created")
        return None if created is None else int(created)

    def command(self, words: str) -> dict[str, Any]:
        """Send one command line and return the child's JSON answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(words.encode() + b"\n")
        self.process.stdin.flush()
        return self.next_message()

    def next_message(self) -> dict[str, Any]:
        """The next JSON line the child writes (bounded wait)."""
        message: dict[str, Any] = json.loads(self._read_line())
        return message

    def fork(self) -> int:
        """Fork one more grandchild that inherits the attachments; returns its PID."""
        grandchild = int(self.command("fork")["grandchild"])
        self.grandchildren.append(grandchild)
        return grandchild

    def kill_grandchild(self, grandchild: int) -> None:
        """SIGKILL one grandchild by PID and have the child reap it."""
        os.kill(grandchild, signal.SIGKILL)
        self.command(f"reap {grandchild}")
        self.grandchildren.remove(grandchild)

    def wait_exit(self) -> int:
        """Wait (bounded) for a child that exits by itself; returns its exit status."""
        return self.process.wait(timeout=PATIENCE)

    def stop(self) -> None:
        """Kill grandchildren and child by PID; reap all of them."""
        for grandchild in self.grandchildren:
            _kill_quietly(grandchild)
        if self.process.poll() is None:
            if self.grandchildren and self.process.stdin is not None:
                # Closing stdin makes the child reap its (now killed) grandchildren
                # and exit; the grandchildren are its children, not ours.
                self.process.stdin.close()
                try:
                    self.process.wait(timeout=PATIENCE)
                except subprocess.TimeoutExpired:
                    _kill_quietly(self.pid)
            else:
                _kill_quietly(self.pid)
        self.process.wait()
        for grandchild in self.grandchildren:
            wait_until(functools.partial(process_gone, grandchild), f"{grandchild} is reaped")
        self.grandchildren.clear()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None and not stream.closed:
                stream.close()

    def _read_line(self) -> bytes:
        try:
            return self.lines.read()
        except (TimeoutError, EOFError) as error:
            _kill_quietly(self.pid)
            self.process.wait()
            assert self.process.stderr is not None
            detail = self.process.stderr.read().decode(errors="replace")
            raise RuntimeError(f"child {self.name} ({self.pid}): {error}\n{detail}") from error


def _kill_quietly(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def start_child(
    *,
    name: str = "shmtop-kid",
    attach: Sequence[tuple[int, bool]] = (),
    forks: int = 0,
    create_shm: int | None = None,
    semop: tuple[int, int, int] | None = None,
    exit_after_report: bool = False,
) -> Child:
    """Start a child, wait for its ready report, return it.

    attach: (shmid, writable) pairs, attached in order. forks: grandchildren
    forked after attaching (they inherit the attachments and are named
    name + "-g"). create_shm: size of a segment the child creates with
    IPC_PRIVATE and reports as "created". semop: (semid, num, op) the
    child performs after reporting; it blocks there if the kernel says so (until
    killed), and reports {"semop": "returned"} when the call returns.
    exit_after_report: exit 0 right after the report.
    """
    if len(name) > 13:  # comm holds 15 bytes; the grandchild adds "-g"
        raise ValueError(f"process name too long: {name!r}")
    spec = {
        "name": name,
        "attach": [[shmid, writable] for shmid, writable in attach],
        "forks": forks,
        "create_shm": create_shm,
        "semop": list(semop) if semop else None,
        "exit": exit_after_report,
        "parent": os.getpid(),
    }
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), json.dumps(spec)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        close_fds=True,
    )
    assert process.stdout is not None
    child = Child(process, name, {}, _Lines(process.stdout.fileno()))
    child.report = json.loads(child._read_line())
    child.grandchildren = [int(pid) for pid in child.report["grandchildren"]]
    return child


# ---- what the fixtures in conftest.py hand to tests ----


class MakeShm(Protocol):
    def __call__(self, size: int = 4096, mode: int = 0o600) -> int: ...


class MakeSem(Protocol):
    def __call__(self, nsems: int, mode: int = 0o600) -> int: ...


class MakeMsg(Protocol):
    def __call__(self, mode: int = 0o600) -> int: ...


class Spawn(Protocol):
    def __call__(
        self,
        *,
        name: str = "shmtop-kid",
        attach: Sequence[tuple[int, bool]] = (),
        forks: int = 0,
        create_shm: int | None = None,
        semop: tuple[int, int, int] | None = None,
        exit_after_report: bool = False,
    ) -> Child: ...


# ---- the child side ----


def _set_name(name: str) -> None:
    buffer = ctypes.create_string_buffer(name.encode())
    _prctl(_PR_SET_NAME, ctypes.addressof(buffer))


def _die_with_parent(parent: int) -> None:
    """Never outlive the process that started us (if pytest dies, so do we)."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _fork_grandchild(name: str) -> int:
    """Fork a grandchild that inherits every attachment; return once it is named."""
    ready_read, ready_write = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(ready_read)
            _die_with_parent(parent)
            _set_name(name + "-g")
            os.write(ready_write, b".")
            os.close(ready_write)
            while True:
                signal.pause()
        finally:
            os._exit(1)
    os.close(ready_write)
    if os.read(ready_read, 1) != b".":
        raise RuntimeError(f"grandchild {pid} did not start")
    os.close(ready_read)
    return pid


def child_main(spec: dict[str, Any]) -> None:
    _die_with_parent(int(spec["parent"]))
    name = str(spec["name"])
    _set_name(name)
    addresses = [libc_shmat(int(shmid), writable=bool(rw)) for shmid, rw in spec["attach"]]
    created = None
    if spec["create_shm"] is not None:
        flags = native.IPC_CREAT | 0o600
        created = native.shmget(native.IPC_PRIVATE, int(spec["create_shm"]), flags)
    grandchildren = [_fork_grandchild(name) for _ in range(int(spec["forks"]))]
    _say({"pid": os.getpid(), "addresses": addresses, "created": created,
          "grandchildren": grandchildren})  # fmt: skip
    if spec["exit"]:
        sys.exit(0)
    if spec["semop"] is not None:
        semid, num, op = (int(n) for n in spec["semop"])
        libc_semop(semid, num, op)  # may block until killed
        _say({"semop": "returned"})
    while line := sys.stdin.buffer.readline():
        words = line.decode().split()
        if words == ["fork"]:
            grandchild = _fork_grandchild(name)
            grandchildren.append(grandchild)
            _say({"grandchild": grandchild})
        elif len(words) == 2 and words[0] == "reap":
            pid = int(words[1])
            os.waitpid(pid, 0)
            grandchildren.remove(pid)
            _say({"reaped": pid})
        else:
            _say({"error": f"unknown command {words!r}"})
    for grandchild in grandchildren:  # stdin closed: the test is done with us
        _kill_quietly(grandchild)
        os.waitpid(grandchild, 0)
    sys.exit(0)


if __name__ == "__main__":
    child_main(json.loads(sys.argv[1]))
