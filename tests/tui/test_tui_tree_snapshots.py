"""SVG snapshots of the tree view (t) on the fixed snapshot and waiter scan, at 80x24 and
160x45, and of the removal question of a set with a blocked waiter."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest
from fake_source import FixedSource, FixedWaiters, fixed_peek, fixed_snapshot
from textual.pilot import Pilot
from textual.widgets import OptionList
from textual.widgets.tree import TreeNode
from tui_pilot import show_tab, tables_filled, wait_armed, wait_for

from shmtop.core.model import Attachment, Kind, Snapshot
from shmtop.text.glossary import TREE_MEANINGS
from shmtop.text.usage_tree import TreeRow
from shmtop.tui.app import ShmtopApp
from shmtop.tui.prefs import Preferences
from shmtop.tui.screens.confirm import ConfirmScreen
from shmtop.tui.screens.help import HelpScreen
from shmtop.tui.screens.tree_view import TreeScreen
from shmtop.tui.screens.user_picker import UserPicker
from shmtop.tui.widgets.usage_tree import OPEN_LIMIT, UsageTreeView

pytestmark = pytest.mark.usefixtures("utc")
SIZES = [(80, 24), (160, 45)]


def fixed_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ShmtopApp:
    monkeypatch.delenv("NO_COLOR", raising=False)
    return ShmtopApp(
        FixedSource(), preferences=Preferences(interval=10.0),
        preferences_path=tmp_path / "prefs.json", show_clock=False,
        waiter_source=FixedWaiters(), peeker=fixed_peek,
    )  # fmt: skip


async def open_tree(pilot: Pilot[Any]) -> None:
    """t, then until the tree shows the fixed scan's waiters."""
    app = pilot.app
    assert isinstance(app, ShmtopApp)
    await tables_filled(app, pilot)
    await pilot.press("t")

    def drawn() -> bool:
        screen = app.screen
        if not isinstance(screen, TreeScreen) or screen.waits is None:
            return False
        keys = {row.key for row in screen.query_one(UsageTreeView).visible_rows()}
        return "oapp/sem65536/w4301" in keys

    await wait_for(pilot, drawn, "the tree with the waiters")
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_tree_view(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: tuple[int, int]
) -> None:
    assert snap_compare(fixed_app(tmp_path, monkeypatch), terminal_size=size, run_before=open_tree)


def test_confirm_removal_of_a_set_with_a_waiter(
    snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ShmtopApp)
        await tables_filled(app, pilot)
        await show_tab(app, pilot, "2", Kind.SEM)
        assert app.main_screen.table.move_to(65536)
        await pilot.press("d")
        await wait_armed(app, pilot, ConfirmScreen)
        await pilot.pause()

    app = fixed_app(tmp_path, monkeypatch)
    assert snap_compare(app, terminal_size=(120, 32), run_before=run_before)


@pytest.mark.asyncio
async def test_help_of_the_tree_view_names_its_keys_and_words_and_fits_80x24(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fixed_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await tables_filled(app, pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the main help")
        assert "Tree view (processes and owners)" in help_text(app)
        await pilot.press("escape")
        await open_tree(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "the tree's help")
        shown = help_text(app)
        for words in ("Help: the tree view", "t  Esc  q", "Back (tables)", "u ", "User", "Space"):
            assert words in shown, words
        for word, _meaning in TREE_MEANINGS:
            assert word in shown, word
        box = app.screen.query_one("VerticalScroll")
        assert box.region.right <= 80 and box.region.bottom <= 24
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen), "back in the tree")


def help_text(app: ShmtopApp) -> str:
    screen = app.screen
    assert isinstance(screen, HelpScreen)
    return f"Help: {screen.title_text}\n{screen.text}"


@pytest.mark.asyncio
async def test_a_folded_line_and_the_cursor_stay_when_the_tree_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = fixed_app(tmp_path, monkeypatch)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tree(pilot)
        tree = app.screen.query_one(UsageTreeView)
        line = tree.line_of("p4300")
        assert line is not None
        tree.cursor_line = line
        await pilot.press("space")
        await wait_for(pilot, lambda: "p4300" in tree.folded, "p4300 folded")
        keys = [row.key for row in tree.visible_rows()]
        assert "p4300" in keys and "p4300/shm32769" not in keys

        await pilot.press("u")  # user app: other rows, the tree is rebuilt
        await wait_for(pilot, lambda: isinstance(app.screen, UserPicker), "the user picker")
        picker = app.screen.query_one(OptionList)
        ids = [picker.get_option_at_index(n).id for n in range(picker.option_count)]
        for _ in range(ids.index("uapp")):
            await pilot.press("down")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "p4100" not in {r.key for r in tree.visible_rows()},
                       "only app's processes")  # fmt: skip

        keys = [row.key for row in tree.visible_rows()]
        assert "p4300" in keys and "p4300/shm32769" not in keys and "p4301/shm32769" in keys
        assert tree.selected is not None and tree.selected.key == "p4300"
        assert tree.cursor_line == tree.line_of("p4300")


def many_attachers(segments: int = 300, attachers: int = 8) -> Snapshot:
    """The fixed snapshot with segments of eight attachers each: thousands of rows."""
    base = fixed_snapshot()
    template = base.segments[0]
    made = tuple(
        msgspec.structs.replace(
            template, id=1000 + s, cpid=0, lpid=0,
            attachments=tuple(Attachment(5000 + (s + a) % segments, f"kid{(s + a) % segments}",
                                         "app", False, 0, 4096) for a in range(attachers)),
        )
        for s in range(segments)
    )  # fmt: skip
    return msgspec.structs.replace(base, segments=made)


@pytest.mark.asyncio
async def test_a_big_tree_opens_folded_and_makes_a_processs_lines_when_unfolded(
    tmp_path: Path,
) -> None:
    app = ShmtopApp(
        FixedSource(many_attachers()), preferences=Preferences(interval=10.0),
        preferences_path=tmp_path / "prefs.json", show_clock=False, waiter_source=FixedWaiters(),
    )  # fmt: skip
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.polls >= 1, "the first refresh")
        await pilot.press("t")
        await wait_for(pilot, lambda: isinstance(app.screen, TreeScreen), "the tree view")
        tree = app.screen.query_one(UsageTreeView)
        await wait_for(pilot, lambda: tree.rows is not None, "the rows")
        assert tree.rows is not None and tree.rows.size > OPEN_LIMIT
        keys = [row.key for row in tree.visible_rows()]
        assert "p5000" in keys and "p5000/shm1000" not in keys  # folded to the processes

        line = tree.line_of("p5000")
        assert line is not None
        tree.cursor_line = line
        node = tree.cursor_node
        assert node is not None and not node.children  # not made while folded
        await pilot.press("space")
        await wait_for(pilot, lambda: len(node.children) == 8, "its 8 segments are made")
        assert "p5000/shm1000" in [row.key for row in tree.visible_rows()]


class BusyQueue(FixedSource):
    """The fixed snapshot, one more message in queue 98304 at each refresh."""

    def snapshot(self) -> Snapshot:
        self.calls += 1
        queues = (msgspec.structs.replace(self.fixed.queues[0], qnum=self.calls),
                  *self.fixed.queues[1:])  # fmt: skip
        return msgspec.structs.replace(self.fixed, queues=queues)


@pytest.mark.asyncio
async def test_a_refresh_relabels_the_lines_in_place(tmp_path: Path) -> None:
    app = ShmtopApp(
        BusyQueue(), preferences=Preferences(interval=0.25),
        preferences_path=tmp_path / "prefs.json", show_clock=False, waiter_source=FixedWaiters(),
    )  # fmt: skip
    async with app.run_test(size=(80, 24)) as pilot:
        await open_tree(pilot)
        tree = app.screen.query_one(UsageTreeView)

        def queue_node() -> TreeNode[TreeRow]:
            nodes = list(tree.root.children)
            while nodes:
                node = nodes.pop()
                if node.data is not None and node.data.key == "oapp/msg98304":
                    return node
                nodes.extend(node.children)
            raise AssertionError("no line for queue 98304")

        def label_now() -> str:
            row = queue_node().data
            return row.label if row is not None else ""

        first = queue_node()
        label = label_now()
        await wait_for(pilot, lambda: label_now() != label, "a refresh changed the queue")
        assert queue_node() is first  # the same line, relabelled
        assert str(first.label).startswith("msg 98304  key 0x00005678  ")
