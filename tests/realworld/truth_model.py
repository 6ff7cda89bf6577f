"""The ground truth truth.py printed, as typed records and the sets the tests compare."""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

# The kernel's numbers for the semaphore waits (/proc/PID/task/TID/syscall's first field).
SEMOP_SYSCALLS: dict[str, frozenset[int]] = {
    "x86_64": frozenset({65, 220}),  # semop, semtimedop
    "aarch64": frozenset({192, 193}),  # asm-generic: semtimedop, semop
    "riscv64": frozenset({192, 193}),
}

# (pid, shmid, start, end, access): one mapping of a segment in one process.
Mapping = tuple[int, int, int, int, str]


# shmtop reads this much of /proc/PID/cmdline (its README says so); a postmaster's
# command line with all its -c options is longer.
TITLE_BYTES = 256


def title_of(cmdline: bytes) -> str:
    """A process title as the tests expect it: the first TITLE_BYTES of the command line,
    NULs as spaces, trailing whitespace trimmed."""
    return cmdline[:TITLE_BYTES].replace(b"\0", b" ").decode("utf-8", "replace").rstrip()


@dataclass(frozen=True)
class ProcessTruth:
    pid: int
    cmdline: bytes
    euid: int
    mappings: tuple[Mapping, ...]
    syscalls: dict[int, str]  # tid -> the syscall line

    @property
    def title(self) -> str:
        return title_of(self.cmdline)


def _sysvipc_row(row: dict[str, str]) -> dict[str, int]:
    values = {name: int(text, 8 if name == "perms" else 10) for name, text in row.items()}
    values["key"] &= 0xFFFFFFFF  # printed signed; shmtop and ipcs show it unsigned
    return values


@dataclass(frozen=True)
class Truth:
    processes: dict[int, ProcessTruth]
    shm: dict[int, dict[str, int]]  # shmid -> its /proc/sysvipc/shm row
    sem: dict[int, dict[str, int]]
    msg: dict[int, dict[str, int]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Truth:
        processes = {}
        for name, facts in data["processes"].items():
            pid = int(name)
            mappings = tuple(
                (pid, m["shmid"], m["start"], m["end"], m["access"]) for m in facts["mappings"]
            )
            syscalls = {int(tid): line for tid, line in facts["syscalls"].items()}
            processes[pid] = ProcessTruth(
                pid, bytes.fromhex(facts["cmdline_hex"]), facts["euid"], mappings, syscalls
            )
        tables = {
            kind: {int(row[column]): _sysvipc_row(row) for row in data[kind]}
            for kind, column in (("shm", "shmid"), ("sem", "semid"), ("msg", "msqid"))
        }
        return cls(processes, tables["shm"], tables["sem"], tables["msg"])

    def attachments(self) -> frozenset[Mapping]:
        return frozenset(m for p in self.processes.values() for m in p.mappings)

    def sem_waiters(self) -> dict[tuple[int, int], int]:
        """(pid, tid) -> semid of every thread blocked in semop/semtimedop."""
        numbers = SEMOP_SYSCALLS[platform.machine()]
        found = {}
        for process in self.processes.values():
            for tid, line in process.syscalls.items():
                fields = line.split()
                if fields and fields[0].isdigit() and int(fields[0]) in numbers:
                    found[process.pid, tid] = int(fields[1], 16)
        return found

    def with_title(self, prefix: str) -> list[int]:
        """The pids whose title starts with prefix."""
        return sorted(p.pid for p in self.processes.values() if p.title.startswith(prefix))
