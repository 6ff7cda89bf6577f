"""The filter and search language of the interactive view: free text and field terms."""

from __future__ import annotations

import operator
import re
from argparse import ArgumentTypeError
from collections.abc import Callable
from functools import partial

from msgspec import Struct

from shmtop.core.model import IpcObject, MessageQueue, Owner, Segment, SemaphoreSet, Snapshot
from shmtop.core.verdicts import Status, judge, parse_duration
from shmtop.text.numbers import ipc_key, parse_number
from shmtop.text.report import COVERAGE_FLAGS
from shmtop.text.units import hex_key
from shmtop.text.view_input import parse_number as parse_size

STATUS_WORDS = tuple(str(status) for status in Status)  # the orphan rule's words
COVERAGE_WORDS = tuple(COVERAGE_FLAGS.values())  # attachment lists that disagree with nattch
FLAG_WORDS = ("dest", "locked", *STATUS_WORDS, *COVERAGE_WORDS, "unreadable", "waiting",
              "attached")  # fmt: skip
Test = Callable[[IpcObject, Snapshot], bool]
FIELD_NAMES = ("user", "key", "id", "nattch", "size", "age", "perms", "pid", "cmd", "ns")
NamespaceName = Callable[[int], "str | None"]  # an IPC namespace's inode -> its name
COMPARED = frozenset({"id", "nattch", "size", "age", "perms"})  # take >, <, >=, <=, =
OPERATORS = {  # the two-character ones first: ">=0" is not ">" and "=0"
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "=": operator.eq,
}
_FIELD_LIKE = re.compile(r"[a-z_]+")  # `name:` a field would spell (not a time or address)
EXAMPLES = "nattch:>0 size:>1M age:>1h perms:600 user:NAME"


class FilterError(ValueError):
    """A term the language does not take; its text is one line saying what it does take."""


def wrapped_note(direction: int) -> str:
    """What a search that went round the end says (the tables' and the hex view's)."""
    return "search wrapped to the top" if direction > 0 else "search wrapped to the bottom"


def valid_fields() -> str:
    """The fields a `name:` term may name, as the message of an unknown one lists them (it
    fits an 80-column status line; the status words are in the help)."""
    return " ".join(f"{name}:" for name in FIELD_NAMES)


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
    return user_matches(owner.user, owner.uid, user)


def user_matches(name: str, uid: int, user: str) -> bool:
    """owner_matches() for an owner known by name and uid (a POSIX object's)."""
    word = user.lower()
    if word == name.lower():
        return True
    return word.isascii() and word.isdigit() and int(word) == uid


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


def _measure(obj: IpcObject, snapshot: Snapshot, name: str) -> float | None:
    """The number a compared field holds for this object (None: the kind has no such thing)."""
    if name == "id":
        return obj.id
    if name == "perms":
        return obj.owner.perms
    if name == "age":  # seconds since last touched (attach, detach, op, change): the rule's idle
        return judge(obj, snapshot).idle
    if isinstance(obj, Segment):
        return {"nattch": obj.nattch, "size": obj.size}[name]
    if isinstance(obj, MessageQueue) and name == "size":
        return obj.cbytes  # the bytes queued
    return None


def _compare(obj: IpcObject, snapshot: Snapshot, name: str, test: Callable[[float, float], bool],
             number: float) -> bool:  # fmt: skip
    measured = _measure(obj, snapshot, name)
    return measured is not None and test(measured, number)


def _text_field(obj: IpcObject, snapshot: Snapshot, name: str, value: str) -> bool:
    if name == "user":
        return owner_matches(obj.owner, value)
    return isinstance(obj, Segment) and any(  # cmd
        value in a.command.lower() or value in (a.title or "").lower() for a in obj.attachments
    )


def _key_is(obj: IpcObject, snapshot: Snapshot, key: int) -> bool:
    return obj.owner.key == key


def _has_pid(obj: IpcObject, snapshot: Snapshot, pid: int) -> bool:
    return pid in _pids(obj)


def _number(name: str, text: str, value: str) -> float:
    """The value of a term: a count, a size with k/M/G, a duration, octal permissions..."""
    try:
        if name == "size":
            return parse_size(text)
        if name == "age":
            return parse_duration(text)
        if name == "perms":
            if not re.fullmatch(r"[0-7]{1,4}", text, re.ASCII):
                raise ValueError("octal digits, e.g. 600 or 0600")
            return int(text, 8)
        return ipc_key(text) if name == "key" else parse_number(text)
    except (ValueError, ArgumentTypeError) as error:
        hint = SYNTAX_HINT.get(name)
        reason = f"not a number ({hint})" if hint else str(error)
        raise FilterError(f"{name}:{value}: {reason}") from None


SYNTAX_HINT = {
    "size": "bytes, or with k, M, G: 1M",
    "id": "decimal, 0x hex or 0o octal",
    "nattch": "a count: 0, 2",
    "pid": "a process id",
}  # fmt: skip (others explain)


def namespace_words(inode: int, name: str | None) -> set[str]:
    """What `ns:` takes for a namespace: its name (any case), ipc:[INODE] or the inode."""
    return {str(inode), f"ipc:[{inode}]", *([name.lower()] if name else [])}


def _namespace_is(
    obj: IpcObject, snapshot: Snapshot, value: str, name_of: NamespaceName | None
) -> bool:
    """The object is in the namespace `value` names (the snapshot's: each is taken in one)."""
    inode = snapshot.ipc_namespace
    return value in namespace_words(inode, name_of(inode) if name_of is not None else None)


def _field(name: str, value: str, name_of: NamespaceName | None = None) -> Test:
    """The test of `name:value` (FilterError if the value is not one the field takes)."""
    if not value:
        raise FilterError(f"{name}: needs a value, e.g. {EXAMPLES}")
    if name == "ns":
        return partial(_namespace_is, value=value, name_of=name_of)
    if name in ("user", "cmd"):
        return partial(_text_field, name=name, value=value)
    sign = next((op for op in OPERATORS if value.startswith(op)), "")
    if sign and name not in COMPARED:
        raise FilterError(f"{name}: takes no {sign}; only {', '.join(sorted(COMPARED))} compare")
    number = _number(name, value[len(sign) :], value)
    if name == "key":
        return partial(_key_is, key=int(number))
    if name == "pid":
        return partial(_has_pid, pid=int(number))
    return partial(_compare, name=name, test=OPERATORS[sign or "="], number=number)


def _contains(obj: IpcObject, snapshot: Snapshot, word: str) -> bool:
    return word in search_text(obj)


def _negated(obj: IpcObject, snapshot: Snapshot, test: Test) -> bool:
    return not test(obj, snapshot)


class Filter(Struct, frozen=True):
    """A parsed filter: every term must hold (free words match the search text)."""

    expression: str
    tests: tuple[Test, ...]
    timed: bool = False  # a term (orphan...) can change with time alone: filter again each time
    words: tuple[str, ...] = ()  # the text it looks for (free words, cmd:), to highlight

    def __call__(self, obj: IpcObject, snapshot: Snapshot) -> bool:
        return all(test(obj, snapshot) for test in self.tests)

    @property
    def active(self) -> bool:
        return bool(self.tests)


def parse_filter(expression: str, name_of: NamespaceName | None = None) -> Filter:
    """Terms split on spaces: `user:NAME`, `key:0x..`, `id:N`, `nattch:N`, `size:N`,
    `age:1h`, `perms:600`, `pid:N`, `cmd:TEXT`, `ns:NAME|INODE` (the object's IPC
    namespace: `name_of` names an inode, else only the inode matches) (id, nattch, size,
    age and perms also take `>`, `<`, `>=`, `<=`, `=`: `nattch:>0`, `size:>1M`), flags
    (`dest`, `locked`, `orphan`, `unattached`, `unused`, `partial`, `inconsistent`,
    `unreadable`, `waiting`, `attached`), any of them negated with a leading `!`, and free words.

    FilterError (one line) for a `name:` term whose name is no field, or a value a field
    does not take: a typo must not quietly hide every row."""
    return parse_terms(
        expression,
        field=lambda name, value: _field(name, value, name_of),
        flag=lambda word: partial(_flag, word=word) if word in FLAG_WORDS else None,
        contains=lambda word: partial(_contains, word=word),
    )


def parse_terms(
    expression: str,
    *,
    field: Callable[[str, str], Callable[..., bool]],
    flag: Callable[[str], Callable[..., bool] | None],
    contains: Callable[[str], Callable[..., bool]],
) -> Filter:
    """The filter language's grammar, for any kind of row: each term split on spaces is a
    field (`name:value`, field(name, value)), a flag (flag(word), None: not a flag) or a
    free word (contains(word)), any of them negated by a leading `!`. A `name:` whose name
    is no field is a FilterError (one line): a typo must not quietly hide every row."""
    tests: list[Callable[..., bool]] = []
    words: list[str] = []
    timed = False
    for raw in expression.lower().split():
        negate = raw.startswith("!") and len(raw) > 1
        term = raw[1:] if negate else raw
        name, colon, value = term.partition(":")
        timed = timed or term in STATUS_WORDS or (colon != "" and name == "age")
        if colon and name in FIELD_NAMES:
            test = field(name, value)
            if name == "cmd" and not negate:
                words.append(value)
        elif colon and _FIELD_LIKE.fullmatch(name):
            raise FilterError(f"unknown term {name}: (fields: {valid_fields()})")
        elif (flagged := flag(term)) is not None:
            test = flagged
        else:
            test = contains(term)
            if not negate:
                words.append(term)
        tests.append(partial(_negated, test=test) if negate else test)
    return Filter(expression.strip(), tuple(tests), timed, tuple(words))
