"""The tree view (t) and the removal question of a set, on real objects and real processes.

A child (tests/helpers.py) attaches two segments, another (tests/blocker.py) blocks in
semop on a set, a forked child made a segment as user nobody: the tree lists the first
with its segments, the blocked one under its set, and `u` shows one user. Every wait is
bounded and waits for a condition; everything made is removed, every child killed.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import helpers
import pytest
from blocker import Blockers, blockers
from helpers import MakeSem, MakeShm, Spawn
from textual.widgets import OptionList
from tui_pilot import app_running, show_tab, tables_filled, wait_armed, wait_for

from shmtop.core.binding import native
from shmtop.core.model import Kind
from shmtop.text.usage_tree import TreeRow
from shmtop.tui.app import ShmtopApp
from shmtop.tui.posix_source import PosixSource
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.posix_view import PosixObjectScreen
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.screens.semaphore_view import SemaphoreSetScreen
from shmtop.tui.screens.tree_view import TreeScreen
from shmtop.tui.screens.user_picker import UserPicker
from shmtop.tui.widgets.usage_tree import UsageTreeView

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to make objects as nobody")
TESTS = Path(__file__).resolve().parent.parent


@pytest.fixture
def kids() -> Iterator[Blockers]:
    with blockers() as started:
        yield started


@pytest.fixture
def nobodys_segment() -> Iterator[int]:
    """A segment made by user nobody (a forked child: its uid owns it), removed at the end."""
    nobody = pwd.getpwnam("nobody")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_end)
            os.setgroups([])
            os.setresgid(nobody.pw_gid, nobody.pw_gid, nobody.pw_gid)
            os.setresuid(nobody.pw_uid, nobody.pw_uid, nobody.pw_uid)
            shmid = native.shmget(native.IPC_PRIVATE, 4096, native.IPC_CREAT | 0o600)
            os.write(write_end, str(shmid).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        said = pipe.read()
    os.waitpid(pid, 0)
    shmid = helpers.record("shm", int(said))
    try:
        assert native.shm_stat(shmid).uid == nobody.pw_uid
        yield shmid
    finally:
        helpers.remove("shm", shmid)


def rows(app: ShmtopApp) -> dict[str, TreeRow]:
    """The rows the tree view draws, by key ({} before it shows any)."""
    screen = app.screen
    if not isinstance(screen, TreeScreen):
        return {}
    return {row.key: row for row in screen.query_one(UsageTreeView).visible_rows()}


@pytest.mark.asyncio
async def test_the_tree_lists_a_process_with_its_segments_and_the_waiter_under_its_set(
    tmp_path: Path, make_shm: MakeShm, make_sem: MakeSem, spawn: Spawn, kids: Blockers,
    nobodys_segment: int,
) -> None:  # fmt: skip
    written, read = make_shm(), make_shm()
    semid = make_sem(1)  # value 0: a semop of -1 blocks
    attacher = spawn(name="shmtop-trat", attach=[(written, True), (read, False)])
    waiter = kids.start("shmtop-treewt")
    waiter.send(call="semop", semid=semid, ops=[[0, -1, 0]])
    wait_key = f"oroot/sem{semid}/w{waiter.pid}"

    async with app_running(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: wait_key in rows(app), "the waiter is under its set")

        seen = rows(app)
        process = seen[f"p{attacher.pid}"]
        assert process.label.startswith(f"{attacher.pid} (shmtop-trat)  user root")
        assert [(c.kind, c.ident) for c in process.children] == [
            (Kind.SHM, written), (Kind.SHM, read),
        ]  # fmt: skip
        # Its own shmat was the last on each (lpid).
        assert seen[f"p{attacher.pid}/shm{written}"].label.startswith(
            f"shm {written}: attached rw; last shmat/shmdt (lpid)  · key 0x00000000  4.0K"
        )
        assert seen[f"p{attacher.pid}/shm{read}"].label.startswith(
            f"shm {read}: attached ro; last shmat/shmdt (lpid)  · "
        )
        assert seen[wait_key].label == f"BLOCKED {waiter.pid} (shmtop-treewt): sem 0 -1"
        assert seen[f"p{waiter.pid}/sem{semid}"].label.startswith(f"sem {semid}: WAITING: sem 0 -1")
        assert f"onobody/shm{nobodys_segment}" in seen

        # u: the picker offers all users, the owners and those running the processes.
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UserPicker), "the user picker")
        picker = app.screen.query_one(OptionList)
        ids = [picker.get_option_at_index(n).id for n in range(picker.option_count)]
        assert ids[0] == "\0all" and {"uroot", "unobody"} <= set(ids)
        for _ in range(ids.index("unobody")):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "onobody" in rows(app) and "oroot" not in rows(app),
                       "only nobody's objects")  # fmt: skip
        seen = rows(app)
        assert f"onobody/shm{nobodys_segment}" in seen
        assert not [row for row in seen.values() if row.role == "process"]  # nobody runs none
        assert seen["processes/none"].label == (
            "no process uses an object (user nobody; u picks another)"
        )

        # u again, All users: everything is back.
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UserPicker), "the user picker")
        await pilot.press("home", "enter")
        await wait_for(pilot, lambda: f"p{attacher.pid}" in rows(app), "every user again")
        assert "oroot" in rows(app)

        await pilot.press("t")
        await wait_for(pilot, lambda: not isinstance(app.screen, TreeScreen), "the tables")


@pytest.mark.asyncio
async def test_the_removal_question_of_a_set_names_its_blocked_waiter(
    tmp_path: Path, make_sem: MakeSem, kids: Blockers
) -> None:
    semid = make_sem(1)
    waiter = kids.start("shmtop-rmwait")
    waiter.send(call="semop", semid=semid, ops=[[0, -1, 0]])
    helpers.wait_until(lambda: native.sem_counts(semid, 0)[0] == 1, "the child blocks")

    async with app_running(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        await show_tab(app, pilot, "2", Kind.SEM)
        table = app.main_screen.table
        await wait_for(pilot, lambda: semid in table.objects, "the set is listed")
        assert table.move_to(semid)
        await pilot.press("d")
        question = await wait_armed(app, pilot, ConfirmScreen)
        assert isinstance(question, ConfirmScreen)

        (plan,) = question.plan
        assert f"sem {semid}  key 0x00000000  owner root" in plan
        assert (
            "  1 thread blocked on it; removing the set wakes it (semtimedop fails with EIDRM):"
            in plan.splitlines()
        )
        assert f"    BLOCKED {waiter.pid} (shmtop-rmwait): sem 0 -1" in plan.splitlines()
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "answered")

    assert native.sem_stat(semid).nsems == 1  # not removed: the answer was no


@pytest.mark.asyncio
async def test_the_tree_shows_a_posix_object_under_the_process_that_maps_it(
    tmp_path: Path,
) -> None:
    name = f"shmtop-tree-ui-{os.getpid()}"
    path = f"/dev/shm/{name}"
    with open(path, "wb") as file:
        file.truncate(4096)
    mapper = subprocess.Popen(
        [sys.executable, str(TESTS / "pshm_child.py"), path, "map-rw"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
    )  # fmt: skip
    posix = PosixSource()
    try:
        assert mapper.stdout is not None and mapper.stdout.readline()  # it maps it now
        info = os.stat(path)
        key = f"p{mapper.pid}/pshm{info.st_dev}:{info.st_ino}"
        async with app_running(tmp_path, posix=posix) as (app, pilot):
            await tables_filled(app, pilot)
            await pilot.press("t")
            await wait_for(pilot, lambda: key in rows(app), "the object under its mapper")
            assert rows(app)[key].label.startswith(f"pshm /{name}: mapped rw  · 4.0K")
            # Enter on it: its hex view, as Enter on the pshm tab opens.
            tree = app.screen.query_one(UsageTreeView)
            at = tree.line_of(key)
            assert at is not None
            tree.cursor_line = at
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, PosixObjectScreen), "hex view")
            opened = app.screen
            assert isinstance(opened, PosixObjectScreen) and opened.obj.inode == info.st_ino
    finally:
        mapper.kill()
        mapper.wait()
        posix.close()
        os.unlink(path)


@pytest.mark.asyncio
async def test_enter_opens_an_objects_view_and_space_folds(
    tmp_path: Path, make_shm: MakeShm, make_sem: MakeSem, spawn: Spawn
) -> None:
    shmid = make_shm()
    semid = make_sem(2)
    attacher = spawn(name="shmtop-tropen", attach=[(shmid, True)])
    line = f"p{attacher.pid}/shm{shmid}"

    async with app_running(tmp_path) as (app, pilot):
        await tables_filled(app, pilot)
        await pilot.press("t")
        await wait_for(pilot, lambda: line in rows(app), "the segment under its attacher")
        tree = app.screen.query_one(UsageTreeView)

        # Space on the process folds it, Enter (a process is no object) unfolds it.
        at = tree.line_of(f"p{attacher.pid}")
        assert at is not None
        tree.cursor_line = at
        await pilot.press("space")
        await wait_for(pilot, lambda: line not in rows(app), "Space folded the process")
        await pilot.press("enter")
        await wait_for(pilot, lambda: line in rows(app), "Enter unfolded it")

        # Enter on the segment's line: its content view, as from the Segments tab.
        at = tree.line_of(line)
        assert at is not None
        tree.cursor_line = at
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the hex view")
        hex_view = app.screen
        assert isinstance(hex_view, SegmentViewScreen) and hex_view.shmid == shmid
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen), "back in the tree")

        # Enter on the set's line under its owner: the set view.
        owned = f"oroot/sem{semid}"
        await wait_for(pilot, lambda: owned in rows(app), "the set under its owner")
        at = tree.line_of(owned)
        assert at is not None
        tree.cursor_line = at
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SemaphoreSetScreen), "the set view")
        set_view = app.screen
        assert isinstance(set_view, SemaphoreSetScreen) and set_view.ident == semid
