"""The data contract: every JSON document the CLI prints validates against `shmtop schema`.

Real objects of every kind (an attached segment, a removed one still attached, sets with
values, a queue with a message, threads blocked on a set and a queue, a deadlock), read by
root and by user nobody, who may not read the 0600 set and queue. Each run is a subprocess,
as a script would run shmtop. The schemas are taken from `shmtop schema`, made strict here
(no field beyond the schema's) so an undocumented field fails too. `--watch` lines are read
as they come, and the committed schema/ files are compared with what the command prints.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import helpers
import hidden
import pytest
from blocker import Blocker, Blockers, blockers
from helpers import MakeMsg, MakeSem, MakeShm, Spawn
from json_schemas import schema_text, validate
from jsonschema import Draft202012Validator
from pmq_kids import Kid, Queues
from pmq_kids import identity as mq_identity
from pmq_kids import start as start_mq
from watch_process import finish, read_line, watch

from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.core.waits.waiters import WaiterScanner

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = ("list", "show", "show-messages", "waiters", "limits", "posix-list", "pmq-list",
             "posix-show", "pmq-show")  # fmt: skip


# ---- the schemas, as `shmtop schema` prints them: json_schemas.py ----


def run_json(args: list[str], *, nobody: bool = False) -> Any:
    done = hidden.run([*args, "--json"], nobody=nobody)
    assert done.code == 0, done
    assert done.stdout.isascii(), "JSON is ASCII: untrusted text escaped"
    return done.json()


# ---- the objects ----


@dataclass(frozen=True)
class World:
    attached: int  # a segment a child has mapped read-write
    removed: int  # IPC_RMID'd, still attached read-only: dest
    plain: int  # unattached
    values: int  # a set of 3 with values
    waited: int  # a set a thread is blocked on (semop -1 on 0)
    queue: int  # a queue with one message and a blocked receiver of type 9
    cycle: tuple[int, int]  # two sets each held by one of two threads that wait for the other


@pytest.fixture
def kids() -> Iterator[Blockers]:
    with blockers() as started:
        yield started


def blocked(child: Blocker) -> bool:
    return any(w.pid == child.pid for w in WaiterScanner().scan().waiters)


@pytest.fixture
def world(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, spawn: Spawn, kids: Blockers
) -> World:
    """Objects of every kind, in the states the documents describe (0600: root's alone)."""
    attached, removed, plain = make_shm(8192), make_shm(4096), make_shm(4096, mode=0o644)
    spawn(name="shmtop-json", attach=[(attached, True), (removed, False)])
    assert helpers.remove("shm", removed)  # dest: it stays while the child has it attached
    values, waited = make_sem(3), make_sem(1)
    native.sem_setall(values, [1, 0, 7])
    queue = make_msg()
    native.msgsnd(queue, 5, b"hello \x00\xff")
    first, second = make_sem(1), make_sem(1)
    native.sem_setall(first, [1])
    native.sem_setall(second, [1])
    holder_a, holder_b = kids.start("shmtop-dl-a"), kids.start("shmtop-dl-b")
    assert holder_a.call(call="semop", semid=first, ops=[[0, -1, 0]]) == {"ok": True}
    assert holder_b.call(call="semop", semid=second, ops=[[0, -1, 0]]) == {"ok": True}
    sem_waiter, receiver = kids.start("shmtop-semw"), kids.start("shmtop-rcv")
    holder_a.send(call="semop", semid=second, ops=[[0, -1, 0]])
    holder_b.send(call="semop", semid=first, ops=[[0, -1, 0]])
    sem_waiter.send(call="semop", semid=waited, ops=[[0, -1, native.SEM_UNDO]])
    receiver.send(call="msgrcv", msqid=queue, size=64, type=9)
    for child in (holder_a, holder_b, sem_waiter, receiver):
        helpers.wait_until(partial(blocked, child), f"{child.name} blocks")
    return World(attached, removed, plain, values, waited, queue, (first, second))


def by_id(objects: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {o["id"]: o for o in objects}


# ---- every document, as root ----


def test_every_document_validates_against_its_schema_for_every_kind(world: World) -> None:
    listed = run_json(["list"])
    validate("list", listed)
    segments, sets = by_id(listed["segments"]), by_id(listed["semaphore_sets"])
    queues = by_id(listed["queues"])
    assert segments[world.removed]["dest"] is True
    assert [a["access"] for a in segments[world.attached]["attachments"]] == ["rw"]
    assert segments[world.plain]["nattch"] == 0
    assert [s["value"] for s in sets[world.values]["semaphores"]] == [1, 0, 7]
    assert sets[world.waited]["waiters"] == 1
    assert queues[world.queue]["qnum"] == 1
    assert listed["schema_version"] == "1.5"
    ours = os.stat("/proc/self/ns/ipc").st_ino  # every object carries its namespace
    assert {o["namespace"]["inode"] for o in listed["segments"]} == {ours}
    assert all(o["namespace"]["current"] for o in listed["queues"])

    for kind in ("shm", "sem", "msg"):
        only = run_json(["list", kind])
        validate("list", only)
        named = {"shm": "segments", "sem": "semaphore_sets", "msg": "queues"}[kind]
        assert set(only) == {"schema_version", "taken_at", named, "blind_spots"}

    shows = [("shm", world.attached), ("shm", world.removed), ("sem", world.values),
             ("sem", world.waited), ("msg", world.queue)]  # fmt: skip
    for kind, ident in shows:
        shown = run_json(["show", kind, str(ident)])
        validate("show", shown)
        assert (shown["kind"], shown["id"]) == (kind, ident)

    peeked = run_json(["show", "msg", str(world.queue), "--messages"])
    validate("show-messages", peeked)
    assert [(m["type"], m["data_hex"]) for m in peeked["messages"]["messages"]] == [
        (5, b"hello \x00\xff".hex())
    ]
    assert [w["msg_type"] for w in peeked["waiters"]] == [9]

    waits = run_json(["waiters"])
    validate("waiters", waits)
    kinds = {(w["kind"], w["id"]) for w in waits["waiters"]}
    assert {("sem", world.waited), ("msg", world.queue)} <= kinds
    assert any(set(c["members"]) and c["steps"] for c in waits["cycles"]), waits["cycles"]

    limits = run_json(["limits"])
    validate("limits", limits)
    assert limits["shm_segments"]["used"] >= 3


# ---- as user nobody: what may not be read ----


def test_documents_validate_for_objects_nobody_may_not_read(world: World) -> None:
    if reason := hidden.missing_tools():
        pytest.skip(reason)
    listed = run_json(["list"], nobody=True)
    validate("list", listed)
    unreadable = by_id(listed["semaphore_sets"])[world.values]
    assert unreadable["semaphores"] is None
    assert unreadable["waiters"] is None
    assert unreadable["unreadable"]  # why, in words
    assert listed["blind_spots"]["uninspected"]  # root's processes: not inspected

    for kind, ident in (("shm", world.attached), ("sem", world.values), ("msg", world.queue)):
        validate("show", run_json(["show", kind, str(ident)], nobody=True))

    peeked = run_json(["show", "msg", str(world.queue), "--messages"], nobody=True)
    validate("show-messages", peeked)
    assert peeked["messages"] is None
    assert peeked["messages_error"]

    waits = run_json(["waiters"], nobody=True)
    validate("waiters", waits)
    assert waits["complete"] is False
    validate("limits", run_json(["limits"], nobody=True))


def test_untrusted_text_is_escaped_to_ascii_and_reads_back_the_same(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm()
    name = "bidi\u202e\x1b\u0085"  # a right-to-left override, ESC, a C1 control (NEL)
    child = spawn(name=name, attach=[(shmid, True)])

    done = hidden.run(["list", "shm", "--json"], nobody=False)

    assert done.code == 0, done
    assert done.stdout.isascii()
    assert "\\u202e" in done.stdout
    (segment,) = [s for s in done.json()["segments"] if s["id"] == shmid]
    assert [(a["pid"], a["command"]) for a in segment["attachments"]] == [(child.pid, name)]
    validate("list", done.json())


# ---- list --json --watch ----


def test_watch_count_3_prints_three_valid_lines_and_shows_an_object_made_between(
    make_shm: MakeShm,
) -> None:
    before = make_shm()
    process = watch("shm", "--watch", "0.2", "--count", "3")
    first = json.loads(read_line(process))
    # Stopped the moment its first line is read (the next snapshot is 0.2 s away, the third
    # 0.4 s) until the object is made: the third line's snapshot is taken after it.
    process.send_signal(signal.SIGSTOP)
    made = make_shm()
    process.send_signal(signal.SIGCONT)
    code, rest, err = finish(process)

    lines = [first, *(json.loads(line) for line in rest.splitlines())]
    assert (code, err) == (0, b""), err
    assert len(lines) == 3
    for line in lines:
        validate("list", line)
    ids = [{s["id"] for s in line["segments"]} for line in lines]
    assert before in ids[0] and made not in ids[0]
    assert made in ids[2]
    assert [line["taken_at"] for line in lines] == sorted({line["taken_at"] for line in lines})


def test_watch_ends_on_ctrl_c_with_exit_0_and_whole_lines() -> None:
    process = watch("--watch", "0.2")
    read_line(process)
    read_line(process)
    process.send_signal(signal.SIGINT)
    code, rest, err = finish(process)

    assert (code, err) == (0, b""), err
    for line in rest.splitlines():
        validate("list", json.loads(line))


def test_watch_ends_quietly_when_its_reader_goes() -> None:
    process = watch("--watch", "0.2")
    read_line(process)
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone: the next line meets a closed pipe
    code, _, err = finish(process)

    assert (code, err) == (0, b""), err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--watch", "1"], "--watch prints JSON Lines: add --json"),
        (["--json", "--watch", "0"], "--watch takes seconds"),
        (["--json", "--watch", "-1"], "--watch takes seconds"),
        (["--json", "--watch", "nan"], "--watch takes seconds"),
        (["--json", "--watch", "inf"], "--watch takes seconds"),
        (["--json", "--watch", "3601"], "--watch takes seconds"),
        (["--json", "--count", "2"], "--count goes with --watch"),
    ],
)
def test_watch_and_count_mistakes_are_one_line_usage_errors(args: list[str], says: str) -> None:
    done = hidden.run(["list", *args], nobody=False)

    assert (done.code, done.stdout) == (2, "")
    assert done.stderr.startswith(f"shmtop: {says}"), done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_count_must_be_a_positive_number() -> None:
    done = hidden.run(["list", "--json", "--watch", "1", "--count", "0"], nobody=False)

    assert (done.code, done.stdout) == (2, "")
    assert "a number of lines is 1 to 2147483647" in done.stderr


# ---- shmtop schema, and the committed files ----


def test_schema_lists_the_documents_and_refuses_an_unknown_one() -> None:
    listing = hidden.run(["schema"], nobody=False)
    unknown = hidden.run(["schema", "lsit"], nobody=False)

    assert listing.code == 0, listing
    assert [line.split()[0] for line in listing.lines()] == list(DOCUMENTS)
    assert (unknown.code, unknown.stdout) == (2, "")
    assert unknown.stderr == f"shmtop: no document 'lsit'; documents: {', '.join(DOCUMENTS)}\n"


@pytest.mark.parametrize("name", DOCUMENTS)
def test_the_committed_schema_is_what_shmtop_schema_prints(name: str) -> None:
    committed = (ROOT / "schema" / f"{name}.json").read_text()
    schema = json.loads(committed)

    assert committed == schema_text(name), f"schema/{name}.json is stale: run `make schema`"
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_holds_exactly_the_documents() -> None:
    assert sorted(p.name for p in (ROOT / "schema").iterdir()) == sorted(
        f"{name}.json" for name in DOCUMENTS
    )


def test_fields_are_described_in_the_schema() -> None:
    """The schema documents what a field means, not only its type (msgspec.Meta)."""
    defs = json.loads(schema_text("list"))["$defs"]
    segment = defs["SegmentRecord"]["properties"]
    assert "IPC_RMID" in segment["dest"]["description"]
    assert "MAJOR.MINOR" in defs["ListAllDocument"]["properties"]["schema_version"]["description"]
    assert Kind.SHM.value in segment["kind"]["enum"]


POSIX_CHILD = Path(__file__).resolve().parents[1] / "pshm_child.py"


def test_the_posix_list_document_validates_with_mappers_holders_and_unlinked_objects() -> None:
    """`list pshm|psem --json` (posix-list) on a mapped object, an unlinked one still mapped
    and a semaphore file, as root and as nobody (who reads no other process's maps)."""
    prefix = f"/dev/shm/shmtop-json-{os.getpid()}-"
    paths = [f"{prefix}mapped\x1b[2J", f"{prefix}gone", f"/dev/shm/sem.shmtop-json-{os.getpid()}"]
    for path, size in zip(paths, (8192, 4096, 32), strict=True):
        with open(path, "wb") as file:
            file.truncate(size)
    child = subprocess.Popen(
        [sys.executable, str(POSIX_CHILD), paths[0], "map-rw", "hold"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    gone = subprocess.Popen(
        [sys.executable, str(POSIX_CHILD), paths[1], "map-ro"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert child.stdout is not None and gone.stdout is not None
        pid = json.loads(child.stdout.readline())["pid"]
        json.loads(gone.stdout.readline())
        os.unlink(paths[1])
        listed = run_json(["list", "pshm"])
        validate("posix-list", listed)
        mine = {o["name"]: o for o in listed["objects"] if "shmtop-json" in o["name"]}
        mapped = mine[paths[0].removeprefix("/dev/shm")]
        assert [(m["pid"], m["writable"]) for m in mapped["mappings"]] == [(pid, True)]
        assert [(h["pid"], h["readable"]) for h in mapped["holders"]] == [(pid, True)]
        assert (mapped["status"], mapped["linked"], mapped["semaphore"]) == (None, True, None)
        unlinked = mine[paths[1].removeprefix("/dev/shm")]
        assert (unlinked["status"], unlinked["linked"]) == ("unlinked", False)
        sems = run_json(["list", "psem"])
        validate("posix-list", sems)
        sem = next(o for o in sems["objects"] if "shmtop-json" in o["name"])
        assert (sem["kind"], sem["semaphore"]["value"], sem["semaphore"]["nwaiters"]) == (
            "psem", 0, 0,
        )  # fmt: skip
        validate("posix-list", run_json(["list", "pshm"], nobody=True))
        # show --json: the same records, of that name only, and the users' command lines
        name = paths[0].removeprefix("/dev/shm")
        shown = run_json(["show", "pshm", "--name", name])
        validate("posix-show", shown)
        assert shown["name"] == name and [o["inode"] for o in shown["objects"]] == [mapped["inode"]]
        assert shown["objects"][0]["mappings"] == mapped["mappings"]
        assert POSIX_CHILD.name in (shown["command_lines"][str(pid)] or "")
        shown = run_json(["show", "pshm", "--name", paths[1].removeprefix("/dev/shm")])
        validate("posix-show", shown)
        assert [o["linked"] for o in shown["objects"]] == [False]
        validate("posix-show", run_json(["show", "psem", "--name", sem["name"]]))
        validate("posix-show", run_json(["show", "pshm", "--name", name], nobody=True))
    finally:
        for process in (child, gone):
            process.kill()
            process.wait()
        for path in paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)


PMQ_CHILD = Path(__file__).resolve().parents[1] / "pmq_child.py"


def test_the_pmq_list_document_validates_with_counts_holders_a_receiver_and_a_registration() -> (
    None
):
    """`list pmq --json` (pmq-list) on a queue with messages and a registered holder, and an
    empty one with a blocked receiver, as root; as nobody (no CAP_SYS_ADMIN to read an
    unmounted mqueue fs) a valid document that says nothing was listed, and exit 1."""
    full, empty = f"/shmtop-json-{os.getpid()}\x1b[2J", f"/shmtop-json-{os.getpid()}-empty"
    for name in (full, empty):
        native.mq_close(native.mq_open(name, os.O_CREAT | os.O_RDWR, 0o600, max_messages=3,
                                       max_size=16))  # fmt: skip
    doings = ((full, "rw", "send:ab", f"notify:{signal.SIGUSR1}"), (empty, "r", "receive"))
    children = [
        subprocess.Popen(
            [sys.executable, str(PMQ_CHILD), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        for args in doings
    ]
    try:
        holder, receiver = (json.loads(c.stdout.readline()) for c in children if c.stdout)

        def receiving() -> bool:
            listed = run_json(["list", "pmq"])
            return any(q["waiters"] for q in listed["queues"] if q["name"] == empty)

        helpers.wait_until(receiving, "the receiver blocks")
        listed = run_json(["list", "pmq"])
        validate("pmq-list", listed)
        mine = {q["name"]: q for q in listed["queues"]}
        one = mine[full]
        assert (one["messages"], one["max_messages"], one["max_size"], one["qsize"]) == (
            1, 3, 16, 2,
        )  # fmt: skip
        assert (one["notify_pid"], one["signal"]) == (holder["pid"], signal.SIGUSR1)
        assert [(h["pid"], h["fd"]) for h in one["holders"]] == [(holder["pid"], holder["fd"])]
        waiting = mine[empty]["waiters"]
        assert [(w["pid"], w["fd"], w["sending"]) for w in waiting] == [
            (receiver["pid"], receiver["fd"], False)
        ]
        assert listed["listed"] and mine[empty]["notify_pid"] is None
        shown = run_json(["show", "pmq", "--name", full])
        validate("pmq-show", shown)
        assert [q["holders"] for q in shown["queues"]] == [one["holders"]]
        assert PMQ_CHILD.name in (shown["command_lines"][str(holder["pid"])] or "")
        waited = run_json(["show", "pmq", "--name", empty])
        validate("pmq-show", waited)
        assert str(receiver["pid"]) in waited["command_lines"]
        unprivileged = hidden.run(["list", "pmq", "--json"], nobody=True)
        assert unprivileged.code == 1, unprivileged
        document = json.loads(unprivileged.stdout)
        validate("pmq-list", document)
        assert (document["listed"], document["queues"]) == (False, [])
    finally:
        for child in children:
            child.kill()
            child.wait()
        for name in (full, empty):
            with contextlib.suppress(FileNotFoundError):
                native.mq_unlink(name)


def test_the_waiters_document_validates_with_a_blocked_queue_receiver_and_sender(
    mq_queues: Queues, mq_kids: list[Kid]
) -> None:
    """`waiters --json` (1.3) with a child blocked receiving on an empty queue and one blocked
    sending to a full one: kind pmq, id the queue's inode, its queue record, the releasers."""
    empty, full = mq_queues.make(max_messages=2, max_size=16), mq_queues.make(max_messages=1)
    writer = start_mq(mq_kids, empty, "w")
    receiver = start_mq(mq_kids, empty, "r", "receive")
    sender = start_mq(mq_kids, full, "w", "send:one", "send-block:two")

    def both_blocked() -> bool:
        pids = {w.pid for w in WaiterScanner().scan().waiters}
        return {receiver.pid, sender.pid} <= pids

    helpers.wait_until(both_blocked, "both children block")
    waits = run_json(["waiters"])
    validate("waiters", waits)
    assert waits["schema_version"] == "1.5"
    mine = {w["pid"]: w for w in waits["waiters"] if w["kind"] == "pmq"}
    received, sent = mine[receiver.pid], mine[sender.pid]
    assert (received["id"], received["syscall"], received["direction"]) == (
        mq_identity(empty)[1], "mq_timedreceive", "receive")  # fmt: skip
    assert received["queue"] == {
        "name": empty, "device": mq_identity(empty)[0], "fd": receiver.fd, "linked": True,
        "messages": 0, "max_messages": 2, "max_size": 16, "priority": None,
        "changed_at": received["queue"]["changed_at"], "senders": [writer.pid],
        "receivers": [receiver.pid], "problem": None,
    }  # fmt: skip
    assert [(r["releaser"], r["evidence"], r["hint"]) for r in received["released_by"]] == [
        (writer.pid, "holds it open for sending", True)]  # fmt: skip
    assert (sent["syscall"], sent["direction"], sent["msg_size"], sent["state"]) == (
        "mq_timedsend", "send", 3, "unknown")  # fmt: skip
    assert (sent["queue"]["messages"], sent["queue"]["receivers"]) == (1, [])
