"""show, dump and rm of POSIX objects with --namespace NS, and show msg --messages there:
each acts on the object of that namespace, never on the same-named (or same-id) one of
ours. Real namespaces (unshare --ipc --mount, a tmpfs of their own on /dev/shm) and real
objects; the session's own /dev/shm is a private tmpfs too (conftest)."""

from __future__ import annotations

import argparse
import contextlib
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
from ns_helpers import foreign_namespace, foreign_shm

from shmtop.cli import posix, posix_ns_objects
from shmtop.core.binding import native
from shmtop.core.namespaces.discover import census, find
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.posix.actions import PosixOutcome

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) to make and join IPC and mount namespaces",
)
TESTS = Path(__file__).resolve().parent.parent
NAME = "shmtop-nsrest-obj"
SEM = "shmtop-nsrest-sem"


def shmtop(*args: str) -> hidden.Result:
    return hidden.run(args, nobody=False)


def _sem_bytes(value: int) -> bytes:
    """A glibc 64-bit sem_t: value u32 at 0, nwaiters u32 at 4, then padding (32 bytes)."""
    return struct.pack("<II", value, 0).ljust(32, b"\0")


def _identity(info: os.stat_result) -> str:
    """show's identity line of a file."""
    device = f"{os.major(info.st_dev)}:{os.minor(info.st_dev)}"
    return f"  identity   device {device}, inode {info.st_ino}"


@pytest.fixture
def box() -> Iterator[dict[str, Any]]:
    """A namespace with a /dev/shm of its own holding /NAME (mapped by its child, bytes
    'theirs') and sem.SEM (value 3); ours holds the same names (bytes 'ours', value 7)."""
    ours = {f"/dev/shm/{NAME}": b"ours" * 4, f"/dev/shm/sem.{SEM}": _sem_bytes(7)}
    with foreign_shm(NAME) as made:
        root = f"/proc/{made['pid']}/root/dev/shm"
        with open(f"{root}/{NAME}", "r+b") as file:
            file.write(b"theirs" * 2)
        with open(f"{root}/sem.{SEM}", "wb") as file:
            file.write(_sem_bytes(3))
        for path, data in ours.items():
            with open(path, "wb") as file:
                file.write(data)
        try:
            yield {**made, "root": root}
        finally:
            for path in ours:
                if os.path.exists(path):
                    os.unlink(path)


def test_show_pshm_and_psem_in_a_namespace_are_that_namespace_objects(
    box: dict[str, Any],
) -> None:
    ns = str(box["inode"])
    shown = shmtop("show", "pshm", "--name", f"/{NAME}", "--namespace", ns)
    assert shown.code == 0, shown
    theirs, ours = os.stat(f"{box['root']}/{NAME}"), os.stat(f"/dev/shm/{NAME}")
    assert theirs.st_dev != ours.st_dev  # two tmpfs: a fresh one's first file is inode 2
    assert _identity(theirs) in shown.lines() and _identity(ours) not in shown.lines()
    assert f"  path       /dev/shm/{NAME}" in shown.lines()  # as its processes name it
    assert f"ipc:[{box['inode']}]" in shown.stderr
    assert f"{box['pid']} " in shown.stdout.split("mapped by", 1)[1]  # its child maps it
    assert sum(line.startswith("  identity") for line in shown.lines()) == 1  # not ours too
    sem = shmtop("show", "psem", "--name", f"/{SEM}", "--namespace", ns)
    assert sem.code == 0, sem
    assert "  value      3, nwaiters 0 (a hint)" in sem.lines()
    mine = shmtop("show", "psem", "--name", f"/{SEM}")
    assert "  value      7, nwaiters 0 (a hint)" in mine.lines()
    document = shmtop("show", "pshm", "--name", f"/{NAME}", "--namespace", ns, "--json").json()
    validate("posix-show", document)
    [obj] = document["objects"]  # theirs, not ours too
    assert (obj["inode"], obj["namespace"]["inode"]) == (theirs.st_ino, box["inode"])
    assert obj["path"] == f"/dev/shm/{NAME}"


def test_dump_in_a_namespace_reads_that_namespace_object(box: dict[str, Any]) -> None:
    done = shmtop("dump", "--name", f"/{NAME}", "--namespace", str(box["pid"]), "--raw",
                  "--length", "12")  # fmt: skip
    assert done.code == 0, done
    assert done.stdout == "theirs" * 2
    ours = shmtop("dump", "--name", f"/{NAME}", "--raw", "--length", "8")
    assert ours.stdout == "ours" * 2


def test_rm_pshm_and_psem_in_a_namespace_unlink_there_only(box: dict[str, Any]) -> None:
    ns = str(box["inode"])
    done = shmtop("rm", "pshm", "--name", f"/{NAME}", "--namespace", ns, "--yes")
    assert done.code == 0, done
    assert done.lines()[0] == f"in IPC namespace ipc:[{box['inode']}]"
    assert f"/{NAME}" in done.stdout and "unlinked (still mapped" in done.stdout  # its child
    assert not os.path.exists(f"{box['root']}/{NAME}")
    assert os.path.exists(f"/dev/shm/{NAME}")
    sem = shmtop("rm", "psem", "--name", f"/{SEM}", "--namespace", ns, "--yes")
    assert sem.code == 0, sem
    assert "removed" in sem.stdout
    assert not os.path.exists(f"{box['root']}/sem.{SEM}")
    assert os.path.exists(f"/dev/shm/sem.{SEM}")


def test_rm_in_a_namespace_asks_first_and_dry_run_removes_nothing(box: dict[str, Any]) -> None:
    ns = str(box["inode"])
    asked = shmtop("rm", "psem", "--name", f"/{SEM}", "--namespace", ns)  # stdin: no terminal
    assert asked.code == 2 and "add --yes" in asked.stderr, asked
    dry = shmtop("rm", "psem", "--name", f"/{SEM}", "--namespace", ns, "--dry-run")
    assert dry.code == 0 and f"/{SEM}" in dry.stdout, dry
    assert os.path.exists(f"{box['root']}/sem.{SEM}")


def test_a_name_reused_in_the_namespace_since_the_scan_is_refused(box: dict[str, Any]) -> None:
    args = argparse.Namespace(namespace=str(box["inode"]), all_namespaces=False)
    namespace = find(census().namespaces, args.namespace)
    assert namespace is not None
    scope = posix_ns_objects.scope_of(namespace)
    (planned,) = [o for o in scope.shown.objects if o.name == f"/{SEM}"]
    assert planned.path == f"/dev/shm/sem.{SEM}".encode()
    path = f"{box['root']}/sem.{SEM}"
    os.unlink(path)  # the name made again: another file
    with open(path, "wb") as file:
        file.write(_sem_bytes(1))
    done = posix._remove(scope, planned, idle=False)
    assert done.outcome is PosixOutcome.CHANGED, done
    assert done.name == f"/{SEM}"
    assert os.path.exists(path) and os.path.exists(f"/dev/shm/sem.{SEM}")


# ---- message queues ----

QUEUE = "/shmtop-nsrest-q"


@pytest.fixture
def queues() -> Iterator[tuple[dict[str, Any], JoinedThread]]:
    """A namespace with queue QUEUE holding 2 messages; ours has the same name with 1."""
    with foreign_namespace("shmtop-nsrest-mq") as made:
        thread = JoinedThread(made["pid"], made["inode"])
        theirs = thread.run(native.mq_open, QUEUE, os.O_CREAT | os.O_RDWR, 0o600)
        ours = native.mq_open(QUEUE, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            thread.run(native.mq_send, theirs, b"one")
            thread.run(native.mq_send, theirs, b"two")
            native.mq_send(ours, b"x")
            yield made, thread
        finally:
            with contextlib.suppress(FileNotFoundError):
                thread.run(native.mq_unlink, QUEUE)
            with contextlib.suppress(FileNotFoundError):
                native.mq_unlink(QUEUE)
            thread.run(native.mq_close, theirs)
            native.mq_close(ours)
            thread.close()


def test_show_and_rm_pmq_in_a_namespace_act_on_its_queue(
    queues: tuple[dict[str, Any], JoinedThread],
) -> None:
    _, thread = queues
    shown = shmtop("show", "pmq", "--name", QUEUE, "--namespace", "shmtop-nsrest-mq")
    assert shown.code == 0, shown
    assert any(line.startswith("  messages   2 queued") for line in shown.lines()), shown
    ours = shmtop("show", "pmq", "--name", QUEUE)
    assert any(line.startswith("  messages   1 queued") for line in ours.lines()), ours
    document = shmtop("show", "pmq", "--name", QUEUE, "--namespace", "shmtop-nsrest-mq", "--json")
    validate("pmq-show", document.json())
    [queue] = document.json()["queues"]
    assert (queue["messages"], queue["namespace"]["name"]) == (2, "shmtop-nsrest-mq")
    done = shmtop("rm", "pmq", "--name", QUEUE, "--namespace", "shmtop-nsrest-mq", "--yes")
    assert done.code == 0, done
    assert done.lines()[0].startswith("in IPC namespace shmtop-nsrest-mq")
    with pytest.raises(FileNotFoundError):
        thread.run(native.mq_open, QUEUE, os.O_RDONLY)
    mqd = native.mq_open(QUEUE, os.O_RDONLY)  # ours stays, with its message
    try:
        assert native.mq_getattr(mqd).messages == 1
    finally:
        native.mq_close(mqd)


def test_show_msg_messages_in_a_namespace_reads_its_queue() -> None:
    with foreign_namespace("shmtop-nsrest-msg") as made:
        thread = JoinedThread(made["pid"], made["inode"])
        try:
            thread.run(native.msgsnd, made["msg"], 5, b"from-their-queue")
            with open("/proc/sys/kernel/msg_next_id", "w", encoding="ascii") as knob:
                knob.write(str(made["msg"]))
            ours = native.msgget(native.IPC_PRIVATE, native.IPC_CREAT | 0o600)
            try:
                assert ours == made["msg"]
                native.msgsnd(ours, 9, b"from-our-queue")
                document = shmtop("show", "msg", str(made["msg"]), "--messages",
                                  "--namespace", "shmtop-nsrest-msg", "--json").json()  # fmt: skip
                text = shmtop("show", "msg", str(made["msg"]), "--messages",
                              "--namespace", "shmtop-nsrest-msg")  # fmt: skip
            finally:
                native.msg_rmid(ours)
        finally:
            thread.close()
    validate("show-messages", document)
    assert document["queue"]["namespace"]["name"] == "shmtop-nsrest-msg"
    assert document["queue"]["namespace"]["current"] is False
    (message,) = document["messages"]["messages"]
    assert message["type"] == 5 and bytes.fromhex(message["data_hex"]) == b"from-their-queue"
    assert text.code == 0 and "from-their-queue" in text.stdout
    assert "from-our-queue" not in text.stdout


def test_list_psem_in_a_namespace_reads_its_semaphores_values(box: dict[str, Any]) -> None:
    listed = shmtop("list", "psem", "--namespace", str(box["inode"]), "--json").json()
    validate("posix-list", listed)
    (found,) = [o for o in listed["objects"] if o["name"] == f"/{SEM}"]
    assert found["kind"] == "psem" and found["semaphore"]["value"] == 3, found


def test_rm_usage_errors_in_a_namespace_come_before_anything_is_read() -> None:
    ours = str(os.stat("/proc/self/ns/ipc").st_ino)
    for args, said in ((("rm", "pshm", "3"), "rm pshm takes --name NAME or --orphans"),
                       (("rm", "shm", "--name", "/x"), "--name goes with a POSIX kind"),
                       (("rm", "pmq", "--orphans"), "rm pmq takes --name NAME")):  # fmt: skip
        done = shmtop(*args, "--namespace", ours)
        assert done.code == 2 and done.stdout == "", done
        assert said in done.stderr


def test_a_namespace_sharing_our_dev_shm_has_the_mappers_from_outside_it() -> None:
    """unshare --ipc alone: its /dev/shm is ours, mapped by processes of ours too; they are
    its mappers (what keeps rm --orphans from calling such an object unused)."""
    path = f"/dev/shm/{NAME}-shared"
    with open(path, "wb") as file:
        file.truncate(4096)
    mapper = subprocess.Popen([sys.executable, str(TESTS / "pshm_child.py"), path, "map-rw"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip
    try:
        assert mapper.stdout is not None and mapper.stdout.readline()
        with foreign_namespace("shmtop-nsrest-shared") as made:
            shown = shmtop("show", "pshm", "--name", f"/{NAME}-shared", "--namespace",
                           str(made["inode"]))  # fmt: skip
            listed = shmtop("list", "pshm", "--namespace", str(made["inode"]), "--json").json()
        assert shown.code == 0, shown
        (found,) = [o for o in listed["objects"] if o["name"] == f"/{NAME}-shared"]
        assert [m["pid"] for m in found["mappings"]] == [mapper.pid]
        assert f"{mapper.pid} " in shown.stdout.split("mapped by", 1)[1]
        assert os.path.exists(path)
    finally:
        mapper.kill()
        mapper.wait()
        os.unlink(path)
