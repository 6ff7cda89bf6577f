"""What the benchmarks read from /proc: a process's stat, command and memory, the CPU load."""

from __future__ import annotations

import os
import signal
import time
from contextlib import suppress

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KIB_PER_MIB = 1024


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


def alive(pid: int, ticks: int) -> bool:
    """Whether the process that started at `ticks` still runs under this PID."""
    try:
        fields = read_stat(pid)
        return fields[0] not in ("Z", "X") and int(fields[19]) == ticks
    except (OSError, IndexError, ValueError):
        return False


def wait_gone(pid: int, ticks: int, timeout: float) -> None:
    """Wait for a process that is not our child to exit; SIGKILL it if it does not."""
    deadline = time.monotonic() + timeout
    while alive(pid, ticks) and time.monotonic() < deadline:
        time.sleep(0.02)
    if alive(pid, ticks):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        while alive(pid, ticks) and time.monotonic() < deadline + timeout:
            time.sleep(0.02)


def command_of(pid: int) -> tuple[str, list[str]]:
    with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as file:
        comm = file.read().strip()
    with open(f"/proc/{pid}/cmdline", "rb") as file:
        argv = [a.decode(errors="replace") for a in file.read().split(b"\0") if a]
    return comm, argv


def memory_mib(pid: int | str = "self") -> dict[str, float]:
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


def loadavg() -> str:
    with open("/proc/loadavg", encoding="ascii") as file:
        return " ".join(file.read().split()[:3])
