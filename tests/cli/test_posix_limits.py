"""`shmtop limits` for the POSIX kinds: the mqueue sysctls with the queues counted, and the
shm filesystems' room, in text and JSON, against /proc/sys/fs/mqueue and statvfs.

The session's IPC namespace is private (its queues are the test's own) and its /dev/shm a
private tmpfs (conftest), so the counts are exact.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator

import hidden
import pytest
from json_schemas import validate

from shmtop.core.binding import native

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="lists queues via a mount: root")

NAME = f"/shmtop-limits-{os.getpid()}"
SYSCTLS = ("queues_max", "msg_max", "msgsize_max", "msg_default", "msgsize_default")


def sysctl(name: str) -> int:
    with open(f"/proc/sys/fs/mqueue/{name}") as value:
        return int(value.read())


@pytest.fixture
def objects() -> Iterator[None]:
    """Two queues (one made as large as msg_max allows) and a 64 KiB shm object."""
    flags = os.O_CREAT | os.O_EXCL | os.O_RDWR
    made = []
    try:
        for suffix, messages, size in (("a", sysctl("msg_max"), 100), ("b", 2, 300)):
            name = f"{NAME}-{suffix}"
            native.mq_close(native.mq_open(name, flags, 0o600, max_messages=messages,
                                           max_size=size))  # fmt: skip
            made.append(name)
        fd = os.open(f"/dev/shm{NAME}", flags, 0o600)
        os.pwrite(fd, b"x" * 65536, 0)  # written: allocated, so the tmpfs counts it used
        os.close(fd)
        yield
    finally:
        for name in made:
            with contextlib.suppress(FileNotFoundError):
                native.mq_unlink(name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"/dev/shm{NAME}")


@pytest.mark.usefixtures("objects")
def test_limits_json_has_the_mqueue_sysctls_and_the_shm_filesystem() -> None:
    done = hidden.run(["limits", "--json"], nobody=False)
    assert done.code == 0, done
    document = json.loads(done.stdout)
    validate("limits", document)
    assert document["schema_version"] == "1.5"
    assert document["mq_queues"] == {"used": 2, "limit": sysctl("queues_max"),
                                     "percent": round(200 / sysctl("queues_max"), 2)}  # fmt: skip
    assert document["mq_msg_max"]["used"] == document["mq_msg_max"]["limit"] == sysctl("msg_max")
    assert document["mq_msgsize_max"] == {
        "used": 300, "limit": sysctl("msgsize_max"),
        "percent": round(30000 / sysctl("msgsize_max"), 2),
    }  # fmt: skip
    assert document["mq_msg_default"] == sysctl("msg_default")
    assert document["mq_msgsize_default"] == sysctl("msgsize_default")
    first = document["shm_filesystems"][0]
    room = os.statvfs("/dev/shm")
    assert (first["mount_point"], first["fstype"]) == ("/dev/shm", "tmpfs")
    assert first["bytes"]["limit"] == room.f_blocks * room.f_frsize
    assert first["bytes"]["used"] >= 65536
    assert first["inodes"]["limit"] == room.f_files
    assert first["objects"] == 1  # the private /dev/shm holds our object only


@pytest.mark.usefixtures("objects")
def test_limits_text_has_the_same_rows() -> None:
    done = hidden.run(["limits"], nobody=False)
    assert done.code == 0, done
    rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines() if line}
    assert rows["mq_queues"][:2] == ["2", str(sysctl("queues_max"))]
    assert rows["mq_msgsize_max"][:2] == ["300", str(sysctl("msgsize_max"))]
    assert f"msg_default {sysctl('msg_default')}" in done.stdout
    assert rows["/dev/shm"][0] == "tmpfs"
    assert rows["/dev/shm"][-1] == "1"


def test_limits_json_as_nobody_still_validates() -> None:
    """Without CAP_SYS_ADMIN no queue can be listed: the counts are null, not 0."""
    done = hidden.run(["limits", "--json"], nobody=True)
    assert done.code == 0, done
    document = json.loads(done.stdout)
    validate("limits", document)
    assert document["mq_queues"] is None
    assert document["mq_msg_default"] == sysctl("msg_default")
