"""Pure parsers of /proc text: /proc/sysvipc/* tables and /proc/PID/maps lines."""

from __future__ import annotations

import re
from dataclasses import dataclass

SYSVIPC_DIR = "/proc/sysvipc"
OCTAL_COLUMNS = frozenset({"perms"})

# start-end perms offset major:minor inode path
_MAPS_LINE = re.compile(
    r"^([0-9a-f]+)-([0-9a-f]+) ([r-])([w-])[x-]([sp]) [0-9a-f]+ "
    r"([0-9a-f]+):([0-9a-f]+) (\d+) +(.*)$"
)
_SYSV_NAME = re.compile(r"^/SYSV[0-9a-f]{8}(?: \(deleted\))?$")


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


@dataclass(frozen=True, slots=True)
class SysvMapping:
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
    match = _MAPS_LINE.match(line.rstrip("\n"))
    if match is None:
        return None
    start, end, r, w, shared, major, minor, inode, path = match.groups()
    if shared != "s" or int(major, 16) != 0 or not _SYSV_NAME.match(path):
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
