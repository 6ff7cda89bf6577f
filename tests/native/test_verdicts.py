"""The orphan rule (shmtop.core.verdicts) on real objects whose users are alive, gone or hidden."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator

import helpers
import hidden
import pytest
from helpers import MakeSem, MakeShm, Spawn

from shmtop.core.binding import native
from shmtop.core.model import Coverage, IpcObject, Kind, Snapshot
from shmtop.core.snapshot.collect import Collector
from shmtop.core.verdicts import (
    DEFAULT_GRACE,
    NO_WAITER_SCAN,
    Status,
    attachments_note,
    judge,
    parse_duration,
)

GRACE_PASSED = DEFAULT_GRACE + 1

# A process that makes objects, uses them once, prints their ids and exits: its objects
# outlive it, as SysV objects do. Keyed and private, of every kind.
_MAKER = """
import json, sys
from shmtop.core.binding import native
key = int(sys.argv[1])
c = native.IPC_CREAT | 0o600
made = {
    "shm_private": native.shmget(native.IPC_PRIVATE, 4096, c),
    "shm_keyed": native.shmget(key, 4096, c),
    "sem_private": native.semget(native.IPC_PRIVATE, 2, c),
    "sem_keyed": native.semget(key, 2, c),
    "msg_private": native.msgget(native.IPC_PRIVATE, c),
    "msg_keyed": native.msgget(key, c),
}
for name in ("sem_private", "sem_keyed"):
    native.semop(made[name], [(0, 1, 0)])
for name in ("msg_private", "msg_keyed"):
    native.msgsnd(made[name], 1, b"left behind")
print(json.dumps(made))
"""


@pytest.fixture
def left_behind() -> Iterator[dict[str, int]]:
    """Objects of every kind, keyed and private, whose only user has exited (and is reaped)."""
    key = random.randrange(0x10000, 0x7FFFFFFF)
    done = subprocess.run([sys.executable, "-c", _MAKER, str(key)], capture_output=True,
                          check=True, timeout=helpers.PATIENCE)  # fmt: skip
    made: dict[str, int] = json.loads(done.stdout)
    for name, ident in made.items():
        helpers.record(name.partition("_")[0], ident)  # type: ignore[arg-type]
    yield {"key": key, **made}
    for name, ident in made.items():
        helpers.remove(name.partition("_")[0], ident)  # type: ignore[arg-type]


def found(snapshot: Snapshot, kind: str, ident: int) -> IpcObject:
    obj = snapshot.find(Kind(kind), ident)
    if obj is None:
        raise LookupError(f"{kind} {ident} missing from the snapshot")
    return obj


def status_later(snapshot: Snapshot, obj: IpcObject) -> Status | None:
    return judge(obj, snapshot, now=snapshot.taken_at + GRACE_PASSED, blocked=()).status


def test_keyed_objects_whose_users_exited_are_never_orphans_private_ones_are_after_the_grace(
    left_behind: dict[str, int],
) -> None:
    snapshot = Collector().snapshot()

    for kind, keyed_word in (("shm", Status.UNATTACHED), ("sem", Status.UNUSED),
                             ("msg", Status.UNUSED)):  # fmt: skip
        private = found(snapshot, kind, left_behind[f"{kind}_private"])
        keyed = found(snapshot, kind, left_behind[f"{kind}_keyed"])
        assert keyed.owner.key == left_behind["key"]
        now = judge(private, snapshot, blocked=())
        assert now.users_gone is True, now
        assert now.status is None and now.settling, now  # just made: within the grace
        assert status_later(snapshot, private) is Status.ORPHAN
        assert judge(keyed, snapshot, blocked=()).status is keyed_word
        assert status_later(snapshot, keyed) is keyed_word  # never an orphan, however old
        later = judge(keyed, snapshot, now=snapshot.taken_at + 7 * 86400, blocked=())
        assert not later.selected(None)  # rm --orphans leaves it...
        assert later.selected(parse_duration("7d"))  # ...unless asked with --idle-for
        aged = judge(private, snapshot, now=snapshot.taken_at + GRACE_PASSED, blocked=())
        assert aged.selected(None)
    # Without a waiter scan (list, show, the TUI) a queue is never judged: a receiver
    # blocked on it leaves no trace in its header.
    queue = found(snapshot, "msg", left_behind["msg_private"])
    unscanned = judge(queue, snapshot, now=snapshot.taken_at + GRACE_PASSED)
    assert unscanned.status is None and unscanned.unknown == NO_WAITER_SCAN, unscanned


def test_objects_with_a_live_user_or_no_evidence_are_not_orphans(
    make_shm: MakeShm, make_sem: MakeSem, spawn: Spawn
) -> None:
    mine = make_shm()  # created by this process, which runs
    child_made = spawn(create_shm=4096, exit_after_report=True)
    assert child_made.wait_exit() == 0
    assert child_made.created is not None
    adopter = spawn(attach=[(child_made.created, False)])  # creator gone, but attached
    never_used = make_sem(1)
    used_by_me = make_sem(1)
    native.semop(used_by_me, [(0, 1, 0)])

    snapshot = Collector().snapshot()
    verdicts = {name: judge(found(snapshot, kind, ident), snapshot,
                            now=snapshot.taken_at + GRACE_PASSED)
                for name, kind, ident in (("mine", "shm", mine),
                                          ("adopted", "shm", child_made.created),
                                          ("never", "sem", never_used),
                                          ("used", "sem", used_by_me))}  # fmt: skip

    assert all(v.status is None for v in verdicts.values()), verdicts
    assert verdicts["mine"].users_gone is False
    assert verdicts["adopted"].users_gone is True
    assert verdicts["adopted"].busy == "attached (nattch 1)"
    assert adopter.pid in found(snapshot, "shm", child_made.created).attached_pids  # type: ignore[union-attr]
    assert verdicts["never"].users_gone is None
    assert verdicts["never"].unknown is not None and "no evidence" in verdicts["never"].unknown
    assert verdicts["used"].users_gone is False


def test_rm_orphans_covers_every_kind_and_keyed_ones_only_with_idle_for(
    left_behind: dict[str, int],
) -> None:
    made = max(native.shm_stat(left_behind["shm_private"]).ctime,
               native.shm_stat(left_behind["shm_keyed"]).ctime)  # fmt: skip
    helpers.wait_until(lambda: time.time() >= made + 2, "two seconds passed since they were made")
    private = {(k, left_behind[f"{k}_private"]) for k in ("shm", "sem", "msg")}
    keyed = {(k, left_behind[f"{k}_keyed"]) for k in ("shm", "sem", "msg")}

    default = hidden.run(["rm", "--orphans", "--dry-run"], nobody=False)
    asked = hidden.run(["rm", "--orphans", "--dry-run", "--idle-for", "1s"], nobody=False)
    too_long = hidden.run(["rm", "--orphans", "--dry-run", "--idle-for", "1h"], nobody=False)
    only_sem = hidden.run(["rm", "sem", "--orphans", "--dry-run", "--idle-for", "1s"],
                          nobody=False)  # fmt: skip

    assert not plan(default) & (private | keyed)  # within the 60 s grace: none yet
    assert plan(asked) >= private | keyed, asked
    assert not plan(too_long) & (private | keyed)
    assert plan(only_sem) >= {p for p in private | keyed if p[0] == "sem"}
    assert all(k == "sem" for k, _ in plan(only_sem))
    rows = {(w[0], int(w[1])): line for line in asked.lines()
            if len(w := line.split()) > 1 and w[1].isdigit()}  # fmt: skip
    shm_private = rows["shm", left_behind["shm_private"]]
    assert "orphan" in shm_private and "key private" in shm_private and "gone" in shm_private
    assert "attach never" in shm_private and "change" in shm_private
    shm_keyed = rows["shm", left_behind["shm_keyed"]]
    assert "unattached" in shm_keyed and f"keyed (0x{left_behind['key']:08x})" in shm_keyed
    for kind in helpers.KINDS:  # a dry run: nothing went
        assert {i for k, i in private | keyed if k == kind} <= helpers.live_rows(kind).keys()


def plan(result: hidden.Result) -> set[tuple[str, int]]:
    """(kind, id) rows of rm's plan table."""
    return {
        (words[0], int(words[1]))
        for words in (line.split() for line in result.lines())
        if len(words) > 1 and words[0] in ("shm", "sem", "msg") and words[1].isdigit()
    }


@pytest.mark.parametrize("text", ["", "7", "7x", "1.5h", "-1s", "0s", "366d", "\u0667d", "1_0s"])
def test_bad_durations_are_one_line_usage_errors(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
    result = hidden.run(["rm", "--orphans", "--dry-run", "--idle-for", text], nobody=False)
    assert result.code == 2, result
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("shmtop rm: error: argument")


def test_idle_for_needs_orphans() -> None:
    result = hidden.run(["rm", "shm", "1", "--idle-for", "1s", "--dry-run"], nobody=False)
    assert result.code == 2, result
    assert "--idle-for goes with --orphans" in result.stderr


# ---- hidden processes: unknown, never gone ----


@pytest.fixture
def hidden_runs() -> None:
    why = hidden.missing_tools()
    if why:
        pytest.skip(why)
    assert hidden.proc_is_hidden_there(), "hidepid=invisible did not hide a root process"


@pytest.mark.usefixtures("hidden_runs")
@pytest.mark.parametrize("hidepid", [False, True], ids=["nobody", "nobody-hidepid"])
def test_a_live_root_creator_is_never_gone_to_nobody(
    hidepid: bool, make_shm: MakeShm, spawn: Spawn
) -> None:
    attached = make_shm()  # root-owned (0600), created by this root process, which runs
    unattached = make_shm()
    attacher = spawn(name="root-attacher", attach=[(attached, True)])
    control_maker = spawn(create_shm=4096, exit_after_report=True)  # its creator exits
    assert control_maker.wait_exit() == 0
    control = control_maker.created
    assert control is not None
    made = max(native.shm_stat(i).ctime for i in (attached, unattached, control))
    helpers.wait_until(lambda: time.time() >= made + 2, "two seconds passed since they were made")

    listed = hidden.run(["list", "shm", "--json"], hidepid=hidepid).json()
    shown = hidden.run(["show", "shm", str(attached)], hidepid=hidepid)
    shown_idle = hidden.run(["show", "shm", str(unattached)], hidepid=hidepid)
    dry = hidden.run(["rm", "--orphans", "--dry-run", "--idle-for", "1s"], hidepid=hidepid)

    segments = {s["id"]: s for s in listed["segments"]}
    for ident in (attached, unattached):
        segment = segments[ident]
        assert segment["creator_alive"] is (None if hidepid else True), segment
        assert segment["orphan"] is False and segment["status"] is None
        assert segment["evidence"]["users_gone"] is not True
        if hidepid:
            assert "hidepid=invisible" in segment["evidence"]["unknown"]
    busy = segments[attached]
    assert busy["nattch"] == 1
    assert attacher.pid not in [a["pid"] for a in busy["attachments"]]  # nobody cannot see it
    assert busy["attachments_consistent"] is False
    reason = "hidepid=invisible" if hidepid else "could not be inspected"
    assert reason in busy["attachments_note"]
    assert "nattch 1 but only 0 mappings visible" in busy["attachments_note"]
    if hidepid:
        assert "hidepid=invisible" in listed["blind_spots"]["processes_hidden"]
    else:
        assert listed["blind_spots"]["uninspected"]
    # The control proves the rule can say orphan here: its creator was shown gone.
    assert segments[control]["creator_alive"] is False
    assert segments[control]["evidence"]["users_gone"] is True

    assert shown.code == 0, shown
    assert "(gone)" not in shown.stdout and "no longer running" not in shown.stdout
    assert "(no process has it attached)" not in shown.stdout
    assert "attachments unknown: nattch 1 but only 0 mappings visible" in shown.stdout
    assert reason in shown.stdout
    creator_line = next(line for line in shown_idle.lines() if line.startswith("  creator  "))
    assert "gone" not in creator_line
    if hidepid:
        assert "cannot tell" in creator_line and "hidepid=invisible" in creator_line
    verdict_line = next(line for line in shown_idle.lines() if line.startswith("  verdict  "))
    assert "orphan" not in verdict_line.split(":")[0]

    offered = plan(dry)
    assert ("shm", control) in offered, dry
    assert ("shm", attached) not in offered and ("shm", unattached) not in offered


# ---- attachments against nattch under churn ----

_CHURN = """
import sys
from shmtop.core.binding import native
ids = [int(i) for i in sys.argv[1:]]
print("ready", flush=True)
while True:
    held = [native.shmat(i, 0) for i in ids]
    for address in held:
        native.shmdt(address)
"""


SNAPSHOTS = 12


@pytest.fixture
def churning(make_shm: MakeShm) -> Iterator[list[int]]:
    """Segments that a child attaches and detaches in a tight loop; stopped after."""
    ids = [make_shm() for _ in range(4)]
    children = [subprocess.Popen([sys.executable, "-c", _CHURN, *map(str, ids)],
                                 stdout=subprocess.PIPE)]  # fmt: skip
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline() == b"ready\n"
        yield ids
    finally:
        for child in children:
            child.kill()
            child.wait()


def test_every_record_agrees_with_its_nattch_or_says_it_does_not(churning: list[int]) -> None:
    reused = Collector()
    seen: dict[str, int] = {}
    try:
        for n in range(SNAPSHOTS):
            snapshot = (reused if n % 2 else Collector()).snapshot()
            for shmid in churning:
                segment = snapshot.segment(shmid)
                assert segment is not None
                note = attachments_note(segment, snapshot.blind_spots)
                if segment.coverage is Coverage.COMPLETE:
                    assert len(segment.attachments) == segment.nattch, segment
                    assert note is None
                else:
                    assert note is not None and f"nattch {segment.nattch}" in note
                seen[str(segment.coverage)] = seen.get(str(segment.coverage), 0) + 1
    finally:
        reused.close()
    for _ in range(3):
        listed = hidden.run(["list", "shm", "--json"], nobody=False).json()
        for record in listed["segments"]:
            if record["id"] in churning and record["attachments_consistent"]:
                assert len(record["attachments"]) == record["nattch"], record
            elif record["id"] in churning:
                assert record["attachments_note"], record
    assert sum(seen.values()) == SNAPSHOTS * len(churning), seen


def test_a_queue_with_a_blocked_receiver_is_not_offered(left_behind: dict[str, int]) -> None:
    queue = left_behind["msg_private"]  # last sender gone, nobody ever received
    reader = subprocess.Popen([sys.executable, "-c", _RECEIVER, str(queue)])
    try:
        helpers.wait_until(lambda: blocked_in_msgrcv(reader.pid), "the reader blocks in msgrcv")
        made = native.msg_stat(queue).ctime
        helpers.wait_until(lambda: time.time() >= made + 2, "two seconds passed since it was made")

        dry = hidden.run(["rm", "msg", "--orphans", "--dry-run", "--idle-for", "1s"], nobody=False)

        offered = plan(dry)
        assert ("msg", left_behind["msg_keyed"]) in offered, dry  # the same, but nobody waits
        assert ("msg", queue) not in offered
    finally:
        reader.kill()
        reader.wait()


_RECEIVER = """
import sys
from shmtop.core.binding import native
native.msgrcv(int(sys.argv[1]), 64, 99, 0)  # a type nobody sends: blocks until killed
"""


def blocked_in_msgrcv(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/wchan", encoding="ascii") as wchan:
            return "msgrcv" in wchan.read()
    except OSError:
        return False
