"""The hex view: a Line-API ScrollView that reads only the rows on screen, live, never writing."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import ClassVar, Protocol

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from shmtop.text.sanitize import BYTE_TABLE


class ByteSource(Protocol):
    """What the view reads from (a SegmentReader, or a fake in tests)."""

    @property
    def size(self) -> int: ...

    def read(self, offset: int, length: int) -> bytes: ...


# Byte classes, coloured like hexyl's.
NUL, PRINTABLE, WHITESPACE, OTHER, NON_ASCII = range(5)
CLASS_NAMES = ("nul", "printable", "whitespace", "other", "non-ascii")


def byte_class(value: int) -> int:
    if value == 0:
        return NUL
    if value in b" \t\n\x0c\r":
        return WHITESPACE
    if 0x21 <= value <= 0x7E:
        return PRINTABLE
    return OTHER if value < 0x80 else NON_ASCII


# Every byte reaches the screen through these 256-entry tables: its hex digits,
# its class, and its character from the one sanitiser's table.
BYTE_CLASS = bytes(byte_class(value) for value in range(256))
HEX = tuple(f"{value:02x}" for value in range(256))
TEXT = BYTE_TABLE

AUTO = 0  # bytes a row: fit to the width
ROW_WIDTHS = (AUTO, 16, 32, 8)  # the order `w` cycles through (AUTO first: the default)
GROUP = 8  # bytes between the wider gaps of the hex column
FADE = (0.75, 2.0, 4.0)  # seconds a change stays at highlight level 3, 2, 1
CURSOR = 4  # overlay index of the cursor (1..3: change levels)
WAITED = 5  # overlay index of a byte some thread is blocked on (a futex word), under a change
MATCH = 6  # overlay index of a byte of the search's match (over a change: it was asked for)
ROW_CACHE = 4096


def row_layout(row_bytes: int, digits: int) -> tuple[tuple[int, ...], int, int]:
    """x of each byte's hex digits, x of the text column, and the row width, in cells."""
    x = digits + 3
    columns = []
    for col in range(row_bytes):
        columns.append(x)
        x += 4 if col % GROUP == GROUP - 1 else 3
    text_x = columns[-1] + 2 + 3
    return tuple(columns), text_x, text_x + row_bytes


GUTTER = 2  # the vertical scrollbar's columns (scrollbar-gutter: stable)


def fitting_bytes(room: int, digits: int) -> int:
    """The most bytes a row (a multiple of 8, at most 64) whose row fits room columns."""
    fits = [n for n in range(GROUP, 65, GROUP) if row_layout(n, digits)[2] <= room]
    return fits[-1] if fits else GROUP


def fade_level(age: float) -> int:
    return next((3 - i for i, limit in enumerate(FADE) if age < limit), 0)


class HexView(ScrollView, can_focus=True, inherit_bindings=False):
    """Offset, hex and text columns of a byte source; reads the visible rows, keeps no more."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1, 1)", "Up", show=False, id="hex-view.up"),
        Binding("down", "move(1, 1)", "Down", show=False, id="hex-view.down"),
        Binding("left", "move(-1, 0)", "Left", show=False, id="hex-view.left"),
        Binding("right", "move(1, 0)", "Right", show=False, id="hex-view.right"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="hex-view.page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="hex-view.page-down"),
        Binding("home", "home", "Start", show=False, id="hex-view.home"),
        Binding("end", "end", "End", show=False, id="hex-view.end"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "hex-view--offset", "hex-view--divider", "hex-view--cursor",
        *(f"hex-view--{name}" for name in CLASS_NAMES),
        *(f"hex-view--changed-{level}" for level in (1, 2, 3)), "hex-view--waited",
        "hex-view--match",
    }  # fmt: skip
    DEFAULT_CSS = """
    HexView { background: $surface; scrollbar-gutter: stable; }
    HexView:focus { background-tint: $foreground 3%; }
    HexView > .hex-view--offset { color: $text-secondary; }
    HexView > .hex-view--divider { color: $text-muted; }
    HexView > .hex-view--nul { color: $text-muted; }
    HexView > .hex-view--printable { color: $text-primary; }
    HexView > .hex-view--whitespace { color: $text-success; }
    HexView > .hex-view--other { color: $text-accent; }
    HexView > .hex-view--non-ascii { color: $text-warning; }
    HexView > .hex-view--cursor { background: $accent; color: $text; text-style: bold; }
    HexView > .hex-view--changed-3 { background: $error 80%; }
    HexView > .hex-view--changed-2 { background: $error 50%; }
    HexView > .hex-view--changed-1 { background: $error 25%; }
    HexView > .hex-view--waited { background: $warning 45%; text-style: underline; }
    HexView > .hex-view--match { background: $primary 70%; text-style: bold; }
    """

    cursor: reactive[int] = reactive(0, repaint=False, init=False)
    frozen: reactive[bool] = reactive(False, repaint=False)
    row_setting: reactive[int] = reactive(AUTO, init=False)  # 8, 16, 32 or AUTO (fit)

    class CursorMoved(Message):
        def __init__(self, offset: int) -> None:
            super().__init__()
            self.offset = offset

    class BytesChanged(Message):
        """Bytes on screen differ from their last read; offsets of the changed rows."""

        def __init__(self, offsets: tuple[int, ...]) -> None:
            super().__init__()
            self.offsets = offsets

    def __init__(
        self, source: ByteSource, *, clock: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:  # fmt: skip
        super().__init__(id=id)
        self.source = source
        self.clock = clock
        self.length = source.size
        self.digits = max(4, len(f"{max(self.length - 1, 0):x}"))
        self.read_error: str | None = None
        self.first_render_at: float | None = None  # perf_counter(), for the benchmark
        self.on_render: Callable[[float, int], None] | None = None  # (when, top row) a frame
        self._row_bytes = 16
        self._layout = row_layout(16, self.digits)
        self._rows: dict[int, bytes] = {}
        self._window: tuple[int, int, int] | None = None
        self._changed: dict[int, float] = {}
        self._waited: frozenset[int] = frozenset()  # byte offsets threads are blocked on
        self._match = range(0)  # the offsets of the search's match, marked whole
        self._strips: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._styles: list[Style] | None = None
        self._base = Style()

    # ---- geometry ----

    @property
    def row_bytes(self) -> int:
        return self._row_bytes

    @property
    def row_count(self) -> int:
        return -(-self.length // self._row_bytes)

    def _visible_rows(self) -> tuple[int, int]:
        top = int(self.scroll_offset.y)
        return top, min(top + max(self.scrollable_content_region.height, 1), self.row_count)

    def _fit(self) -> int:
        if self.row_setting != AUTO:
            return self.row_setting
        return fitting_bytes(self.scrollable_content_region.width or self.size.width, self.digits)

    def _relayout(self) -> None:
        row_bytes = self._fit()
        if row_bytes != self._row_bytes:
            self._row_bytes = row_bytes
            self._rows.clear()
            self._strips.clear()
            self._window = None
        self._layout = row_layout(row_bytes, self.digits)
        self.virtual_size = Size(self._layout[2], self.row_count)
        self.refresh()

    def on_mount(self) -> None:
        self._relayout()

    def on_resize(self) -> None:
        if self.row_setting == AUTO:
            self._relayout()
            self.goto(self.cursor)

    def watch_row_setting(self) -> None:
        self._relayout()
        self.goto(self.cursor)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._strips.clear()

    # ---- cursor and navigation ----

    def validate_cursor(self, offset: int) -> int:
        return min(max(offset, 0), max(self.length - 1, 0))

    def watch_cursor(self, old: int, new: int) -> None:
        self.refresh_line(old // self._row_bytes)
        self.refresh_line(new // self._row_bytes)
        self._show_cursor()
        self.post_message(self.CursorMoved(new))

    def _show_cursor(self, center: bool = False) -> None:
        row = self.cursor // self._row_bytes
        top, height = int(self.scroll_offset.y), max(self.scrollable_content_region.height, 1)
        if center and not top <= row < top + height:
            self.scroll_to(y=max(row - height // 2, 0), animate=False, immediate=True)
        elif row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)

    def goto(self, offset: int) -> None:
        """Put the cursor on offset, with its row in the middle if it was off screen."""
        self.cursor = offset
        self._show_cursor(center=True)

    def action_move(self, step: int, rows: int) -> None:
        self.cursor += step * (self._row_bytes if rows else 1)

    def action_page(self, direction: int) -> None:
        height = max(self.scrollable_content_region.height, 1)
        self.scroll_to(y=self.scroll_offset.y + direction * height, animate=False, immediate=True)
        self.cursor += direction * height * self._row_bytes

    def action_home(self) -> None:
        self.cursor = 0

    def action_end(self) -> None:
        self.cursor = self.length - 1

    def on_click(self, event: events.Click) -> None:
        columns, text_x, _ = self._layout
        x = event.x + int(self.scroll_offset.x)
        row = event.y + int(self.scroll_offset.y)
        col = next((c for c, start in enumerate(columns) if start <= x < start + 3), None)
        if col is None and text_x <= x < text_x + self._row_bytes:
            col = x - text_x
        if col is not None and row < self.row_count:
            self.cursor = row * self._row_bytes + col

    # ---- reading ----

    def _read_rows(self, first: int, last: int, detect: bool) -> bool:
        """Read rows [first, last) in one read; True if a row already shown has changed."""
        size = self._row_bytes
        try:
            data = self.source.read(first * size, (last - first) * size)
        except OSError as error:
            self.read_error = str(error)
            return False
        self.read_error = None
        now, changed = self.clock(), []
        for index, row in enumerate(range(first, last)):
            new = data[index * size : (index + 1) * size]
            old = self._rows.get(row)
            if detect and old is not None and old != new:
                base = row * size
                for col, (before, after) in enumerate(zip(old, new, strict=False)):
                    if before != after:
                        self._changed[base + col] = now
                changed.append(base)
            self._rows[row] = new
        if len(self._rows) > ROW_CACHE:
            keep = range(first - ROW_CACHE // 4, last + ROW_CACHE // 4)
            self._rows = {row: data for row, data in self._rows.items() if row in keep}
        if changed:
            self.post_message(self.BytesChanged(tuple(changed)))
        return bool(changed)

    def _load_visible(self) -> None:
        first, last = self._visible_rows()
        if last <= first:
            return
        if self.frozen:
            missing = [row for row in range(first, last) if row not in self._rows]
            if missing:
                self._read_rows(missing[0], missing[-1] + 1, detect=False)
            return
        window = (first, last, self._row_bytes)
        if window != self._window:
            self._read_rows(first, last, detect=True)
            self._window = window

    def poll(self) -> bool:
        """Re-read the rows on screen (unless frozen) and age the highlights; True if changed."""
        changed = False
        first, last = self._visible_rows()
        if not self.frozen and last > first:
            changed = self._read_rows(first, last, detect=True)
            self._window = (first, last, self._row_bytes)
        now = self.clock()
        faded = [offset for offset, when in self._changed.items() if now - when >= FADE[-1]]
        for offset in faded:
            del self._changed[offset]
        if changed or faded or self._changed:
            self.refresh()
        return changed

    def peek(self, offset: int, length: int) -> bytes:
        """Bytes as shown (frozen rows stay frozen); what is not on screen is read."""
        size = self._row_bytes
        first, last = offset // size, (offset + length - 1) // size
        rows = [self._rows.get(row) for row in range(first, last + 1)]
        if any(row is None for row in rows):
            return self.source.read(offset, length)
        joined = b"".join(row or b"" for row in rows)
        return joined[offset - first * size : offset - first * size + length]

    def highlighted(self) -> dict[int, int]:
        """Offsets shown as changed, with their level (3: just changed, fading to 1)."""
        now = self.clock()
        levels = {offset: fade_level(now - when) for offset, when in self._changed.items()}
        return {offset: level for offset, level in levels.items() if level}

    def mark_waited(self, words: Mapping[int, int]) -> None:
        """Mark the words threads are blocked on: offset -> length in bytes."""
        waited = frozenset(
            at for offset, size in words.items() for at in range(offset, offset + size)
        )
        if waited != self._waited:
            self._waited = waited
            self.refresh()

    @property
    def waited(self) -> frozenset[int]:
        return self._waited

    def mark_match(self, offset: int, length: int) -> None:
        """Mark every byte of the search's match (length 0: none)."""
        match = range(offset, offset + length) if length > 0 else range(0)
        if match != self._match:
            self._match = match
            self.refresh()

    @property
    def match(self) -> range:
        return self._match

    def forget(self) -> None:
        """Drop what was read (the source changed); the next render reads again."""
        self._rows.clear()
        self._changed.clear()
        self._window = None
        self.refresh()

    # ---- rendering ----

    def render_lines(self, crop: Region) -> list[Strip]:
        self._load_visible()
        self._base = self.rich_style  # walks every ancestor: once a frame, not once a line
        strips = super().render_lines(crop)
        now = time.perf_counter()
        if self.first_render_at is None:
            self.first_render_at = now
        if self.on_render is not None:
            self.on_render(now, int(self.scroll_offset.y))
        return strips

    def _style_table(self) -> list[Style]:
        if self._styles is None:
            get = self.get_component_rich_style
            classes = [get(f"hex-view--{name}") for name in CLASS_NAMES]
            levels = [get(f"hex-view--changed-{level}") for level in (1, 2, 3)]
            cursor = get("hex-view--cursor")
            waited = get("hex-view--waited")
            match = get("hex-view--match")
            overlays = [Style(), *(Style(bgcolor=s.bgcolor) for s in levels), cursor, waited,
                        Style(bgcolor=match.bgcolor, bold=True)]  # fmt: skip
            self._styles = [cls + overlay for overlay in overlays for cls in classes]
        return self._styles

    def _match_gap(self) -> Style:
        return self._base + Style(bgcolor=self._style_table()[5 * MATCH].bgcolor)

    def _row_levels(self, row: int) -> tuple[int, ...]:
        """Each byte's overlay: MATCH in the search's match, else a change level (1..3), else
        WAITED for a waited-on word."""
        base, match = row * self._row_bytes, self._match
        if (
            not self._changed
            and not self._waited
            and not (match and match.start < base + self._row_bytes and base < match.stop)
        ):
            return ()
        now = self.clock()
        whens = [self._changed.get(base + col) for col in range(self._row_bytes)]
        levels = tuple(
            MATCH if base + col in match
            else fade_level(now - when) if when is not None and fade_level(now - when)
            else WAITED if base + col in self._waited else 0
            for col, when in enumerate(whens)
        )  # fmt: skip
        return levels if any(levels) else ()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = int(self.scroll_offset.x), int(self.scroll_offset.y)
        row, width = y + scroll_y, self.size.width
        if row >= self.row_count:
            return Strip.blank(width, self._base)
        data = self._rows.get(row)
        col = self.cursor - row * self._row_bytes
        key = (row, data, col if 0 <= col < self._row_bytes else -1, self._row_levels(row),
               self._row_bytes)  # fmt: skip
        strip = self._strips.get(key)
        if strip is None:
            strip = self._build_row(row, data, key[2], key[3])
            self._strips[key] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, self._base)

    def _build_row(self, row: int, data: bytes | None, cursor: int, levels: tuple[int, ...]
                   ) -> Strip:  # fmt: skip
        styles, base = self._style_table(), self._base
        divider = self.get_component_rich_style("hex-view--divider")
        size = self._row_bytes
        parts: list[tuple[str, Style]] = [
            (f"{row * size:0{self.digits}x}", self.get_component_rich_style("hex-view--offset")),
            (" │ ", divider),
        ]
        if data is None:
            parts.append(("unreadable", styles[NUL]))
            return _strip(parts)
        chosen = [
            styles[BYTE_CLASS[value] + 5 * (CURSOR if col == cursor else
                                             levels[col] if levels else 0)]
            for col, value in enumerate(data)
        ]  # fmt: skip
        joined = self._match_gap() if MATCH in levels else base
        for col in range(size):
            parts.append((HEX[data[col]], chosen[col]) if col < len(data) else ("  ", base))
            if col < size - 1:  # the gap inside a match is marked too: one block, not pieces
                inside = levels and levels[col] == MATCH == levels[col + 1]
                parts.append(
                    ("  " if col % GROUP == GROUP - 1 else " ", joined if inside else base)
                )
        parts.append((" │ ", divider))
        parts.extend((TEXT[value], chosen[col]) for col, value in enumerate(data))
        return _strip(parts)


def _strip(parts: list[tuple[str, Style]]) -> Strip:
    """One strip, with neighbouring parts of the same style merged into one segment."""
    segments: list[Segment] = []
    text, style = parts[0]
    for piece, piece_style in parts[1:]:
        if piece_style is style:
            text += piece
        else:
            segments.append(Segment(text, style))
            text, style = piece, piece_style
    segments.append(Segment(text, style))
    return Strip(segments, sum(len(piece) for piece, _ in parts))
