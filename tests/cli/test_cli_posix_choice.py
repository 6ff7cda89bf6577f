"""`list --sort`, `--reverse` and `--user` on the POSIX kinds (pshm, psem, pmq), alone, in
plain `list`, with --json, --watch and -A: real objects of ours, compared in the order they
come out (other processes' objects may be listed among them: only ours are looked at).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import struct
from collections.abc import Iterator

import hidden
import pytest
from json_schemas import validate

from shmtop.core.binding import native

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None, reason="reads every process's maps"
)
TAG = f"shmtop-choice-{os.getpid()}"
SIZES = {"b": 3, "a": 1, "c": 2}  # name suffix -> pages
OTHER_UID = 54321  # no object of ours but one is that uid's


def shmtop(*args: str) -> hidden.Result:
    return hidden.run(args, nobody=False)


def ours(names: list[str]) -> list[str]:
    """Our objects' suffixes (a, b, c), in the order given (a semaphore's name is /NAME)."""
    return [n.rsplit("-", 1)[1] for n in names if n.startswith(f"/{TAG}-")]


def row_names(lines: list[str]) -> list[str]:
    return [line.split()[0] for line in lines if line.startswith(f"/{TAG}-")]


@pytest.fixture
def objects() -> Iterator[None]:
    """/TAG-a (1 page), /TAG-b (3), /TAG-c (2, owned by OTHER_UID); named semaphores
    sem.TAG-a (value 5) and sem.TAG-b (value 2); queues /TAG-a (2 messages) and /TAG-b (1)."""
    paths = [f"/dev/shm/{TAG}-{suffix}" for suffix in SIZES]
    sems = {f"/dev/shm/sem.{TAG}-a": 5, f"/dev/shm/sem.{TAG}-b": 2}
    queues = {f"/{TAG}-a": 2, f"/{TAG}-b": 1}
    try:
        for path, pages in zip(paths, SIZES.values(), strict=True):
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o640)
            os.ftruncate(fd, pages * 4096)
            os.close(fd)
        os.chown(f"/dev/shm/{TAG}-c", OTHER_UID, OTHER_UID)
        for path, value in sems.items():
            with open(path, "xb") as file:  # a glibc 64-bit sem_t: value, nwaiters, padding
                file.write(struct.pack("<II", value, 0).ljust(32, b"\0"))
        for name, count in queues.items():
            mqd = native.mq_open(name, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
            for _ in range(count):
                native.mq_send(mqd, b"m")
            native.mq_close(mqd)
        yield
    finally:
        for path in (*paths, *sems):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        for name in queues:
            with contextlib.suppress(FileNotFoundError):
                native.mq_unlink(name)


def test_list_pshm_sorts_by_its_columns_and_reverse_flips(objects: None) -> None:
    by_size = shmtop("list", "pshm", "--sort", "size")
    assert by_size.code == 0, by_size
    assert ours(row_names(by_size.lines())) == ["a", "c", "b"]
    reverse = shmtop("list", "pshm", "--sort", "size", "--reverse")
    assert ours(row_names(reverse.lines())) == ["b", "c", "a"]
    plain_reverse = shmtop("list", "pshm", "--reverse")  # the table's own order, flipped
    assert ours(row_names(plain_reverse.lines())) == ["c", "b", "a"]
    document = shmtop("list", "pshm", "--json", "--sort", "size", "--reverse").json()
    validate("posix-list", document)
    assert ours([o["name"] for o in document["objects"]]) == ["b", "c", "a"]


def test_list_psem_and_pmq_sort_by_value_and_messages(objects: None) -> None:
    sems = shmtop("list", "psem", "--sort", "value")
    assert sems.code == 0, sems
    assert ours(row_names(sems.lines())) == ["b", "a"]  # values 2, then 5
    queues = shmtop("list", "pmq", "--sort", "msgs", "--json").json()
    validate("pmq-list", queues)
    assert ours([q["name"] for q in queues["queues"]]) == ["b", "a"]  # 1 message, then 2
    flipped = shmtop("list", "pmq", "--sort", "msgs", "--reverse")
    assert ours(row_names(flipped.lines())) == ["a", "b"]


def test_list_user_keeps_that_user_posix_objects(objects: None) -> None:
    theirs = shmtop("list", "pshm", "--user", str(OTHER_UID))
    assert theirs.code == 0, theirs
    assert ours(row_names(theirs.lines())) == ["c"]
    root = shmtop("list", "pshm", "--user", "ROOT", "--json").json()  # a name, in any case
    assert ours([o["name"] for o in root["objects"]]) == ["a", "b"]
    none = shmtop("list", "pmq", "--user", str(OTHER_UID), "--json").json()
    assert ours([q["name"] for q in none["queues"]]) == []
    for kind in ("pshm", "psem", "pmq"):
        unknown = shmtop("list", kind, "--user", "no-such-user-x")
        assert unknown.code == 2 and unknown.stderr.splitlines() == [
            "shmtop: --user 'no-such-user-x': no such user (give a user name or a uid)"
        ]


def test_plain_list_sorts_the_posix_tables_by_their_columns(objects: None) -> None:
    listed = shmtop("list", "--sort", "size", "--reverse")
    assert listed.code == 0, listed
    lines = listed.lines()
    start = lines.index(next(line for line in lines if line.startswith("POSIX shared memory (")))
    end = lines.index(next(line for line in lines if line.startswith("POSIX named semaphores")))
    assert ours(row_names(lines[start:end])) == ["b", "c", "a"]
    by_name = shmtop("list", "--json", "--sort", "name", "--reverse").json()  # POSIX only
    validate("list", by_name)
    assert ours([o["name"] for o in by_name["posix_shm"]]) == ["c", "b", "a"]
    assert ours([q["name"] for q in by_name["posix_queues"]]) == ["b", "a"]
    unknown = shmtop("list", "--sort", "bogus")
    assert unknown.code == 2 and len(unknown.stderr.splitlines()) == 1
    assert "cannot sort by 'bogus'; columns: " in unknown.stderr
    assert all(word in unknown.stderr for word in ("alloc,", "msgsize,", "nattch,", "nwaiters,"))


def test_sort_and_user_go_with_watch_and_all_namespaces(objects: None) -> None:
    watched = shmtop("list", "pmq", "--json", "--watch", "0.1", "--count", "2", "--sort", "msgs")
    assert watched.code == 0, watched
    for line in watched.lines():
        assert ours([q["name"] for q in json.loads(line)["queues"]]) == ["b", "a"]
    across = shmtop("list", "pshm", "-A", "--json", "--sort", "size", "--user", "root").json()
    validate("posix-list", across)
    assert ours([o["name"] for o in across["objects"]]) == ["a", "b"]
    every = shmtop("list", "--json", "--watch", "0.1", "--count", "1", "--user", str(OTHER_UID))
    assert every.code == 0, every
    line = json.loads(every.stdout)
    assert ours([o["name"] for o in line["posix_shm"]]) == ["c"]
