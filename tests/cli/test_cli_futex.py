"""`shmtop waiters` on futex waits: a process-shared mutex in a segment, a stale named
semaphore, in text and in JSON (real children: tests/futex_child.c)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import helpers
from futex_kids import MUTEX_AT, Child, start
from helpers import MakeShm
from json_schemas import validate


def waiters(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "shmtop", "waiters", *args],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout


def valid(document: Any) -> Any:
    """The document, checked against the schema `shmtop schema waiters` publishes (strict:
    a field the schema does not name fails too)."""
    validate("waiters", document)
    return document


def futex_record(pid: int) -> dict[str, Any] | None:
    document = json.loads(waiters("--json"))
    return next((w for w in document["waiters"] if w["pid"] == pid and w["futex"]), None)


def test_waiters_shows_a_mutex_waiter_with_its_owner_in_text_and_json(
    child_program: Path, kids: list[Child], make_shm: MakeShm
) -> None:
    shmid = make_shm(4096)
    holder = start(kids, child_program, "mutex-hold", str(shmid), str(MUTEX_AT))
    _, tid = holder.line()
    waiter = start(kids, child_program, "mutex-wait", str(shmid), str(MUTEX_AT))
    assert waiter.line()[0] == "ready"
    found: list[dict[str, Any] | None] = [None]

    def listed() -> bool:
        found[0] = futex_record(waiter.pid)
        return found[0] is not None

    helpers.wait_until(listed, "the mutex waiter is listed")
    record = found[0]
    assert record is not None
    valid(json.loads(waiters("--json")))
    assert (record["kind"], record["id"], record["syscall"]) == ("shm", shmid, "futex")
    futex = record["futex"]
    assert (futex["offset"], futex["what"], futex["owner_tid"], futex["owner_pid"]) == (
        MUTEX_AT, "mutex", int(tid), holder.pid)  # fmt: skip
    (edge,) = record["released_by"]
    assert (edge["releaser"], edge["evidence"], edge["hint"], edge["offset"]) == (
        holder.pid, "holds the mutex", False, MUTEX_AT)  # fmt: skip

    text = waiters()
    (line,) = [line for line in text.splitlines() if line.startswith(f"{waiter.pid} ")]
    assert f"shm {shmid} +{MUTEX_AT:#x}" in line
    assert f"lock mutex (owner tid {tid}" in line and "holds the mutex" in line


def test_waiters_says_a_named_semaphores_nwaiters_is_stale(
    child_program: Path, kids: list[Child], sem_name: str
) -> None:
    first = start(kids, child_program, "semwait", sem_name)
    assert first.line()[0] == "ready"
    second = start(kids, child_program, "semwait", sem_name)
    assert second.line()[0] == "ready"
    helpers.wait_until(lambda: futex_record(second.pid) is not None, "the waiter is listed")
    first.process.send_signal(signal.SIGKILL)
    first.process.wait()

    document = valid(json.loads(waiters("--json")))
    (state,) = [s for s in document["named_semaphores"] if s["name"] == sem_name]
    assert (state["value"], state["nwaiters"], state["live_waiters"], state["stale"]) == (
        0, 2, 1, True)  # fmt: skip
    text = waiters()
    assert f"psem {sem_name}: value 0, nwaiters 2, 1 live waiters - nwaiters is stale" in text


def test_waiters_counts_the_mappers_it_does_not_name(
    child_program: Path, kids: list[Child], sem_name: str
) -> None:
    children = [start(kids, child_program, "semwait", sem_name) for _ in range(5)]
    for child in children:
        assert child.line()[0] == "ready"
    last = children[-1]

    def all_listed() -> bool:
        document = json.loads(waiters("--json"))
        return sum(w["pid"] in {c.pid for c in children} for w in document["waiters"]) == 5

    helpers.wait_until(all_listed, "the five waiters are listed")
    record = futex_record(last.pid)
    assert record is not None
    mappers = {edge["releaser"] for edge in record["released_by"]}
    assert mappers == {c.pid for c in children[:-1]}  # JSON names every one
    (line,) = [line for line in waiters().splitlines() if line.startswith(f"{last.pid} ")]
    assert line.count("maps it (hint)") == 3 and line.endswith("; 1 more process mapping it")
