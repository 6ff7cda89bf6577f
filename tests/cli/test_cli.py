"""The command line as a user runs it: `python -m shmtop ...` as a real subprocess.

Every test makes real System V objects (IPC_PRIVATE through the conftest
fixtures, or a random private key for the --key tests), runs the CLI against
them and checks what it printed and what the kernel says afterwards
(/proc/sysvipc, ipcs). Objects and children are removed, killed and reaped
by the fixtures; the session-wide leak check of conftest covers them all.
Other objects may exist on the machine (other test runs): every check looks
at our objects only.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import helpers
import pytest
from helpers import MakeMsg, MakeSem, MakeShm, Spawn
from paths import ROOT

from shmtop.core.binding import native
from shmtop.core.binding._native import ffi

ME = pwd.getpwuid(os.geteuid()).pw_name  # owner of the objects the tests make
SHM_DEST = 0o1000
# The sanitiser shows ESC as its Control Picture.
ESC_PICTURE = "\u241b"
# setpriv to user nobody, as the brief of the EPERM/EACCES tests asks.
NOBODY = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
NOBODY_UID = 65534


# ---- running the CLI ----


@dataclass(frozen=True)
class Run:
    """One finished run of the CLI: its PID, exit code and raw output."""

    args: tuple[str, ...]
    pid: int
    code: int
    out: bytes
    err: bytes

    @property
    def stdout(self) -> str:
        return self.out.decode("utf-8")

    @property
    def stderr(self) -> str:
        return self.err.decode("utf-8")

    def json(self) -> Any:
        assert self.code == 0, self
        return json.loads(self.out)

    def lines(self) -> list[str]:
        return self.stdout.splitlines()


def cli_env(**extra: str) -> dict[str, str]:
    """Our environment, with UTF-8 output whatever the locale (the tests decode it)."""
    return {**os.environ, "PYTHONUTF8": "1", **extra}


def run_python(
    args: Sequence[str], *, prefix: Sequence[str] = (), env: Mapping[str, str] | None = None
) -> Run:
    """Run the venv python with args, stdin not a terminal; wait (bounded) and reap it."""
    command = [*prefix, sys.executable, *args]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else cli_env(),
    )
    try:
        out, err = process.communicate(timeout=helpers.PATIENCE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return Run(tuple(args), process.pid, process.returncode, out, err)


def shmtop(*args: str, flags: Sequence[str] = ()) -> Run:
    """`python [flags] -m shmtop args...` as the user running the tests."""
    return run_python([*flags, "-m", "shmtop", *args])


class Nobody:
    """Runs the CLI as user nobody (setpriv), importing shmtop from the work tree."""

    def __init__(self) -> None:
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "PYTHONUTF8": "1",
            "LC_ALL": "C",
        }

    def python(self, *args: str) -> Run:
        return run_python(args, prefix=NOBODY, env=self.env)

    def shmtop(self, *args: str) -> Run:
        return self.python("-m", "shmtop", *args)


@pytest.fixture(scope="module")
def nobody() -> Nobody:
    """The CLI as user nobody; checks first that nobody can run the venv python at all."""
    if os.geteuid() != 0:
        pytest.skip("needs root: runs shmtop as user nobody through setpriv")
    if shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is needed to run shmtop as nobody")
    runner = Nobody()
    probe = runner.python("-c", "import os, shmtop.cli.commands; print(os.getuid())")
    if probe.code != 0 or probe.stdout.strip() != str(NOBODY_UID):
        pytest.fail(
            f"user nobody cannot run {sys.executable} with shmtop importable "
            f"(exit {probe.code}): {probe.stderr.strip()}"
        )
    return runner


def error_line(run: Run, code: int) -> str:
    """The one stderr line of a failed run (after the exit code is checked)."""
    assert run.code == code, run
    assert "Traceback" not in run.stderr, run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("shmtop: "), lines[0]
    return lines[0]


def usage_error(run: Run) -> str:
    """The error line argparse printed under its usage; exit 2, nothing on stdout."""
    assert run.code == 2, run
    assert run.out == b""
    assert "Traceback" not in run.stderr, run.stderr
    errors = [line for line in run.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, run.stderr
    assert run.stderr.startswith("usage: shmtop"), run.stderr
    return errors[0]


# ---- the kernel's view ----


def live(kind: helpers.Kind) -> dict[int, dict[str, int]]:
    return helpers.live_rows(kind)


def vanished_id(kind: helpers.Kind) -> int:
    """An id that named an object a moment ago and names none now."""
    if kind == "shm":
        ident = native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600)
    elif kind == "sem":
        ident = native.semget(native.IPC_PRIVATE, 1, native.IPC_CREAT | 0o600)
    else:
        ident = native.msgget(native.IPC_PRIVATE, native.IPC_CREAT | 0o600)
    helpers.record(kind, ident)
    assert helpers.remove(kind, ident)
    assert ident not in live(kind)
    return ident


def write_segment(shmid: int, data: bytes) -> None:
    """Write data at the start of a segment, attached read-write for the call."""
    address = native.shmat(shmid, 0)
    try:
        ffi.memmove(address, data, len(data))
    finally:
        native.shmdt(address)


def ipcs(*flags: str) -> dict[int, dict[str, str]]:
    """One table of `ipcs` (C locale) by the id in its shmid/semid/msqid column.

    Split by whitespace under the header's column names; the last column
    (status of -m, possibly empty or two words) takes the rest of the line.
    """
    result = subprocess.run(
        ["ipcs", *flags],
        env={**os.environ, "LC_ALL": "C"},
        capture_output=True,
        text=True,
        check=True,
        timeout=helpers.PATIENCE,
    )
    lines = result.stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if line.split()[:1] in (["key"], ["shmid"]))
    columns = lines[at].split()
    id_column = next(name for name in columns if name in ("shmid", "semid", "msqid"))
    table: dict[int, dict[str, str]] = {}
    for line in lines[at + 1 :]:
        if not line.strip():
            break
        fields = line.split(None, len(columns) - 1)
        fields += [""] * (len(columns) - len(fields))
        row = dict(zip(columns, (" ".join(f.split()) for f in fields), strict=True))
        table[int(row[id_column])] = row
    return table


# ---- JSON checks ----


def by_id(objects: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {int(o["id"]): o for o in objects}


def epoch_of(value: Any) -> int:
    """An ISO 8601 time of the JSON as epoch seconds; it must carry its UTC offset."""
    assert isinstance(value, str), value
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return int(parsed.timestamp())


def assert_ints(data: Mapping[str, Any], *names: str) -> None:
    for name in names:
        assert type(data[name]) is int, (name, data[name])


def assert_bools(data: Mapping[str, Any], *names: str) -> None:
    for name in names:
        assert type(data[name]) is bool, (name, data[name])


def leaves(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        for value in data.values():
            yield from leaves(value)
    elif isinstance(data, list):
        for value in data:
            yield from leaves(value)
    else:
        yield data


def assert_terminal_safe(out: bytes) -> None:
    """No byte a terminal would act on: C0 controls but newline, DEL, and C1 controls."""
    assert all(b == 0x0A or b >= 0x20 for b in out), out
    assert b"\x7f" not in out
    text = out.decode("utf-8")
    assert not any(0x80 <= ord(char) <= 0x9F for char in text), text


# ---- objects with a random private key (for --key) ----

KeyedMaker = Callable[[Sequence[helpers.Kind]], tuple[int, dict[helpers.Kind, int]]]


def _create_keyed(kind: helpers.Kind, key: int) -> int:
    signed = key - (1 << 32) if key > 0x7FFFFFFF else key  # key_t is a C int
    flags = native.IPC_CREAT | native.IPC_EXCL | 0o600
    if kind == "shm":
        return native.shmget(signed, 4096, flags)
    if kind == "sem":
        return native.semget(signed, 2, flags)
    return native.msgget(signed, flags)


@pytest.fixture
def make_keyed() -> Iterator[KeyedMaker]:
    """Objects of the given kinds sharing one random non-zero key (IPC_CREAT|IPC_EXCL,
    a new key on EEXIST); each is removed when the test ends."""
    made: list[tuple[helpers.Kind, int]] = []
    chooser = random.SystemRandom()

    def make(kinds: Sequence[helpers.Kind]) -> tuple[int, dict[helpers.Kind, int]]:
        for _ in range(100):
            key = chooser.randrange(1, 1 << 32)
            got: dict[helpers.Kind, int] = {}
            try:
                for kind in kinds:
                    got[kind] = helpers.record(kind, _create_keyed(kind, key))
                    made.append((kind, got[kind]))
            except OSError as error:
                if error.errno != errno.EEXIST:
                    raise
                for kind, ident in got.items():
                    helpers.remove(kind, ident)
                continue
            return key, got
        raise AssertionError("no free random key in 100 tries")

    yield make
    for kind, ident in reversed(made):
        helpers.remove(kind, ident)


# ---- 1. list --json agrees with ipcs ----


def test_list_json_agrees_with_ipcs_field_by_field(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg, make_keyed: KeyedMaker, spawn: Spawn
) -> None:
    plain = make_shm(4096, 0o640)
    odd = make_shm(12345, 0o604)
    doomed = make_shm(8192, 0o600)
    key, keyed = make_keyed(("shm", "sem", "msg"))
    sem = make_sem(3, 0o640)
    queue = make_msg(0o620)
    native.msgsnd(queue, 1, b"12345")
    native.msgsnd(queue, 2, b"1234567")
    child = spawn(attach=[(plain, True), (doomed, False)])
    assert helpers.remove("shm", doomed)  # still attached by the child: dest

    data = shmtop("list", "--json").json()
    segments, sets, queues = (by_id(data[n]) for n in ("segments", "semaphore_sets", "queues"))
    shm_table, shm_pids = ipcs("-m"), ipcs("-m", "-p")
    sem_table, msg_table = ipcs("-s"), ipcs("-q")

    ours = [plain, odd, doomed, keyed["shm"]]
    for shmid in ours:
        mine, theirs, pids = segments[shmid], shm_table[shmid], shm_pids[shmid]
        assert int(theirs["key"], 16) == mine["key"]
        assert theirs["key"] == mine["key_hex"]
        assert int(theirs["shmid"]) == mine["id"]
        assert theirs["owner"] == mine["user"] == ME
        assert int(theirs["perms"], 8) == int(mine["perms"], 8)
        assert int(theirs["bytes"]) == mine["size"]
        assert int(theirs["nattch"]) == mine["nattch"]
        assert ("dest" in theirs["status"].split()) is mine["dest"]
        assert int(pids["cpid"]) == mine["cpid"]
        assert int(pids["lpid"]) == mine["lpid"]
    # The objects really are what was made, so agreeing is not agreeing on nothing.
    assert [segments[i]["size"] for i in ours] == [4096, 12345, 8192, 4096]
    assert [segments[i]["perms"] for i in ours] == ["640", "604", "600", "600"]
    assert [segments[i]["nattch"] for i in ours] == [1, 0, 1, 0]
    assert [segments[i]["dest"] for i in ours] == [False, False, True, False]
    assert shm_table[doomed]["status"] == "dest"
    assert segments[keyed["shm"]]["key"] == key
    assert segments[plain]["cpid"] == os.getpid()
    assert segments[plain]["lpid"] == segments[doomed]["lpid"] == child.pid

    for semid, nsems in ((sem, 3), (keyed["sem"], 2)):
        mine, theirs = sets[semid], sem_table[semid]
        assert int(theirs["key"], 16) == mine["key"]
        assert int(theirs["semid"]) == mine["id"]
        assert theirs["owner"] == mine["user"]
        assert int(theirs["perms"], 8) == int(mine["perms"], 8)
        assert int(theirs["nsems"]) == mine["nsems"] == nsems
    assert sets[keyed["sem"]]["key"] == key

    for msqid, used, count in ((queue, 12, 2), (keyed["msg"], 0, 0)):
        mine, theirs = queues[msqid], msg_table[msqid]
        assert int(theirs["key"], 16) == mine["key"]
        assert int(theirs["msqid"]) == mine["id"]
        assert theirs["owner"] == mine["user"]
        assert int(theirs["perms"], 8) == int(mine["perms"], 8)
        assert int(theirs["used-bytes"]) == mine["cbytes"] == used
        assert int(theirs["messages"]) == mine["qnum"] == count
    assert queues[queue]["perms"] == "620"
    assert queues[keyed["msg"]]["key"] == key


# ---- 2. the JSON is typed ----


def test_list_json_of_segments_is_typed_and_lists_each_attacher_with_its_access(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm(8192)
    writer = spawn(name="shmtop-rw", attach=[(shmid, True)])
    reader = spawn(name="shmtop-ro", attach=[(shmid, False)])

    data = shmtop("list", "--json").json()
    kernel = live("shm")[shmid]

    epoch_of(data["taken_at"])
    assert not any(isinstance(leaf, float) for leaf in leaves(data))  # counts are never floats
    blind = data["blind_spots"]
    assert_ints(blind, "processes_scanned", "attachments_missing", "other_namespace_mappings")
    assert isinstance(blind["uninspected"], dict)

    segment = by_id(data["segments"])[shmid]
    assert_ints(segment, "id", "key", "uid", "gid", "cuid", "cgid", "size", "nattch", "cpid",
                "lpid")  # fmt: skip
    assert_bools(segment, "dest", "locked", "orphan", "creator_alive")
    for name in ("rss", "swap"):
        assert segment[name] is None or type(segment[name]) is int
    assert (segment["id"], segment["size"], segment["nattch"]) == (shmid, 8192, 2)
    assert segment["cpid"] == os.getpid()
    assert segment["creator_alive"] is True
    assert (segment["dest"], segment["locked"], segment["orphan"]) == (False, False, False)
    assert segment["atime"] is not None
    assert epoch_of(segment["atime"]) == kernel["atime"]
    assert epoch_of(segment["ctime"]) == kernel["ctime"]
    assert kernel["dtime"] == 0
    assert segment["dtime"] is None  # never detached

    attachments = {a["pid"]: a for a in segment["attachments"]}
    assert set(attachments) == {writer.pid, reader.pid}
    for child, access in ((writer, "rw"), (reader, "ro")):
        attachment = attachments[child.pid]
        assert type(attachment["pid"]) is int
        assert attachment["access"] == access
        assert attachment["command"] == child.name
        assert attachment["viewer"] is False
        start, end = int(attachment["start"], 16), int(attachment["end"], 16)
        assert start == child.report["addresses"][0]
        assert end - start >= 8192


def test_list_json_of_sets_and_queues_is_typed(make_sem: MakeSem, make_msg: MakeMsg) -> None:
    semid = make_sem(2)
    msqid = make_msg()
    native.msgsnd(msqid, 7, b"payload")

    data = shmtop("list", "--json").json()

    sem_set = by_id(data["semaphore_sets"])[semid]
    assert_ints(sem_set, "id", "key", "uid", "gid", "nsems", "waiters")
    assert sem_set["otime"] is None  # no semop yet
    assert epoch_of(sem_set["ctime"]) == live("sem")[semid]["ctime"]
    assert sem_set["unreadable"] is None
    assert [s["num"] for s in sem_set["semaphores"]] == [0, 1]
    for semaphore in sem_set["semaphores"]:
        assert_ints(semaphore, "num", "value", "ncnt", "zcnt", "pid")
        assert semaphore["pid_command"] is None  # pid 0: nobody changed it

    queue = by_id(data["queues"])[msqid]
    assert_ints(queue, "id", "key", "cbytes", "qnum", "qbytes", "lspid", "lrpid")
    assert (queue["qnum"], queue["cbytes"], queue["lspid"], queue["lrpid"]) == (
        1, 7, os.getpid(), 0,
    )  # fmt: skip
    assert isinstance(queue["lspid_command"], str)
    assert queue["lrpid_command"] is None
    assert epoch_of(queue["stime"]) == live("msg")[msqid]["stime"]
    assert queue["rtime"] is None


# ---- 3. show ----


def test_show_shm_text_and_json(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm(8192, 0o640)
    child = spawn(name="shmtop-show", attach=[(shmid, True)])

    text = shmtop("show", "shm", str(shmid))
    as_json = shmtop("show", "shm", str(shmid), "--json")
    listed = by_id(shmtop("list", "shm", "--json").json()["segments"])[shmid]

    assert text.code == 0, text
    lines = text.lines()
    assert lines[0].startswith(f"segment {shmid}  key 0x00000000")
    assert re.search(r"\bsize\s+8192\b", text.stdout)
    assert re.search(r"\bnattch 1\b", text.stdout)
    assert re.search(r"\bperms 640\b", text.stdout)
    assert re.search(rf"\bcreator\s+{os.getpid()} \(", text.stdout)
    table = lines[: lines.index("Command lines:")]
    rows = [line.split() for line in table if line.split()[:1] == [str(child.pid)]]
    assert len(rows) == 1, text.stdout
    assert rows[0][1:4] == ["shmtop-show", ME, "rw"]
    command_line = lines[lines.index("Command lines:") + 1].split()
    assert command_line[0] == str(child.pid)
    assert any(word.endswith("helpers.py") for word in command_line), command_line
    shown = as_json.json()
    command_lines = shown.pop("command_lines")
    assert shown.pop("schema_version") == shmtop("list", "shm", "--json").json()["schema_version"]
    assert list(command_lines) == [str(child.pid)]
    assert "helpers.py" in command_lines[str(child.pid)]
    assert shown == listed
    assert (shown["id"], shown["size"], shown["perms"]) == (shmid, 8192, "640")
    assert [(a["pid"], a["access"]) for a in shown["attachments"]] == [(child.pid, "rw")]


def test_show_sem_text_and_json_show_the_values(make_sem: MakeSem) -> None:
    semid = make_sem(3)
    native.sem_setall(semid, [3, 0, 7])

    text = shmtop("show", "sem", str(semid))
    shown = shmtop("show", "sem", str(semid), "--json").json()

    assert text.code == 0, text
    assert text.lines()[0].startswith(f"semaphore set {semid}  key 0x00000000  nsems 3")
    header = next(i for i, line in enumerate(text.lines()) if line.startswith("NUM"))
    values = [line.split()[:2] for line in text.lines()[header + 1 :]]
    assert values == [["0", "3"], ["1", "0"], ["2", "7"]]
    assert shown["id"] == semid
    assert shown["nsems"] == 3
    assert [s["value"] for s in shown["semaphores"]] == [3, 0, 7]
    assert shown["waiters"] == 0


def test_show_msg_text_and_json_count_the_messages(make_msg: MakeMsg) -> None:
    msqid = make_msg(0o640)
    native.msgsnd(msqid, 1, b"hello")
    native.msgsnd(msqid, 1, b"world!!")

    text = shmtop("show", "msg", str(msqid))
    shown = shmtop("show", "msg", str(msqid), "--json").json()

    assert text.code == 0, text
    assert text.lines()[0] == f"message queue {msqid}  key 0x00000000"
    assert re.search(r"\bmessages\s+2\s+bytes 12 of \d+", text.stdout), text.stdout
    assert re.search(rf"\bsender\s+{os.getpid()} \(", text.stdout), text.stdout
    assert (shown["id"], shown["qnum"], shown["cbytes"]) == (msqid, 2, 12)
    assert shown["lspid"] == os.getpid()
    assert shown["perms"] == "640"


# ---- 4. dump ----

# 64 bytes a terminal must never see raw: an OSC title change, CSI (8-bit and
# 7-bit), DEL, C1 controls, clear screen, CR/LF/TAB/BS, and 0xff.
HOSTILE = (
    b"shmtop dump test"
    + b"\x1b]2;owned\x07" + b"\x9b" + b"\x7f" + b"\x00\x01\x02\x03"
    + bytes(range(0x80, 0x90))
    + b"\x1b[2J\x1b[H" + b"\r\n\t\x08" + b"end!" + b"\xff"
)  # fmt: skip
SEGMENT = 4096


def hexdump_c(data: bytes, tmp_path: Path, skip: int = 0, length: int | None = None) -> str:
    """What util-linux `hexdump -C` prints for the same bytes: the oracle of the text dump."""
    source = tmp_path / "bytes"
    source.write_bytes(data)
    window = ["-s", str(skip)] + (["-n", str(length)] if length is not None else [])
    result = subprocess.run(
        ["hexdump", "-C", *window, str(source)],
        env={**os.environ, "LC_ALL": "C"},
        capture_output=True,
        check=True,
        timeout=helpers.PATIENCE,
    )
    return result.stdout.decode("ascii")


@pytest.fixture
def written(make_shm: MakeShm) -> tuple[int, bytes]:
    """A segment holding HOSTILE, then b"BEYOND", then zeros; and its whole content."""
    assert len(HOSTILE) == 64
    shmid = make_shm(SEGMENT)
    data = (HOSTILE + b"BEYOND").ljust(SEGMENT, b"\0")
    write_segment(shmid, data)
    return shmid, data


def test_dump_matches_hexdump_and_never_prints_control_bytes(
    written: tuple[int, bytes], spawn: Spawn, tmp_path: Path
) -> None:
    shmid, data = written
    spawn(attach=[(shmid, False)])  # so that nattch is 1, not 0, around the dumps
    before = live("shm")[shmid]

    first = shmtop("dump", str(shmid), "--length", "64")
    whole = shmtop("dump", str(shmid))

    assert first.code == 0, first
    assert first.stdout == hexdump_c(data, tmp_path, length=64)
    assert first.lines()[1] == (
        "00000010  1b 5d 32 3b 6f 77 6e 65  64 07 9b 7f 00 01 02 03  |.]2;owned.......|"
    )
    assert whole.code == 0, whole
    assert whole.stdout == hexdump_c(data, tmp_path)  # squeezed zeros: one '*'
    for run in (first, whole):
        assert_terminal_safe(run.out)
        assert run.err == b""
    after = live("shm")[shmid]
    assert after["nattch"] == before["nattch"] == 1  # the CLI detached
    assert after["lpid"] == whole.pid  # ... after it really attached


def test_dump_offset_and_length_pick_a_window(written: tuple[int, bytes], tmp_path: Path) -> None:
    shmid, data = written

    window = shmtop("dump", str(shmid), "--offset", "20", "--length", "40")
    tail = shmtop("dump", str(shmid), "--offset", "0x40", "--length", "128")
    past_end = shmtop("dump", str(shmid), "--offset", "4090", "--length", "100")

    assert window.code == 0, window
    assert window.stdout == hexdump_c(data, tmp_path, skip=20, length=40)
    assert window.lines()[0].startswith("00000014  ")
    assert window.lines()[-1] == "0000003c"
    assert tail.stdout == hexdump_c(data, tmp_path, skip=64, length=128)
    assert "|BEYOND..........|" in tail.stdout
    assert past_end.stdout == hexdump_c(data, tmp_path, skip=4090)
    assert past_end.lines()[-1] == f"{SEGMENT:08x}"


def test_dump_raw_to_a_pipe_gives_exactly_the_bytes(written: tuple[int, bytes]) -> None:
    shmid, data = written
    nattch = live("shm")[shmid]["nattch"]

    whole = shmtop("dump", str(shmid), "--raw")
    window = shmtop("dump", str(shmid), "--raw", "--offset", "16", "--length", "48")
    past_end = shmtop("dump", str(shmid), "--raw", "--offset", "4000", "--length", "1000")

    assert (whole.code, window.code, past_end.code) == (0, 0, 0)
    assert whole.out == data
    assert window.out == data[16:64]
    assert past_end.out == data[4000:]
    assert live("shm")[shmid]["nattch"] == nattch == 0


# ---- 5. errors ----


@pytest.mark.parametrize("kind", ["shm", "sem", "msg"])
def test_show_of_an_unknown_id_fails_naming_it(kind: helpers.Kind) -> None:
    ident = vanished_id(kind)

    line = error_line(shmtop("show", kind, str(ident)), 1)

    assert f"{kind} {ident}: no such object" in line


def test_dump_of_an_unknown_id_fails_naming_it() -> None:
    shmid = vanished_id("shm")

    line = error_line(shmtop("dump", str(shmid)), 1)

    assert f"shm {shmid}: no such object" in line


def test_rm_key_that_is_not_a_number_is_a_usage_error() -> None:
    line = usage_error(shmtop("rm", "--key", "notanumber"))

    assert "argument --key" in line
    assert "not a number: 'notanumber'" in line


def test_list_sort_by_an_unknown_column_is_a_usage_error() -> None:
    run = shmtop("list", "--sort", "bogus")

    line = error_line(run, 2)
    assert "cannot sort by 'bogus'" in line
    assert "nattch" in line  # the columns it can sort by
    assert run.out == b""


def test_dump_of_a_segment_removed_after_listing_says_no_such_object(make_shm: MakeShm) -> None:
    made = make_shm(4097)
    listed = [
        s for s in shmtop("list", "shm", "--json").json()["segments"]
        if s["cpid"] == os.getpid() and s["size"] == 4097
    ]  # fmt: skip
    assert [s["id"] for s in listed] == [made]
    shmid = int(listed[0]["id"])
    assert helpers.remove("shm", shmid)

    line = error_line(shmtop("dump", str(shmid)), 1)

    assert f"shm {shmid}: no such object" in line


@pytest.mark.root
def test_rm_as_another_user_is_denied_and_removes_nothing(
    make_shm: MakeShm, nobody: Nobody
) -> None:
    shmid = make_shm(4096, 0o666)  # even write permission does not allow IPC_RMID

    run = nobody.shmtop("rm", "shm", str(shmid), "--yes")

    assert run.code == 1, run
    assert f"shm {shmid}: permission denied" in run.stdout + run.stderr
    assert shmid in live("shm")
    assert "Traceback" not in run.stderr


@pytest.mark.root
def test_rm_as_another_user_reports_the_denial_on_stderr(make_shm: MakeShm, nobody: Nobody) -> None:
    shmid = make_shm(4096, 0o666)

    line = error_line(nobody.shmtop("rm", "shm", str(shmid), "--yes"), 1)

    assert f"shm {shmid}" in line
    assert "permission denied" in line


@pytest.mark.root
def test_dump_as_another_user_of_a_private_segment_is_denied(
    make_shm: MakeShm, nobody: Nobody
) -> None:
    shmid = make_shm(4096, 0o600)
    write_segment(shmid, b"secret")

    run = nobody.shmtop("dump", str(shmid))

    line = error_line(run, 1)
    assert f"shm {shmid}: permission denied" in line
    assert b"secret" not in run.out
    assert b"73 65 63" not in run.out


# ---- 6. rm ----


def rm_outcomes(run: Run) -> dict[str, str]:
    """The 'kind id: outcome' lines rm printed after its plan (successes on stdout,
    failures on stderr after 'shmtop: '), by 'kind id'."""
    found = {}
    failures = [line.removeprefix("shmtop: ") for line in run.stderr.splitlines()]
    for line in [*run.lines(), *failures]:
        match = re.fullmatch(r"((?:shm|sem|msg) \d+): (.*)", line)
        if match:
            found[match[1]] = match[2]
    return found


def plan_ids(run: Run) -> set[tuple[str, int]]:
    """(kind, id) of the rows of rm's plan table."""
    return {
        (words[0], int(words[1]))
        for words in (line.split() for line in run.lines())
        if len(words) > 1 and words[0] in ("shm", "sem", "msg") and words[1].isdigit()
    }


def test_rm_off_a_terminal_without_yes_refuses_and_removes_nothing(make_shm: MakeShm) -> None:
    shmid = make_shm()

    run = shmtop("rm", "shm", str(shmid))

    line = error_line(run, 2)
    assert "not a terminal" in line
    assert "nothing was removed" in line
    assert shmid in live("shm")


def test_rm_dry_run_lists_the_object_and_removes_nothing(make_shm: MakeShm) -> None:
    shmid = make_shm()

    run = shmtop("rm", "shm", str(shmid), "--dry-run")

    assert run.code == 0, run
    assert plan_ids(run) == {("shm", shmid)}
    assert rm_outcomes(run) == {}
    assert shmid in live("shm")


def test_rm_of_an_attached_segment_marks_it_for_destruction(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm()
    spawn(attach=[(shmid, True)])

    run = shmtop("rm", "shm", str(shmid), "--yes")

    assert run.code == 0, run
    assert rm_outcomes(run)[f"shm {shmid}"].startswith("marked for destruction")
    row = live("shm")[shmid]  # still there until the child detaches
    assert row["perms"] & SHM_DEST
    assert row["nattch"] == 1
    assert by_id(shmtop("list", "shm", "--json").json()["segments"])[shmid]["dest"] is True


def test_rm_of_an_unattached_segment_removes_it(make_shm: MakeShm) -> None:
    shmid = make_shm()

    run = shmtop("rm", "shm", str(shmid), "--yes")

    assert run.code == 0, run
    assert rm_outcomes(run) == {f"shm {shmid}": "removed"}
    assert shmid not in live("shm")


def test_rm_key_removes_every_kind_with_that_key(make_shm: MakeShm, make_keyed: KeyedMaker) -> None:
    bystander = make_shm()
    key, made = make_keyed(("shm", "sem", "msg"))
    _, other = make_keyed(("sem",))  # another key: untouched

    only_sem = shmtop("rm", "sem", "--key", f"{key:#x}", "--yes")

    assert only_sem.code == 0, only_sem
    assert rm_outcomes(only_sem) == {f"sem {made['sem']}": "removed"}
    assert made["sem"] not in live("sem")
    assert made["shm"] in live("shm")

    every = shmtop("rm", "--key", str(key), "--yes")

    assert every.code == 0, every
    assert rm_outcomes(every) == {f"shm {made['shm']}": "removed", f"msg {made['msg']}": "removed"}
    assert f"0x{key:08x}" in every.stdout
    assert made["shm"] not in live("shm")
    assert made["msg"] not in live("msg")
    assert bystander in live("shm")
    assert other["sem"] in live("sem")


def test_rm_key_0_is_refused() -> None:
    line = error_line(shmtop("rm", "--key", "0", "--yes"), 2)

    assert "key 0" in line


def test_rm_orphans_dry_run_lists_a_dead_creators_segment_only(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    ours = make_shm()
    child = spawn(create_shm=4096, exit_after_report=True)
    assert child.wait_exit() == 0
    orphan = child.created
    assert orphan is not None
    assert live("shm")[orphan]["nattch"] == 0
    made = live("shm")[orphan]["ctime"]
    helpers.wait_until(lambda: time.time() >= made + 1, "a second passed since it was made")

    settling = shmtop("rm", "--orphans", "--dry-run")  # within the default 60 s grace
    run = shmtop("rm", "--orphans", "--dry-run", "--idle-for", "1s")

    assert ("shm", orphan) not in plan_ids(settling)
    assert run.code == 0, run
    listed = plan_ids(run)
    assert ("shm", orphan) in listed
    assert ("shm", ours) not in listed
    assert orphan in live("shm")
    assert ours in live("shm")


def test_rm_of_several_ids_reports_the_unknown_one_and_fails(make_shm: MakeShm) -> None:
    shmid = make_shm()
    unknown = vanished_id("shm")

    run = shmtop("rm", "shm", str(shmid), str(unknown), "--yes")

    assert run.code == 1, run
    outcomes = rm_outcomes(run)
    assert outcomes[f"shm {shmid}"] == "removed"
    assert outcomes[f"shm {unknown}"].startswith("no such object")
    assert shmid not in live("shm")


# ---- 7. limits ----


def test_limits_json_counts_at_least_our_objects(
    make_shm: MakeShm, make_sem: MakeSem, make_msg: MakeMsg
) -> None:
    made = {"shm_segments": 2, "sem_sets": 1, "msg_queues": 1}
    make_shm()
    make_shm()
    make_sem(1)
    make_msg()

    limits = shmtop("limits", "--json").json()

    for name, count in made.items():
        entry = limits[name]
        assert_ints(entry, "used", "limit")
        assert count <= entry["used"] <= entry["limit"], (name, entry)
        assert entry["percent"] is None or isinstance(entry["percent"], float)


# ---- 8. the plain commands never import Textual ----


# The UI library, the waiter scanner and its pages: only `shmtop` (the TUI) and `waiters` pay.
HEAVY = (
    "textual",
    "rich",
    "shmtop.tui.app",
    "shmtop.core.waits.waiters",
    "shmtop.core.waits.wait_report",
    "shmtop.text.wait_pages",
    "shmtop.text.wait_documents",
)


@pytest.mark.parametrize("command", [
    ("list",), ("show", "shm", "{id}"), ("limits",),
    ("list", "--json"), ("show", "shm", "{id}", "--json"), ("limits", "--json"),
])  # fmt: skip
def test_the_one_shot_commands_import_no_textual_and_no_debugger(
    command: tuple[str, ...], make_shm: MakeShm
) -> None:
    shmid = make_shm()
    run = shmtop(*(word.format(id=shmid) for word in command), flags=["-X", "importtime"])

    assert run.code == 0, run
    imports = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines()
               if line.startswith("import time:")]  # fmt: skip
    assert "shmtop.cli.commands" in imports  # the check saw shmtop's imports
    heavy = [m for m in imports if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []


# ---- 9. hostile process names ----

EVIL = "ev\x1b[41mil"


def test_a_process_name_with_escapes_is_shown_visibly_and_never_raw(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = make_shm()
    child = spawn(name=EVIL, attach=[(shmid, True)])  # prctl(PR_SET_NAME, b"ev\x1b[41mil")
    with open(f"/proc/{child.pid}/comm", "rb") as comm:
        assert comm.read() == EVIL.encode() + b"\n"
    visible = EVIL.replace("\x1b", ESC_PICTURE)

    listing = shmtop("list", "shm")
    shown = shmtop("show", "shm", str(shmid))
    as_json = shmtop("list", "shm", "--json")

    for run in (listing, shown, as_json):
        assert run.code == 0, run
        assert b"\x1b" not in run.out
        assert b"\x1b" not in run.err
    row = next(line for line in listing.lines() if line.split()[:1] == [str(shmid)])
    assert f"{child.pid} ({visible})" in row
    assert f"{child.pid} ({visible})" in shown.stdout  # the last attacher
    assert any(line.split()[:2] == [str(child.pid), visible] for line in shown.lines())
    # JSON keeps the true name, escaped by the encoder (\u001b), for programs to read.
    segment = by_id(as_json.json()["segments"])[shmid]
    assert [a["command"] for a in segment["attachments"]] == [EVIL]


def test_the_interactive_view_refuses_without_a_terminal() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "shmtop"], cwd=ROOT, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode == 2
    assert "\x1b" not in run.stderr + run.stdout, "no terminal control sequence was written"
    assert "needs a terminal" in run.stderr
