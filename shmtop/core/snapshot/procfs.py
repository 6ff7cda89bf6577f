"""Pure parsers of /proc text: /proc/sysvipc/* tables and /proc/PID/maps lines."""

from __future__ import annotations

import functools
import re

import msgspec

SYSVIPC_DIR = "/proc/sysvipc"
OCTAL_COLUMNS = frozenset({"perms"})

# start-end perms offset major:minor inode path
_MAPS_LINE = (
    r"^([0-9a-f]+)-([0-9a-f]+) ([r-])([w-])[x-]([sp]) [0-9a-f]+ "
    r"([0-9a-f]+):([0-9a-f]+) (\d+) +(.*)$"
)
_SYSV_NAME = r"^/SYSV[0-9a-f]{8}(?: \(deleted\))?$"


@functools.cache
def _maps_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The maps line's and a segment's name's patterns, compiled at the first parse (the C
    readers parse maps; compiling these cost every command's imports ~0.8 ms)."""
    return re.compile(_MAPS_LINE), re.compile(_SYSV_NAME)


def header_columns(table: bytes | str) -> list[str]:
    """Column names of a /proc/sysvipc table (its first line)."""
    text = table.decode("ascii") if isinstance(table, bytes) else table
    return text.split("\n", 1)[0].split()


def column_bases(columns: list[str]) -> list[int]:
    """Number base of each column: perms are printed in octal, the rest in decimal."""
    return [8 if name in OCTAL_COLUMNS else 10 for name in columns]


def parse_sysvipc(table: str) -> list[dict[str, int]]:
    """Rows of a /proc/sysvipc/{shm,sem,msg} table as {column: value}.

    Parsed by header name, so a kernel with fewer columns (no rss/swap before
    Linux 4.x) or more columns still parses. Keys are printed signed: they are
    masked to unsigned 32 bits here.
    """
    lines = table.splitlines()
    if not lines:
        return []
    columns = lines[0].split()
    bases = column_bases(columns)
    rows = []
    for line in lines[1:]:
        fields = line.split()
        if not fields:
            continue
        if len(fields) < len(columns):
            raise ValueError(f"short /proc/sysvipc line: {line!r}")
        # Extra fields of a newer kernel's line are ignored: parse by header.
        values = zip(columns, fields, bases, strict=False)
        row = {name: int(text, base) for name, text, base in values}
        if "key" in row:
            row["key"] &= 0xFFFFFFFF
        rows.append(row)
    return rows


class SysvMapping(msgspec.Struct, frozen=True, gc=False):
    """A System V segment mapped into a process, from one maps line."""

    start: int
    end: int
    readable: bool
    writable: bool
    device: tuple[int, int]
    shmid: int  # the inode column *is* the shmid; the name keeps a stale key


def parse_sysv_mapping(line: str) -> SysvMapping | None:
    """The System V mapping one /proc/PID/maps line describes, or None.

    A segment shows as `/SYSV%08x (deleted)` on an internal (major 0) device,
    shared. The name is only a filter: the join is on the inode.
    """
    maps_line, sysv_name = _maps_patterns()
    match = maps_line.match(line.rstrip("\n"))
    if match is None:
        return None
    start, end, r, w, shared, major, minor, inode, path = match.groups()
    if shared != "s" or int(major, 16) != 0 or not sysv_name.match(path):
        return None
    return SysvMapping(
        start=int(start, 16),
        end=int(end, 16),
        readable=r == "r",
        writable=w == "w",
        device=(int(major, 16), int(minor, 16)),
        shmid=int(inode),
    )


def parse_sysv_mappings(maps: str) -> list[SysvMapping]:
    """Every System V mapping of a whole maps file."""
    return [m for line in maps.splitlines() if (m := parse_sysv_mapping(line)) is not None]


def read_sysvipc(kind: str, root: str = SYSVIPC_DIR) -> bytes:
    """Raw bytes of /proc/sysvipc/<kind> (mode 0444: every object of our namespace)."""
    with open(f"{root}/{kind}", "rb") as table:
        return table.read()


# ---- /proc/PID/task/TID/syscall ----

# The System V IPC calls a thread can block in, by platform.machine(). arm64
# and riscv64 use the asm-generic table; x86_64 has both semop and semtimedop
# (glibc's semop() is semtimedop).
_X86_64_IPC = {"semop": 65, "semtimedop": 220, "msgsnd": 69, "msgrcv": 70}
_GENERIC_IPC = {"semtimedop": 192, "semop": 193, "msgsnd": 189, "msgrcv": 188}
IPC_SYSCALLS: dict[str, dict[str, int]] = {
    "x86_64": _X86_64_IPC, "amd64": _X86_64_IPC,
    "aarch64": _GENERIC_IPC, "arm64": _GENERIC_IPC, "riscv64": _GENERIC_IPC,
}  # fmt: skip


def ipc_syscalls(machine: str) -> dict[int, str] | None:
    """System call number -> name of the blocking IPC calls on machine, or None if unknown."""
    table = IPC_SYSCALLS.get(machine.lower())
    return None if table is None else {number: name for name, number in table.items()}


class TaskSyscall(msgspec.Struct, frozen=True, gc=False):
    """A thread inside a system call, as /proc/PID/task/TID/syscall shows it."""

    number: int
    args: tuple[int, int, int, int, int, int]  # raw register values, unsigned
    stack_pointer: int
    program_counter: int


def parse_task_syscall(line: str) -> TaskSyscall | None:
    """The system call a thread is in; None when it runs or is blocked outside one.

    The kernel writes "running", "-1 SP PC" (not in a system call), or
    "NR A0 A1 A2 A3 A4 A5 SP PC" with the arguments in hex.
    """
    fields = line.split()
    if not fields or fields[0] == "running":
        return None
    number = int(fields[0])
    if number < 0:
        return None
    if len(fields) != 9:
        raise ValueError(f"a syscall line has {len(fields)} fields, not 9: {line!r}")
    a0, a1, a2, a3, a4, a5, sp, pc = (int(text, 16) for text in fields[1:])
    return TaskSyscall(number, (a0, a1, a2, a3, a4, a5), sp, pc)
