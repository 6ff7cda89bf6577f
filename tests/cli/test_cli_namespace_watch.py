"""`list --json --watch S` with -A and --namespace NS: JSON Lines, a list document a line,
every object with its namespace, live from line to line (real namespaces, unshare --ipc)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import hidden
import pytest
from helpers import wait_until
from json_schemas import validate
from ns_helpers import foreign_namespace, foreign_shm

from shmtop.core.binding import native
from shmtop.core.namespaces.discover import ipc_inode
from shmtop.core.namespaces.joined import JoinedThread

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) to make and join IPC namespaces",
)
OURS = os.stat("/proc/self/ns/ipc").st_ino if os.path.exists("/proc/self/ns/ipc") else 0


def _ids(document: dict[str, Any], inode: int) -> list[int]:
    return sorted(s["id"] for s in document["segments"] if s["namespace"]["inode"] == inode)


def test_watch_A_prints_one_document_a_line_with_every_namespace() -> None:
    ours = native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600)
    try:
        with foreign_namespace("shmtop-watch-box", objects=2) as made:
            done = hidden.run(("list", "shm", "--json", "--watch", "0.05", "--count", "2", "-A"),
                              nobody=False)  # fmt: skip
    finally:
        native.shm_rmid(ours)
    assert done.code == 0, done
    lines = [json.loads(line) for line in done.lines()]
    assert len(lines) == 2
    for document in lines:
        validate("list", document)
        spaces = {ns["inode"]: ns for ns in document["namespaces"]}
        assert spaces[made["inode"]]["name"] == "shmtop-watch-box"
        assert _ids(document, made["inode"]) == made["shm"]
        assert ours in _ids(document, OURS)  # the same id 0 in two namespaces, each its own
        assert "unplaced" in document


def test_watch_in_a_namespace_follows_its_changes_line_to_line() -> None:
    with foreign_namespace("shmtop-watch-one") as made:
        argv = hidden.command(("list", "shm", "--json", "--watch", "0.05", "--count", "400",
                               "--namespace", "shmtop-watch-one"), nobody=False)  # fmt: skip
        watch = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                 cwd=hidden.ROOT, text=True)  # fmt: skip
        thread = JoinedThread(made["pid"], made["inode"])
        try:
            assert watch.stdout is not None
            first = json.loads(watch.stdout.readline())
            assert [ns["inode"] for ns in first["namespaces"]] == [made["inode"]]
            assert _ids(first, made["inode"]) == made["shm"]
            added = thread.run(native.shmget, native.IPC_PRIVATE, 4096,
                               native.IPC_CREAT | 0o600)  # fmt: skip
            seen = None
            for line in watch.stdout:  # bounded: --count ends the watch
                document = json.loads(line)
                validate("list", document)
                if added in _ids(document, made["inode"]):
                    seen = document
                    break
            assert seen is not None, "the new segment never showed"
            assert {s["namespace"]["name"] for s in seen["segments"]} == {"shmtop-watch-one"}
        finally:
            watch.kill()
            watch.wait()
            thread.close()


def test_watch_of_pshm_A_has_a_namespace_object_in_every_line() -> None:
    with foreign_shm("shmtop-watch-object") as made:
        done = hidden.run(("list", "pshm", "--json", "--watch", "0.05", "--count", "2", "-A"),
                          nobody=False)  # fmt: skip
    assert done.code == 0, done
    lines = [json.loads(line) for line in done.lines()]
    assert len(lines) == 2
    for document in lines:
        validate("posix-list", document)
        theirs = [o for o in document["objects"] if o["namespace"]["inode"] == made["inode"]]
        assert [o["name"] for o in theirs] == ["/shmtop-watch-object"]
        assert theirs[0]["path"] == "/dev/shm/shmtop-watch-object"


def test_watch_of_pmq_in_a_namespace_follows_its_queues() -> None:
    with foreign_namespace("shmtop-watch-mq") as made:
        argv = hidden.command(("list", "pmq", "--json", "--watch", "0.05", "--count", "400",
                               "--namespace", "shmtop-watch-mq"), nobody=False)  # fmt: skip
        watch = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                 cwd=hidden.ROOT, text=True)  # fmt: skip
        thread = JoinedThread(made["pid"], made["inode"])
        mqd = None
        try:
            assert watch.stdout is not None
            first = json.loads(watch.stdout.readline())
            validate("pmq-list", first)
            assert first["queues"] == []
            mqd = thread.run(native.mq_open, "/shmtop-watch-q", os.O_CREAT | os.O_RDWR, 0o600)
            seen = None
            for line in watch.stdout:  # bounded: --count ends the watch
                document = json.loads(line)
                if document["queues"]:
                    seen = document
                    break
            assert seen is not None, "the new queue never showed"
            validate("pmq-list", seen)
            (queue,) = seen["queues"]
            assert queue["name"] == "/shmtop-watch-q"
            assert queue["namespace"]["name"] == "shmtop-watch-mq"
        finally:
            watch.kill()
            watch.wait()
            if mqd is not None:
                thread.run(native.mq_unlink, "/shmtop-watch-q")
                thread.run(native.mq_close, mqd)
            thread.close()
    ours = native.mq_open("/shmtop-watch-q", os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    native.mq_close(ours)  # the name was free in ours all along: it was theirs
    native.mq_unlink("/shmtop-watch-q")


def test_watch_of_a_posix_kind_in_ours_and_its_usage_errors() -> None:
    done = hidden.run(("list", "psem", "--json", "--watch", "0.05", "--count", "2"),
                      nobody=False)  # fmt: skip
    assert done.code == 0, done
    for line in done.lines():
        validate("posix-list", json.loads(line))
    assert len(done.lines()) == 2
    text = hidden.run(("list", "pshm", "--watch", "1"), nobody=False)
    assert text.code == 2 and text.stderr.splitlines() == [
        "shmtop: --watch prints JSON Lines: add --json"
    ]
    sort = hidden.run(("list", "pmq", "--json", "--watch", "1", "--sort", "size"), nobody=False)
    assert sort.code == 2 and "cannot sort by 'size'; columns: held," in sort.stderr


def test_watch_of_pshm_reads_through_a_member_still_there() -> None:
    # The namespace's /dev/shm is read through /proc/PID/root of a member: when that one
    # exits, the watch must go on through another member, not list nothing (or, after a
    # pid reuse, another namespace's files).
    with foreign_shm("shmtop-watch-follow") as made:
        second = subprocess.Popen(
            ["nsenter", "-t", str(made["pid"]), "--ipc", "--mount", "sleep", "60"],
            stdin=subprocess.DEVNULL,
        )
        watch = None
        try:
            wait_until(lambda: ipc_inode(second.pid) == made["inode"], "nsenter joined")
            wanted = ("--namespace", str(made["inode"]))
            argv = hidden.command(("list", "pshm", "--json", "--watch", "0.05", "--count",
                                   "400", *wanted), nobody=False)  # fmt: skip
            watch = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     cwd=hidden.ROOT, text=True)  # fmt: skip
            assert watch.stdout is not None
            first = json.loads(watch.stdout.readline())
            assert [o["name"] for o in first["objects"]] == ["/shmtop-watch-follow"]
            os.kill(made["pid"], 9)  # the first member goes; the tmpfs stays with `second`
            wait_until(lambda: ipc_inode(made["pid"]) is None, "the first member gone")
            watch.stdout.readline()  # a line may have been read before the kill
            later = json.loads(watch.stdout.readline())
            validate("posix-list", later)
            assert [o["name"] for o in later["objects"]] == ["/shmtop-watch-follow"]
        finally:
            if watch is not None:
                watch.kill()
                watch.wait()
            second.kill()
            second.wait()
