"""The filter and search language of the interactive view: free text and field terms."""

from __future__ import annotations

from argparse import ArgumentTypeError
from collections.abc import Callable
from functools import partial

from msgspec import Struct

from shmtop.core.model import IpcObject, MessageQueue, Owner, Segment, SemaphoreSet, Snapshot
from shmtop.core.verdicts import Status, judge
from shmtop.text.numbers import ipc_key, parse_number
from shmtop.text.report import COVERAGE_FLAGS
from shmtop.text.units import hex_key, octal_perms

STATUS_WORDS = tuple(str(status) for status in Status)  # the orphan rule's words
COVERAGE_WORDS = tuple(COVERAGE_FLAGS.values())  # attachment lists that disagree with nattch
FLAG_WORDS = ("dest", "locked", *STATUS_WORDS, *COVERAGE_WORDS, "unreadable", "waiting",
              "attached")  # fmt: skip
Test = Callable[[IpcObject, Snapshot], bool]
FIELD_NAMES = ("user", "key", "id", "nattch", "perms", "pid", "cmd")


def search_text(obj: IpcObject) -> str:
    """The lower-case text a free-text search looks in: id, key, owner, attached commands
    and their titles."""
    parts = [str(obj.id), hex_key(obj.owner.key), obj.owner.user]
    if isinstance(obj, Segment):
        parts += [f"{a.pid} {a.command} {a.title or ''}" for a in obj.attachments]
    return " ".join(parts).lower()


def owner_matches(owner: Owner, user: str) -> bool:
    """The one rule of `user:` here and of `list --user`: the owner's name in any case,
    or its uid as ASCII digits."""
    word = user.lower()
    if word == owner.user.lower():
        return True
    return word.isascii() and word.isdigit() and int(word) == owner.uid


def _flag(obj: IpcObject, snapshot: Snapshot, word: str) -> bool:
    if word in STATUS_WORDS:
        status = judge(obj, snapshot).status
        return status is not None and str(status) == word
    if isinstance(obj, Segment):
        if word in COVERAGE_WORDS:
            return COVERAGE_FLAGS.get(obj.coverage) == word
        return {"dest": obj.dest, "locked": obj.locked,
                "attached": obj.nattch > 0}.get(word, False)  # fmt: skip
    if isinstance(obj, SemaphoreSet):
        return {"unreadable": obj.semaphores is None,
                "waiting": bool(obj.waiters)}.get(word, False)  # fmt: skip
    return False


def _pids(obj: IpcObject) -> set[int]:
    """The processes an object names; 0 (never sent to, never changed...) is no process."""
    if isinstance(obj, Segment):
        pids = {a.pid for a in obj.attachments} | {obj.cpid, obj.lpid}
    elif isinstance(obj, MessageQueue):
        pids = {obj.lspid, obj.lrpid}
    else:
        pids = {s.pid for s in obj.semaphores or ()}
    return pids - {0}


def _field(obj: IpcObject, snapshot: Snapshot, name: str, value: str) -> bool:
    if name == "user":
        return owner_matches(obj.owner, value)
    if name == "perms":
        return octal_perms(obj.owner.perms) == value.zfill(3)
    if name == "cmd":
        return isinstance(obj, Segment) and any(
            value in a.command.lower() or value in (a.title or "").lower() for a in obj.attachments
        )
    try:  # the command line's numbers: a key is 32 bits, never cut down to them
        number = ipc_key(value) if name == "key" else parse_number(value)
    except (ValueError, ArgumentTypeError):
        return False
    if name == "key":
        return obj.owner.key == number
    if name == "id":
        return obj.id == number
    if name == "nattch":
        return isinstance(obj, Segment) and obj.nattch == number
    return number in _pids(obj)  # pid


def _contains(obj: IpcObject, snapshot: Snapshot, word: str) -> bool:
    return word in search_text(obj)


def _negated(obj: IpcObject, snapshot: Snapshot, test: Test) -> bool:
    return not test(obj, snapshot)


class Filter(Struct, frozen=True):
    """A parsed filter: every term must hold (free words match the search text)."""

    expression: str
    tests: tuple[Test, ...]
    timed: bool = False  # a term (orphan...) can change with time alone: filter again each time

    def __call__(self, obj: IpcObject, snapshot: Snapshot) -> bool:
        return all(test(obj, snapshot) for test in self.tests)

    @property
    def active(self) -> bool:
        return bool(self.tests)


def parse_filter(expression: str) -> Filter:
    """Terms split on spaces: `user:NAME`, `key:0x..`, `id:N`, `nattch:N`, `perms:600`,
    `pid:N`, `cmd:TEXT`, flags (`dest`, `locked`, `orphan`, `unattached`, `unused`,
    `partial`, `inconsistent`, `unreadable`, `waiting`, `attached`), any of them negated
    with a leading `!`, and free words."""
    tests: list[Test] = []
    timed = False
    for raw in expression.lower().split():
        negate = raw.startswith("!") and len(raw) > 1
        term = raw[1:] if negate else raw
        name, colon, value = term.partition(":")
        test: Test
        timed = timed or term in STATUS_WORDS
        if colon and name in FIELD_NAMES:
            test = partial(_field, name=name, value=value)
        elif term in FLAG_WORDS:
            test = partial(_flag, word=term)
        else:
            test = partial(_contains, word=term)
        tests.append(partial(_negated, test=test) if negate else test)
    return Filter(expression.strip(), tuple(tests), timed)
