"""The filter language (text/filtering.py) on POSIX rows (text/posix_columns.py): the TUI's
POSIX tabs and `list pshm|psem|pmq --filter`.

The same terms where they mean the same thing (TERMS says what each means on POSIX rows;
FLAGS which flags each kind takes); a term that means nothing for a kind is a one-line
error saying so: a typo, or a System V habit (key:, dest), must not quietly hide every row.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from shmtop.core.posix.verdicts import judge
from shmtop.core.snapshot.accounts import user_name
from shmtop.text.filtering import (
    COMPARED,
    EXAMPLES,
    FLAG_WORDS,
    OPERATORS,
    Filter,
    FilterError,
    NamespaceName,
    _number,
    namespace_words,
    parse_terms,
    user_matches,
)
from shmtop.text.posix_columns import PosixRow, QueueRow, ShmRow

Test = Callable[[Any, Any], bool]  # (row, the System V snapshot: unused)
# What each term means on POSIX rows (the TUI help's lines; README: Filter terms on POSIX kinds).
TERMS = (
    ("user: perms: ns:", "the owner, permission bits, IPC namespace: every kind"),
    ("pid: cmd:", "a process that maps or holds it (a queue: holds it, or its notify pid)"),
    ("size:", "pshm, psem: its size; pmq: the bytes queued"),
    ("nattch:", "the processes that map it (pshm, psem), hold it open (pmq)"),
    ("age:", "since its last access or change (pmq: its last send or receive)"),
    ("attached unlinked", "mapped or held; unlinked but kept: every kind"),
    ("orphan unused", "the POSIX leak rule's words: pshm, psem"),
    ("waiting", "psem: nwaiters > 0 (a hint); pmq: a blocked sender or receiver"),
    ("key: id: dest locked", "System V only: on a POSIX tab, an error that says so"),
)
SYSTEM_V_ONLY = frozenset({"key", "id"})
PMQ = "pmq"
# The flags a kind takes (the others are System V's, or another kind's).
FLAGS = {
    "pshm": frozenset({"attached", "unlinked", "orphan", "unused"}),
    "psem": frozenset({"attached", "unlinked", "orphan", "unused", "waiting", "unreadable"}),
    PMQ: frozenset({"attached", "unlinked", "waiting"}),
}
ALL_FLAGS = frozenset(FLAG_WORDS) | {"unlinked"}


def _not_for(kind: str, term: str) -> FilterError:
    if term.rstrip(":") in SYSTEM_V_ONLY:
        why = "a POSIX object has a name, no key or id: use a word of its name"
    else:
        takes = " ".join(sorted(FLAGS[kind]))
        others = [k for k, flags in FLAGS.items() if term in flags]
        whose = f"a flag of {' and '.join(others)}" if others else "a System V flag"
        why = f"{whose} ({kind} takes {takes})"
    return FilterError(f"{term} does not apply to {kind}: {why}")


def _users(row: PosixRow) -> set[int]:
    if isinstance(row, QueueRow):
        return {*row.queue.holder_pids, row.queue.entry.state.notify_pid} - {0}
    return {*row.obj.mapper_pids, *row.obj.holder_pids}


def _commands(row: PosixRow) -> list[str]:
    processes = row.scan.processes
    return [processes[p].command.lower() for p in _users(row) if p in processes]


def _owner(row: PosixRow) -> tuple[int, bool]:
    if isinstance(row, QueueRow):
        return row.queue.entry.uid, True
    return row.obj.uid, row.obj.stat_known


def _measure(row: PosixRow, name: str) -> float | None:
    if isinstance(row, QueueRow):
        entry = row.queue.entry
        if name == "size":
            return entry.state.qsize
        if name == "nattch":
            return len(row.queue.holder_pids)
        if name == "perms":
            return entry.mode & 0o7777
        return max(row.scan.taken_at - entry.mtime, 0.0)  # age
    obj = row.obj
    if name in ("perms", "age") and not obj.stat_known:
        return None  # unknown: matches neither way
    if name == "size":
        return obj.size
    if name == "nattch":
        return len(obj.mapper_pids)
    if name == "perms":
        return obj.mode & 0o7777
    return judge(obj, row.scan).idle  # age


def _compare(row: PosixRow, _snap: Any, name: str, test: Callable[[float, float], bool],
             number: float) -> bool:  # fmt: skip
    measured = _measure(row, name)
    return measured is not None and test(measured, number)


def _user_is(row: PosixRow, _snap: Any, user: str) -> bool:
    uid, known = _owner(row)
    return known and user_matches(user_name(uid), uid, user)


def _cmd_is(row: PosixRow, _snap: Any, word: str) -> bool:
    return any(word in command for command in _commands(row))


def _pid_is(row: PosixRow, _snap: Any, pid: int) -> bool:
    return pid in _users(row)


def _ns_is(row: PosixRow, snap: Any, value: str, name_of: NamespaceName | None) -> bool:
    # A row of the caller's namespace alone (no -A) is in the System V snapshot's namespace.
    inode = row.inode or getattr(snap, "ipc_namespace", 0)
    name = row.ns_name or (name_of(inode) if name_of is not None else None)
    return value in namespace_words(inode, name)


def _flag(row: PosixRow, _snap: Any, word: str) -> bool:
    if isinstance(row, QueueRow):
        queue = row.queue
        return {"attached": bool(queue.holders), "unlinked": not queue.linked,
                "waiting": bool(queue.waiters)}[word]  # fmt: skip
    obj = row.obj
    sem = obj.semaphore
    if word == "attached":
        return obj.in_use
    if word == "waiting":
        return sem is not None and bool(sem.nwaiters)
    if word == "unreadable":
        return sem is None or sem.value is None
    status = judge(obj, row.scan).status
    return status is not None and str(status) == word


def _contains(row: PosixRow, _snap: Any, word: str, text: Callable[[PosixRow], str]) -> bool:
    return word in text(row)


def _field(kind: str, name: str, value: str, name_of: NamespaceName | None) -> Test:
    if name in SYSTEM_V_ONLY:
        raise _not_for(kind, f"{name}:")
    if not value:
        raise FilterError(f"{name}: needs a value, e.g. {EXAMPLES}")
    if name == "ns":
        return partial(_ns_is, value=value, name_of=name_of)
    if name == "user":
        return partial(_user_is, user=value)
    if name == "cmd":
        return partial(_cmd_is, word=value)
    sign = next((op for op in OPERATORS if value.startswith(op)), "")
    if sign and name not in COMPARED:
        raise FilterError(f"{name}: takes no {sign}; only {', '.join(sorted(COMPARED))} compare")
    number = _number(name, value[len(sign) :], value)
    if name == "pid":
        return partial(_pid_is, pid=int(number))
    return partial(_compare, name=name, test=OPERATORS[sign or "="], number=number)


def parse_posix_filter(
    expression: str, kind: str, text: Callable[[PosixRow], str],
    name_of: NamespaceName | None = None,
) -> Filter:  # fmt: skip
    """The filter of kind's rows (pshm, psem, pmq); free words look in text(row) (the row's
    cells). FilterError (one line) for a term the kind does not take (module docstring)."""

    def flag(word: str) -> Test | None:
        if word not in ALL_FLAGS:
            return None
        if word not in FLAGS[kind]:
            raise _not_for(kind, word)
        return partial(_flag, word=word)

    return parse_terms(
        expression,
        field=lambda name, value: _field(kind, name, value, name_of),
        flag=flag,
        contains=lambda word: partial(_contains, word=word, text=text),
    )


def row_text(row: ShmRow | QueueRow) -> str:
    """What a free word looks in outside a table (list): name, owner, users' commands, pids."""
    if isinstance(row, QueueRow):
        name, uid = row.queue.name, row.queue.entry.uid
    else:
        name, uid = row.obj.name, row.obj.uid
    pids = " ".join(str(p) for p in sorted(_users(row)))
    return " ".join([name, user_name(uid), pids, *_commands(row)]).lower()
