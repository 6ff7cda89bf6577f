"""`shmtop list pshm|psem`: POSIX shared memory and named semaphores as plain-text tables."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence

from shmtop.core.posix.actions import refusal
from shmtop.core.posix.model import PosixKind, PosixObject, PosixProcess, PosixSnapshot
from shmtop.core.posix.verdicts import judge
from shmtop.core.snapshot.accounts import user_name
from shmtop.text.report import counted, render_table
from shmtop.text.sanitize import safe_text
from shmtop.text.units import clock, human_size, octal_perms, short_age

TITLES = {PosixKind.SHM: "POSIX shared memory", PosixKind.SEM: "POSIX named semaphores"}
USERS_SHOWN = 3  # processes named in a MAPPED BY / HELD BY cell, then "+N"

_Cell = Callable[[PosixObject, PosixSnapshot], str]


def process_label(processes: Mapping[int, PosixProcess], pid: int) -> str:
    """ "PID command" of a process a POSIX scan found (the queues' table uses it too)."""
    process = processes.get(pid)
    return f"{pid} {safe_text(process.command)}" if process is not None else str(pid)


def _process(snapshot: PosixSnapshot, pid: int) -> str:
    return process_label(snapshot.processes, pid)


def listed(labels: Sequence[str]) -> str:
    """A MAPPED BY / HELD BY / waiters cell: the first USERS_SHOWN labels, then "+N"."""
    if not labels:
        return "-"
    more = len(labels) - USERS_SHOWN
    return ", ".join(labels[:USERS_SHOWN]) + (f" +{more}" if more > 0 else "")


def mapped_by(obj: PosixObject, snapshot: PosixSnapshot) -> str:
    """'12 app rw, 14 cat ro': each mapper once, rw if any of its mappings is writable."""
    labels = []
    for pid in obj.mapper_pids:
        writable = any(m.writable for m in obj.mappings if m.pid == pid)
        labels.append(f"{_process(snapshot, pid)} {'rw' if writable else 'ro'}")
    return listed(labels)


def held_by(obj: PosixObject, snapshot: PosixSnapshot) -> str:
    return listed([_process(snapshot, pid) for pid in obj.holder_pids])


def status(obj: PosixObject, snapshot: PosixSnapshot) -> str:
    """The leak rule's word ('orphan', 'unused', 'unlinked'), and where the name lives when
    it is not in our /dev/shm."""
    verdict = judge(obj, snapshot)
    words = [str(verdict.status)] if verdict.status is not None else []
    if obj.linked and not obj.in_shm_dir:
        words.append("elsewhere")  # a file of another shm mount, or another mount namespace
    return ",".join(words) or "-"


def _value(obj: PosixObject, snapshot: PosixSnapshot) -> str:
    sem = obj.semaphore
    if sem is None or sem.value is None:
        return "?"
    return str(sem.value)


def _waiters(obj: PosixObject, snapshot: PosixSnapshot) -> str:
    sem = obj.semaphore
    return "?" if sem is None or sem.nwaiters is None else str(sem.nwaiters)


def _stated(cell: _Cell) -> _Cell:
    """A cell of what only stat tells: '?' for an object that could not be stat'ed."""
    return lambda o, s: cell(o, s) if o.stat_known else "?"


def _owner(obj: PosixObject, snapshot: PosixSnapshot) -> str:
    return safe_text(user_name(obj.uid))


_COMMON: tuple[tuple[str, _Cell], ...] = (
    ("NAME", lambda o, s: safe_text(o.name)),
    ("OWNER", _stated(_owner)),
    ("PERMS", _stated(lambda o, s: octal_perms(o.mode))),
)
COLUMNS: dict[PosixKind, tuple[tuple[str, _Cell], ...]] = {
    PosixKind.SHM: (
        *_COMMON,
        ("SIZE", lambda o, s: human_size(o.size)),
        ("ALLOC", _stated(lambda o, s: human_size(o.allocated))),
        ("CHANGED", _stated(lambda o, s: short_age(int(max(o.mtime, o.ctime)), s.taken_at))),
        ("STATUS", status),
        ("MAPPED BY", mapped_by),
        ("HELD BY", held_by),
    ),
    PosixKind.SEM: (
        *_COMMON,
        ("VALUE", _value),
        ("NWAITERS", _waiters),  # glibc's count: a hint (a killed waiter never decrements it)
        ("STATUS", status),
        ("MAPPED BY", mapped_by),
    ),
}


def objects_of(snapshot: PosixSnapshot, kind: PosixKind) -> list[PosixObject]:
    """The objects of kind, named ones by name, then the unlinked ones (they hold memory)."""
    chosen = [o for o in snapshot.objects if o.kind is kind]
    return sorted(chosen, key=lambda o: (not o.linked, o.name, o.inode))


Order = Callable[[PosixSnapshot, PosixKind], list[PosixObject]]  # objects_of's kind


def table_lines(snapshot: PosixSnapshot, kind: PosixKind, order: Order | None = None) -> list[str]:
    """The table of one kind, a header line first; order: which objects in which order
    (default objects_of: named by name, then the unlinked)."""
    columns = COLUMNS[kind]
    objects = (order or objects_of)(snapshot, kind)
    rows = [tuple(cell(o, snapshot) for _, cell in columns) for o in objects]
    return render_table([header for header, _ in columns], rows)


def summary_line(snapshot: PosixSnapshot, kind: PosixKind) -> str:
    """'POSIX shared memory (3, 1 unlinked holding 64.0K)'."""
    objects = objects_of(snapshot, kind)
    unlinked = [o for o in objects if not o.linked]
    held = f", {len(unlinked)} unlinked holding {human_size(sum(o.allocated for o in unlinked))}"
    return f"{TITLES[kind]} ({len(objects)}{held if unlinked else ''})"


def blind_spot_note(snapshot: PosixSnapshot) -> str | None:
    """Why a mapper or holder may be missing (None: every process was read)."""
    if snapshot.complete:
        return None
    parts = []
    if snapshot.processes_hidden is not None:
        parts.append(f"processes are hidden ({snapshot.processes_hidden})")
    if snapshot.uninspected:
        count = counted(len(snapshot.uninspected), "process", "processes")
        parts.append(f"{count} could not be inspected (maps or fds unreadable)")
    return (
        "; ".join(parts) + ": mappers and holders may be missing, and nothing is called an orphan"
    )


def plan_lines(snapshot: PosixSnapshot, targets: Sequence[PosixObject], grace: float) -> list[str]:
    """`rm`'s plan: what goes, each with the leak rule's word and evidence (or why not)."""
    rows = []
    for obj in targets:
        verdict = judge(obj, snapshot, grace=grace)
        refused = refusal(obj, snapshot)
        rows.append((
            safe_text(obj.name), _stated(_owner)(obj, snapshot), human_size(obj.size),
            str(verdict.status) if verdict.status is not None else "in use",
            safe_text(f"cannot remove: {refused}" if refused else verdict.reason),
        ))  # fmt: skip
    return render_table(("NAME", "OWNER", "SIZE", "STATUS", "EVIDENCE"), rows)


def _where(obj: PosixObject) -> str:
    if obj.in_shm_dir:
        return "named in /dev/shm"
    if obj.linked:
        return "a file of another shm mount or mount namespace"
    return "unlinked: memory held by its mappers and holders, no name left"


def detail_lines(snapshot: PosixSnapshot, obj: PosixObject) -> list[str]:
    """`show`'s page of one object: identity, owner, times, every mapping with its address
    range, every holder's fd, the leak rule's verdict."""
    verdict = judge(obj, snapshot)
    known = obj.stat_known
    lines = [
        f"{TITLES[obj.kind]} {safe_text(obj.name)}",
        f"  path       {safe_text(obj.path.decode('utf-8', 'replace'))}",
        f"  where      {_where(obj)}",
        f"  identity   device {os.major(obj.dev)}:{os.minor(obj.dev)}, inode {obj.inode}",
        f"  size       {obj.size} bytes ({human_size(obj.size)}), allocated "
        + (f"{obj.allocated} bytes ({human_size(obj.allocated)})" if known else "?"),
        "  owner      " + (f"{_owner(obj, snapshot)} ({obj.uid}), group {obj.gid}, mode "
                           f"{octal_perms(obj.mode)}" if known else "? (could not stat it)"),
    ]  # fmt: skip
    if known:
        lines += [f"  {what:<10} {clock(int(when))}"
                  for what, when in (("changed", obj.ctime), ("modified", obj.mtime),
                                     ("accessed", obj.atime))]  # fmt: skip
    if obj.semaphore is not None:
        sem = obj.semaphore
        lines.append(f"  value      {sem.value}, nwaiters {sem.nwaiters} (a hint)"
                     if sem.value is not None else f"  value      ? ({sem.problem})")  # fmt: skip
    status = f"{verdict.status}: " if verdict.status is not None else ""  # else "in use: ..."
    lines.append(f"  verdict    {status}{safe_text(verdict.reason)}")
    lines.append(f"  mapped by  {counted(len(obj.mappings), 'mapping')}")
    for m in sorted(obj.mappings, key=lambda m: (m.pid, m.start)):
        mode = "rw" if m.writable else "ro"
        where = f"{m.start:x}-{m.end:x} ({human_size(m.size)}) at offset {m.offset}"
        lines.append(f"    {_process(snapshot, m.pid):<24} {mode}  {where}")
    lines.append(f"  held by    {counted(len(obj.holders), 'fd')}")
    for h in sorted(obj.holders, key=lambda h: (h.pid, h.fd)):
        access = ("r" if h.readable else "") + ("w" if h.writable else "")
        lines.append(f"    {_process(snapshot, h.pid):<24} fd {h.fd} ({access or '-'})")
    return lines
