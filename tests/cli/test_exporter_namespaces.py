"""`shmtop exporter -A`: every IPC namespace's objects as series labelled with its namespace
(real namespaces made with unshare, a real exporter scraped over HTTP)."""

from __future__ import annotations

import os
import re
import shutil

import hidden
import pytest
from helpers import MakeShm
from ns_helpers import foreign_namespace, foreign_shm
from prometheus_client.parser import text_string_to_metric_families
from prometheus_run import running_exporter

from shmtop.core.binding import native
from shmtop.core.namespaces.joined import JoinedThread

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) to make and join IPC namespaces",
)
OURS = str(os.stat("/proc/self/ns/ipc").st_ino) if os.path.exists("/proc/self/ns/ipc") else "0"
Samples = list[tuple[str, dict[str, str], float]]


def parsed(body: str) -> Samples:
    """Every sample of a scrape; each family declared once (a merge gone wrong repeats one)."""
    types = re.findall(r"^# TYPE (\S+) ", body, re.M)
    assert len(types) == len(set(types)), sorted(t for t in types if types.count(t) > 1)
    return [(s.name, s.labels, s.value)
            for family in text_string_to_metric_families(body) for s in family.samples]  # fmt: skip


def having(found: Samples, metric: str, /, **labels: str) -> list[tuple[dict[str, str], float]]:
    return [(lab, v) for n, lab, v in found
            if n == metric and all(lab.get(k) == w for k, w in labels.items())]  # fmt: skip


def test_exporter_A_labels_each_namespace_objects_with_it(make_shm: MakeShm) -> None:
    with (
        foreign_namespace("shmtop-exp-box", objects=2) as box,
        foreign_shm("shmtop-exp-object") as shm_box,
    ):
        with open("/proc/sys/kernel/shm_next_id", "w", encoding="ascii") as knob:
            knob.write(str(box["shm"][1]))
        ours = make_shm(size=12288)  # the same id as the box's second segment, in ours
        thread = JoinedThread(box["pid"], box["inode"])
        mqd = thread.run(native.mq_open, "/shmtop-exp-q", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            thread.run(native.mq_send, mqd, b"queued")
            with running_exporter("-A", "--max-objects", "100000") as exporter:
                _, _, body = exporter.scrape()
        finally:
            thread.run(native.mq_unlink, "/shmtop-exp-q")
            thread.run(native.mq_close, mqd)
            thread.close()
    found = parsed(body)
    theirs, mine = str(box["inode"]), OURS
    assert ours == box["shm"][1]
    # The same id in two namespaces: two series, each with its own namespace and size.
    (their_size,) = having(found, "shmtop_segment_size_bytes", id=str(ours), namespace=theirs)
    (my_size,) = having(found, "shmtop_segment_size_bytes", id=str(ours), namespace=mine)
    assert (their_size[1], my_size[1]) == (4096, 12288)
    sizes = having(found, "shmtop_segment_size_bytes", namespace=theirs)
    assert sorted(int(labels["id"]) for labels, _ in sizes) == box["shm"]
    assert having(found, "shmtop_objects", kind="shm", namespace=theirs)[0][1] == 2
    (info,) = having(found, "shmtop_namespace_info", namespace=theirs)
    assert info[0]["name"] == "shmtop-exp-box" and info[0]["current"] == "0"
    assert having(found, "shmtop_namespace_info", namespace=mine)[0][0]["current"] == "1"
    # Its queue, read inside it; the POSIX shm object of a /dev/shm of its own, under it.
    (queue,) = having(found, "shmtop_pmq_messages", name="/shmtop-exp-q")
    assert queue[0]["namespace"] == theirs and queue[1] == 1
    pshm_series = having(found, "shmtop_posix_size_bytes", kind="pshm", name="/shmtop-exp-object")
    assert len(pshm_series) == 1, pshm_series  # not again under ours (whose scan sees it)
    (pshm,) = pshm_series
    assert pshm[0]["namespace"] == str(shm_box["inode"]) and pshm[1] == 8192
    assert having(found, "shmtop_namespaces_unreadable")


def test_exporter_A_without_the_right_to_join_counts_what_it_cannot_read() -> None:
    # Root makes the namespace, nobody lives in it: nobody can place it (its own process's
    # ns/ipc link) but not join it (setns needs CAP_SYS_ADMIN).
    with (
        foreign_namespace(inside=hidden.NOBODY),
        running_exporter("-A", wrapper=hidden.NOBODY) as exporter,
    ):
        _, _, body = exporter.scrape()
    found = parsed(body)
    assert having(found, "shmtop_up")[0][1] == 1
    assert having(found, "shmtop_namespaces_unreadable")[0][1] >= 1
    assert "-A without CAP_SYS_ADMIN" in exporter.stderr
