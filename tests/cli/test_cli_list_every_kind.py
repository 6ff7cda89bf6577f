"""Plain `list` (every kind) with --watch, -A, --namespace and --from: the POSIX tables and
the list document's POSIX fields come with the System V ones, on real objects.

The session's /dev/shm is a private tmpfs and its IPC namespace its own (conftest), but a
POSIX scan reads every process's maps and sees what other mount namespaces map: the tests
assert on their own objects only.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helpers
import hidden
import pytest
from helpers import MakeShm
from json_schemas import validate
from ns_helpers import foreign_namespace, foreign_shm
from watch_process import finish, read_line, watch

from shmtop.core.binding import native
from shmtop.core.namespaces.joined import JoinedThread

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="reads every process's maps and joins namespaces: root and unshare(1)",
)
ROOT = Path(__file__).resolve().parent.parent.parent
TAG = f"shmtop-every-{os.getpid()}"
HOSTILE = f"{TAG}-\x1b]2;pwned\x07\u202e"  # a title change, a bell, a bidi override
QUEUE = f"/{TAG}-q"


def shmtop(*args: str) -> hidden.Result:
    return hidden.run(args, nobody=False)


@pytest.fixture
def made_later() -> Iterator[list[str]]:
    """Paths and queue names a test makes; removed after it."""
    made: list[str] = []
    yield made
    for name in made:
        with contextlib.suppress(FileNotFoundError):
            if name.startswith("/dev/shm/"):
                os.unlink(name)
            else:
                native.mq_unlink(name)


def test_watch_of_every_kind_shows_posix_objects_made_between_its_lines(
    make_shm: MakeShm, made_later: list[str]
) -> None:
    shmid = make_shm()
    process = watch("--watch", "0.2", "--count", "3")
    raw = [read_line(process)]
    # Stopped the moment its first line is read (the next is 0.2 s away, the third 0.4 s)
    # until the objects are made: the third line's snapshot is taken after them.
    process.send_signal(signal.SIGSTOP)
    path = f"/dev/shm/{HOSTILE}"
    made_later.append(path)
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    os.ftruncate(fd, 12288)
    os.close(fd)
    made_later.append(QUEUE)
    native.mq_close(native.mq_open(QUEUE, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    process.send_signal(signal.SIGCONT)
    code, rest, err = finish(process)
    raw += rest.splitlines(keepends=True)

    assert (code, err) == (0, b""), err
    assert len(raw) == 3
    assert all(line.isascii() for line in raw)  # no raw ESC, BEL or bidi byte reaches a pipe
    lines = [json.loads(line) for line in raw]
    for line in lines:
        validate("list", line)
        assert shmid in {s["id"] for s in line["segments"]}
        assert line["posix_scan"]["queues_listed"] is True
    names = [{o["name"] for o in line["posix_shm"]} for line in lines]
    queues = [{q["name"] for q in line["posix_queues"]} for line in lines]
    assert f"/{HOSTILE}" not in names[0] and QUEUE not in queues[0]
    assert f"/{HOSTILE}" in names[2] and QUEUE in queues[2]
    (ours,) = [o for o in lines[2]["posix_shm"] if o["name"] == f"/{HOSTILE}"]
    assert ours["size"] == 12288 and ours["in_shm_dir"]
    assert ours["namespace"] == lines[2]["segments"][0]["namespace"]  # the caller's, as SysV


def test_watch_of_every_kind_with_a_filter_no_posix_kind_takes_stays_system_v(
    make_shm: MakeShm,
) -> None:
    make_shm()
    process = watch("--watch", "0.1", "--count", "1", "--filter", "key:0x1")
    code, out, err = finish(process)
    assert code == 0, err
    document = json.loads(out)
    validate("list", document)
    assert not any(key.startswith("posix_") for key in document)
    assert err.decode().startswith("--filter keeps System V objects only: key: ")


@pytest.fixture
def queue_box() -> Iterator[tuple[dict[str, Any], str]]:
    """A namespace (hostname shmtop-every-mq) holding the queue QUEUE; ours has none."""
    with foreign_namespace("shmtop-every-mq") as made:
        thread = JoinedThread(made["pid"], made["inode"])
        try:
            mqd = thread.run(native.mq_open, QUEUE, os.O_CREAT | os.O_RDWR, 0o600)
            thread.run(native.mq_send, mqd, b"hello")
            thread.run(native.mq_close, mqd)
            yield made, QUEUE
            with contextlib.suppress(FileNotFoundError):
                thread.run(native.mq_unlink, QUEUE)
        finally:
            thread.close()


def test_list_all_namespaces_has_every_namespace_posix_tables_text_and_json(
    queue_box: tuple[dict[str, Any], str], made_later: list[str]
) -> None:
    _, queue = queue_box
    hostile = f"/dev/shm/{HOSTILE}"  # ours, with a title change, a bell, a bidi override
    made_later.append(hostile)
    with open(hostile, "xb"):
        pass
    with foreign_shm(f"{TAG}-shm") as shm_box:
        text = shmtop("list", "-A")
        document = shmtop("list", "-A", "--json").json()
        one = shmtop("list", "--namespace", str(shm_box["inode"]), "--json").json()
    assert text.code == 0, text
    assert not any(c in text.stdout for c in "\x1b\x07\u202e")
    lines = text.lines()
    (hostile_row,) = [line for line in lines if f"/{TAG}-\u241b]2;pwned\u2407" in line]
    assert hostile_row.split()[0] == document["namespaces"][0]["name"]  # ours: the first
    titles = [line for line in lines if line.startswith(("POSIX shared memory", "POSIX message"))]
    assert titles[0].startswith("POSIX shared memory (") and lines.index(titles[0]) > 0
    shm_row = next(line for line in lines if f"/{TAG}-shm " in line)
    assert shm_row.split()[0] == f"ipc:[{shm_box['inode']}]"  # the NS column first
    assert f"{shm_box['pid']} python rw" in shm_row
    queue_row = next(line for line in lines if f"{queue} " in line)
    assert queue_row.split()[:2] == ["shmtop-every-mq", queue] and "1/10" in queue_row

    validate("list", document)
    (ours,) = [o for o in document["posix_shm"] if o["name"] == f"/{TAG}-shm"]
    assert ours["namespace"]["inode"] == shm_box["inode"]
    assert [m["pid"] for m in ours["mappings"]] == [shm_box["pid"]]
    (theirs,) = [q for q in document["posix_queues"] if q["name"] == queue]
    assert theirs["namespace"]["name"] == "shmtop-every-mq" and theirs["messages"] == 1
    assert all("namespace" in o for o in document["posix_shm"] + document["posix_semaphores"])

    validate("list", one)  # --namespace NS: that namespace's objects only
    assert [o["name"] for o in one["posix_shm"]] == [f"/{TAG}-shm"]
    assert {o["namespace"]["inode"] for o in one["posix_queues"]} <= {shm_box["inode"]}


def test_list_all_namespaces_watch_carries_the_posix_fields_every_line(
    queue_box: tuple[dict[str, Any], str],
) -> None:
    box, queue = queue_box
    process = watch("-A", "--watch", "0.1", "--count", "2")
    code, out, err = finish(process)
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 2
    for line in lines:
        validate("list", line)
        (theirs,) = [q for q in line["posix_queues"] if q["name"] == queue]
        assert theirs["namespace"]["inode"] == box["inode"]


def test_list_from_a_recording_shows_its_posix_tables_or_says_it_has_none(
    tmp_path: Path,
) -> None:
    recording = tmp_path / "rec.shmtop"
    made = shmtop("record", str(recording), "--interval", "0.2", "--duration", "1s")
    assert made.code == 0, made
    listed = shmtop("list", "--from", str(recording))
    assert listed.code == 0, listed
    assert "no POSIX table" not in listed.stderr
    assert "POSIX shared memory" in listed.stdout and "POSIX message queues" in listed.stdout
    sysv_only = tmp_path / "sysv.shmtop"
    made = shmtop("record", str(sysv_only), "--interval", "0.2", "--duration", "1s",
                  "--no-posix")  # fmt: skip
    assert made.code == 0, made
    listed = shmtop("list", "--from", str(sysv_only))
    assert listed.code == 0, listed
    assert "shmtop: the recording holds no POSIX objects: no POSIX table" in listed.stderr
    assert "POSIX" not in listed.stdout
    refused = shmtop("list", "pshm", "--from", str(sysv_only))
    assert refused.code == 2 and refused.stderr.splitlines() == [
        f"shmtop: {sysv_only}: the recording holds no POSIX objects (it answers shm, sem, msg)"
    ]


RUN_COUNTING = """
import sys
from shmtop.cli import main
from shmtop.core.posix import full
made, snapshots = [], []
class Counted(full.FullCollector):
    def __init__(self, *args, **kwargs):
        made.append(self)
        super().__init__(*args, **kwargs)
    def snapshot(self):
        snapshots.append(made.index(self))
        return super().snapshot()
full.FullCollector = Counted
from shmtop.cli import watch_all
watch_all.FullCollector = Counted
code = main(sys.argv[1:])
print("COUNTED", len(made), snapshots, code, file=sys.stderr)
"""


def test_a_watch_of_every_kind_takes_every_line_from_one_collector() -> None:
    """The steady lines reuse the collector (so its carried rows: core/posix/carry.py), never
    a new scan a line; the real collector runs, only its instances are counted."""
    done = subprocess.run(
        [sys.executable, "-c", RUN_COUNTING, "list", "--json", "--watch", "0.05", "--count", "3"],
        cwd=ROOT, capture_output=True, text=True, timeout=helpers.PATIENCE, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 3
    assert done.stderr.splitlines()[-1] == "COUNTED 1 [0, 0, 0] 0"


def test_every_posix_record_carries_its_namespace_as_the_system_v_ones_do(
    make_shm: MakeShm, made_later: list[str]
) -> None:
    """Without -A or --namespace too: (namespace, id or name) is every object's identity."""
    shmid = make_shm()
    made_later.append(f"/dev/shm/{TAG}-ns")
    made_later.append(f"/dev/shm/sem.{TAG}-ns")
    made_later.append(QUEUE)
    for path in (f"/dev/shm/{TAG}-ns", f"/dev/shm/sem.{TAG}-ns"):
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        os.ftruncate(fd, 32)
        os.close(fd)
    native.mq_close(native.mq_open(QUEUE, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    listed = shmtop("list", "--json").json()
    validate("list", listed)
    (segment,) = [s for s in listed["segments"] if s["id"] == shmid]
    ours = segment["namespace"]
    assert ours["current"] is True and ours["inode"] == os.stat("/proc/self/ns/ipc").st_ino
    records = listed["posix_shm"] + listed["posix_semaphores"] + listed["posix_queues"]
    assert {f"/{TAG}-ns", f"/{TAG}-ns", QUEUE} <= {r["name"] for r in records}
    assert all(r["namespace"] == ours for r in records)
    for args, schema, field in (
        (("list", "pshm", "--json"), "posix-list", "objects"),
        (("list", "psem", "--json"), "posix-list", "objects"),
        (("list", "pmq", "--json"), "pmq-list", "queues"),
        (("show", "pshm", "--name", f"/{TAG}-ns", "--json"), "posix-show", "objects"),
        (("show", "psem", "--name", f"/{TAG}-ns", "--json"), "posix-show", "objects"),
        (("show", "pmq", "--name", QUEUE, "--json"), "pmq-show", "queues"),
    ):
        document = shmtop(*args).json()
        validate(schema, document)
        assert document[field], args
        assert all(r["namespace"] == ours for r in document[field]), args
