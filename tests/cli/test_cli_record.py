"""`shmtop record` as a subprocess on real objects, then `list --from FILE --at TIME`."""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import helpers
from helpers import MakeShm, Spawn, wait_until
from json_schemas import validate
from paths import ROOT
from test_cli import cli_env, error_line, shmtop

from shmtop.core.recording.reader import Recording, RecordingError


def frames_with(path: Path, shmid: int) -> list[bool]:
    """For every frame recorded so far: whether the segment is in it (a torn end ignored)."""
    try:
        recording = Recording.open(path)
    except RecordingError:
        return []  # not even its first frame yet
    return [recording.snapshot(i).segment(shmid) is not None for i in range(len(recording))]


def attached_in_frames(path: Path, shmid: int) -> list[int]:
    """The segment's nattch in every frame that has it, in order."""
    try:
        recording = Recording.open(path)
    except RecordingError:
        return []
    found = (recording.snapshot(i).segment(shmid) for i in range(len(recording)))
    return [segment.nattch for segment in found if segment is not None]


def listed_ids(path: Path, at: str) -> set[int]:
    run = shmtop("list", "shm", "--json", "--from", str(path), "--at", at)
    assert "from the recording" in run.stderr
    document = run.json()
    validate("list", document)  # an answer from a recording is the same document
    return {record["id"] for record in document["segments"]}


def test_record_then_list_from_it_at_a_time(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    path = tmp_path / "run.rec"
    recorder = subprocess.Popen(
        [sys.executable, "-m", "shmtop", "record", str(path), "--interval", "0.1"],
        cwd=ROOT, env=cli_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_until(lambda: len(frames_with(path, -1)) >= 2, "the recorder writes")
        shmid = make_shm()
        child = spawn(name="rec-cli", attach=[(shmid, True)])
        wait_until(lambda: 1 in attached_in_frames(path, shmid), "its attachment is recorded")
        child.stop()
        helpers.remove("shm", shmid)
        wait_until(lambda: frames_with(path, shmid)[-1:] == [False], "its removal is recorded")
        recorder.send_signal(signal.SIGINT)
        _, err = recorder.communicate(timeout=helpers.PATIENCE)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.communicate()
    assert recorder.returncode == 0, err
    assert b"snapshots," in err

    recording = Recording.open(path)
    assert recording.torn == 0
    present = frames_with(path, shmid)
    seen = present.index(True)
    assert 1 in attached_in_frames(path, shmid)  # the child's attachment, as the kernel had it
    gone = len(present) - 1 - present[::-1].index(True) + 1  # the first frame without it again
    assert not present[0] and not present[-1]
    # An ISO moment (UTC, and local without an offset), and relative moments.
    at_seen = datetime.fromtimestamp(recording.times[seen], UTC).isoformat()
    assert shmid in listed_ids(path, at_seen)
    local = datetime.fromtimestamp(recording.times[seen]).isoformat()
    assert shmid in listed_ids(path, local)
    at_gone = datetime.fromtimestamp(recording.times[gone], UTC).isoformat()
    assert shmid not in listed_ids(path, at_gone)
    assert shmid not in listed_ids(path, "+0s")
    assert shmid not in listed_ids(path, "end")
    assert shmid not in listed_ids(path, "-0s")  # `--at -0s`: a dash and a digit is a moment
    before_end = f"-{recording.end - recording.times[seen] - 0.001:.3f}s"
    assert shmid in listed_ids(path, before_end)
    ours = f"ipc:[{recording.namespace}]"
    assert shmid in {r["id"] for r in shmtop("list", "shm", "--json", "--from", str(path),
                     "--at", at_seen, "--namespace", ours).json()["segments"]}  # fmt: skip
    assert "no snapshot of IPC namespace 1" in error_line(
        shmtop("list", "--from", str(path), "--namespace", "1"), 1
    )
    assert "-A with --from" in error_line(shmtop("list", "-A", "--from", str(path)), 2)
    document = shmtop("list", "--json", "--from", str(path), "--at", at_seen).json()
    assert document["taken_at"] == at_seen  # the recorded moment, not now
    row = next(r for r in document["segments"] if r["id"] == shmid)
    assert row["nattch"] == recording.snapshot(seen).segment(shmid).nattch  # type: ignore[union-attr]
    table = shmtop("list", "shm", "--from", str(path), "--at", at_seen)
    assert table.code == 0 and str(shmid) in table.stdout


def test_list_from_refuses_what_it_cannot_answer(tmp_path: Path) -> None:
    assert "--at goes with --from" in error_line(shmtop("list", "--at", "end"), 2)
    missing = tmp_path / "none.rec"
    assert "cannot read" in error_line(shmtop("list", "--from", str(missing)), 1)
    junk = tmp_path / "junk.rec"
    junk.write_bytes(b"not a recording\n")
    assert "not a shmtop recording" in error_line(shmtop("list", "--from", str(junk)), 1)
    assert "not a shmtop recording" in error_line(shmtop("list", "pshm", "--from", str(junk)), 1)


def test_record_never_overwrites_a_file(tmp_path: Path) -> None:
    path = tmp_path / "kept.rec"
    path.write_bytes(b"precious")
    assert "cannot create" in error_line(shmtop("record", str(path), "--duration", "1s"), 1)
    assert path.read_bytes() == b"precious"
