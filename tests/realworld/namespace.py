"""A server in a private IPC and PID namespace, and commands run inside it (nsenter)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

import helpers
import psutil
import pytest

from realworld.truth_model import Truth

HERE = Path(__file__).parent
NSINIT = HERE / "nsinit.py"
TRUTH = HERE / "truth.py"
REQUIRE_ENV = "SHMTOP_REQUIRE_REALWORLD"
# A bound for one command inside the namespace, not a measurement.
COMMAND_TIMEOUT = 60.0


def unavailable(reason: str) -> NoReturn:
    """Skip, or fail where CI requires the real software (SHMTOP_REQUIRE_REALWORLD=1)."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: the realworld tests must run here)")
    pytest.skip(reason)


def require_namespace_tools() -> None:
    if os.geteuid() != 0:
        unavailable("realworld tests need root (unshare --ipc --pid, servers as other users)")
    for tool in ("unshare", "nsenter"):
        if shutil.which(tool) is None:
            unavailable(f"realworld tests need util-linux's {tool}")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _namespace_of(pid: int, kind: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/{kind}").st_ino
    except OSError:
        return None


class Namespace:
    """One server as the only child of a PID 1 (nsinit.py) in fresh IPC, PID and mount namespaces.

    The mount namespace exists only for a private /proc (the namespace's pids). Closing it
    ends PID 1, and the kernel kills whatever is left inside.
    """

    def __init__(
        self, command: Sequence[str], *, user: str | None = None, log: Path | None = None
    ) -> None:
        as_user = ["--user", user] if user is not None else []
        as_user += ["--log", str(log)] if log is not None else []
        self._unshare = subprocess.Popen(
            ["unshare", "--ipc", "--pid", "--fork", "--mount-proc", "--kill-child",
             sys.executable, "-I", str(NSINIT), *as_user, "--", *command],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/",
        )  # fmt: skip
        self._lines: list[str] = []
        self._changed = threading.Condition()
        threading.Thread(target=self._read_init, daemon=True).start()
        try:
            started = self.wait_line("started ")
            self.server_pid = int(started.split()[1])  # as the namespace numbers it
            self.init_pid = self._find_init()  # as we number it: nsenter's target
            self.ipc_ns = _namespace_of(self.init_pid, "ipc")
            self.pid_ns = _namespace_of(self.init_pid, "pid")
            if self.ipc_ns is None or self.ipc_ns == _namespace_of(os.getpid(), "ipc"):
                raise RuntimeError("the server did not get a private IPC namespace")
        except BaseException:
            self._unshare.kill()  # --kill-child: PID 1 and the namespace go with it
            self._unshare.wait(helpers.PATIENCE)
            raise

    def _read_init(self) -> None:
        assert self._unshare.stdout is not None
        for raw in self._unshare.stdout:
            with self._changed:
                self._lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._lines.append("closed")
            self._changed.notify_all()

    def wait_line(self, prefix: str, patience: float = helpers.PATIENCE) -> str:
        """The first line PID 1 printed that starts with prefix (waiting for it)."""

        def found() -> str | None:
            return next((line for line in self._lines if line.startswith(prefix)), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() or "closed" in self._lines, patience):
                raise TimeoutError(f"the namespace's PID 1 did not say {prefix!r}")
            line = found()
        if line is None:
            raise RuntimeError(f"the namespace's PID 1 ended before saying {prefix!r}")
        return line

    def server_exited(self) -> bool:
        with self._changed:
            return any(line.startswith(f"exited {self.server_pid} ") for line in self._lines)

    def _find_init(self) -> int:
        pids = [child.pid for child in psutil.Process(self._unshare.pid).children()]
        if len(pids) != 1:
            raise RuntimeError(f"unshare has {len(pids)} children, expected its PID 1")
        return pids[0]

    # ---- inside ----

    def run(
        self, command: Sequence[str], *, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the namespace's IPC, PID and mount namespaces (its own /proc)."""
        done = subprocess.run(
            ["nsenter", "-t", str(self.init_pid), "--ipc", "--pid", "--mount", "--", *command],
            capture_output=True, text=True, timeout=COMMAND_TIMEOUT, cwd="/", check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(command)} exited {done.returncode} in the namespace: {done.stderr}"
            )
        return done

    def shmtop(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The shmtop under test (this interpreter's), run inside the namespace."""
        return self.run([sys.executable, "-m", "shmtop", *args], check=check)

    def shmtop_json(self, *args: str) -> Any:
        return json.loads(self.shmtop(*args, "--json").stdout)

    def truth(self) -> Truth:
        """What /proc inside the namespace says now, read by the test's own script."""
        return Truth.from_json(json.loads(self.run([sys.executable, "-I", str(TRUTH)]).stdout))

    # ---- the end ----

    def finish(self, stop: Sequence[str]) -> list[str]:
        """Stop the server with its own command, check nothing of it is left, end the namespace.

        Returns what was wrong (empty when all is well): a process or an IPC object the server
        left in the namespace after it stopped, or a process alive after the namespace ended.
        """
        problems = []
        try:
            self.run(stop)
            helpers.wait_until(self.server_exited, "the server exits after its stop command")
            after = self.truth()
            stray = [f"{p.pid} ({p.title})" for p in after.processes.values() if p.pid != 1]
            if stray:
                problems.append(f"processes left after the stop: {', '.join(stray)}")
            for kind, table in (("shm", after.shm), ("sem", after.sem), ("msg", after.msg)):
                if table:
                    problems.append(f"{kind} objects left after the stop: {sorted(table)}")
        finally:
            left = self.close()
        if left:
            problems.append(f"processes alive after the namespace ended: {left}")
        return problems

    def close(self) -> list[int]:
        """End PID 1 (so the namespace and everything in it), reap; return our pids of any left.

        The processes are told apart by pid and start time, read before the end: a namespace's
        inode number may be handed to a new namespace once this one is gone.
        """
        members = self._members()
        if self._unshare.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._unshare.stdin.close()
        try:
            self._unshare.wait(helpers.PATIENCE)
        except subprocess.TimeoutExpired:
            self._unshare.kill()  # --kill-child: PID 1 then gets SIGKILL, and the rest with it
            self._unshare.wait(helpers.PATIENCE)
        if self._unshare.stdout is not None:
            self._unshare.stdout.close()
        return sorted(pid for pid, start in members.items() if _start_time(pid) == start)

    def _members(self) -> dict[int, int]:
        """Our pid -> start time of every process in the namespace's IPC or PID namespace."""
        found = {}
        for name in os.listdir("/proc"):
            if not name.isdigit():
                continue
            pid = int(name)
            if _namespace_of(pid, "ipc") == self.ipc_ns or _namespace_of(pid, "pid") == self.pid_ns:
                start = _start_time(pid)
                if start is not None:
                    found[pid] = start
        return found


def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks (field 22 of /proc/PID/stat), None if gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return int(stat[stat.rindex(b")") + 2 :].split()[19])
