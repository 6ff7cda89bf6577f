"""-A/--all-namespaces and --namespace: objects of IPC namespaces made with `unshare --ipc`,
seen, shown, dumped and removed from the session's own namespace through the real CLI.

The machine may hold other namespaces (other users of it): these tests look only at the
ones they made, found by inode, and at the caller's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import helpers
import hidden
import pytest
from json_schemas import validate
from ns_helpers import foreign_namespace, foreign_shm

from shmtop.core.binding import native
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.snapshot import procfs

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare(1) to make and join IPC namespaces",
)
OURS = os.stat("/proc/self/ns/ipc").st_ino if os.path.exists("/proc/self/ns/ipc") else 0


@pytest.fixture
def boxes() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Two namespaces: one with a hostname of its own (two segments), one without."""
    with (
        foreign_namespace("shmtop-ns-box", objects=2) as named,
        foreign_namespace(objects=1) as plain,
    ):
        yield named, plain


def shmtop(*args: str) -> hidden.Result:
    return hidden.run(args, nobody=False)


def of_namespace(records: list[dict[str, Any]], inode: int) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in records if r["namespace"]["inode"] == inode}


def table_in(sysvipc: str, made: dict[str, Any]) -> list[int]:
    """The ids of a /proc/sysvipc table as the namespace of `made` shows it (a joined thread)."""
    thread = JoinedThread(made["pid"], made["inode"])
    try:
        table = thread.run(procfs.read_sysvipc, sysvipc).decode()
    finally:
        thread.close()
    key = {"shm": "shmid", "sem": "semid", "msg": "msqid"}[sysvipc]
    return [row[key] for row in procfs.parse_sysvipc(table)]


def test_list_A_shows_every_namespace_with_its_name_objects_and_attachers(
    boxes: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    named, plain = boxes
    listed = shmtop("list", "-A", "--json").json()
    validate("list", listed)
    spaces = {ns["inode"]: ns for ns in listed["namespaces"]}
    assert listed["namespaces"][0]["inode"] == OURS and listed["namespaces"][0]["current"]
    assert spaces[named["inode"]]["name"] == "shmtop-ns-box"
    assert spaces[named["inode"]]["source"] == "hostname"
    assert spaces[plain["inode"]]["name"] == f"ipc:[{plain['inode']}]"
    assert spaces[plain["inode"]]["source"] == "inode"
    assert spaces[named["inode"]]["refused"] is None
    for made in (named, plain):
        segments = of_namespace(listed["segments"], made["inode"])
        assert sorted(segments) == made["shm"]
        first = segments[made["shm"][0]]
        assert [(a["pid"], a["access"]) for a in first["attachments"]] == [(made["pid"], "rw")]
        assert first["namespace"]["current"] is False
        assert sorted(of_namespace(listed["semaphore_sets"], made["inode"])) == [made["sem"]]
        assert sorted(of_namespace(listed["queues"], made["inode"])) == [made["msg"]]
    # Ids repeat across namespaces: both fresh ones have a segment 0, each its own.
    assert named["shm"][0] == plain["shm"][0] == 0
    assert (named["inode"], 0) != (plain["inode"], 0)


def test_list_A_table_has_an_ns_column_naming_each_namespace(
    boxes: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    named, plain = boxes
    done = shmtop("list", "shm", "-A")
    assert done.code == 0, done
    header, *rows = done.lines()
    assert header.split()[:2] == ["NS", "ID"]
    cells = [row.split() for row in rows]
    assert ["shmtop-ns-box", "1"] in [c[:2] for c in cells]
    assert [f"ipc:[{plain['inode']}]", "0"] in [c[:2] for c in cells]
    mine = [c for c in cells if c[0] == "shmtop-ns-box"]
    assert sorted(int(c[1]) for c in mine) == named["shm"]


def test_namespace_selects_one_by_name_inode_or_member_pid(
    boxes: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    named, _ = boxes
    for wanted in ("shmtop-ns-box", str(named["inode"]), f"ipc:[{named['inode']}]",
                   str(named["pid"])):  # fmt: skip
        listed = shmtop("list", "--namespace", wanted, "--json").json()
        validate("list", listed)
        assert [ns["inode"] for ns in listed["namespaces"]] == [named["inode"]]
        assert [s["id"] for s in listed["segments"]] == named["shm"]
        assert {s["namespace"]["name"] for s in listed["segments"]} == {"shmtop-ns-box"}
        assert "unplaced" not in listed
    text = shmtop("list", "shm", "--namespace", "shmtop-ns-box")
    assert text.code == 0 and text.lines()[0].split()[0] == "ID"  # one namespace: no NS
    assert "shmtop-ns-box" in text.stderr


def test_show_and_dump_read_the_object_of_that_namespace(
    boxes: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    named, _ = boxes
    shmid = named["shm"][0]
    shown = shmtop("show", "shm", str(shmid), "--namespace", "shmtop-ns-box", "--json").json()
    validate("show", shown)
    assert shown["namespace"] == {"inode": named["inode"], "name": "shmtop-ns-box",
                                  "source": "hostname", "current": False}  # fmt: skip
    assert [a["pid"] for a in shown["attachments"]] == [named["pid"]]
    dumped = shmtop("dump", str(named["shm"][1]), "--namespace", "shmtop-ns-box", "--length", "16")
    assert dumped.code == 0, dumped
    assert dumped.lines()[0].startswith("00000000  00 00")


def test_rm_in_a_namespace_removes_that_namespace_object_only(
    boxes: tuple[dict[str, Any], dict[str, Any]], make_shm: Any
) -> None:
    named, plain = boxes
    target = named["shm"][1]
    # The caller's namespace gets an object of the same id: it must stay.
    with open("/proc/sys/kernel/shm_next_id", "w", encoding="ascii") as knob:
        knob.write(str(target))
    ours = make_shm()
    assert ours == target
    done = shmtop("rm", "shm", str(target), "--namespace", "shmtop-ns-box", "--yes")
    assert done.code == 0, done
    assert done.lines()[0] == f"in IPC namespace shmtop-ns-box (ipc:[{named['inode']}])"
    assert f"shm {target}: removed" in done.stdout
    assert table_in("shm", named) == [named["shm"][0]]
    assert table_in("shm", plain) == plain["shm"]
    assert native.shm_stat(ours) is not None  # still there, in our namespace


@pytest.fixture
def out_of_reach() -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Two namespaces root made that nobody cannot read: one of root's processes (nobody
    cannot even tell its namespace: ns/ipc needs ptrace rights), one a process of nobody's
    lives in (nobody places it, from its own process's link, but cannot join it)."""
    with (
        foreign_namespace("shmtop-ns-root", objects=1) as root_box,
        foreign_namespace(objects=1, inside=hidden.NOBODY) as nobody_box,  # no hostname: nobody
        # may not set one
    ):
        yield root_box, nobody_box


PARTIAL_LINE = "shmtop: -A: only "


def _partial_line(stderr: str) -> str:
    """The one line that says -A was partial (and no other line speaks of namespaces)."""
    lines = stderr.splitlines()
    about = [line for line in lines if "namespace" in line.lower()]
    assert len(about) == 1, lines
    assert about[0].startswith(PARTIAL_LINE) and "root" in about[0], about
    assert "Traceback" not in stderr
    return about[0]


def _not_joinable(line: str) -> int:
    """How many namespaces the partial line says could not be joined. At least the one of
    nobody's this test made; the machine's other users (another test run) may add theirs."""
    found = re.search(r"(\d+) namespaces? not joinable", line)
    assert found, line
    return int(found.group(1))


def test_without_privilege_A_lists_the_callers_namespace_and_says_what_it_could_not(
    out_of_reach: tuple[dict[str, Any], dict[str, Any]], make_shm: Any
) -> None:
    root_box, nobody_box = out_of_reach
    ours = make_shm()
    # JSON: the document whole on stdout, exit 1 (partial), the count on stderr.
    done = hidden.run(("list", "-A", "--json"), nobody=True)
    assert done.code == 1, done
    listed = json.loads(done.stdout)
    validate("list", listed)
    spaces = {ns["inode"]: ns for ns in listed["namespaces"]}
    assert listed["namespaces"][0]["inode"] == OURS and listed["namespaces"][0]["current"]
    assert spaces[OURS]["refused"] is None and spaces[OURS]["blind_spots"] is not None
    assert root_box["inode"] not in spaces  # not even placed: counted in unplaced
    assert listed["unplaced"]["permission denied"] >= 1
    theirs = spaces[nobody_box["inode"]]
    assert theirs["refused"].startswith("permission denied") and theirs["blind_spots"] is None
    assert theirs["current"] is False and theirs["processes"] >= 1
    assert [s["id"] for s in listed["segments"] if s["id"] == ours] == [ours]
    assert {s["namespace"]["inode"] for s in listed["segments"]} == {OURS}
    line = _partial_line(done.stderr)
    unplaced = listed["unplaced"]["permission denied"]
    refused = sum(ns["refused"] is not None for ns in listed["namespaces"])
    assert f"({unplaced} processes' IPC namespace unreadable, {refused} namespace" in line
    assert _not_joinable(line) == refused
    # Text: the caller's table (and the refused one's NS name nowhere in it), the same line.
    text = hidden.run(("list", "shm", "-A"), nobody=True)
    assert text.code == 1, text
    header, *rows = text.lines()
    assert header.split()[:2] == ["NS", "ID"]  # two namespaces told: ours and the refused
    assert [row.split()[1] for row in rows if row.split()[1] == str(ours)] == [str(ours)]
    assert "shmtop-ns-root" not in text.stdout
    again = _partial_line(text.stderr)  # the same, but for processes started or ended since
    assert again.split("(")[0] == line.split("(")[0] and _not_joinable(again) >= 1
    # Every kind: the POSIX tables of what was read, the JSON still one valid document.
    every = hidden.run(("list", "-A"), nobody=True)
    assert every.code == 1 and "POSIX" in every.stdout, every
    _partial_line(every.stderr)
    # The POSIX kinds alone: the queues of the namespace it cannot join are counted in the
    # same line (not one line of their own); its /dev/shm is ours, shown.
    queues = hidden.run(("list", "pmq", "-A", "--json"), nobody=True)
    assert queues.code == 1, queues
    validate("pmq-list", json.loads(queues.stdout))
    assert _not_joinable(_partial_line(queues.stderr)) >= 1
    shm = hidden.run(("list", "pshm", "-A", "--json"), nobody=True)
    assert shm.code == 1, shm
    validate("posix-list", json.loads(shm.stdout))
    shown = re.search(r"only (\d+) IPC namespaces shown", _partial_line(shm.stderr))
    assert shown and int(shown.group(1)) >= 2  # ours, and the one sharing our /dev/shm
    # A watch: the line said once, each document whole with the namespace refused in it.
    watched = hidden.run(("list", "shm", "-A", "--json", "--watch", "0.1", "--count", "2"),
                         nobody=True)  # fmt: skip
    assert watched.code == 1, watched
    documents = [json.loads(line) for line in watched.lines()]
    assert len(documents) == 2
    for document in documents:
        validate("list", document)
        reasons = [ns["refused"] for ns in document["namespaces"] if not ns["current"]]
        assert reasons and all(why.startswith("permission denied") for why in reasons)
    _partial_line(watched.stderr)


USER_NAMESPACE = ("unshare", "--user", "--map-root-user")


def test_root_of_a_user_namespace_of_its_own_is_partial_too() -> None:
    """CAP_SYS_ADMIN of another user namespace than the host's: the host's processes' links
    stay unreadable and its namespaces unjoinable, so -A is partial as without privilege."""
    probe = subprocess.run([*USER_NAMESPACE, "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip(f"no user namespace can be made here: {probe.stderr.decode().strip()}")
    with foreign_namespace("shmtop-ns-host"):
        done = hidden.run(("list", "-A", "--json"), nobody=False, then=USER_NAMESPACE)
    assert done.code == 1, done
    listed = json.loads(done.stdout)
    validate("list", listed)
    assert listed["namespaces"][0]["inode"] == OURS and listed["namespaces"][0]["current"]
    assert listed["unplaced"]["permission denied"] >= 1
    line = _partial_line(done.stderr)
    assert f"({listed['unplaced']['permission denied']} processes' IPC namespace" in line


def test_without_privilege_waiters_A_scans_the_callers_namespace_and_says_the_rest(
    out_of_reach: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, nobody_box = out_of_reach
    done = hidden.run(("waiters", "-A", "--json"), nobody=True)
    assert done.code == 1, done
    documents = [json.loads(line) for line in done.lines()]
    for document in documents:
        validate("waiters", document)
    assert [d["namespace"]["inode"] for d in documents] == [OURS]
    assert _not_joinable(_partial_line(done.stderr)) >= 1
    text = hidden.run(("waiters", "-A"), nobody=True)
    assert text.code == 1, text
    assert text.lines()[0].startswith("== IPC namespace ")
    assert str(nobody_box["inode"]) not in text.stdout
    _partial_line(text.stderr)


def test_without_privilege_namespace_NS_of_another_is_one_error_line(
    out_of_reach: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    _, nobody_box = out_of_reach
    done = hidden.run(("list", "--namespace", str(nobody_box["inode"])), nobody=True)
    assert done.code == 1 and done.stdout == "", done
    (line,) = done.stderr.splitlines()
    assert line.startswith("shmtop: permission denied (1 namespace not joinable)"), line


def test_an_unknown_namespace_is_an_error_and_A_with_namespace_a_usage_error() -> None:
    done = shmtop("list", "--namespace", "no-such-namespace-here")
    assert done.code == 1 and "no IPC namespace 'no-such-namespace-here'" in done.stderr
    both = shmtop("list", "-A", "--namespace", "x")
    assert both.code == 2 and "not both" in both.stderr


# ---- the POSIX kinds ----


def test_list_pshm_A_reads_a_container_dev_shm_through_a_member_root() -> None:
    with foreign_shm("shmtop-box-object") as made, foreign_namespace("shmtop-ns-shared"):
        listed = shmtop("list", "pshm", "-A", "--json").json()
        text = shmtop("list", "pshm", "-A")
    validate("posix-list", listed)
    theirs = [o for o in listed["objects"] if o["namespace"]["inode"] == made["inode"]]
    assert [o["name"] for o in theirs] == ["/shmtop-box-object"]
    (found,) = theirs
    assert found["in_shm_dir"] and found["path"] == "/dev/shm/shmtop-box-object"
    assert [(m["pid"], m["writable"]) for m in found["mappings"]] == [(made["pid"], True)]
    # Shown once: the namespace that shares our /dev/shm lists nothing again.
    keys = [(o["device"], o["inode"]) for o in listed["objects"]]
    assert len(keys) == len(set(keys))
    assert text.code == 0 and text.lines()[0].split()[:2] == ["NS", "NAME"]
    assert f"ipc:[{made['inode']}]" in text.stdout and "/shmtop-box-object" in text.stdout


def test_list_pmq_A_shows_a_queue_of_another_namespace_read_from_inside_it() -> None:
    with foreign_namespace("shmtop-ns-queue") as made:
        thread = JoinedThread(made["pid"], made["inode"])
        try:
            mqd = thread.run(native.mq_open, "/shmtop-ns-q", os.O_CREAT | os.O_RDWR, 0o600)
            thread.run(native.mq_send, mqd, b"hello")
            every = shmtop("list", "pmq", "-A", "--json").json()
            one = shmtop("list", "pmq", "--namespace", "shmtop-ns-queue", "--json").json()
            ours = shmtop("list", "pmq", "--json").json()
        finally:
            thread.run(native.mq_unlink, "/shmtop-ns-q")
            thread.run(native.mq_close, mqd)
            thread.close()
    for document in (every, one):
        validate("pmq-list", document)
        (queue,) = [q for q in document["queues"] if q["name"] == "/shmtop-ns-q"]
        assert queue["namespace"]["name"] == "shmtop-ns-queue"
        assert queue["messages"] == 1 and queue["qsize"] == 5
    assert [q["name"] for q in one["queues"]] == ["/shmtop-ns-q"]
    assert "/shmtop-ns-q" not in [q["name"] for q in ours["queues"]]


# ---- waiters ----

_WAIT = (  # runs in the namespace (nsenter): blocks on its semaphore set's semaphore 0
    "import sys; from shmtop.core.binding import native;"
    " native.semop(int(sys.argv[1]), [(0, -1, 0)])"
)


def _in_semop(pid: int) -> bool:
    """Whether pid's thread is blocked in semop/semtimedop (x86_64 65/220, generic 193/192)."""
    try:
        with open(f"/proc/{pid}/syscall", encoding="ascii") as file:
            number = file.read().split()[0]
    except (OSError, IndexError):
        return False
    return number in {"65", "220", "192", "193"}


def test_waiters_in_a_namespace_finds_a_thread_blocked_there() -> None:
    with foreign_namespace("shmtop-ns-wait") as made:
        waiter = subprocess.Popen(
            ["nsenter", f"--ipc=/proc/{made['pid']}/ns/ipc", sys.executable, "-c", _WAIT,
             str(made["sem"])],
        )  # fmt: skip
        try:
            helpers.wait_until(lambda: _in_semop(waiter.pid), "the waiter blocks in semop")
            found = shmtop("waiters", "--namespace", "shmtop-ns-wait", "--json").json()
            ours = shmtop("waiters", "--json").json()
            every = shmtop("waiters", "-A", "--json")
            text = shmtop("waiters", "-A")
        finally:
            waiter.kill()
            waiter.wait()
    validate("waiters", found)
    assert found["namespace"]["name"] == "shmtop-ns-wait"
    mine = [w for w in found["waiters"] if w["pid"] == waiter.pid]
    assert len(mine) == 1 and (mine[0]["kind"], mine[0]["id"]) == ("sem", made["sem"]), mine
    assert ours["namespace"]["current"] is True
    assert waiter.pid not in [w["pid"] for w in ours["waiters"]]
    # -A: one document a line (JSON Lines), each of one namespace, the caller's first.
    assert every.code == 0, every
    lines = [json.loads(line) for line in every.lines()]
    for document in lines:
        validate("waiters", document)
    assert lines[0]["namespace"]["current"] is True
    (theirs,) = [d for d in lines if d["namespace"]["inode"] == made["inode"]]
    assert [(w["kind"], w["id"]) for w in theirs["waiters"] if w["pid"] == waiter.pid] == [
        ("sem", made["sem"])
    ]
    assert text.code == 0 and f"== IPC namespace shmtop-ns-wait (ipc:[{made['inode']}])" in (
        text.stdout
    )
