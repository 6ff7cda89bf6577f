"""The filter and search language of the interactive view: free text and field terms."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from shmtop.ipc.model import IpcObject, MessageQueue, Segment, SemaphoreSet

FLAG_WORDS = ("dest", "locked", "orphan", "unreadable", "waiting", "attached")
FIELD_NAMES = ("user", "key", "id", "nattch", "perms", "pid", "cmd")


def search_text(obj: IpcObject) -> str:
    """The lower-case text a free-text search looks in: id, key, owner, attached commands
    and their titles."""
    parts = [str(obj.id), f"0x{obj.owner.key:08x}", obj.owner.user]
    if isinstance(obj, Segment):
        parts += [f"{a.pid} {a.command} {a.title or ''}" for a in obj.attachments]
    return " ".join(parts).lower()


def _flag(obj: IpcObject, word: str) -> bool:
    if isinstance(obj, Segment):
        return {"dest": obj.dest, "locked": obj.locked, "orphan": obj.orphan,
                "attached": obj.nattch > 0}.get(word, False)  # fmt: skip
    if isinstance(obj, SemaphoreSet):
        return {"unreadable": obj.semaphores is None,
                "waiting": bool(obj.waiters)}.get(word, False)  # fmt: skip
    return False


def _pids(obj: IpcObject) -> set[int]:
    if isinstance(obj, Segment):
        return {a.pid for a in obj.attachments} | {obj.cpid, obj.lpid}
    if isinstance(obj, MessageQueue):
        return {obj.lspid, obj.lrpid}
    return {s.pid for s in obj.semaphores or ()}


def _field(obj: IpcObject, name: str, value: str) -> bool:
    if name == "user":
        return value in (obj.owner.user.lower(), str(obj.owner.uid))
    if name == "perms":
        return f"{obj.owner.perms:03o}" == value.zfill(3)
    if name == "cmd":
        return isinstance(obj, Segment) and any(
            value in a.command.lower() or value in (a.title or "").lower() for a in obj.attachments
        )
    try:
        number = int(value, 0)
    except ValueError:
        return False
    if name == "key":
        return obj.owner.key == number & 0xFFFFFFFF
    if name == "id":
        return obj.id == number
    if name == "nattch":
        return isinstance(obj, Segment) and obj.nattch == number
    return number in _pids(obj)  # pid


def _contains(obj: IpcObject, word: str) -> bool:
    return word in search_text(obj)


def _negated(obj: IpcObject, test: Callable[[IpcObject], bool]) -> bool:
    return not test(obj)


@dataclass(frozen=True, slots=True)
class Filter:
    """A parsed filter: every term must hold (free words match the search text)."""

    expression: str
    tests: tuple[Callable[[IpcObject], bool], ...]

    def __call__(self, obj: IpcObject) -> bool:
        return all(test(obj) for test in self.tests)

    @property
    def active(self) -> bool:
        return bool(self.tests)


def parse_filter(expression: str) -> Filter:
    """Terms split on spaces: `user:NAME`, `key:0x..`, `id:N`, `nattch:N`, `perms:600`,
    `pid:N`, `cmd:TEXT`, flags (`dest`, `locked`, `orphan`, `unreadable`, `waiting`,
    `attached`), any of them negated with a leading `!`, and free words."""
    tests: list[Callable[[IpcObject], bool]] = []
    for raw in expression.lower().split():
        negate = raw.startswith("!") and len(raw) > 1
        term = raw[1:] if negate else raw
        name, colon, value = term.partition(":")
        test: Callable[[IpcObject], bool]
        if colon and name in FIELD_NAMES:
            test = partial(_field, name=name, value=value)
        elif term in FLAG_WORDS:
            test = partial(_flag, word=term)
        else:
            test = partial(_contains, word=term)
        tests.append(partial(_negated, test=test) if negate else test)
    return Filter(expression.strip(), tuple(tests))
