"""The interactive view against real kernel objects and real processes (Pilot tests)."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import stat
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import helpers
import pytest
from helpers import MakeShm, Spawn
from textual.pilot import Pilot
from textual.widgets import Input
from tui_pilot import next_polls, run_app, untrusted_text_shown, wait_armed, wait_for

from shmtop.core.model import Kind
from shmtop.tui.app import ShmtopApp
from shmtop.tui.crash import EXIT_CRASH, write_report
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.main import MainScreen
from shmtop.tui.widgets.ipc_table import IpcTable
from shmtop.tui.widgets.meters import bar_cells


async def next_poll(app: ShmtopApp, pilot: Pilot[None]) -> None:
    """Wait for a snapshot taken after this moment."""
    await next_polls(app, pilot, 2)


def segment_table(app: ShmtopApp) -> IpcTable:
    return app.main_screen.query_one("#table-shm", IpcTable)


def segment_alive(shmid: int) -> bool:
    return shmid in helpers.live_rows("shm")


def test_a_new_segment_appears_with_its_attached_child(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        shmid = make_shm()
        child = spawn(name="tui-kid", attach=[(shmid, True)])
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        await wait_for(
            pilot,
            lambda: child.pid in getattr(table.objects[shmid], "attached_pids", ()),
            "its attacher is listed",
        )
        assert f"{child.pid} (tui-kid)" in table.row_text(shmid)

    run_app(tmp_path, scenario)


def test_remove_asks_first_then_the_kernel_has_no_segment(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        assert table.move_to(shmid)
        await pilot.press("d")
        await wait_armed(app, pilot, ConfirmScreen)
        assert segment_alive(shmid), "nothing may go before the answer"
        await pilot.press("y")
        await wait_for(pilot, lambda: not segment_alive(shmid), "the kernel removed it")
        await wait_for(pilot, lambda: shmid not in table.objects, "the row went")

    run_app(tmp_path, scenario)


def test_cancel_leaves_the_segment(tmp_path: Path, make_shm: MakeShm) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        table.move_to(shmid)
        await pilot.press("delete")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen), "back on the main")
        await next_poll(app, pilot)
        assert segment_alive(shmid)
        assert shmid in table.objects

    run_app(tmp_path, scenario)


def test_tagged_rows_are_removed_together(tmp_path: Path, make_shm: MakeShm) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        ids = [make_shm() for _ in range(3)]
        keep = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: all(i in table.objects for i in [*ids, keep]), "listed")
        for shmid in ids:
            table.move_to(shmid)
            await pilot.press("space")
        assert table.tagged == set(ids)
        await pilot.press("f9")
        await wait_armed(app, pilot, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: not any(segment_alive(i) for i in ids), "all removed")
        assert segment_alive(keep)

    run_app(tmp_path, scenario)


def test_readonly_removes_nothing(tmp_path: Path, make_shm: MakeShm) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        table.move_to(shmid)
        assert app.main_screen.check_action("remove", ()) is None  # greyed out
        for key in ("d", "delete", "f9", "y"):
            await pilot.press(key)
        await next_poll(app, pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert segment_alive(shmid)

    run_app(tmp_path, scenario, readonly=True)


def test_readonly_segment_view_saves_no_file(tmp_path: Path, make_shm: MakeShm) -> None:
    """A browser session of `shmtop serve` is read-only: `s` (save to a file) is refused."""
    from shmtop.tui.screens.segment_view import SegmentViewScreen

    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: shmid in table.objects, "the segment is listed")
        table.move_to(shmid)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, SegmentViewScreen), "the view")
        view = app.screen
        assert isinstance(view, SegmentViewScreen)
        assert view.check_action("save", ()) is None  # greyed out
        assert view.why_not("save") == "read-only (--readonly): no file is saved"
        await pilot.press("s")
        await pilot.pause()
        assert not view.query_one("#prompt", Input).display
        view.action_save()  # run by name (the command palette): refused too
        assert not view.query_one("#prompt", Input).display

    run_app(tmp_path, scenario, readonly=True)


def test_sort_search_and_filter_keep_the_cursor_on_the_same_object(
    tmp_path: Path, make_shm: MakeShm
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        small, chosen, large = make_shm(4096), make_shm(8192), make_shm(3 * 4096)
        table = segment_table(app)
        await wait_for(pilot, lambda: large in table.objects, "listed")
        assert table.move_to(chosen)
        table.set_sort("size", reverse=True)
        await pilot.pause()
        assert table.selected_id == chosen
        await pilot.press("i")  # invert
        assert table.selected_id == chosen
        rows = table.ordered_ids
        assert rows.index(small) < rows.index(chosen) < rows.index(large)
        await next_poll(app, pilot)
        assert table.selected_id == chosen, "a refresh keeps the cursor"
        # A filter that keeps the chosen one keeps the cursor on it.
        await pilot.press("backslash")
        query = app.main_screen.query_one("#query", Input)
        query.value = "!orphan"
        await pilot.pause()
        await pilot.press("enter")
        assert table.filter.active
        assert table.selected_id == chosen
        # Search moves the cursor to what it finds, and it stays through refreshes.
        table.move_to(small)
        await pilot.press("slash")
        query.value = f"id:{large}"
        await pilot.pause()
        await pilot.press("enter")
        assert table.selected_id == large
        await next_poll(app, pilot)
        assert table.selected_id == large

    run_app(tmp_path, scenario)


def test_filter_hides_rows_and_escape_clears_it(tmp_path: Path, make_shm: MakeShm) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        one, other = make_shm(), make_shm()
        table = segment_table(app)
        await wait_for(pilot, lambda: other in table.objects, "listed")
        await pilot.press("backslash")
        app.main_screen.query_one("#query", Input).value = f"id:{one}"
        await pilot.pause()
        assert set(table.objects) == {one}
        await pilot.press("escape")
        await pilot.pause()
        assert not table.filter.active
        assert {one, other} <= set(table.objects)

    run_app(tmp_path, scenario)


def test_a_process_name_with_control_bytes_is_shown_safely(
    tmp_path: Path, make_shm: MakeShm, spawn: Spawn
) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        shmid = make_shm()
        child = spawn(name="ev\x1b[41mil\x07\x9b", attach=[(shmid, True)])
        for text in await untrusted_text_shown(app, pilot, shmid, child.pid):
            assert "␛" in text, "ESC is shown as a visible symbol"

    run_app(tmp_path, scenario)


def test_tabs_switch_by_key(tmp_path: Path) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        for key, kind in (("2", Kind.SEM), ("3", Kind.MSG), ("1", Kind.SHM)):
            await pilot.press(key)
            await pilot.pause()
            assert app.main_screen.kind is kind
            assert app.focused is None, "no focus moves: the footer is not rebuilt"

    run_app(tmp_path, scenario)


def test_refresh_goes_on_at_the_default_interval_and_pauses(tmp_path: Path) -> None:
    async def scenario(app: ShmtopApp, pilot: Pilot[None]) -> None:
        await wait_for(pilot, lambda: app.polls >= 3, "three refreshes at the default 1 s")
        await pilot.press("z")
        paused_at = app.polls
        await pilot.pause(2.5)
        assert app.polls <= paused_at + 1, "at most the refresh under way lands after a pause"
        await pilot.press("z")
        await wait_for(pilot, lambda: app.polls >= paused_at + 2, "refreshes resume")

    run_app(tmp_path, scenario, interval=1.0)


# ---- the meters ----


@pytest.mark.parametrize(
    ("used", "limit", "width", "bar", "cells"),
    [
        (0, 4096, 10, "", 0),
        (3, 4096, 10, "▏", 1),  # 0.07 %: a sliver, never a full block
        (1, 10**18, 10, "▏", 1),
        (2048, 4096, 10, "█████", 5),
        (4090, 4096, 10, "█████████▉", 10),  # nearly full is not full
        (4096, 4096, 10, "██████████", 10),
        (5000, 4096, 10, "██████████", 10),
        (5, 0, 10, "", 0),
    ],
)
def test_a_meter_bar_is_filled_in_eighths_and_tiny_usage_is_a_sliver(
    used: int, limit: int, width: int, bar: str, cells: int
) -> None:
    assert bar_cells(used, limit, width) == (bar, cells)


# ---- a crash: non-zero, one line, the traceback in a file (the real entry point) ----

INJECT = """\
import os

if os.environ.get("SHMTOP_TEST_CRASH"):
    from shmtop.tui.widgets.hex_view import HexView
    from shmtop.tui.widgets.meters import UsageMeter

    def crash(self, *args):
        raise RuntimeError("injected crash for the test")

    HexView.render_line = crash
    UsageMeter.render = crash
"""


def run_in_terminal(
    argv: list[str], env: dict[str, str], *, keys: bytes = b"", size: tuple[int, int] = (80, 24)
) -> tuple[int, str]:
    """Run a command on a new pseudo-terminal (Textual draws on it, and writes its errors
    there too); type keys once it has drawn; return its exit status and all it wrote."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + helpers.PATIENCE
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's last writer is gone
                    break
                if not chunk:
                    break
                output += chunk
                if keys and b"Segments" in output:
                    os.write(master, keys)
                    keys = b""
            elif process.poll() is not None:
                break
        status = process.wait(timeout=helpers.PATIENCE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    return status, output.decode("utf-8", "replace")


def shmtop_command() -> str:
    return str(Path(sys.executable).with_name("shmtop"))


@pytest.mark.parametrize("command", [["--tab", "shm"], ["view", "SHMID"]], ids=["main", "view"])
def test_a_crash_of_the_tui_exits_non_zero_and_says_where_the_traceback_is(
    tmp_path: Path, make_shm: MakeShm, command: list[str]
) -> None:
    shmid = make_shm()
    (tmp_path / "inject").mkdir()
    (tmp_path / "inject" / "sitecustomize.py").write_text(INJECT)  # shmtop itself is unchanged
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "inject"), "SHMTOP_TEST_CRASH": "1",
           "XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm-256color"}  # fmt: skip
    argv = [shmtop_command(), *(str(shmid) if word == "SHMID" else word for word in command)]

    status, output = run_in_terminal(argv, env)

    assert status == EXIT_CRASH != 0
    reports = list((tmp_path / "state" / "shmtop").glob("crash-*.txt"))
    assert len(reports) == 1
    report = reports[0]
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert "RuntimeError: injected crash for the test" in report.read_text()
    said = [line for line in output.splitlines() if "crashed" in line]
    assert len(said) == 1, output[-2000:]
    assert "RuntimeError: injected crash for the test" in said[0]
    assert said[0].rstrip().endswith(f"the full traceback is in {report}")


def test_the_tui_quit_by_its_key_exits_zero_and_writes_no_report(tmp_path: Path) -> None:
    """The other side of the crash test: the status is not non-zero whatever happens."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "TERM": "xterm-256color",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip

    status, output = run_in_terminal([shmtop_command()], env, keys=b"q")

    assert status == 0, output[-2000:]
    assert "crashed" not in output
    assert not (tmp_path / "state" / "shmtop").exists()


def test_a_crash_report_goes_to_the_temp_directory_when_the_state_directory_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "a-file"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    tempfile.tempdir = None  # re-read TMPDIR
    try:
        first, second = write_report("one"), write_report("two")
    finally:
        tempfile.tempdir = None
    assert first.parent == second.parent == tmp_path / "tmp"
    assert first != second, "each crash has a file of its own"
    assert (first.read_text(), second.read_text()) == ("one", "two")
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
