"""`list --from FILE` of a recording's POSIX half: pshm, psem, pmq and plain `list`, their JSON
valid against the schemas; a file without the POSIX half refuses the POSIX kinds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from json_schemas import validate
from pmq_kids import Queues, send
from pshm_kids import NamedSemaphores, objects
from test_cli import error_line, shmtop

from shmtop.core.posix.full import FullCollector
from shmtop.core.recording.posix_changes import PosixRecord
from shmtop.core.recording.writer import RecordingWriter

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="reads every process's maps: root")


def test_list_from_answers_the_posix_kinds_of_the_moment(tmp_path: Path) -> None:
    path = tmp_path / "posix.rec"
    queues = Queues(f"/shmtop-clirec-{os.getpid()}-")
    sem_name = f"/shmtop-clirec-sem-{os.getpid()}"
    with objects() as made, FullCollector() as full:
        sem = NamedSemaphores().open(sem_name, 2)
        try:
            name = made.make()
            queue = queues.make()
            with RecordingWriter(path, interval=1.0, posix=True) as writer:
                first = full.snapshot()
                writer.add(first.sysv, PosixRecord(first.posix, first.queues))
                sem.post()
                send(queue, b"x")
                os.unlink("/dev/shm" + name)
                later = full.snapshot()
                writer.add(later.sysv, PosixRecord(later.posix, later.queues))
        finally:
            sem.close()
            os.unlink(f"/dev/shm/sem.{sem_name[1:]}")
            queues.cleanup()
    start = "start"
    pshm = shmtop("list", "pshm", "--json", "--from", str(path), "--at", start)
    assert pshm.code == 0, pshm.stderr
    document = json.loads(pshm.stdout)
    validate("posix-list", document)
    assert [o["name"] for o in document["objects"] if o["name"] == name] == [name]
    gone = json.loads(shmtop("list", "pshm", "--json", "--from", str(path)).stdout)
    assert name not in [o["name"] for o in gone["objects"] if o["linked"]]
    values = {}
    for at in (start, "end"):
        psem = shmtop("list", "psem", "--json", "--from", str(path), "--at", at)
        psem_doc = json.loads(psem.stdout)
        validate("posix-list", psem_doc)
        values[at] = [o["semaphore"]["value"] for o in psem_doc["objects"]
                      if o["name"] == sem_name]  # fmt: skip
    assert values == {"start": [2], "end": [3]}  # posted (and unlinked, still mapped here)
    pmq = json.loads(shmtop("list", "pmq", "--json", "--from", str(path), "--at", "end").stdout)
    validate("pmq-list", pmq)
    assert [q["messages"] for q in pmq["queues"] if q["name"] == queue] == [1]
    every = shmtop("list", "--json", "--from", str(path), "--at", "start")
    assert every.code == 0 and "no POSIX" not in every.stderr
    all_doc = json.loads(every.stdout)
    validate("list", all_doc)
    assert name in [o["name"] for o in all_doc["posix_shm"]]
    table = shmtop("list", "--from", str(path), "--at", "start")
    assert table.code == 0 and name in table.stdout and sem_name in table.stdout


def test_a_recording_without_the_posix_half_refuses_the_posix_kinds(tmp_path: Path) -> None:
    path = tmp_path / "sysv.rec"
    with FullCollector() as full, RecordingWriter(path, interval=1.0) as writer:
        writer.add(full.snapshot().sysv)
    said = error_line(shmtop("list", "pshm", "--from", str(path)), 2)
    assert "holds no POSIX objects" in said
    plain = shmtop("list", "--from", str(path))
    assert plain.code == 0 and "holds no POSIX objects: no POSIX table" in plain.stderr


def test_record_stores_the_posix_half_unless_told_not_to(tmp_path: Path) -> None:
    with_posix, without = tmp_path / "with.rec", tmp_path / "without.rec"
    for path, more in ((with_posix, ()), (without, ("--no-posix",))):
        run = shmtop("record", str(path), "--interval", "0.5", "--duration", "1s", *more)
        assert run.code == 0, run.stderr
    assert shmtop("list", "pshm", "--from", str(with_posix)).code == 0
    said = error_line(shmtop("list", "pshm", "--from", str(without)), 2)
    assert "holds no POSIX objects" in said
