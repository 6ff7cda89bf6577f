"""The views of another IPC namespace's objects (issue 12 item 5, follow-up): Enter on its
row opens its segment, set or queue view, read inside that namespace (an object is its
namespace and its id: our same-id object is never shown instead), and the main screen's
waiter scan (`w`) covers every shown namespace.

Real objects in real namespaces (unshare --ipc, tests/ns_helpers.py); the feeds count only
the namespaces of this process and of the children made here.
"""

from __future__ import annotations

import ctypes
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blocker import blockers
from helpers import MakeMsg, MakeSem, MakeShm, Spawn
from ns_helpers import foreign_namespace
from textual.widgets import Static
from tui_pilot import app_running, next_polls, wait_for

from shmtop.core.binding import native
from shmtop.core.binding._native import ffi, lib
from shmtop.core.namespaces.discover import census, find
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.text.namespace_rows import row_key
from shmtop.tui.namespace_feed import NamespaceFeed
from shmtop.tui.screens.queue_view import QueueScreen
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.screens.semaphore_view import SemaphoreSetScreen
from shmtop.tui.widgets.alert_banner import AlertBanner
from shmtop.tui.widgets.ipc_table import IpcTable
from shmtop.tui.widgets.meters import UsageMeter

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("unshare") is None,
        reason="needs root and unshare(1) to make and join IPC namespaces",
    ),
]
HOST = "shmtop-ns-views"
LOW_ADDRESS = 0x2_0000_0000  # below every mapping of this process (8 GiB, page aligned)
THEIRS, OURS = b"bytes of the other namespace", b"OUR NAMESPACE'S SEGMENT"


@pytest.fixture
def box() -> Iterator[dict[str, Any]]:
    """A namespace with a hostname of its own and two segments, a set and a queue."""
    with foreign_namespace(HOST, objects=2) as made:
        yield made


def feed(made: dict[str, Any]) -> NamespaceFeed:
    pids = [os.getpid(), made["pid"]]
    return NamespaceFeed(every=True, pids=lambda: pids)


def next_id(kind: str, ident: int) -> None:
    """The caller's namespace's next object of a kind gets this id (a same-id twin)."""
    with open(f"/proc/sys/kernel/{kind}_next_id", "w", encoding="ascii") as knob:
        knob.write(str(ident))


def write_at(address: Any, data: bytes) -> None:
    ctypes.memmove(int(ffi.cast("uintptr_t", address)), data, len(data))


def write_inside(made: dict[str, Any], shmid: int, data: bytes) -> None:
    """Write data at the start of a segment of the namespace, attached inside it."""

    def write() -> None:
        address = native.shmat(shmid, 0)
        try:
            write_at(address, data)
        finally:
            native.shmdt(address)

    thread = JoinedThread(made["pid"], made["inode"])
    try:
        thread.run(write)
    finally:
        thread.close()


def text(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def open_row(app: Any, pilot: Any, table_id: str, key: int) -> None:
    table = app.main_screen.query_one(table_id, IpcTable)
    await wait_for(pilot, lambda: key in table.objects, "the other namespace's row")
    assert table.move_to(key)
    await pilot.press("enter")


async def test_enter_on_another_namespaces_segment_shows_its_bytes_not_ours_of_that_id(
    tmp_path: Path, box: dict[str, Any], make_shm: MakeShm
) -> None:
    target = box["shm"][1]
    next_id("shm", target)
    ours = make_shm()
    assert ours == target
    write_inside(box, target, THEIRS)
    # Ours stays mapped here, low (first in our maps, before the view's attachment of
    # theirs): a reader that found its file by the id alone would read ours.
    address = lib.shmat(ours, ffi.cast("void *", LOW_ADDRESS), 0)
    assert int(ffi.cast("uintptr_t", address)) == LOW_ADDRESS
    try:
        write_at(address, OURS)
        async with app_running(tmp_path, namespaces=feed(box)) as (app, pilot):
            await pilot.press("1")
            await open_row(app, pilot, "#table-shm", row_key(box["inode"], target, current=False))
            await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the view")
            view = app.screen
            assert isinstance(view, SegmentViewScreen) and view.reader is not None
            assert view.reader.read(0, len(THEIRS)) == THEIRS
            assert view.hex_view.peek(0, len(THEIRS)) == THEIRS  # what its rows draw
            label = f"in IPC namespace {HOST} (ipc:[{box['inode']}])"

            def header() -> bool:
                summary = text(view, "#summary")
                return label in summary and "nattch 1" in summary

            await wait_for(pilot, header, "its header: the namespace, nattch")
            await pilot.press("p")  # no process of theirs maps this one: said, not ours read
            refused = "no other process has it attached"
            await wait_for(pilot, lambda: refused in text(view, "#status"), "why not")
            assert view.reader.read(0, len(THEIRS)) == THEIRS
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, SegmentViewScreen), "back")
        assert native.shm_stat(ours).nattch == 1  # ours: only this test's attachment
        assert bytes(ffi.buffer(address, len(OURS))) == OURS
    finally:
        native.shmdt(address)


async def test_p_reads_another_namespaces_segment_through_its_mapper_not_ours_of_that_id(
    tmp_path: Path, box: dict[str, Any], make_shm: MakeShm, spawn: Spawn
) -> None:
    """Their child maps their segment shm[0]; a child of ours maps our segment of the same id
    (its maps line has the same inode): p must go through theirs, never ours."""
    target = box["shm"][0]
    next_id("shm", target)
    ours = make_shm()
    assert ours == target
    write_inside(box, target, THEIRS)
    address = native.shmat(ours, 0)
    try:
        write_at(address, OURS)
    finally:
        native.shmdt(address)
    twin = spawn(name="ns-twin", attach=[(ours, False)])
    async with app_running(tmp_path, namespaces=feed(box)) as (app, pilot):
        await pilot.press("1")
        await open_row(app, pilot, "#table-shm", row_key(box["inode"], target, current=False))
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the view")
        view = app.screen
        assert isinstance(view, SegmentViewScreen) and view.reader is not None
        assert view.why_not("switch_path") is None
        await pilot.press("p")
        await wait_for(pilot, lambda: text(view, "#read-path").startswith(
            f"read through pid {box['pid']}"), "read through their mapper")  # fmt: skip
        assert view.reader.read(0, len(THEIRS)) == THEIRS
        assert view.hex_view.peek(0, len(THEIRS)) == THEIRS
        await pilot.press("p")  # and back: attached again, inside their namespace
        await wait_for(pilot, lambda: not text(view, "#read-path").startswith(
            "read through"), "attached again")  # fmt: skip
        assert view.reader.read(0, len(THEIRS)) == THEIRS
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SegmentViewScreen), "back")
    assert twin.pid != box["pid"]
    assert native.shm_stat(ours).nattch == 1  # ours: only the twin's attachment


async def test_the_set_view_of_another_namespace_lists_its_waiter(
    tmp_path: Path, box: dict[str, Any]
) -> None:
    with blockers() as kids:
        waiter = kids.start(within=("nsenter", "-t", str(box["pid"]), "--ipc", "--"))
        waiter.send(call="semop", semid=box["sem"], ops=[[0, -1, 0]])
        async with app_running(tmp_path, namespaces=feed(box)) as (app, pilot):
            await pilot.press("2")
            key = row_key(box["inode"], box["sem"], current=False)
            await open_row(app, pilot, "#table-sem", key)
            await wait_for(pilot, lambda: isinstance(app.screen, SemaphoreSetScreen), "the view")
            view = app.screen
            assert isinstance(view, SemaphoreSetScreen) and view.namespace == box["inode"]

            def listed() -> bool:
                return any(w.pid == waiter.pid for w in view.waiters.waiters.values())

            await wait_for(pilot, listed, "its waiter, scanned inside the namespace")
            assert f"in IPC namespace {HOST}" in text(view, "#facts")
            assert view.sem_set is not None and view.sem_set.id == box["sem"]
            await pilot.press("escape")
        waiter.process.kill()


async def test_the_set_view_of_another_namespace_follows_that_set_not_ours_of_its_id(
    tmp_path: Path, box: dict[str, Any], make_sem: MakeSem
) -> None:
    next_id("sem", box["sem"])
    ours = make_sem(3)
    assert ours == box["sem"]
    async with app_running(tmp_path, namespaces=feed(box)) as (app, pilot):
        await pilot.press("2")
        await open_row(app, pilot, "#table-sem", row_key(box["inode"], box["sem"], current=False))
        await wait_for(pilot, lambda: isinstance(app.screen, SemaphoreSetScreen), "the view")
        view = app.screen
        assert isinstance(view, SemaphoreSetScreen)
        await wait_for(pilot, lambda: view.sem_set is not None, "its set")
        assert view.sem_set is not None and view.sem_set.nsems == 2  # theirs: ours has 3
        native.sem_rmid(ours)  # ours goes: theirs is still there, so is the view
        await next_polls(app, pilot, 3)
        assert not view.gone and view.sem_set.nsems == 2
        thread = JoinedThread(box["pid"], box["inode"])
        try:
            thread.run(native.sem_rmid, box["sem"])  # theirs goes, inside its namespace
        finally:
            thread.close()
        await wait_for(pilot, lambda: view.gone, "the view says it is gone")
        assert "no longer exists" in text(view, "#summary")


async def test_the_queue_view_of_another_namespace_shows_its_messages(
    tmp_path: Path, box: dict[str, Any], make_msg: MakeMsg
) -> None:
    next_id("msg", box["msg"])
    ours = make_msg()
    assert ours == box["msg"]
    native.msgsnd(ours, 1, b"ours, not to be shown")
    thread = JoinedThread(box["pid"], box["inode"])
    try:
        thread.run(native.msgsnd, box["msg"], 7, b"a message of the other namespace")
    finally:
        thread.close()
    async with app_running(tmp_path, namespaces=feed(box)) as (app, pilot):
        await pilot.press("3")
        await open_row(app, pilot, "#table-msg", row_key(box["inode"], box["msg"], current=False))
        await wait_for(pilot, lambda: isinstance(app.screen, QueueScreen), "the view")
        view = app.screen
        assert isinstance(view, QueueScreen)
        await wait_for(pilot, lambda: "other namespace" in view.messages_text, "its message")
        assert "ours, not" not in view.messages_text
        assert f"in IPC namespace {HOST}" in text(view, "#facts")


async def test_w_counts_a_receiver_blocked_in_another_namespace(
    tmp_path: Path, box: dict[str, Any]
) -> None:
    with blockers() as kids:
        waiter = kids.start(within=("nsenter", "-t", str(box["pid"]), "--ipc", "--"))
        waiter.send(call="msgrcv", msqid=box["msg"], size=64, type=0)
        async with app_running(tmp_path, namespaces=feed(box)) as (app, pilot):
            await pilot.press("3")
            table = app.main_screen.query_one("#table-msg", IpcTable)
            key = row_key(box["inode"], box["msg"], current=False)
            await wait_for(pilot, lambda: key in table.objects, "the other namespace's queue")
            await pilot.press("w")
            await wait_for(pilot, lambda: table.counts is not None and table.counts.get(key)
                           == (0, 1), "its blocked receiver counted")  # fmt: skip
            assert box["inode"] in table.scanned_namespaces
            status = str(app.main_screen.query_one("#status", Static).content)
            await wait_for(pilot, lambda: "+1 in 1 other IPC namespace" in str(
                app.main_screen.query_one("#status", Static).content), status)  # fmt: skip
        waiter.process.kill()


async def test_w_with_namespace_NS_scans_that_namespace_not_the_callers(
    tmp_path: Path, box: dict[str, Any], make_msg: MakeMsg
) -> None:
    ours = make_msg()  # a receiver blocked on ours: never counted while NS alone is shown
    pids = [os.getpid(), box["pid"]]
    start = find(census(pids).namespaces, HOST)
    assert start is not None
    with blockers() as kids:
        mine = kids.start("shmtop-ours")
        mine.send(call="msgrcv", msqid=ours, size=64, type=0)
        theirs = kids.start(within=("nsenter", "-t", str(box["pid"]), "--ipc", "--"))
        theirs.send(call="msgrcv", msqid=box["msg"], size=64, type=0)
        shown = NamespaceFeed(start=start, pids=lambda: pids)
        async with app_running(tmp_path, namespaces=shown) as (app, pilot):
            await pilot.press("3")
            table = app.main_screen.query_one("#table-msg", IpcTable)
            key = row_key(box["inode"], box["msg"], current=False)
            await wait_for(pilot, lambda: key in table.objects, "that namespace's queue")
            await pilot.press("w")
            await wait_for(pilot, lambda: table.counts is not None and table.counts.get(key)
                           == (0, 1), "its blocked receiver counted")  # fmt: skip
            await wait_for(pilot, lambda: "WAITERS 1" in text(app.main_screen, "#status"),
                           "that namespace's waiter alone")  # fmt: skip
            probes = app.main_screen._probes
            assert probes.waits is None and box["inode"] in probes.foreign_waits  # ours: unscanned
        mine.process.kill()
        theirs.process.kill()


async def test_w_marks_a_deadlock_in_another_namespace_on_its_set_only(
    tmp_path: Path, box: dict[str, Any], make_sem: MakeSem
) -> None:
    next_id("sem", box["sem"])
    ours = make_sem(2)
    assert ours == box["sem"]  # the caller's set of that id: never marked for theirs
    semid = box["sem"]
    thread = JoinedThread(box["pid"], box["inode"])
    try:
        thread.run(native.semop, semid, [(0, 1, 0), (1, 1, 0)])  # both free, inside it
    finally:
        thread.close()
    inside = ("nsenter", "-t", str(box["pid"]), "--ipc", "--")
    with blockers() as kids:
        first, second = (
            kids.start("shmtop-first", within=inside),
            kids.start("shmtop-second", within=inside),
        )
        undo = native.SEM_UNDO
        assert first.call(call="semop", semid=semid, ops=[[0, -1, undo]]) == {"ok": True}
        assert second.call(call="semop", semid=semid, ops=[[1, -1, undo]]) == {"ok": True}
        first.send(call="semop", semid=semid, ops=[[1, -1, undo]])
        second.send(call="semop", semid=semid, ops=[[0, -1, undo]])
        async with app_running(tmp_path, namespaces=feed(box)) as (app, pilot):
            await pilot.press("2")
            table = app.main_screen.query_one("#table-sem", IpcTable)
            key = row_key(box["inode"], semid, current=False)
            await wait_for(pilot, lambda: key in table.objects, "the other namespace's set")
            await pilot.press("w")
            await wait_for(pilot, lambda: key in table.marked, "its deadlock marked")
            assert ours not in table.marked
            banner = app.main_screen.query_one(AlertBanner)  # it covers what is shown
            named = f"(IPC namespace {HOST} (ipc:["

            def said() -> bool:
                return any(line.startswith("DEADLOCK") and named in line for line in banner.lines)

            await wait_for(pilot, said, "its banner line")
        first.process.kill()
        second.process.kill()


async def test_namespace_NS_meters_show_that_namespaces_limits_and_usage(
    tmp_path: Path, box: dict[str, Any]
) -> None:
    pids = [os.getpid(), box["pid"]]
    start = find(census(pids).namespaces, HOST)
    assert start is not None
    with open("/proc/sys/kernel/msgmni", encoding="ascii") as knob:
        ours = int(knob.read())
    theirs = ours - 7  # IPC sysctls are per namespace: set there, in a joined thread

    def set_there() -> None:
        with open("/proc/sys/kernel/msgmni", "w", encoding="ascii") as knob:
            knob.write(str(theirs))

    thread = JoinedThread(box["pid"], box["inode"])
    try:
        thread.run(set_there)
    finally:
        thread.close()
    shown = NamespaceFeed(start=start, pids=lambda: pids)
    async with app_running(tmp_path, namespaces=shown) as (app, pilot):
        meter = app.main_screen.query_one("#meter-queues", UsageMeter)
        segments = app.main_screen.query_one("#meter-segments", UsageMeter)
        await wait_for(pilot, lambda: meter.limit == theirs, "that namespace's msgmni")
        assert meter.used == 1 and segments.used == len(box["shm"])  # its objects
    with open("/proc/sys/kernel/msgmni", encoding="ascii") as knob:
        assert int(knob.read()) == ours  # ours untouched


async def test_a_segment_view_whose_namespace_cannot_be_joined_says_so(tmp_path: Path) -> None:
    place = JoinedThread(0, 1)  # no process 0: the join fails, as for a namespace that ended
    async with app_running(tmp_path) as (app, pilot):
        await app.push_screen(SegmentViewScreen(0, place=place, namespace=1, where="gone-box"))
        view = app.screen
        assert isinstance(view, SegmentViewScreen) and view.reader is None
        assert view.error is not None and view.error.startswith("shm 0: IPC namespace gone-box")
        await wait_for(pilot, lambda: "gone-box" in text(view, "#status"), "the error shown")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SegmentViewScreen), "back")
