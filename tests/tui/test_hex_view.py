"""The segment view headless (Pilot) on real segments: rows, safety, keys, live, side effects."""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import helpers
import pytest
import segment_writer
from helpers import MakeShm, Spawn
from rich.text import Text
from textual.content import Content
from textual.pilot import Pilot
from textual.widgets import Input, Static

from shmtop.cli import commands as cli
from shmtop.core.binding import native
from shmtop.text import errors
from shmtop.text.sanitize import safe_bytes
from shmtop.tui.screens.segment_view import SegmentViewScreen
from shmtop.tui.viewer_app import ViewerApp
from shmtop.tui.widgets.change_strip import ChangeStrip
from shmtop.tui.widgets.data_inspector import DataInspector
from shmtop.tui.widgets.hex_view import HexView

SIZE = 0x8000
NOBODY = 65534
ESCAPES = b"\x1b]2;pwned\x1b\\\x1b[41mRED\x1b[2J\x9b31m\x07\x08\r\n\x7f"
PIECES = [(0, b"hello, segment\0"), (0x1234, bytes(range(256))), (0x2000, ESCAPES),
          (0x7FF8, b"LASTWORD")]  # fmt: skip
CONTROLS = {chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]}


@contextlib.asynccontextmanager
async def viewing(
    shmid: int, *, no_attach: bool = False
) -> AsyncIterator[tuple[ViewerApp, Pilot[None]]]:
    """The viewer app on a real segment, headless; polls only when the test says (poll_interval)."""
    app = ViewerApp(shmid, no_attach=no_attach, poll_interval=3600, sweep=False)
    # 140 columns: the inspector shows, and the rows fit 16 bytes next to it
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        yield app, pilot


def screen(app: ViewerApp) -> SegmentViewScreen:
    assert isinstance(app.screen, SegmentViewScreen)
    return app.screen


def view(app: ViewerApp) -> HexView:
    return app.screen.query_one(HexView)


def plain(rendered: object) -> str:
    return rendered.plain if isinstance(rendered, Text | Content) else str(rendered)


def shown(app: ViewerApp, widget_id: str) -> str:
    return plain(app.screen.query_one(widget_id, Static).render())


def lines(app: ViewerApp) -> list[str]:
    hex_view = view(app)
    return [hex_view.render_line(y).text for y in range(hex_view.size.height)]


def row_text(offset: int, data: bytes) -> str:
    """What the view shows for 16 bytes at offset: offset | hex in two groups | text."""
    hex_part = "  ".join(" ".join(f"{b:02x}" for b in data[i : i + 8]) for i in (0, 8))
    return f"{offset:04x} │ {hex_part} │ {safe_bytes(data)}"


async def settle(app: ViewerApp, pilot: Pilot[None]) -> None:
    """Let scans started by a key finish, then the UI catch up."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def written(make_shm: MakeShm) -> int:
    shmid = make_shm(SIZE)
    segment_writer.write(shmid, PIECES)
    return shmid


# ---- what is shown ----


@pytest.mark.asyncio
async def test_rows_shown_equal_the_bytes_another_process_wrote(make_shm: MakeShm) -> None:
    shmid = written(make_shm)
    content = segment_writer.expected(SIZE, PIECES)

    async with viewing(shmid) as (app, pilot):
        assert view(app).digits == 4  # 0x7fff needs four hex digits
        shown_rows = [line.rstrip() for line in lines(app)]
        assert shown_rows[0] == row_text(0, content[:16])
        await pilot.press("g", *"0x1230", "enter")
        await pilot.pause()
        top = int(view(app).scroll_offset.y) * 16
        for y, line in enumerate(lines(app)[:20]):
            offset = top + 16 * y
            assert line.rstrip() == row_text(offset, content[offset : offset + 16])


@pytest.mark.asyncio
async def test_no_control_character_ever_reaches_the_screen(make_shm: MakeShm) -> None:
    shmid = written(make_shm)

    async with viewing(shmid) as (app, pilot):
        for target in ("0x1234", "0x2000", "0x2004"):
            await pilot.press("g", *target, "enter")
            await pilot.pause()
            inspector = plain(app.screen.query_one(DataInspector).render())
            texts = [*lines(app), *inspector.split("\n")]
            assert not [t for t in texts if CONTROLS & set(t)], texts
            if target != "0x1234":
                assert ".]2;pwned.\\.[41m" in "".join(lines(app))  # there, made harmless
            screenshot = app.export_screenshot()
            assert not CONTROLS - {"\n"} & set(screenshot)
            assert "&#27;" not in screenshot and "&#x1b;" not in screenshot.lower()
        assert app.screen.query_one(DataInspector).data_shown.startswith(b"pwned\x1b\\\x1b[41m")


@pytest.mark.asyncio
async def test_offsets_grow_with_the_segment_size(make_shm: MakeShm) -> None:
    shmid = make_shm(0x123456)

    async with viewing(shmid) as (app, pilot):
        await pilot.press("end")
        await pilot.pause()
        assert view(app).cursor == 0x123455
        assert any(line.startswith("123450 │ ") for line in lines(app))


# ---- keys ----


@pytest.mark.asyncio
async def test_goto_search_regions_and_inspector(make_shm: MakeShm) -> None:
    shmid = written(make_shm)

    async with viewing(shmid) as (app, pilot):
        hex_view, inspector = view(app), app.screen.query_one(DataInspector)
        await pilot.press("g", *"0x7ff8", "enter")
        await pilot.pause()
        assert hex_view.cursor == 0x7FF8
        assert inspector.data_shown == b"LASTWORD"
        described = inspector.describe(0x7FF8, b"LASTWORD").plain
        assert str(struct.unpack("<Q", b"LASTWORD")[0]) in described
        assert str(struct.unpack(">q", b"LASTWORD")[0]) in described
        await pilot.press("g", *"-0x10", "enter")
        await pilot.pause()
        assert hex_view.cursor == 0x7FE8
        await pilot.press("home", "slash", *"x:10 11 12", "enter")
        await settle(app, pilot)
        assert hex_view.cursor == 0x1244
        await pilot.press("slash", *"LASTWORD", "enter")
        await settle(app, pilot)
        assert hex_view.cursor == 0x7FF8
        await pilot.press("n")  # the only one: round the end, back to it
        await settle(app, pilot)
        assert hex_view.cursor == 0x7FF8
        assert "search wrapped to the top" in shown(app, "#status")
        await pilot.press("slash", *"NOWHERE", "enter")
        await settle(app, pilot)
        assert hex_view.cursor == 0x7FF8
        assert "'NOWHERE' not found in the segment" in shown(app, "#status")
        assert not hex_view.match
        await pilot.press("b", *"hello", "enter")
        await settle(app, pilot)
        assert hex_view.cursor == 0
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert hex_view.cursor == 0x1235  # past "hello, segment"; range(256) starts with 0
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert hex_view.cursor == 0x2000
        await pilot.press("left_square_bracket")
        await settle(app, pilot)
        assert hex_view.cursor == 0x1235
        await pilot.press("pagedown")
        assert hex_view.cursor == 0x1235 + 16 * hex_view.scrollable_content_region.height
        await pilot.press("home", "right", "down")
        assert hex_view.cursor == 17
        await pilot.press("w", "w")  # auto-fit (16 here) -> 16 -> 32 bytes a row
        await pilot.pause()
        assert hex_view.row_bytes == 32 and hex_view.cursor == 17
        assert not screen(app).query_one(DataInspector).display  # it made room for them


def match_marked(hex_view: HexView, offset: int) -> str:
    """The text of offset's row drawn in the search's match style (the row on screen)."""
    y = offset // hex_view.row_bytes - int(hex_view.scroll_offset.y)
    match = hex_view.get_component_rich_style("hex-view--match").bgcolor
    strip = hex_view.render_line(y)
    return "".join(s.text for s in strip if s.style and s.style.bgcolor == match)


@pytest.mark.asyncio
async def test_search_next_previous_wrap_and_the_whole_match_marked(make_shm: MakeShm) -> None:
    shmid = make_shm(SIZE)
    at = (0x104, 0x3004, 0x7004)
    segment_writer.write(shmid, [(offset, b"NEEDLE") for offset in at])

    async with viewing(shmid) as (app, pilot):
        hex_view = view(app)
        await pilot.press("slash", *"NEEDLE", "enter")
        await settle(app, pilot)
        assert hex_view.cursor == at[0] and hex_view.match == range(at[0], at[0] + 6)
        # The whole match, in hex and text; the cursor marks its first byte.
        assert match_marked(hex_view, at[0]) == " 45 45 44  4c 45" + "EEDLE"  # 0x108 starts a group
        assert "search 'NEEDLE' (n next, N previous)" in shown(app, "#status")
        for key, expected, note in [("n", at[1], ""), ("f3", at[2], ""),
                                    ("n", at[0], "search wrapped to the top"),
                                    ("N", at[2], "search wrapped to the bottom"),
                                    ("N", at[1], "")]:  # fmt: skip
            await pilot.press(key)
            await settle(app, pilot)
            assert hex_view.cursor == expected, key
            assert hex_view.match == range(expected, expected + 6)
            status = shown(app, "#status")
            assert (note in status) if note else "wrapped" not in status, (key, status)
        assert match_marked(hex_view, at[1]) == " 45 45 44  4c 45" + "EEDLE"  # 0x108 starts a group


@pytest.mark.asyncio
async def test_export_a_range_raw_and_as_hex(make_shm: MakeShm, tmp_path: Path) -> None:
    shmid = written(make_shm)
    raw, dump = tmp_path / "range.bin", tmp_path / "all.txt"

    async with viewing(shmid) as (app, pilot):
        for answer in (f"{raw} 0x1234 +256", f"{dump} all hex"):
            await pilot.press("s")
            assert app.screen.query_one("#prompt", Input).value == f"shm-{shmid}.bin"
            app.screen.query_one("#prompt", Input).value = answer
            await pilot.press("enter")
            await settle(app, pilot)
        assert f"saved 0x0-0x8000 (32.0K) to {dump} as hex dump" == shown(app, "#status")

    assert raw.read_bytes() == bytes(range(256))
    text = dump.read_text()
    assert text.startswith("00000000  68 65 6c 6c 6f 2c 20 73  65 67 6d 65 6e 74 00 00  |hello, s")
    assert "00007ff0  00 00 00 00 00 00 00 00  4c 41 53 54 57 4f 52 44  |........LASTWORD|" in text
    assert not CONTROLS - {"\n"} & set(text)


# ---- live ----


@pytest.mark.asyncio
async def test_changed_bytes_are_highlighted_fade_and_freeze_holds(make_shm: MakeShm) -> None:
    shmid = written(make_shm)
    now = [1000.0]

    async with viewing(shmid) as (app, pilot):
        hex_view = view(app)
        hex_view.clock = lambda: now[0]
        segment_writer.write(shmid, [(0x21, b"!")])
        screen(app).poll()
        assert hex_view.highlighted() == {0x21: 3}
        assert lines(app)[2].startswith("0020 │ 00 21 00")
        await pilot.pause()  # the change map hears of it by message
        strip = app.screen.query_one(ChangeStrip)
        assert strip.cells(64)[0] == 3  # the first part of the segment just changed
        now[0] += 1.0
        assert hex_view.highlighted() == {0x21: 2}
        now[0] += 10.0
        screen(app).poll()
        assert hex_view.highlighted() == {}
        await pilot.press("z")
        assert "FROZEN" in shown(app, "#summary")
        segment_writer.write(shmid, [(0x22, b"?")])
        screen(app).poll()
        assert lines(app)[2].startswith("0020 │ 00 21 00")  # frozen: still the old bytes
        await pilot.press("z")
        screen(app).poll()
        assert lines(app)[2].startswith("0020 │ 00 21 3f")
        assert hex_view.highlighted() == {0x22: 3}


# ---- what viewing changes ----


@pytest.mark.asyncio
async def test_attached_view_says_so_labels_itself_and_restores_nattch(make_shm: MakeShm) -> None:
    shmid = written(make_shm)
    before = native.shm_stat(shmid).nattch

    async with viewing(shmid) as (app, pilot):
        await settle(app, pilot)
        assert native.shm_stat(shmid).nattch == before + 1
        path = shown(app, "#read-path")
        assert path.startswith("attached read-only: nattch +1")
        assert f"{os.getpid()} (" in path and ", this viewer)" in path
        screen(app).poll()
        assert f"nattch {before + 1}" in shown(app, "#summary")

    assert native.shm_stat(shmid).nattch == before


@pytest.mark.asyncio
async def test_view_through_an_attacher_leaves_counters_and_bytes_alone(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = written(make_shm)
    holder = spawn(name="holder", attach=[(shmid, False)])
    stat = native.shm_stat(shmid)
    before = (stat.nattch, stat.lpid, stat.atime, stat.dtime, helpers.live_rows("shm")[shmid])

    async with viewing(shmid, no_attach=True) as (app, pilot):
        assert shown(app, "#read-path").startswith(
            f"read through pid {holder.pid}, counters untouched"
        )
        await pilot.press("pagedown", "end", "slash", *"nowhere", "enter")
        await settle(app, pilot)
        await pilot.press("home", "right_square_bracket")
        await settle(app, pilot)
        screen(app).poll()

    stat = native.shm_stat(shmid)
    assert (stat.nattch, stat.lpid, stat.atime, stat.dtime, helpers.live_rows("shm")[shmid]) == (
        before
    )
    content = native.read_segment(shmid, 0, SIZE)  # attaches: only after the comparison
    assert segment_writer.checksum(content) == segment_writer.checksum(
        segment_writer.expected(SIZE, PIECES)
    )


@pytest.mark.asyncio
async def test_switching_the_read_path_detaches(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = written(make_shm)
    holder = spawn(name="holder", attach=[(shmid, False)])

    async with viewing(shmid) as (app, pilot):
        assert native.shm_stat(shmid).nattch == 2
        await pilot.press("p")
        await pilot.pause()
        assert native.shm_stat(shmid).nattch == 1
        assert shown(app, "#read-path").startswith(f"read through pid {holder.pid}")
        assert lines(app)[0].startswith(row_text(0, b"hello, segment\0\0"))


# ---- when the segment goes ----


@pytest.mark.asyncio
async def test_removed_while_attached_keeps_showing_and_says_why(make_shm: MakeShm) -> None:
    shmid = written(make_shm)

    async with viewing(shmid) as (app, _pilot):
        native.shm_rmid(shmid)
        screen(app).poll()
        assert "DEST" in shown(app, "#summary")
        assert "marked for destruction" in shown(app, "#status")
        assert "keeps it until you close" in shown(app, "#status")
        assert lines(app)[0].startswith(row_text(0, b"hello, segment\0\0"))

    assert shmid not in helpers.live_rows("shm")  # our detach was the last one


@pytest.mark.asyncio
async def test_removed_and_gone_while_read_through_an_attacher(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = written(make_shm)
    holder = spawn(name="holder", attach=[(shmid, False)])

    async with viewing(shmid, no_attach=True) as (app, pilot):
        native.shm_rmid(shmid)
        screen(app).poll()
        assert "p attaches" in shown(app, "#status")
        holder.stop()  # the last attacher detaches: the kernel destroys the segment
        helpers.wait_until(lambda: shmid not in helpers.live_rows("shm"), "the segment goes")
        screen(app).poll()
        assert "no longer exists" in shown(app, "#status")
        assert "GONE" in shown(app, "#summary")
        assert lines(app)[0].startswith(row_text(0, b"hello, segment\0\0"))  # the last read
        await pilot.press("end")
        await pilot.pause()
        assert any("unreadable" in line for line in lines(app))


@pytest.mark.asyncio
async def test_an_unknown_segment_shows_why_and_only_closes() -> None:
    app = ViewerApp(0x7FFFFFFF, sweep=False)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert "no such object" in shown(app, "#error")
        assert not app.screen.query(HexView)
        await pilot.press("q")
        await pilot.pause()
    assert app.return_code == 0


# ---- shmtop view: errors before the TUI starts ----


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shmtop", *args], check=False, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=helpers.PATIENCE,
    )  # fmt: skip


def test_view_of_an_unknown_segment_says_so_and_exits_1() -> None:
    run = run_cli("view", "2147483647")
    assert run.returncode == 1
    assert run.stderr == f"shmtop: {errors.no_such_object('shm', 2147483647)}\n"


def test_view_without_attaching_and_no_attacher_says_why(make_shm: MakeShm) -> None:
    shmid = written(make_shm)
    run = run_cli("view", str(shmid), "--no-attach")
    assert run.returncode == 1
    assert "cannot read it without attaching: no other process has it attached" in run.stderr


def test_view_off_a_terminal_refuses_and_detaches(make_shm: MakeShm) -> None:
    shmid = written(make_shm)
    run = run_cli("view", str(shmid))
    assert run.returncode == 2
    assert "needs a terminal" in run.stderr
    assert native.shm_stat(shmid).nattch == 0


def test_view_of_a_segment_without_read_permission_says_so(make_shm: MakeShm) -> None:
    """As user nobody (a forked child: nobody cannot exec this venv's python under /root)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    shmid = written(make_shm)  # mode 0600, owned by root
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 99
        try:
            sys.stderr = os.fdopen(write_end, "w", encoding="utf-8")  # pytest captures stderr
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            code = cli.main(["view", str(shmid)])
            sys.stderr.flush()
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, encoding="utf-8") as pipe:
        said = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 1
    assert said == (f"shmtop: {errors.permission_denied('shm', shmid)}\n")
    assert native.shm_stat(shmid).nattch == 0


@pytest.mark.asyncio
async def test_the_view_draws_with_no_color(
    make_shm: MakeShm, monkeypatch: pytest.MonkeyPatch
) -> None:
    """NO_COLOR puts Textual's monochrome filter over every line: each segment of a line
    needs a style (a None style crashed the first frame)."""
    monkeypatch.setenv("NO_COLOR", "1")
    shmid = written(make_shm)

    async with viewing(shmid) as (app, pilot):
        assert app.no_color
        await pilot.press("g", *"0x1234", "enter", "w")
        await settle(app, pilot)
        hex_view = view(app)
        for y in range(hex_view.size.height):
            assert all(segment.style is not None for segment in hex_view.render_line(y))
        app.export_screenshot()
        assert app.is_running
        assert hex_view.cursor == 0x1234
