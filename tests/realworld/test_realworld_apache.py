"""Apache 2.4 prefork with a System V accept mutex, in its own namespaces: shmtop against /proc.

Five idle children: one holds the accept mutex (polling the listeners), the
other four are blocked in semtimedop on it. The ground truth is the test's own
reading of /proc/PID/task/TID/syscall inside the namespace (tests/realworld/truth.py).
Requests go to 127.0.0.1 only, a bounded number of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import helpers
import pytest

from realworld.apache import PAGE, SERVERS, Apache
from realworld.namespace import Namespace
from realworld.observe import Observation, observe, shmtop_attachments

pytestmark = [pytest.mark.realworld, pytest.mark.root]

REQUESTS = 40
# Longer than the stall threshold shmtop had (10 s): a healthy idle wait must raise no alarm.
LONG_WAIT = 12
SEM_FIELDS = ("key", "nsems", "uid", "gid", "cuid", "cgid", "perms")


@pytest.fixture(scope="module")
def apache() -> Iterator[Apache]:
    server = Apache()
    try:
        yield server
    finally:
        problems = server.stop()
    assert not problems, problems


@pytest.fixture(scope="module")
def served(apache: Apache) -> list[bytes]:
    """The bodies of REQUESTS GETs spread over both listeners; then the children rest again."""
    bodies = [apache.get(apache.ports[n % 2]) for n in range(REQUESTS)]
    helpers.wait_until(apache.at_rest, "the children wait on the accept mutex again")
    return bodies


def take_now(namespace: Namespace) -> dict[str, Any]:
    return {"waiters": namespace.shmtop_json("waiters"), "list": namespace.shmtop_json("list")}


def take_after_a_long_wait(namespace: Namespace) -> dict[str, Any]:
    return {"waiters": namespace.shmtop_json("waiters", "--observe", str(LONG_WAIT))}


@pytest.fixture(scope="module")
def resting(apache: Apache, served: list[bytes]) -> Observation:
    return observe(apache.namespace, take_now)


@pytest.fixture(scope="module")
def long_rest(apache: Apache, resting: Observation) -> Observation:
    return observe(apache.namespace, take_after_a_long_wait)


def reported_waiters(report: dict[str, Any]) -> dict[tuple[int, int], int]:
    return {(w["pid"], w["tid"]): w["id"] for w in report["waiters"] if w["kind"] == "sem"}


def test_requests_were_served(served: list[bytes]) -> None:
    assert served == [PAGE] * REQUESTS


def test_idle_children_wait_on_the_accept_mutex(resting: Observation) -> None:
    """The truth (four children in semtimedop on the one set) is what `waiters` reports."""
    truth = resting.after.sem_waiters()
    assert len(truth) == SERVERS - 1, truth
    assert set(truth.values()) <= set(resting.after.sem), (truth, resting.after.sem)
    assert len(set(truth.values())) == 1, "one accept mutex"
    assert reported_waiters(resting.outputs["waiters"]) == truth


def test_waiters_after_a_long_wait(long_rest: Observation) -> None:
    """After LONG_WAIT seconds of watching, the same waiters, all of them, on the same set."""
    truth = long_rest.after.sem_waiters()
    assert truth == long_rest.before.sem_waiters()
    assert len(truth) == SERVERS - 1, truth
    assert reported_waiters(long_rest.outputs["waiters"]) == truth


def test_accept_mutex_set_matches_proc(resting: Observation) -> None:
    """Its fields match /proc/sysvipc/sem, and its ncnt counts the threads /proc shows blocked."""
    sets = {s["id"]: s for s in resting.outputs["list"]["semaphore_sets"]}
    assert set(sets) == set(resting.after.sem)
    for semid, row in resting.after.sem.items():
        reported = {name: sets[semid][name] for name in SEM_FIELDS}
        reported["perms"] = int(reported["perms"], 8)
        assert reported == {name: row[name] for name in SEM_FIELDS}, semid
        blocked = [w for w in resting.after.sem_waiters().values() if w == semid]
        assert sum(s["ncnt"] for s in sets[semid]["semaphores"]) == len(blocked), semid


def test_attachments_match_proc(resting: Observation) -> None:
    """Apache's scoreboard is anonymous memory: no segment, and shmtop invents none."""
    assert {s["id"] for s in resting.outputs["list"]["segments"]} == set(resting.after.shm)
    assert shmtop_attachments(resting.outputs["list"]) == resting.after.attachments()


def test_long_idle_wait_raises_no_alarm(long_rest: Observation) -> None:
    report = long_rest.outputs["waiters"]
    alarms = [name for name in ("stuck", "stalls") if name in report]
    assert alarms, sorted(report)
    for name in alarms:
        assert report[name] == [], (name, report[name])


def test_waiters_carry_their_titles(resting: Observation) -> None:
    for waiter in resting.outputs["waiters"]["waiters"]:
        expected = resting.after.processes[waiter["pid"]].title
        assert waiter.get("title") == expected, waiter
