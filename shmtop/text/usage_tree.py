"""The tree view's rows (htop's tree, for IPC): each running process with the objects it uses
(System V, then POSIX), and each owner with the objects it owns, built from a snapshot,
a waiter scan and the POSIX scans.

Headless: the TUI only draws the rows. Every label is plain text, sanitised here (process
names, titles and POSIX names are untrusted); keys are stable across refreshes, so that a
view keeps what was collapsed and where its cursor was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import msgspec

from shmtop.core.model import IpcObject, Kind, MessageQueue, Segment, SemaphoreSet, Snapshot
from shmtop.core.posix.model import PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot
from shmtop.core.waits.records import Waiter
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text.posix_usage_tree import (
    ORDER,
    PosixOwned,
    PosixUse,
    posix_owned,
    posix_users,
    posix_uses,
)
from shmtop.text.process_names import LINE_WIDTH, SUMMARY_WIDTH, VIEWER, process_label
from shmtop.text.report import counted
from shmtop.text.sanitize import safe_text
from shmtop.text.units import hex_key, human_size

PROCESSES = "processes"  # the two sections' keys
OWNERS = "owners"
NOUNS = {Kind.SHM: ("segment", "segments"), Kind.SEM: ("set", "sets"),
         Kind.MSG: ("queue", "queues")}  # fmt: skip
KIND_ORDER = {Kind.SHM: 0, Kind.SEM: 1, Kind.MSG: 2}
POSIX_ORDER = tuple(sorted(ORDER, key=ORDER.__getitem__))  # pshm, psem, pmq


class TreeRow(msgspec.Struct, frozen=True, gc=False):
    """One line of the tree and the lines under it (a Struct, as the model's records: a
    tree of 1000 processes has tens of thousands of rows, made anew with every refresh).

    role says what the line is, for its style: "section", "process", "owner", "object",
    "attacher", "waiter" (a blocked thread) or "note"."""

    key: str
    label: str
    role: str
    children: tuple[TreeRow, ...] = ()
    kind: Kind | None = None  # the object the line is (or is about), with its id
    ident: int | None = None
    pid: int | None = None
    posix: tuple[str, int, int] | None = None  # a POSIX object's kind, device and inode

    def walk(self) -> Iterable[TreeRow]:
        """This row and every row under it, depth first."""
        stack = [self]
        while stack:
            row = stack.pop()
            yield row
            stack.extend(reversed(row.children))


class UsageTree(msgspec.Struct, frozen=True, gc=False):
    """The two sections, every user the user picker offers (sorted), and the rows in all."""

    processes: TreeRow
    owners: TreeRow
    users: tuple[str, ...]
    size: int

    @property
    def sections(self) -> tuple[TreeRow, TreeRow]:
        return (self.processes, self.owners)


@dataclass(frozen=True, slots=True)
class _Who:
    """What the snapshot and the scan say about one running process."""

    command: str | None
    title: str | None
    user: str | None


def build_tree(
    snapshot: Snapshot, waits: WaitReport | None = None, user: str | None = None,
    posix: PosixSnapshot | None = None, queues: MqSnapshot | None = None,
) -> UsageTree:  # fmt: skip
    """The tree of a snapshot (and of the waiter scan that came with it, if any); given a
    user, only that user's processes and the objects that user owns. posix and queues:
    the POSIX scans, whose objects show under the processes that map, hold or wait on
    them, and under their owners (posix_usage_tree.py)."""
    waiters = _our_waiters(waits)
    people = _processes(snapshot, waits)
    for pid, found in posix_users(posix, queues).items():
        people.setdefault(pid, _Who(found.command, None, found.user))
    users = {o.owner.user for kind in Kind for o in snapshot.objects(kind)}
    users.update(who.user for who in people.values() if who.user is not None)
    scanned = posix is not None or queues is not None
    extra = posix_uses(posix, queues, waits) if scanned else {}

    def label_of(pid: int) -> str:
        return _process_label(pid, people.get(pid), SUMMARY_WIDTH)

    owned = posix_owned(posix, queues, waits, label_of) if scanned else {}
    users.update(owned)
    sections = (_process_section(snapshot, people, waiters, user, extra),
                _owner_section(snapshot, people, waiters, user, owned))  # fmt: skip
    size = sum(1 for section in sections for _ in section.walk())
    return UsageTree(*sections, tuple(sorted(users)), size)


def object_text(kind: Kind, obj: IpcObject) -> str:
    """'shm 32768  key 0x0052e2c1  148.0M  nattch 2  dest' (no untrusted text)."""
    return f"{kind} {obj.id}  {object_facts(obj)}"


def object_facts(obj: IpcObject) -> str:
    """'key 0x0052e2c1  148.0M  nattch 2  dest', 'key 0x00001234  3 semaphores',
    'key 0x00005678  3 messages, 120B'."""
    text = f"key {hex_key(obj.owner.key)}"
    if isinstance(obj, Segment):
        text += f"  {human_size(obj.size)}  nattch {obj.nattch}"
        text += "".join(f"  {flag}" for flag in obj.flags)
    elif isinstance(obj, SemaphoreSet):
        text += f"  {counted(obj.nsems, 'semaphore')}"
        if obj.semaphores is None:
            text += "  unreadable"
    elif isinstance(obj, MessageQueue):
        text += f"  {counted(obj.qnum, 'message')}, {human_size(obj.cbytes)}"
    return text


def waiter_text(waiter: Waiter, who: str | None = None) -> str:
    """'BLOCKED 4301 (consumer) tid 4302: sem 2 -1 SEM_UNDO' (who: the process's label,
    else the waiter's own; sanitised). The tid shows only when it is not the process."""
    name = who or process_label(waiter.pid, waiter.command, waiter.title, SUMMARY_WIDTH)
    thread = f" tid {waiter.tid}" if waiter.tid != waiter.pid else ""
    return f"BLOCKED {name}{thread}: {safe_text(waiter.operation())}"


def number_ranges(numbers: list[int]) -> str:
    """[0, 1, 2, 3, 7] -> '0-3, 7' (sorted numbers)."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


# ---- who is running ----


def _our_waiters(waits: WaitReport | None) -> tuple[Waiter, ...]:
    """The blocked threads on System V objects (POSIX objects are not in the snapshot)."""
    if waits is None:
        return ()
    return tuple(w for w in waits.waiters if isinstance(w.kind, Kind))


def _processes(snapshot: Snapshot, waits: WaitReport | None) -> dict[int, _Who]:
    """Every running process the snapshot or the scan names, with what is known of it.

    A pid the snapshot keeps only as a creator or last changer is in `processes` only
    while it runs (a gone one is not listed: it uses nothing any more)."""
    people: dict[int, _Who] = {}
    for pid, process in snapshot.processes.items():
        people[pid] = _Who(process.command, process.title, process.user)
    for segment in snapshot.segments:
        for a in segment.attachments:
            if a.pid not in people:
                people[a.pid] = _Who(a.command, a.title, a.user)
    for pid in snapshot.hidden:
        people.setdefault(pid, _Who(None, None, None))
    if waits is not None:
        users = waits.users
        for waiter in _our_waiters(waits):
            known = people.get(waiter.pid)
            if known is None or known.command is None:
                people[waiter.pid] = _Who(waiter.command, waiter.title, users.get(waiter.pid))
    return people


def _process_label(pid: int, who: _Who | None, width: int = LINE_WIDTH) -> str:
    if who is None:
        return process_label(pid, None, None, width, missing="gone")
    return process_label(pid, who.command, who.title, width, missing="cannot be read")


# ---- processes and what each uses ----


def _uses(snapshot: Snapshot, waiters: tuple[Waiter, ...]
          ) -> dict[int, dict[tuple[Kind, int], list[str]]]:  # fmt: skip
    """pid -> (kind, id) -> how it uses the object, in words: attached, created, last
    operation, waiting."""
    uses: dict[int, dict[tuple[Kind, int], list[str]]] = defaultdict(lambda: defaultdict(list))
    for s in snapshot.segments:
        mappings: dict[int, list[bool]] = defaultdict(list)
        viewers = {a.pid for a in s.attachments if a.is_self}
        for a in s.attachments:
            mappings[a.pid].append(a.writable)
        for pid, writable in mappings.items():
            access = "rw" if any(writable) else "ro"
            times = f" x{len(writable)}" if len(writable) > 1 else ""
            viewer = f" ({VIEWER})" if pid in viewers else ""
            uses[pid][Kind.SHM, s.id].append(f"attached {access}{times}{viewer}")
        if s.cpid:
            uses[s.cpid][Kind.SHM, s.id].append("created it (cpid)")
        if s.lpid:
            uses[s.lpid][Kind.SHM, s.id].append("last shmat/shmdt (lpid)")
    for sem_set in snapshot.semaphore_sets:
        changed: dict[int, list[int]] = defaultdict(list)
        for semaphore in sem_set.semaphores or ():
            if semaphore.pid:
                changed[semaphore.pid].append(semaphore.num)
        for pid, nums in changed.items():
            which = number_ranges(nums)
            noun = "semaphore" if len(nums) == 1 else "semaphores"
            uses[pid][Kind.SEM, sem_set.id].append(f"last semop on {noun} {which} (sempid)")
    for queue in snapshot.queues:
        if queue.lspid:
            uses[queue.lspid][Kind.MSG, queue.id].append("last msgsnd (lspid)")
        if queue.lrpid:
            uses[queue.lrpid][Kind.MSG, queue.id].append("last msgrcv (lrpid)")
    for w in waiters:
        thread = f" (tid {w.tid})" if w.tid != w.pid else ""
        assert isinstance(w.kind, Kind)
        uses[w.pid][w.kind, w.object_id].append(f"WAITING{thread}: {safe_text(w.operation())}")
    return uses


def _process_section(
    snapshot: Snapshot, people: Mapping[int, _Who], waiters: tuple[Waiter, ...],
    user: str | None, posix: Mapping[int, list[PosixUse]],
) -> TreeRow:  # fmt: skip
    uses = _uses(snapshot, waiters)
    found = {(kind, o.id): o for kind in Kind for o in snapshot.objects(kind)}
    facts: dict[tuple[Kind, int], str] = {}  # each object's facts once, however many use it
    rows = []
    for pid in sorted(set(uses) | set(posix)):
        who = people.get(pid)
        if who is None:
            continue  # a creator or last changer that is gone: it uses nothing now
        if user is not None and who.user != user:
            continue
        children = []
        for (kind, ident), how in sorted(uses.get(pid, {}).items(), key=_object_order):
            # How first, the object's facts after: at 80 columns the how is what shows.
            obj = found.get((kind, ident))
            text = facts.get((kind, ident))
            if text is None:
                text = facts[kind, ident] = object_facts(obj) if obj is not None else "gone"
            if obj is not None and obj.owner.user != who.user:
                text += f"  owner {safe_text(obj.owner.user)}"
            role = "waiter" if any(h.startswith("WAITING") for h in how) else "object"
            label = f"{kind} {ident}: {'; '.join(how)}  · {text}"
            children.append(TreeRow(f"p{pid}/{kind}{ident}", label, role, kind=kind, ident=ident,
                                    pid=pid))  # fmt: skip
        for use in sorted(posix.get(pid, ()), key=lambda use: use.order):  # after System V
            children.append(TreeRow(f"p{pid}/{use.key}", use.label, use.role, pid=pid,
                                    posix=use.ref))  # fmt: skip
        owner = f"  user {safe_text(who.user)}" if who.user is not None else ""
        label = f"{_process_label(pid, who)}{owner}  ({counted(len(children), 'object')})"
        rows.append(TreeRow(f"p{pid}", label, "process", tuple(children), pid=pid))
    title = f"Processes and the objects they use ({len(rows)})"
    if not rows:
        rows.append(TreeRow(f"{PROCESSES}/none", _nobody(user, "no process uses an object"),
                            "note"))  # fmt: skip
    return TreeRow(PROCESSES, title, "section", tuple(rows))


def _object_order(item: tuple[tuple[Kind, int], list[str]]) -> tuple[int, int]:
    (kind, ident), _ = item
    return KIND_ORDER[kind], ident


def _nobody(user: str | None, text: str) -> str:
    return f"{text} (user {safe_text(user)}; u picks another)" if user is not None else text


# ---- owners and what each owns ----


def _owner_section(
    snapshot: Snapshot, people: Mapping[int, _Who], waiters: tuple[Waiter, ...],
    user: str | None, posix: Mapping[str, list[PosixOwned]],
) -> TreeRow:  # fmt: skip
    blocked: dict[tuple[Kind, int], list[Waiter]] = defaultdict(list)
    for w in waiters:
        assert isinstance(w.kind, Kind)
        blocked[w.kind, w.object_id].append(w)
    owned: dict[str, list[tuple[Kind, IpcObject]]] = defaultdict(list)
    for kind in Kind:
        for obj in snapshot.objects(kind):
            owned[obj.owner.user].append((kind, obj))
    rows = []
    total = 0
    for name in sorted(set(owned) | set(posix)):
        if user is not None and name != user:
            continue
        objects = sorted(owned.get(name, ()), key=lambda item: (KIND_ORDER[item[0]], item[1].id))
        theirs = sorted(posix.get(name, ()), key=lambda o: o.order)
        total += len(objects) + len(theirs)
        children = tuple(_owned_row(name, kind, obj, people, blocked) for kind, obj in objects)
        children += tuple(_posix_owned_row(name, o) for o in theirs)
        uid = objects[0][1].owner.uid if objects else theirs[0].uid
        counts = ", ".join(
            [counted(n, *NOUNS[kind]) for kind in Kind
             if (n := sum(1 for k, _ in objects if k is kind))]
            + [f"{n} {kind}" for kind in POSIX_ORDER
               if (n := sum(1 for o in theirs if o.kind == kind))]
        )  # fmt: skip
        rows.append(TreeRow(f"o{name}", f"{safe_text(name)} (uid {uid}): {counts}", "owner",
                            children))  # fmt: skip
    title = f"Objects by owner ({counted(total, 'object')}, {counted(len(rows), 'owner')})"
    if not rows:
        rows.append(TreeRow(f"{OWNERS}/none", _nobody(user, "no objects"), "note"))
    return TreeRow(OWNERS, title, "section", tuple(rows))


def _posix_owned_row(name: str, obj: PosixOwned) -> TreeRow:
    """A POSIX object and, under it, who maps it, holds it or is blocked on it."""
    key = f"o{name}/{obj.key}"
    children = tuple(TreeRow(f"{key}/{suffix}", label, role, pid=pid, posix=obj.ref)
                     for suffix, label, role, pid in obj.users)  # fmt: skip
    return TreeRow(key, obj.label, "object", children, posix=obj.ref)


def _owned_row(name: str, kind: Kind, obj: IpcObject, people: Mapping[int, _Who],
               blocked: Mapping[tuple[Kind, int], list[Waiter]]) -> TreeRow:  # fmt: skip
    """An object and, under it, who has it attached and who is blocked on it."""
    key = f"o{name}/{kind}{obj.id}"
    children: list[TreeRow] = []
    if isinstance(obj, Segment):
        seen: dict[int, bool] = {}
        for a in obj.attachments:
            seen[a.pid] = seen.get(a.pid, False) or a.writable
        for pid, writable in seen.items():
            label = f"attached {'rw' if writable else 'ro'}: {_process_label(pid, people.get(pid))}"
            children.append(TreeRow(f"{key}/a{pid}", label, "attacher", kind=kind, ident=obj.id,
                                    pid=pid))  # fmt: skip
    for w in sorted(blocked.get((kind, obj.id), ()), key=lambda w: (w.pid, w.tid)):
        who = people.get(w.pid)
        label = waiter_text(w, _process_label(w.pid, who, SUMMARY_WIDTH) if who else None)
        children.append(TreeRow(f"{key}/w{w.tid}", label, "waiter", kind=kind, ident=obj.id,
                                pid=w.pid))  # fmt: skip
    return TreeRow(key, object_text(kind, obj), "object", tuple(children), kind=kind,
                   ident=obj.id)  # fmt: skip
