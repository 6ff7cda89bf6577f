"""`list pshm|psem|pmq --filter EXPR` (and `list all --filter`): the filter language's terms
that mean something for each POSIX kind, a one-line usage error for one that does not,
and `ns:` across namespaces (-A, --namespace). Real objects: shm files mapped by a child,
a named semaphore, queues made with mq_open, and a namespace made with `unshare --ipc
--mount` (a /dev/shm of its own)."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hidden
import pytest
from json_schemas import validate
from ns_helpers import foreign_shm

from shmtop.core.binding import native
from shmtop.core.namespaces.joined import JoinedThread

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")
TESTS = Path(__file__).resolve().parent.parent
TAG = f"shmtop-cli-filter-{os.getpid()}"
BIG, SMALL, SEM, QUEUE = f"{TAG}-big", f"{TAG}-small", f"{TAG}-sem", f"/{TAG}-q"


def shmtop(*args: str) -> hidden.Result:
    return hidden.run(args, nobody=False)


def names(result: hidden.Result, key: str = "objects") -> set[str]:
    assert result.code == 0, result
    return {o["name"] for o in result.json()[key] if TAG in o["name"]}


@pytest.fixture
def ours() -> Iterator[dict[str, Any]]:
    """/BIG (1 MiB, mapped by a child), /SMALL (4 KiB, unused), sem.SEM, QUEUE (2 messages)."""
    paths = [f"/dev/shm/{BIG}", f"/dev/shm/{SMALL}", f"/dev/shm/sem.{SEM}"]
    for path, size in zip(paths[:2], (1 << 20, 4096), strict=True):
        with open(path, "wb") as file:
            file.truncate(size)
        os.chmod(path, 0o600)
    with open(paths[2], "wb") as file:
        file.write(struct.pack("<II", 2, 0).ljust(32, b"\0"))
    mqd = native.mq_open(QUEUE, os.O_CREAT | os.O_RDWR, 0o600, max_messages=4, max_size=64)
    native.mq_send(mqd, b"one")
    native.mq_send(mqd, b"two")
    kid = subprocess.Popen([sys.executable, str(TESTS / "pshm_child.py"), paths[0], "map-rw"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert kid.stdout is not None and kid.stdout.readline()  # mapped (or it exited)
        yield {"mapper": kid.pid}
    finally:
        kid.kill()
        kid.wait()
        os.close(mqd)
        native.mq_unlink(QUEUE)
        for path in paths:
            os.unlink(path)


def test_size_nattch_pid_and_flags_keep_the_posix_objects_they_name(ours: dict[str, Any]) -> None:
    def listed(kind: str, expression: str) -> set[str]:
        return names(shmtop("list", kind, "--json", "--filter", expression),
                     "queues" if kind == "pmq" else "objects")  # fmt: skip

    assert listed("pshm", f"size:>64k {TAG}") == {f"/{BIG}"}
    assert listed("pshm", f"nattch:0 {TAG}") == {f"/{SMALL}"}
    assert listed("pshm", f"pid:{ours['mapper']}") == {f"/{BIG}"}
    assert listed("pshm", f"attached {TAG}") == {f"/{BIG}"}
    assert listed("pshm", f"!attached user:root perms:600 {TAG}") == {f"/{SMALL}"}
    assert listed("psem", TAG) == {f"/{SEM}"}
    assert listed("psem", f"size:>1M {TAG}") == set()
    assert listed("pmq", f"size:>0 {TAG}") == {QUEUE}  # bytes queued, as msg's size:
    assert listed("pmq", f"!waiting {TAG}") == {QUEUE}
    assert listed("pmq", f"size:0 {TAG}") == set()
    table = shmtop("list", "pshm", "--filter", f"size:>64k {TAG}")
    assert table.code == 0 and BIG in table.stdout and SMALL not in table.stdout, table


def test_a_term_that_does_not_apply_to_a_kind_is_one_usage_line() -> None:
    for kind, term, said in (
        ("pshm", "key:0x1", "key: does not apply to pshm: a POSIX object has a name"),
        ("psem", "id:3", "id: does not apply to psem"),
        ("pshm", "dest", "dest does not apply to pshm: a System V flag"),
        ("pmq", "orphan", "orphan does not apply to pmq: a flag of pshm and psem"),
        ("pshm", "waiting", "waiting does not apply to pshm: a flag of psem and pmq"),
        ("pmq", "bogus:1", "unknown term bogus:"),
    ):
        done = shmtop("list", kind, "--filter", term)
        assert done.code == 2 and done.stdout == "", done
        assert done.stderr.count("\n") == 1 and said in done.stderr, done


def test_list_all_filters_the_posix_tables_or_says_why_they_are_left_out(
    ours: dict[str, Any],
) -> None:
    kept = shmtop("list", "--filter", f"size:>64k {TAG}")
    assert kept.code == 0, kept
    posix = kept.stdout.split("POSIX shared memory", 1)[1]
    assert BIG in posix and SMALL not in posix and SEM not in posix, kept
    left = shmtop("list", "--filter", "dest")
    assert left.code == 0 and "POSIX shared memory" not in left.stdout, left
    assert "--filter keeps System V objects only: dest does not apply to pshm" in left.stderr


def _in(made: dict[str, Any], call: Any, *args: Any) -> Any:
    thread = JoinedThread(made["pid"], made["inode"])
    try:
        return thread.run(call, *args)
    finally:
        thread.close()


def _theirs_queue() -> None:
    mqd = native.mq_open(QUEUE, os.O_CREAT | os.O_RDWR, 0o600, max_messages=4, max_size=64)
    native.mq_send(mqd, b"theirs")
    os.close(mqd)


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_ns_term_keeps_one_namespace_objects_across_namespaces(ours: dict[str, Any]) -> None:
    with foreign_shm(BIG) as made:  # its /BIG (8 KiB, mapped by its child) and its QUEUE
        _in(made, _theirs_queue)
        inode = str(made["inode"])
        every = shmtop("list", "pshm", "-A", "--json", "--filter", f"ns:{inode}")
        validate("posix-list", every.json())
        found = [o for o in every.json()["objects"] if TAG in o["name"]]
        assert [(o["name"], o["namespace"]["inode"]) for o in found] == [(f"/{BIG}", made["inode"])]
        assert found[0]["size"] == 8192  # theirs, not ours (1 MiB)
        mine = shmtop("list", "pshm", "-A", "--json", "--filter", f"!ns:{inode} {TAG}")
        assert {(o["name"], o["size"]) for o in mine.json()["objects"]} == {
            (f"/{BIG}", 1 << 20), (f"/{SMALL}", 4096)
        }  # fmt: skip
        queues = shmtop("list", "pmq", "-A", "--json", "--filter", f"ns:ipc:[{inode}]")
        assert [(q["name"], q["namespace"]["inode"]) for q in queues.json()["queues"]
                if TAG in q["name"]] == [(QUEUE, made["inode"])]  # fmt: skip
        there = shmtop("list", "pshm", "--namespace", inode, "--filter", "size:>64k")
        assert there.code == 0 and BIG not in there.stdout, there  # theirs is 8 KiB
        watched = shmtop("list", "pmq", "--namespace", inode, "--json", "--watch", "0.1",
                         "--count", "1", "--filter", f"size:>0 {TAG}")  # fmt: skip
        assert watched.code == 0, watched
        (line,) = watched.stdout.splitlines()
        assert [q["name"] for q in json.loads(line)["queues"]] == [QUEUE]
