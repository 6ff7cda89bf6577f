"""A table of one kind of IPC object that renders only the rows on screen (Textual's Line API).

Thousands of rows refresh every second at the cost of the visible ones: sort and
filter run on Python lists, a cell is formatted only when its row is drawn, and
the cursor, tags and sort follow objects by id across refreshes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from rich.cells import set_cell_size
from rich.segment import Segment as RichSegment
from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shmtop.core.busy import Activity
from shmtop.core.model import IpcObject, Kind, Snapshot
from shmtop.text.columns import COLUMNS, Column, ordered
from shmtop.text.filtering import Filter, parse_filter
from shmtop.tui import status_colours
from shmtop.tui.finder import NOUNS, empty_note, marked

TAG_MARK = "●"
ALERT_MARK = "!"
BUSY_MARK = "~"  # changed in most of the last refreshes (shmtop.core.busy): not highlighted
HIGHLIGHT_SECONDS = 2.0
GAP = 2
WIDTH_SAMPLE = 256  # objects of each new snapshot (in its own order) that may widen a column


class IpcTable(ScrollView, can_focus=False):
    """One kind's objects; line 0 is the header (click it to sort), the rest are rows.

    Not focusable: the screen owns the cursor keys, so switching tabs moves no focus
    and the footer is not rebuilt (a rebuild costs about 100 ms with this many keys).
    """

    COMPONENT_CLASSES = {
        "ipc-table--header",
        "ipc-table--sorted",
        "ipc-table--cursor",
        "ipc-table--fresh",
        "ipc-table--leaving",
        "ipc-table--tagged",
        "ipc-table--alert",
        "ipc-table--match",
        "ipc-table--empty",
        "ipc-table--busy",
        *status_colours.component_classes("ipc-table"),
    }
    DEFAULT_CSS = """
    IpcTable { height: 1fr; }
    IpcTable > .ipc-table--header { text-style: bold; background: $panel; }
    IpcTable > .ipc-table--sorted { text-style: bold underline; background: $panel; }
    IpcTable > .ipc-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
    }
    IpcTable > .ipc-table--fresh { color: $success; text-style: bold; }
    IpcTable > .ipc-table--leaving { color: $error; text-style: strike; }
    IpcTable > .ipc-table--tagged { color: $warning; }
    IpcTable > .ipc-table--alert { background: $error 35%; text-style: bold; }
    IpcTable > .ipc-table--match { background: $warning 60%; color: $foreground; text-style: bold; }
    IpcTable > .ipc-table--empty { color: $text-warning; text-style: italic; }
    IpcTable > .ipc-table--busy { color: $text-accent; text-style: bold; }
    """ + status_colours.component_css("IpcTable", "ipc-table")

    class CursorMoved(Message):
        """The object under the cursor may have changed."""

    class SortRequested(Message):
        """A header was clicked."""

        def __init__(self, table: IpcTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

    def __init__(
        self, kind: Kind, *, id: str | None = None, columns: tuple[Column, ...] | None = None
    ) -> None:
        super().__init__(id=id)
        self.kind = kind
        self.columns_spec: tuple[Column, ...] = columns or COLUMNS[kind]
        self.objects: dict[int, IpcObject] = {}  # shown now, by id
        self.tagged: set[int] = set()
        self.marked: set[int] = set()  # in a deadlock or a stuck wait: drawn as alerts
        self.counts: Mapping[int, tuple[int, int]] | None = None  # waiter counts, if scanned
        self.scanned_namespaces: frozenset[int] = frozenset()  # other namespaces counted too
        self.sort_key = "id"
        self.sort_reverse = False
        self.filter: Filter = parse_filter("")
        self.highlight: tuple[str, ...] = ()  # the search's words, marked in the rows
        self.snapshot: Snapshot | None = None
        self._order: list[int] = []  # ids in display order (shown and leaving ones)
        self._position: dict[int, int] = {}
        self._cursor_id: int | None = None
        self._fresh_until: dict[int, float] = {}
        self._leaving: dict[int, tuple[IpcObject, float]] = {}
        self._source: tuple[IpcObject, ...] | None = None  # the tuple last shown
        self._previous: dict[int, IpcObject] = {}
        self.activity = Activity()  # which rows change at nearly every refresh: busy
        self.hidden: set[str] = set()  # column keys the chooser (F2) hides
        # How wide each column is now: its nature, widened (up to its cap) by the data
        # kept; never narrowed, so sorting, filtering and refreshing leave it alone.
        self._natural = {c.key: max(len(c.header) + 1, c.width) for c in self.columns_spec}
        self._widths = [1, *(self._natural[c.key] for c in self.columns_spec)]
        self.shown: tuple[Column, ...] = self.columns_spec
        # Rows across IPC namespaces (tui/namespace_main.py), or None: the snapshot's objects.
        self.rows: tuple[Any, ...] | None = None
        self.rows_filter: Callable[[Filter], Filter] | None = None  # a filter made for rows
        self.namespace_name: Callable[[int], str | None] | None = None  # for the ns: term

    # ---- what the user has chosen ----

    @property
    def selected_id(self) -> int | None:
        """Id of the object under the cursor (never a leaving row)."""
        return self._cursor_id if self._cursor_id in self.objects else None

    @property
    def selected(self) -> IpcObject | None:
        ident = self.selected_id
        return self.objects.get(ident) if ident is not None else None

    @property
    def cursor_row(self) -> int:
        return self._position.get(self._cursor_id, 0) if self._cursor_id is not None else 0

    @property
    def ordered_ids(self) -> list[int]:
        return list(self._order)

    def targets(self) -> list[IpcObject]:
        """The tagged objects still present, or else the one under the cursor."""
        tagged = [self.objects[i] for i in self._order if i in self.tagged and i in self.objects]
        if tagged:
            return tagged
        return [self.selected] if self.selected is not None else []

    def toggle_tag(self) -> None:
        ident = self.selected_id
        if ident is not None:
            self.tagged.symmetric_difference_update({ident})
            self.refresh()

    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        """Sort by a column key; the same key again flips the order."""
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_key else False
        self.sort_key, self.sort_reverse = key, reverse
        self._arrange()

    def parse_query(self, expression: str) -> Filter:
        """The filter (or search) an expression means for this table's rows (FilterError
        for a term it does not take)."""
        parsed = parse_filter(expression, self.namespace_name)
        return self.rows_filter(parsed) if self.rows_filter is not None else parsed

    def set_columns(self, columns: tuple[Column, ...], hidden: set[str] | None = None) -> None:
        """Other columns, or other hidden ones (rows across namespaces: the kind's with NS),
        laid out at once and drawn with the next snapshot (which sorts the rows again): the
        rows of another form come with it, so nothing is drawn or sorted in between."""
        self.columns_spec = columns
        for c in columns:
            self._natural.setdefault(c.key, max(len(c.header) + 1, c.width))
        self.hidden = {k for k in (self.hidden if hidden is None else hidden) if k != self.pinned}
        self.shown = tuple(c for c in columns if c.key not in self.hidden)
        self._source = None  # the next show() filters and sorts again
        self._relayout()

    def present(self, snapshot: Snapshot) -> tuple[Any, ...]:
        """The rows a snapshot holds for this table (the POSIX tables hold their own, and
        so does a table across namespaces)."""
        return self.rows if self.rows is not None else snapshot.objects(self.kind)

    def tag_shown(self) -> int:
        """Tag every row shown (all the filter keeps); how many are tagged now."""
        self.tagged |= set(self.objects)
        self.refresh()
        return len(self.tagged)

    def set_highlight(self, words: tuple[str, ...]) -> None:
        if words != self.highlight:
            self.highlight = words
            self.refresh()

    def set_filter(self, expression: str) -> None:
        """Filter the rows; FilterError (the filter left as it was) for a term it does not take."""
        self.filter = self.parse_query(expression)
        if self.snapshot is not None:
            self._source = None  # the filter changes what is shown: rebuild
            self.show(self.snapshot)

    def start_over(self) -> None:
        """Forget the rows last shown (rows of another form come next: none is new or
        leaving); the cursor, tags and sort stay, by row id."""
        self._source = None
        self._previous = {}
        self._leaving = {}
        self._fresh_until = {}

    def move_to(self, ident: int) -> bool:
        """Put the cursor on an object's row; False if it is not shown."""
        if ident not in self.objects:
            return False
        self._set_cursor(self._position[ident])
        return True

    def row_text(self, ident: int) -> str:
        """The cells of an object's row as drawn (sanitised), joined by spaces."""
        obj = self.objects.get(ident) or self._leaving.get(ident, (None, 0.0))[0]
        if obj is None or self.snapshot is None:
            raise KeyError(ident)
        widths = dict(zip((c.key for c in self.shown), self._widths[1:], strict=True))
        return " ".join(self._cell(c, obj, widths.get(c.key, 0)) for c in self.columns_spec)

    def set_hidden(self, keys: set[str]) -> None:
        """Hide these columns (the chooser's choice); the id (else the first) always stays."""
        self.hidden = {k for k in keys if k != self.pinned}
        self.shown = tuple(c for c in self.columns_spec if c.key not in self.hidden)
        self._arrange()

    @property
    def pinned(self) -> str:
        """The column that cannot be hidden: the id, else the first."""
        keys = [c.key for c in self.columns_spec]
        return "id" if "id" in keys else keys[0]

    def scroll_columns(self, step: int) -> None:
        """Scroll sideways to the next (step 1) or previous (-1) column's left edge."""
        edges, x = [], self._widths[0] + GAP
        for size in self._widths[1:]:
            edges.append(x)
            x += size + GAP
        now = int(self.scroll_offset.x)
        if step > 0:
            target = next((e for e in edges if e > now), now)
        else:
            target = next((e for e in reversed(edges) if e < now), 0)
        if target == edges[0] and step < 0:
            target = 0
        self.scroll_to(x=target, animate=False)

    def set_waits(
        self, counts: Mapping[int, tuple[int, int]] | None, marked: set[int],
        scanned: frozenset[int] = frozenset(),
    ) -> None:  # fmt: skip
        """A waiter scan's counts for the counted columns (None: no scan) and alerted ids,
        by row id; scanned: the other IPC namespaces (inodes) whose rows they cover."""
        if counts == self.counts and marked == self.marked and scanned == self.scanned_namespaces:
            return
        self.counts, self.marked, self.scanned_namespaces = counts, marked, scanned
        self._arrange()

    def _cell(self, column: Column, obj: IpcObject, width: int = 0) -> str:
        assert self.snapshot is not None
        # Another namespace's rows are counted only where a scan was made inside it.
        counted_here = (getattr(obj, "current", True)
                        or getattr(obj, "inode", None) in self.scanned_namespaces)  # fmt: skip
        if column.counted and self.counts is not None and counted_here:
            return "/".join(map(str, self.counts.get(obj.id, (0, 0))))
        if column.fit is not None and width:
            return column.fit(obj, self.snapshot, width)
        return column.cell(obj, self.snapshot)

    def _sort_key(self, column: Column) -> Callable[[IpcObject], Any]:
        if column.counted and self.counts is not None:
            counts = self.counts
            return lambda o: sum(counts.get(o.id, (0, 0)))
        snapshot, sort = self.snapshot, column.sort
        if snapshot is None:  # nothing shown yet, so nothing to sort
            return lambda o: o.id
        return lambda o: sort(o, snapshot)

    # ---- refresh ----

    def show(self, snapshot: Snapshot) -> None:
        """Take a new snapshot; the work is proportional to what changed, not to the rows."""
        self.snapshot = snapshot
        now = time.monotonic()
        present = self.present(snapshot)
        expired = any(until <= now for until in self._fresh_until.values()) or any(
            until <= now for _obj, until in self._leaving.values()
        )
        if present is self._source and not expired and not self.filter.timed:
            self.activity.observe(())  # a refresh in which nothing changed
            self.refresh()  # only ages move: redraw the visible rows
            return
        first = self._source is None and not self._previous
        self._source = present
        shown = {o.id: o for o in present if self.filter(o, snapshot)}
        if not first:
            changed = [
                ident for ident, obj in shown.items()
                if (old := self._previous.get(ident)) is not obj and (old is None or old != obj)
            ]  # fmt: skip
            self.activity.observe(changed)
            for ident in changed:
                if self.activity.busy(ident):  # marked busy instead of highlighted for ever
                    self._fresh_until.pop(ident, None)
                else:
                    self._fresh_until[ident] = now + HIGHLIGHT_SECONDS
            present_ids = {o.id for o in present}
            self.activity.forget(i for i in self._previous if i not in present_ids)
            for ident, obj in self.objects.items():
                vanished = ident not in present_ids  # removed, not merely filtered out
                if vanished and ident not in self._leaving:
                    self._leaving[ident] = (obj, now + HIGHLIGHT_SECONDS)
        self._fresh_until = {i: t for i, t in self._fresh_until.items() if t > now and i in shown}
        self._leaving = {i: v for i, v in self._leaving.items() if v[1] > now}
        self._previous = {o.id: o for o in present}
        self._widen(present[:WIDTH_SAMPLE])
        self.objects = shown
        self.tagged &= set(shown)
        self._arrange()

    def _arrange(self) -> None:
        """Sort and lay out the rows again, keeping the cursor on its object."""
        keep = self._cursor_id
        column = next((c for c in self.columns_spec if c.key == self.sort_key), None)
        column = column or self.columns_spec[0]
        rows: list[IpcObject] = [*self.objects.values(), *(o for o, _ in self._leaving.values())]
        sort = self._sort_key(column)
        self._order = [o.id for o in ordered(rows, sort, self.sort_reverse)]
        self._position = {ident: at for at, ident in enumerate(self._order)}
        self._widths = self._column_widths()
        self.virtual_size = Size(sum(self._widths) + GAP * (len(self._widths) - 1), len(rows) + 1)
        if keep in self.objects:
            self._set_cursor(self._position[keep], scroll=False)
        elif self._order:
            self._set_cursor(min(self.cursor_row, len(self._order) - 1), scroll=False)
        else:
            self._cursor_id = None
        self.refresh()

    def _widen(self, objects: Any) -> None:
        """Let the data kept widen the columns it overflows, up to their caps (never the
        free-text ones: they take the room left)."""
        if self.snapshot is None:
            return
        for column in self.columns_spec:
            if column.fit is not None or column.cap <= self._natural[column.key]:
                continue
            widest = max((len(self._cell(column, o)) for o in objects), default=0)
            self._natural[column.key] = max(self._natural[column.key], min(widest, column.cap))

    def _column_widths(self) -> list[int]:
        """Each shown column at its width; the free-text ones share what the others leave."""
        room = self.scrollable_content_region.width or self.size.width
        fixed = [self._natural[c.key] for c in self.shown if c.fit is None]
        free = [c for c in self.shown if c.fit is not None]
        left = room - (1 + GAP) - sum(fixed) - GAP * len(self.shown)
        share = left // len(free) if free else 0
        return [1, *(
            max(self._natural[c.key], share) if c.fit is not None else self._natural[c.key]
            for c in self.shown
        )]  # fmt: skip

    def highlighted(self, ident: int) -> bool:
        """Whether its row is drawn as just changed (or appeared)."""
        return ident in self._fresh_until

    def busy(self, ident: int) -> bool:
        """Whether it changed in most of the last refreshes (marked BUSY_MARK instead)."""
        return self.activity.busy(ident)

    def _object(self, ident: int) -> IpcObject | None:
        found = self.objects.get(ident)
        return found if found is not None else self._leaving.get(ident, (None, 0.0))[0]

    # ---- drawing ----

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            return self._header().crop_extend(scroll_x, scroll_x + width, self.rich_style)
        index = scroll_y + y - 1
        if index >= len(self._order) or self.snapshot is None:
            if y == 1 and not self._order and self.filter.active and self.snapshot is not None:
                return self._empty_line(width)
            return Strip.blank(width, self.rich_style)
        ident = self._order[index]
        return self._row(ident).crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def empty_text(self) -> str | None:
        """What the table says where its rows would be: only when the filter hides them all."""
        if self._order or not self.filter.active:
            return None
        return empty_note(self.filter.expression, NOUNS.get(self.kind, "object"))

    def _empty_line(self, width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("ipc-table--empty")
        text = set_cell_size("  " + (self.empty_text() or ""), width)
        return Strip([RichSegment(text, style)])

    def _header(self) -> Strip:
        header = self.get_component_rich_style("ipc-table--header")
        sorted_style = self.get_component_rich_style("ipc-table--sorted")
        segments = [RichSegment(" " * (self._widths[0] + GAP), header)]
        for column, size in zip(self.shown, self._widths[1:], strict=True):
            label = column.header
            style = header
            if column.key == self.sort_key:
                label += "▼" if self.sort_reverse else "▲"
                style = sorted_style
            segments.append(RichSegment(set_cell_size(label, size + GAP), style))
        return Strip(segments)

    def _row(self, ident: int) -> Strip:
        obj = self._object(ident)
        assert obj is not None and self.snapshot is not None
        style = self.rich_style
        if ident in self._leaving:
            style += self.get_component_rich_style("ipc-table--leaving")
        elif ident in self._fresh_until:
            style += self.get_component_rich_style("ipc-table--fresh")
        if ident in self.marked:
            style += self.get_component_rich_style("ipc-table--alert")
        if ident == self._cursor_id:
            style += self.get_component_rich_style("ipc-table--cursor")
        mark_style = style + self.get_component_rich_style("ipc-table--tagged")
        if ident in self.tagged:
            mark = TAG_MARK
        elif ident in self.marked:
            mark = ALERT_MARK
        elif self.activity.busy(ident):
            mark, mark_style = BUSY_MARK, style + self.get_component_rich_style("ipc-table--busy")
        else:
            mark = " "
        segments = [RichSegment(mark + " " * GAP, mark_style)]
        words = self.highlight
        match = self.get_component_rich_style("ipc-table--match") if words else style
        coloured = ident not in self._leaving and ident != self._cursor_id
        for column, size in zip(self.shown, self._widths[1:], strict=True):
            text = self._cell(column, obj, size)
            if len(text) > size:
                if column.cap > self._natural[column.key]:  # the data kept widens it
                    self._natural[column.key] = min(len(text), column.cap)
                    self.call_after_refresh(self._relayout)
                text = text[: size - 1] + "…"
            cell = set_cell_size(text, size + GAP)
            if words:
                segments += marked(cell, words, style, match)
            elif column.key == "status" and coloured:
                segments += status_colours.status_segments(cell, style, self._status_style)
            else:
                segments.append(RichSegment(cell, style))
        return Strip(segments)

    def _status_style(self, word: str) -> Any:
        return self.get_component_rich_style(f"ipc-table--{status_colours.variable(word)}")

    # ---- cursor ----

    def _set_cursor(self, index: int, *, scroll: bool = True) -> None:
        if not self._order:
            return
        index = max(0, min(index, len(self._order) - 1))
        ident = self._order[index]
        moved = ident != self._cursor_id
        self._cursor_id = ident
        visible = max(self.size.height - 1, 1)
        top = self.scroll_offset.y
        if scroll or moved:
            if index < top:
                self.scroll_to(y=index, animate=False)
            elif index >= top + visible:
                self.scroll_to(y=index - visible + 1, animate=False)
        self.refresh()
        if moved:
            self.post_message(self.CursorMoved())

    def action_cursor(self, step: int) -> None:
        self._set_cursor(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self._set_cursor(self.cursor_row + step * max(self.size.height - 2, 1))

    def action_jump(self, index: int) -> None:
        self._set_cursor(index if index >= 0 else len(self._order) - 1)

    def on_click(self, event: events.Click) -> None:
        scroll_x, scroll_y = self.scroll_offset
        if event.y == 0:
            self._header_clicked(event.x + scroll_x)
        else:
            self._set_cursor(scroll_y + event.y - 1)

    def _header_clicked(self, x: int) -> None:
        edge = self._widths[0] + GAP
        for column, size in zip(self.shown, self._widths[1:], strict=True):
            edge += size + GAP
            if x < edge:
                self.post_message(self.SortRequested(self, column.key))
                return

    def _relayout(self) -> None:
        self._widths = self._column_widths()
        self.virtual_size = Size(sum(self._widths) + GAP * (len(self._widths) - 1),
                                 self.virtual_size.height)  # fmt: skip
        self.refresh()

    def on_resize(self, event: Any) -> None:
        self._relayout()
