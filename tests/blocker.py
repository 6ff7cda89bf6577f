"""Child processes that block in semop, semtimedop, msgsnd, msgrcv or poll, for the waiter tests."""

# Run as a script (python blocker.py NAME PARENT_PID) this file *is* the child:
# it names itself, dies with its parent, reports {"pid": ...} and then runs one
# JSON command a line from stdin, answering one JSON line when the call returns
# (a blocking call answers only once it is released). The test side (Blockers)
# starts them, optionally as user nobody, and kills every one by PID and reaps it.

from __future__ import annotations

import ctypes
import errno
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

from shmtop.core.binding import native
from shmtop.core.binding._native import ffi, lib

PATIENCE = 30.0
NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15
X86_64_SEMOP = 65  # the plain semop system call (glibc's semop() uses semtimedop)


# ---- the test side ----


@dataclass
class Blocker:
    """A running child and the pipe ends to talk to it."""

    process: subprocess.Popen[bytes]
    name: str
    pending: bytes = b""

    @property
    def pid(self) -> int:
        return self.process.pid

    def send(self, **command: Any) -> None:
        """Start a call in the child; it answers when the call returns (see answer)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        self.process.stdin.flush()

    def answer(self, patience: float = PATIENCE) -> dict[str, Any]:
        """The next answer line, waited for with a bound (select), never a sleep."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + patience
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError(f"{self.name} ({self.pid}) gave no answer in {patience:.0f} s")
            chunk = os.read(fd, 4096)
            if not chunk:
                assert self.process.stderr is not None
                raise EOFError(f"{self.name} ended: {self.process.stderr.read().decode()}")
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        result: dict[str, Any] = json.loads(line)
        return result

    def call(self, **command: Any) -> dict[str, Any]:
        """A call that must not block: send it and wait for its answer."""
        self.send(**command)
        return self.answer()

    def stop(self) -> None:
        """SIGKILL by PID and reap."""
        if self.process.poll() is None:
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=PATIENCE)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@dataclass
class Blockers:
    """Starts blockers; stop_all() ends them all by PID (the fixtures call it)."""

    started: list[Blocker] = field(default_factory=list)

    def start(
        self, name: str = "shmtop-blk", *, as_nobody: bool = False, within: Sequence[str] = ()
    ) -> Blocker:
        """within: what runs it (nsenter into another namespace), before the user change."""
        prefix: Sequence[str] = [*within, *(NOBODY if as_nobody else ())]
        env = {**os.environ, "PYTHONPATH": ROOT}
        process = subprocess.Popen(
            [*prefix, sys.executable, os.path.abspath(__file__), name, str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=env, close_fds=True, cwd="/",
        )  # fmt: skip
        blocker = Blocker(process, name)
        self.started.append(blocker)
        assert blocker.answer()["pid"] == process.pid
        return blocker

    def stop_all(self) -> None:
        errors = []
        for blocker in reversed(self.started):
            try:
                blocker.stop()
            except Exception as error:  # end the others anyway, then report
                errors.append(error)
        self.started.clear()
        if errors:
            raise errors[0]


@contextmanager
def blockers() -> Iterator[Blockers]:
    started = Blockers()
    try:
        yield started
    finally:
        started.stop_all()


def accept_mutex(
    make_sem: Callable[[int], int], kids: Blockers, *, undo: bool
) -> tuple[int, Blocker, list[Blocker]]:
    """Apache prefork's `Mutex sysvsem`, idle: a set of one semaphore taken by a holder (with
    or without SEM_UNDO) that then sits in poll, and three children blocked in
    semop(0, -1, SEM_UNDO) on it. Returns the set, the holder and the children."""
    semid = make_sem(1)
    native.sem_setall(semid, [1])
    holder = kids.start("shmtop-holder")
    taken = holder.call(call="semop", semid=semid, ops=[[0, -1, native.SEM_UNDO if undo else 0]])
    assert taken == {"ok": True}
    holder.send(call="poll", seconds=600)
    waiting = [kids.start(f"shmtop-child{n}") for n in range(3)]
    for child in waiting:
        child.send(call="semop", semid=semid, ops=[[0, -1, native.SEM_UNDO]])
    return semid, holder, waiting


def deadlock(make_sem: Callable[[int], int], kids: Blockers) -> tuple[int, Blocker, Blocker]:
    """Two children in a deadlock on a new set of two semaphores: shmtop-first holds
    semaphore 0 and waits for 1, shmtop-second holds 1 and waits for 0 (all with SEM_UNDO, so
    killing one frees the other). Returns the set and the two children."""
    semid = make_sem(2)
    native.sem_setall(semid, [1, 1])
    first, second = kids.start("shmtop-first"), kids.start("shmtop-second")
    assert first.call(call="semop", semid=semid, ops=[[0, -1, native.SEM_UNDO]]) == {"ok": True}
    assert second.call(call="semop", semid=semid, ops=[[1, -1, native.SEM_UNDO]]) == {"ok": True}
    first.send(call="semop", semid=semid, ops=[[1, -1, native.SEM_UNDO]])
    second.send(call="semop", semid=semid, ops=[[0, -1, native.SEM_UNDO]])
    return semid, first, second


# ---- the child side ----


def _run(libc: ctypes.CDLL, command: dict[str, Any]) -> dict[str, Any]:
    call = command["call"]
    try:
        if call == "semop":
            native.semop(command["semid"], [tuple(op) for op in command["ops"]])
        elif call == "semtimedop":
            ops = command["ops"]
            sops = ffi.new("struct sembuf[]", len(ops))
            for slot, (num, op, flags) in zip(sops, ops, strict=True):
                slot.sem_num, slot.sem_op, slot.sem_flg = num, op, flags
            timeout = ffi.new("struct timespec *")
            timeout.tv_sec = command["seconds"]
            if lib.semtimedop(command["semid"], sops, len(ops), timeout) < 0:
                raise OSError(ffi.errno, "semtimedop")
        elif call == "raw_semop":
            ops = command["ops"]
            array = (ctypes.c_short * (3 * len(ops)))(*[n for op in ops for n in op])
            result = libc.syscall(ctypes.c_long(X86_64_SEMOP), ctypes.c_long(command["semid"]),
                                  array, ctypes.c_long(len(ops)))  # fmt: skip
            if result < 0:
                raise OSError(ctypes.get_errno(), "semop")
        elif call == "msgrcv":
            mtype, data = native.msgrcv(command["msqid"], command["size"], command["type"],
                                        command.get("flags", 0))  # fmt: skip
            return {"ok": True, "type": mtype, "data": data.hex()}
        elif call == "poll":  # sit alive in poll(2), as an idle server's holder does
            select.poll().poll(command["seconds"] * 1000)
        elif call == "msgsnd":
            native.msgsnd(command["msqid"], command["type"], bytes.fromhex(command["data"]),
                          command.get("flags", 0))  # fmt: skip
        else:
            return {"error": f"unknown call {call!r}"}
    except OSError as error:
        return {"ok": False, "errno": error.errno, "name": errno.errorcode.get(error.errno or 0)}
    return {"ok": True}


def child_main(name: str, parent: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)
    libc.prctl(_PR_SET_NAME, name.encode(), 0, 0, 0)
    print(json.dumps({"pid": os.getpid()}), flush=True)
    for line in sys.stdin:
        print(json.dumps(_run(libc, json.loads(line))), flush=True)


if __name__ == "__main__":
    child_main(sys.argv[1], int(sys.argv[2]))
