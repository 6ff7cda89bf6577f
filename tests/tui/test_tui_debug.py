"""The set and queue views as a debugger uses them: real objects, real blocked children, Pilot."""

# Objects come from the conftest fixtures (removed at the end), blocked children
# from tests/blocker.py (killed by PID and reaped at the end of each test). Every
# wait is bounded; nothing asserts how fast anything happened. Other test runs may
# share the machine: checks look at our objects and our children only.

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path

import helpers
import pytest
from blocker import Blocker, Blockers, accept_mutex, blockers, deadlock
from helpers import MakeMsg, MakeSem
from textual.pilot import Pilot
from tui_pilot import (
    CountingScanner,
    next_polls,
    open_object,
    own_label,
    queue_view,
    run_app,
    set_view,
    text_of,
    wait_armed,
    wait_for,
    waiter_row,
)

from shmtop.core.actions import SignalOutcome, send_signal
from shmtop.core.binding import native
from shmtop.core.waits.waiters import WaiterScanner
from shmtop.text.process_names import LINE_WIDTH
from shmtop.tui.app import ShmtopApp
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.semaphore_view import CHANGER_WIDTH, SemaphoreSetScreen
from shmtop.tui.screens.signal_dialog import SignalDialog
from shmtop.tui.widgets.alert_banner import AlertBanner
from shmtop.tui.widgets.ipc_table import IpcTable

SEM_UNDO = native.SEM_UNDO


@pytest.fixture
def kids() -> Iterator[Blockers]:
    with blockers() as started:
        yield started


def blocked(kids: Blockers, name: str, semid: int, ops: list[list[int]]) -> Blocker:
    child = kids.start(name)
    child.send(call="semop", semid=semid, ops=ops)
    return child


# ---- (a) the set view: values, history, last changers ----


def test_the_set_view_follows_values_grows_history_and_names_last_changers(
    tmp_path: Path, make_sem: MakeSem, kids: Blockers
) -> None:
    semid = make_sem(3)
    native.sem_setall(semid, [1, 2, 3])

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "2", semid)
        view = set_view(app)
        rows = view.semaphores
        await wait_for(pilot, lambda: rows.keys == ["0", "1", "2"], "three semaphores")
        assert [rows.row_text(k)[1] for k in rows.keys] == ["1", "2", "3"]
        me = f"{own_label(CHANGER_WIDTH)} running"
        assert rows.row_text("0")[4] == me  # SETALL makes this process the last changer
        assert view.check_action("signal", ()) is None  # no waiter row: nothing to signal
        before = view.history[0].samples

        native.sem_setall(semid, [4, 5, 6])
        await wait_for(pilot, lambda: rows.row_text("2")[1] == "6", "the new values")
        await wait_for(pilot, lambda: view.history[0].samples >= before + 2, "the history grows")
        assert [rows.row_text(k)[1] for k in rows.keys] == ["4", "5", "6"]
        recent = list(view.history[0].recent)
        assert recent[: recent.index(4)] == [1] * recent.index(4) and recent[-1] == 4
        spark = rows.row_text("0")[5]
        assert spark.endswith("1..4") and "▁" in spark and "█" in spark  # moved: range shown

        child = kids.start("shmtop-changer")
        assert child.call(call="semop", semid=semid, ops=[[1, 1, 0]]) == {"ok": True}
        running = f"{child.pid} (shmtop-changer) running"
        await wait_for(pilot, lambda: rows.row_text("1")[4] == running, "the child changed it")
        assert rows.row_text("1")[1] == "6"
        child.stop()
        await wait_for(
            pilot, lambda: rows.row_text("1")[4] == f"{child.pid} (gone)", "the changer is gone"
        )
        assert rows.row_text("0")[4] == me

    run_app(tmp_path, scenario)


def test_a_removed_set_says_so_and_keeps_its_last_values(tmp_path: Path, make_sem: MakeSem) -> None:
    semid = make_sem(2)
    native.sem_setall(semid, [7, 8])

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "2", semid)
        view = set_view(app)
        await wait_for(pilot, lambda: view.semaphores.keys == ["0", "1"], "the semaphores")
        native.sem_rmid(semid)
        await wait_for(pilot, lambda: view.gone, "the view notices")
        assert "no longer exists" in text_of(app, "#summary")
        assert view.semaphores.row_text("1")[1] == "8"
        assert view.check_action("signal", ()) is None
        await next_polls(app, pilot)
        assert isinstance(app.screen, SemaphoreSetScreen)  # it stays until the user leaves

    run_app(tmp_path, scenario)


# ---- (b) waiters in the set view, and deadlocks on the main screen ----


def test_a_child_blocked_on_semaphore_2_is_a_waiter_of_the_set(
    tmp_path: Path, make_sem: MakeSem, kids: Blockers
) -> None:
    semid = make_sem(3)
    child = blocked(kids, "shmtop-semop", semid, [[2, -1, SEM_UNDO]])

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "2", semid)
        view = set_view(app)
        await wait_for(pilot, lambda: waiter_row(view, child.pid) is not None, "the waiter")
        row = waiter_row(view, child.pid)
        assert row is not None
        assert row[:4] == [str(child.pid), str(child.pid), "shmtop-semop", "sem 2 -1 SEM_UNDO"]
        assert text_of(app, "#waiters-title").startswith("Waiters (1)")
        assert view.semaphores.row_text("2")[2] == "1"  # the kernel's ncnt agrees

        native.semop(semid, [(2, 1, 0)])
        assert child.answer() == {"ok": True}
        await wait_for(pilot, lambda: waiter_row(view, child.pid) is None, "the waiter goes")
        notes = text_of(app, "#waiter-notes")  # "nobody" only when every process was inspected
        assert notes == "no thread is blocked on this set" or re.fullmatch(
            r"unknown: \d+ process(es)? could not be inspected \(.*\): their waits are not listed",
            notes,
        ), notes

    run_app(tmp_path, scenario)


def test_a_deadlock_raises_the_banner_and_marks_the_set_only_with_the_scan_on(
    tmp_path: Path, make_sem: MakeSem, kids: Blockers
) -> None:
    semid, first, second = deadlock(make_sem, kids)
    scanner = CountingScanner()

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        main = app.main_screen
        banner = main.query_one(AlertBanner)
        table = main.query_one("#table-sem", IpcTable)
        await pilot.press("2")
        await wait_for(pilot, lambda: semid in table.objects, "the set is listed")
        await next_polls(app, pilot)
        assert scanner.scans == 0, "no view shows waiters: no scan"
        assert not banner.has_class("-on") and semid not in table.marked

        await pilot.press("w")
        ours = f"sem {semid}"
        await wait_for(
            pilot, lambda: any("DEADLOCK" in line and ours in line for line in banner.lines),
            "the banner names our set",
        )  # fmt: skip
        line = next(line for line in banner.lines if ours in line)
        assert "2 processes wait on each other" in line and "(rests on hints)" in line
        assert f"{first.pid} (shmtop-first)" in line and f"{second.pid} (shmtop-second)" in line
        assert f"Enter on set {semid}" in line
        assert banner.has_class("-on") and banner.display
        assert semid in table.marked
        assert table.row_text(semid) and "WAITERS" in text_of(app, "#status")

        table.move_to(semid)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SemaphoreSetScreen), "the view")
        view_banner = app.screen.query_one(AlertBanner)
        await wait_for(pilot, lambda: bool(view_banner.lines), "the view's banner")
        assert view_banner.lines[0].startswith("DEADLOCK: 2 process(es) wait on each other")
        await pilot.press("escape")

        await pilot.press("w")  # off: the banner and the marks go, and so do the scans
        assert not banner.has_class("-on") and semid not in table.marked
        await next_polls(app, pilot)
        scans = scanner.scans
        await next_polls(app, pilot)
        assert scanner.scans == scans

    run_app(tmp_path, scenario, waiters=scanner)


def duration_of(cell: str) -> int:
    """Seconds a SINCE cell ('14:02:11 (42s)') says the wait has lasted (0 if not seconds)."""
    found = re.search(r"\((\d+)s", cell)
    return int(found.group(1)) if found else 0


def test_an_idle_accept_mutex_raises_no_banner_and_lists_its_waits_with_durations(
    tmp_path: Path, make_sem: MakeSem, kids: Blockers
) -> None:
    semid, holder, waiting = accept_mutex(make_sem, kids, undo=True)
    scanner = WaiterScanner(stuck_after=0.5)  # the threshold, short: the test need not sleep

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "2", semid)
        view = set_view(app)

        def lasted() -> bool:  # every wait outlasts the threshold (and the kernel's 1 s)
            rows = [waiter_row(view, child.pid) for child in waiting]
            return all(row is not None and duration_of(row[4]) >= 3 for row in rows)

        await wait_for(pilot, lasted, "the three waits last a few seconds")
        for child in waiting:
            row = waiter_row(view, child.pid)
            assert row is not None
            assert row[3:4] + row[5:] == [
                "sem 0 -1 SEM_UNDO",
                "waiting",
                f"{holder.pid} (shmtop-holder) last changer (hint)",
            ]
        banner = view.query_one(AlertBanner)
        assert banner.lines == () and not banner.has_class("-on")

        await pilot.press("escape")
        await pilot.press("w")
        main = app.main_screen
        await wait_for(pilot, lambda: "WAITERS" in text_of(app, "#status") and
                       "scanning" not in text_of(app, "#status"), "a scan")  # fmt: skip
        await next_polls(app, pilot)
        assert not main.query_one(AlertBanner).has_class("-on")
        assert semid not in main.query_one("#table-sem", IpcTable).marked

    run_app(tmp_path, scenario, waiters=scanner)


def test_the_waiters_of_a_dead_holder_raise_the_stuck_banner_and_mark_the_set(
    tmp_path: Path, make_sem: MakeSem, kids: Blockers
) -> None:
    semid, holder, waiting = accept_mutex(make_sem, kids, undo=False)
    scanner = WaiterScanner(stuck_after=0.5)
    waits = WaiterScanner()
    pids = {child.pid for child in waiting}

    def all_wait() -> bool:  # every child blocked before the holder goes
        return pids <= {w.pid for w in waits.scan().waiters}

    helpers.wait_until(all_wait, "the three children wait")
    holder.stop()
    expected = [
        f"STUCK: {child.pid} ({child.name}) on sem {semid}: nobody can release it "
        f"({holder.pid} is gone (exited)) — Enter on set {semid} for details"
        for child in waiting
    ]

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        main = app.main_screen
        banner = main.query_one(AlertBanner)
        table = main.query_one("#table-sem", IpcTable)
        await pilot.press("2")
        await wait_for(pilot, lambda: semid in table.objects, "the set is listed")
        await pilot.press("w")
        await wait_for(pilot, lambda: set(expected) <= set(banner.lines), "three STUCK lines")
        assert banner.has_class("-on") and semid in table.marked

        table.move_to(semid)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SemaphoreSetScreen), "the view")
        view = set_view(app)
        view_banner = view.query_one(AlertBanner)
        await wait_for(pilot, lambda: len(view_banner.lines) == 3, "the view's banner")
        assert all(line.startswith("STUCK: ") and f"{holder.pid} is gone (exited)" in line
                   for line in view_banner.lines)  # fmt: skip
        for child in waiting:
            row = waiter_row(view, child.pid)
            assert row is not None and row[5] == "stuck"

    run_app(tmp_path, scenario, waiters=scanner)


# ---- (c) the queue view ----


def queue_header(msqid: int) -> dict[str, int]:
    """What the kernel says of a queue now."""
    row = next(r for r in native.msg_table() if r.id == msqid)
    names = ("cbytes", "qnum", "qbytes", "lspid", "lrpid", "stime", "rtime", "ctime")
    return {name: getattr(row, name) for name in names}


def test_the_queue_view_shows_messages_without_taking_them(
    tmp_path: Path, make_msg: MakeMsg
) -> None:
    msqid = make_msg()
    native.msgsnd(msqid, 1, b"hello \x1b[31mred")
    native.msgsnd(msqid, 7, b"\x00\x01seven")
    before = queue_header(msqid)

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "3", msqid)
        view = queue_view(app)
        await wait_for(pilot, lambda: "type 7" in text_of(app, "#messages"), "the messages")
        shown = text_of(app, "#messages").splitlines()
        assert text_of(app, "#messages-title").startswith("Messages (2 read with MSG_COPY")
        assert "#0  type 1  14 bytes" in shown
        assert any("68 65 6c 6c 6f 20 1b 5b" in line and "|hello .[31mred|" in line
                   for line in shown)  # fmt: skip
        assert "#1  type 7  7 bytes" in shown
        assert any("00 01 73 65 76 65 6e" in line and "|..seven|" in line for line in shown)
        assert "\x1b" not in "".join(shown)
        assert f"sender    {own_label(LINE_WIDTH)}" in text_of(app, "#facts")
        assert "messages  2" in text_of(app, "#facts")
        await next_polls(app, pilot, 4)  # the view re-reads the queue with each refresh
        assert queue_header(msqid) == before  # qnum, cbytes, lrpid, rtime...: nothing moved
        assert not view.gone

    run_app(tmp_path, scenario)


def test_a_child_blocked_in_msgrcv_for_type_7_is_a_receiver_waiting_for_type_7(
    tmp_path: Path, make_msg: MakeMsg, kids: Blockers
) -> None:
    msqid = make_msg()
    child = kids.start("shmtop-rcv")
    child.send(call="msgrcv", msqid=msqid, type=7, size=64)

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "3", msqid)
        view = queue_view(app)
        await wait_for(pilot, lambda: waiter_row(view, child.pid) is not None, "the receiver")
        assert waiter_row(view, child.pid) == [
            str(child.pid), str(child.pid), "shmtop-rcv", "receive type 7",
            *(waiter_row(view, child.pid) or [])[4:],
        ]  # fmt: skip
        assert text_of(app, "#waiters-title").startswith("Blocked senders (0) and receivers (1)")
        assert text_of(app, "#messages-title") == "Messages: none queued"

        native.msgsnd(msqid, 7, b"go")
        assert child.answer()["type"] == 7
        await wait_for(pilot, lambda: waiter_row(view, child.pid) is None, "the receiver goes")

    run_app(tmp_path, scenario)


# ---- (d) signals ----


def test_a_signal_goes_only_after_the_confirmation(
    tmp_path: Path, make_sem: MakeSem, kids: Blockers
) -> None:
    semid = make_sem(1)
    child = blocked(kids, "shmtop-victim", semid, [[0, -1, 0]])

    async def choose_sigterm(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await pilot.press("k")
        await wait_armed(app, pilot, SignalDialog)
        await pilot.press("1", "5", "enter")  # typed: 15 is SIGTERM
        await wait_armed(app, pilot, ConfirmScreen)
        screen = app.screen
        assert isinstance(screen, ConfirmScreen)
        assert screen.question == f"Send SIGTERM to {child.pid} (shmtop-victim)?"

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "2", semid)
        view = set_view(app)
        await wait_for(pilot, lambda: view.waiters.select(child.pid), "the waiter's row")
        assert view.check_action("signal", ()) is True

        await choose_sigterm(app, pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: app.screen is view, "back in the view")
        await next_polls(app, pilot)
        assert child.process.poll() is None, "cancelled: it still runs"

        await choose_sigterm(app, pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: child.process.poll() is not None, "the child ended")
        assert child.process.returncode == -signal.SIGTERM
        await wait_for(pilot, lambda: waiter_row(view, child.pid) is None, "its row goes")

    run_app(tmp_path, scenario)


def test_readonly_greys_out_the_signal_and_sends_nothing(
    tmp_path: Path, make_sem: MakeSem, kids: Blockers
) -> None:
    semid = make_sem(1)
    child = blocked(kids, "shmtop-spared", semid, [[0, -1, 0]])

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await open_object(app, pilot, "2", semid)
        view = set_view(app)
        await wait_for(pilot, lambda: view.waiters.select(child.pid), "the waiter's row")
        assert view.check_action("signal", ()) is None  # greyed out
        await pilot.press("k", "1", "5", "enter", "y", "f9", "enter", "y")
        await next_polls(app, pilot)
        assert app.screen is view, "no dialog opened"
        assert child.process.poll() is None
        assert waiter_row(view, child.pid) is not None

    run_app(tmp_path, scenario, readonly=True)


def test_a_signal_is_not_sent_when_the_pid_now_runs_another_command(kids: Blockers) -> None:
    child = kids.start("shmtop-other")

    refused = send_signal(child.pid, signal.SIGTERM, command="shmtop-victim")

    assert (refused.outcome, refused.detail) == (SignalOutcome.REPLACED, "it now runs shmtop-other")
    assert child.process.poll() is None
    assert send_signal(child.pid, 0, command="shmtop-other").outcome is SignalOutcome.SENT
    child.stop()
    assert send_signal(child.pid, signal.SIGTERM).outcome is SignalOutcome.GONE
