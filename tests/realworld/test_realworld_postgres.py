"""PostgreSQL with System V shared memory, in its own namespaces: shmtop against /proc's truth.

The server (Debian's package, initdb in a temporary directory) runs with
shared_memory_type = sysv, dynamic_shared_memory_type = sysv and autovacuum off,
on a unix socket only. shmtop runs inside the server's IPC, PID and mount
namespaces; the ground truth is the test's own reading of /proc there
(tests/realworld/truth.py), taken before and after shmtop and required to agree.
Two moments are compared: busy (four clients, one running a parallel query with
two workers) and idle (no client).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import helpers
import pytest

from realworld.namespace import Namespace
from realworld.observe import SHM_FIELDS, Observation, observe, shmtop_attachments
from realworld.postgres import SLOW_ROWS, Postgres
from realworld.truth_model import Truth

pytestmark = [pytest.mark.realworld, pytest.mark.root]

IDLE_SESSIONS = 3
WORKERS = 2
WORKER_TITLE = "postgres: parallel worker for PID"
CLIENT_TITLE = "postgres: postgres postgres [local]"
# Issue 8's lead branches; these tests pass once each is merged (strict: they say so).


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    try:
        server.make_slow_table()
        yield server
    finally:
        problems = server.stop()
    assert not problems, problems


def take_everything(namespace: Namespace) -> dict[str, Any]:
    listing = namespace.shmtop_json("list", "shm")
    shows = {
        segment["id"]: namespace.shmtop_json("show", "shm", str(segment["id"]))
        for segment in listing["segments"]
    }
    return {"list": listing, "show": shows}


@pytest.fixture(scope="module")
def busy(postgres: Postgres) -> Observation:
    """Three idle clients and a parallel query (its leader and two workers) running."""
    with postgres.sessions(IDLE_SESSIONS), postgres.parallel_query():

        def workers_running() -> bool:
            return len(postgres.namespace.truth().with_title(WORKER_TITLE)) == WORKERS

        helpers.wait_until(workers_running, "the parallel query's workers run")
        return observe(postgres.namespace, take_everything)


@pytest.fixture(scope="module")
def idle(postgres: Postgres, busy: Observation) -> Observation:
    """After the busy moment: no client, no worker, only the server's own processes."""

    def no_client() -> bool:
        truth = postgres.namespace.truth()
        return not truth.with_title(CLIENT_TITLE) and not truth.with_title(WORKER_TITLE)

    helpers.wait_until(no_client, "every client backend and worker exits")
    return observe(postgres.namespace, take_everything)


def postgres_titles(truth: Truth) -> list[str]:
    return sorted(p.title for p in truth.processes.values() if p.pid != 1)


def test_busy_workload_is_what_it_says(busy: Observation) -> None:
    """The ground truth itself: clients, a leader with two workers, all attached."""
    truth = busy.after
    assert len(truth.with_title(CLIENT_TITLE)) == IDLE_SESSIONS + 1, postgres_titles(truth)
    assert len(truth.with_title(WORKER_TITLE)) == WORKERS, postgres_titles(truth)
    assert truth.with_title("postgres: checkpointer"), postgres_titles(truth)
    attachers: dict[int, set[int]] = {}
    for pid, shmid, *_ in truth.attachments():
        attachers.setdefault(shmid, set()).add(pid)
    assert set().union(*attachers.values()) == set(truth.processes) - {1}, "all postgres attach"
    # The parallel query's own dynamic segment: the leader and its two workers only.
    leader = truth.with_title(f"{CLIENT_TITLE} SELECT")
    assert set(leader) | set(truth.with_title(WORKER_TITLE)) in attachers.values(), attachers


@pytest.mark.parametrize("moment", ["busy", "idle"])
def test_attachments_match_proc(moment: str, request: pytest.FixtureRequest) -> None:
    """Every (pid, segment, address range, access) shmtop reports is in /proc, and vice versa."""
    seen: Observation = request.getfixturevalue(moment)
    truth = seen.after.attachments()
    assert truth, "the server has System V attachments"
    assert shmtop_attachments(seen.outputs["list"]) == truth
    for shmid, shown in seen.outputs["show"].items():
        assert shmtop_attachments(shown) == {m for m in truth if m[1] == shmid}, shmid


@pytest.mark.parametrize("moment", ["busy", "idle"])
def test_segment_fields_match_proc_sysvipc(moment: str, request: pytest.FixtureRequest) -> None:
    seen: Observation = request.getfixturevalue(moment)
    segments = {s["id"]: s for s in seen.outputs["list"]["segments"]}
    assert set(segments) == set(seen.after.shm)
    for shmid, row in seen.after.shm.items():
        reported = {name: segments[shmid][name] for name in SHM_FIELDS}
        reported["perms"] = int(reported["perms"], 8)
        assert reported == {name: row[name] for name in SHM_FIELDS}, shmid


def unattached_keyed(truth: Truth) -> list[int]:
    """Keyed segments nobody has attached whose creator is no longer running."""
    return sorted(
        shmid
        for shmid, row in truth.shm.items()
        if row["key"] != 0 and row["nattch"] == 0 and row["cpid"] not in truth.processes
    )


def test_idle_server_has_a_keyed_segment_nobody_attached(idle: Observation) -> None:
    """The case of issue 8, seen in /proc: the statistics segment, its creator (startup) gone."""
    assert unattached_keyed(idle.after), idle.after.shm


def test_idle_keyed_segment_is_not_an_orphan(postgres: Postgres, idle: Observation) -> None:
    segments = {s["id"]: s for s in idle.outputs["list"]["segments"]}
    for shmid in unattached_keyed(idle.after):
        assert segments[shmid]["orphan"] is False, shmid
    offered = postgres.namespace.shmtop("rm", "--orphans", "--dry-run", check=False)
    if offered.returncode != 0:
        assert "nothing matches" in offered.stderr, offered.stderr
    else:
        rows = {tuple(line.split()[:2]) for line in offered.stdout.splitlines()}
        for shmid in unattached_keyed(idle.after):
            assert ("shm", str(shmid)) not in rows, offered.stdout


def test_server_still_serves_after_shmtop(postgres: Postgres, idle: Observation) -> None:
    """After every shmtop command above, a new connection still works (its segments intact)."""
    assert postgres.psql("SELECT count(*) FROM slow") == str(SLOW_ROWS)
    assert set(postgres.namespace.truth().shm) == set(idle.after.shm)


@pytest.mark.parametrize("moment", ["busy", "idle"])
def test_attachers_carry_their_titles(moment: str, request: pytest.FixtureRequest) -> None:
    seen: Observation = request.getfixturevalue(moment)
    for segment in seen.outputs["list"]["segments"]:
        for attachment in segment["attachments"]:
            expected = seen.after.processes[attachment["pid"]].title
            assert attachment.get("title") == expected, (segment["id"], attachment)
