"""The segment view: a live, read-only hex viewer of one segment, pushed over any screen."""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar, Protocol, TypeVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Input, Static
from textual.worker import Worker, WorkerState, get_current_worker

from shmtop.core.binding import native
from shmtop.core.errors import GONE
from shmtop.core.model import SHM_DEST, Kind, Snapshot
from shmtop.core.segment.change_map import ChangeMap
from shmtop.core.segment.segment_reader import CannotRead, ReadPath, SegmentReader
from shmtop.core.snapshot.accounts import user_name
from shmtop.text import segment_scans as scans
from shmtop.text import view_input as typed
from shmtop.text.errors import cannot_read, object_error
from shmtop.text.inspect_values import BYTES_NEEDED
from shmtop.text.sanitize import safe_text
from shmtop.text.segment_scans import Outcome, Scan, attachers_line
from shmtop.text.units import hex_key, human_size, octal_perms
from shmtop.text.wait_pages import blocked_words_text
from shmtop.tui.finder import search_indicator
from shmtop.tui.probes import Probes
from shmtop.tui.typeahead import opener_actions, opens_input, typing_into_box
from shmtop.tui.widgets.change_strip import ChangeStrip
from shmtop.tui.widgets.data_inspector import DataInspector
from shmtop.tui.widgets.footer import KeyFooter
from shmtop.tui.widgets.hex_view import GUTTER, ROW_WIDTHS, HexView, fitting_bytes, row_layout

HEX_LEGEND = [
    "  offset | hex, 8 bytes a group | text (. for what cannot be shown)",
    "  colours: NUL dim, printable, whitespace green, other control, non-ASCII yellow",
    "  a red background: bytes that changed, fading over a few seconds",
    "  the strip below: where in the segment bytes changed (the frame: rows on screen)",
    "  w: 16, 32, 8 bytes a row or auto-fit; i: the data inspector (numbers at the cursor)",
]
POLL_INTERVAL = 0.25  # seconds between re-reads of the rows on screen
SWEEP_BUDGET = 0.02  # seconds of each poll the change map may spend reading
SCAN, SWEEP, ATTACHERS = "segment-scan", "segment-sweep", "segment-attachers"
T = TypeVar("T")


class Place(Protocol):
    """Where System V calls on the segment are made: a thread joined to its IPC namespace
    (core/namespaces/joined.py), for a segment of another namespace."""

    def run(self, call: Callable[..., T], *args: Any) -> T: ...

    def close(self) -> None: ...


class SegmentViewScreen(Screen[None]):
    """Shows one segment's bytes, re-read a few times a second; never writes to it."""

    # fmt: off
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "app.help", "Help", id="segment-view.help"),
        Binding("escape,q", "close", "Close", id="segment-view.close"),
        opens_input("g", "ask('goto')", "Go to", id="segment-view.goto"),
        opens_input("slash", "ask('search', 1)", "Search", id="segment-view.search"),
        opens_input("b", "ask('search', -1)", "Search back", show=False,
                    id="segment-view.search-back"),
        Binding("n,f3", "search_again(1)", "Next", id="segment-view.next"),
        Binding("N,shift+f3", "search_again(-1)", "Previous match", show=False,
                id="segment-view.previous"),
        Binding("right_square_bracket", "region(1)", "Next data", id="segment-view.next-region"),
        Binding("left_square_bracket", "region(-1)", "Previous data", show=False,
                id="segment-view.previous-region"),
        Binding("z", "freeze", "Freeze", id="segment-view.freeze"),
        Binding("w", "row_width", "Width", id="segment-view.width"),
        Binding("i", "inspector", "Inspector", id="segment-view.inspector"),
        Binding("p", "switch_path", "Read path", show=False, id="segment-view.read-path"),
        opens_input("s", "save", "Save", id="segment-view.export"),
    ]
    # fmt: on
    AUTO_FOCUS = "#hex"
    REFRESHES = False  # it reads on its own: the app's refresh keys are not its own
    HELP_TITLE = "the hex view"
    # Below this many columns the inspector shows only when asked for (i): 16 bytes a row
    # (76 columns) and the inspector's 56 both fit from here on.
    INSPECTOR_MIN_WIDTH = 132
    INSPECTOR_ROOM = 56  # the inspector's least width, with its border
    DEFAULT_CSS = """
    SegmentViewScreen #summary { height: 1; background: $primary 30%; color: $foreground;
                                 text-style: bold; padding: 0 1; }
    SegmentViewScreen #read-path { height: 1; color: $text-accent; padding: 0 1; }
    SegmentViewScreen #body { height: 1fr; }
    SegmentViewScreen HexView { width: 1fr; height: 1fr; }
    SegmentViewScreen #status { height: 1; padding: 0 1; color: $text-muted; }
    SegmentViewScreen #status.-error { color: $text-error; }
    SegmentViewScreen #error { height: 1fr; padding: 1 2; color: $text-error; }
    SegmentViewScreen #prompt { border: none; height: 1; padding: 0 1; background: $boost; }
    """

    def __init__(
        self, shmid: int, no_attach: bool = False, *, reader: SegmentReader | None = None,
        poll_interval: float = POLL_INTERVAL, sweep: bool = True, readonly: bool = False,
        place: Place | None = None, namespace: int | None = None, where: str = "",
    ) -> None:  # fmt: skip
        """place: a thread joined to the segment's IPC namespace (namespace: its inode,
        where: its name) when another's: the segment is attached and stat'ed there (the
        mapping is then ours, read from any thread)."""
        super().__init__()
        self.shmid = shmid
        self.place = place
        self.namespace = namespace
        self.where = where
        # --readonly writes no file either: a browser session of `shmtop serve` is anyone's
        # on this machine, and an export creates a file wherever it is told, as our user.
        self.readonly = readonly
        self.poll_interval = poll_interval
        self.sweep_enabled = sweep
        self.error: str | None = None
        self.gone = False
        self.reader = reader
        if reader is None and place is not None:
            try:
                self.reader = place.run(SegmentReader.attach, shmid)
            except CannotRead as error:
                self.error = cannot_read(error)
            except OSError as error:  # the namespace could not be joined (it ended)
                self.error = f"shm {shmid}: IPC namespace {where}: {error}"
        elif reader is None:
            try:
                self.reader = SegmentReader.open(shmid, no_attach=no_attach)
            except CannotRead as error:
                self.error = cannot_read(error)
        self.change_map = ChangeMap(self.reader.size) if self.reader else None
        self.stat: native.ShmStat | None = None
        self._identity: tuple[int, int] | None = None
        self._attachers = ""
        self._attachers_from_snapshots = False
        self._asking: tuple[str, int] = ("", 1)
        self._pattern: tuple[bytes, int] | None = None
        self._sweep_paused = threading.Event()
        self._lines: dict[str, str] = {}
        self._waited = ""  # the words threads are blocked on, for the summary line
        self._inspector_asked: bool | None = None  # i toggled it: the width decides no more

    # ---- layout ----

    def compose(self) -> ComposeResult:
        yield Static(id="summary")
        yield Static(id="read-path")
        if self.reader is None:
            yield Static(Text(self.error or "cannot read the segment"), id="error")
        else:
            with Horizontal(id="body"):
                yield HexView(self.reader, id="hex")
                yield DataInspector(id="inspector")
            yield ChangeStrip(id="changes")
        yield Static(id="status")
        prompt = Input(id="prompt")
        prompt.display = False  # shown only while asking
        yield prompt
        yield KeyFooter()

    @property
    def hex_view(self) -> HexView:
        return self.query_one(HexView)

    def on_mount(self) -> None:
        self._line("#summary", f"shm {self.shmid}")
        if self.reader is None:
            self.set_status(self.error or "", error=True)
            return
        self.hex_view.focus()
        self.set_interval(self.poll_interval, self.poll)
        self.poll()
        if self.sweep_enabled and not self.reader.touches_pages:
            self.sweep(self.reader)
        self.scan_attachers()

    def on_unmount(self) -> None:
        self.workers.cancel_node(self)
        if self.reader is not None:
            self.reader.close()  # shmdt from here: the mapping is this process's
        if self.place is not None:
            self.place.close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if typing_into_box(self, action, OPENERS):
            return False
        if action == "close":
            return True
        if self.reader is None:
            return action == "help"
        return None if self.why_not(action) else True

    def why_not(self, action: str) -> str | None:
        if self.gone and action in ("switch_path", "save", "freeze"):
            return f"shm {self.shmid} is gone: only the last bytes read are shown"
        if self.readonly and action == "save":
            return "read-only (--readonly): no file is saved"
        return None

    def say(self, note: str) -> None:
        self.set_status(note)

    def help_topics(self) -> list[tuple[str, list[str]]]:
        return [("Bytes", HEX_LEGEND), ("Prompts", [
            f"  g  {typed.OFFSET_HELP}", f"  /  b  {typed.PATTERN_HELP}",
            f"  s  {typed.EXPORT_HELP}",
        ])]  # fmt: skip

    def set_status(self, message: str, *, error: bool = False) -> None:
        """The status line: the last answer, then the search the keys repeat (if any)."""
        if self._pattern is not None:
            searched = search_indicator(self._pattern[0].decode("utf-8", errors="replace"))
            message = "  •  ".join(filter(None, [message, searched]))
        self._line("#status", message).set_class(error, "-error")

    def _line(self, selector: str, text: str) -> Static:
        """Put text (never markup) in a one-line Static, skipping the work if it is unchanged."""
        line = self.query_one(selector, Static)
        if self._lines.get(selector) != text:
            self._lines[selector] = text
            line.update(Text(text), layout=False)  # fixed height: no layout pass needed
        return line

    # ---- live ----

    def poll(self) -> None:
        """Check the segment is still there, re-read the rows on screen, refresh the panels."""
        if self.reader is None:
            return
        if not self.gone:
            self._check_segment()
        self.hex_view.poll()
        self._show_inspector()
        self._show_changes()
        self._show_path()

    def _check_segment(self) -> None:
        try:  # in the segment's IPC namespace: the id names its segment there
            stat = self._in_place(native.shm_stat, self.shmid)
        except OSError as error:
            if error.errno in GONE:
                self._segment_gone()
            else:
                self.set_status(
                    object_error(error.errno, "shm", self.shmid, str(error)), error=True
                )
            return
        identity = (stat.cpid, stat.size)
        if self._identity is not None and identity != self._identity:
            self._segment_gone()  # the id now names another segment
            return
        self._identity = identity
        before, self.stat = self.stat, stat
        if before is not None and before.nattch != stat.nattch:
            self.scan_attachers()
        if stat.mode & SHM_DEST and (before is None or not before.mode & SHM_DEST):
            self.set_status(self._dest_note(), error=True)
        self._show_summary()

    def _in_place(self, call: Callable[..., T], *args: Any) -> T:
        return call(*args) if self.place is None else self.place.run(call, *args)

    def _dest_note(self) -> str:
        note = "marked for destruction (IPC_RMID): it goes when its last process detaches"
        if self.reader is not None and self.reader.path is ReadPath.ATTACH:
            return note + "; this view's attachment keeps it until you close the view"
        return note + "; then this view stops. p attaches (nattch +1) to keep reading it"

    def _segment_gone(self) -> None:
        self.gone, self._attachers = True, ""
        if self.reader is not None:
            self.reader.close()
        self.hex_view.frozen = True
        self._sweep_paused.set()
        self.set_status(
            f"shm {self.shmid} no longer exists (removed, and its last process detached): "
            "showing the last bytes read", error=True,
        )  # fmt: skip
        self._show_summary()
        self.refresh_bindings()

    def show_probes(self, probes: Probes) -> None:
        """Mark the futex words threads are blocked on (the app scans waiters for this view)."""
        if self.namespace is not None:  # its namespace's scan: ids there are its own
            probes = probes.inside(self.namespace)
        if self.reader is None or self.gone or probes.waits is None:
            return
        waiters = [w for w in probes.waits.on(Kind.SHM, self.shmid) if w.futex is not None]
        self.hex_view.mark_waited({w.futex.offset: 4 for w in waiters if w.futex is not None})
        waited = blocked_words_text(waiters)
        if waited != self._waited:
            self._waited = waited
            self._show_summary()

    def _show_summary(self) -> None:
        parts = [f"shm {self.shmid}"]
        if self.stat is not None:
            s = self.stat
            parts += [f"key {hex_key(s.key)}", f"{human_size(s.size)} ({s.size} bytes)",
                      f"perms {octal_perms(s.mode & 0o777)}",
                      f"owner {safe_text(user_name(s.uid))}", f"nattch {s.nattch}"]  # fmt: skip
            if s.mode & SHM_DEST:
                parts.append("DEST")
        if self.where:  # after the figures: at 80 columns they come first
            parts.append(f"in IPC namespace {self.where}")
        if self._waited and not self.gone:
            parts.append(self._waited)
        if self.gone:
            parts.append("GONE")
        elif self.hex_view.frozen:
            parts.append("FROZEN (z resumes)")
        self._line("#summary", "  ".join(parts))

    def _show_path(self) -> None:
        how = "not reading: the segment is gone" if self.gone or self.reader is None else (
            self.reader.describe())  # fmt: skip
        attached = f"  |  attached: {self._attachers}" if self._attachers else ""
        self._line("#read-path", how + attached)

    def _show_inspector(self) -> None:
        view = self.hex_view
        try:
            data = view.peek(view.cursor, min(BYTES_NEEDED, view.length - view.cursor))
        except OSError:
            data = b""
        self.query_one(DataInspector).show(view.cursor, data)

    def _show_changes(self) -> None:
        if self.change_map is None:
            return
        view = self.hex_view
        top = int(view.scroll_offset.y) * view.row_bytes
        bottom = top + view.scrollable_content_region.height * view.row_bytes
        note = "frozen" if view.frozen else ""
        if self.reader is not None and self.reader.touches_pages:
            note = "rows on screen only (a whole-segment sweep needs root)"
        length = max(view.length, 1)
        self.query_one(ChangeStrip).show(
            self.change_map.changed_at(), (top / length, min(bottom, length) / length), note
        )

    @on(HexView.CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_inspector()

    @on(HexView.BytesChanged)
    def _bytes_changed(self, message: HexView.BytesChanged) -> None:
        if self.change_map is not None:
            for offset in message.offsets:
                self.change_map.mark(offset)
            self._show_changes()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Called by the main app with each snapshot: its attachments name the viewer's own."""
        segment = snapshot.segment(self.shmid)
        if segment is not None:
            self._attachers_from_snapshots = True
            self._attachers = scans.attachers_of(segment)

    # ---- workers ----

    @work(thread=True, group=SWEEP, exclusive=True, exit_on_error=False)
    def sweep(self, reader: SegmentReader) -> None:
        """Keep the change map going through the whole segment, a time budget a poll."""
        worker, change_map = get_current_worker(), self.change_map
        assert change_map is not None
        while not worker.is_cancelled:
            if not self._sweep_paused.is_set():
                try:
                    change_map.sweep(reader, SWEEP_BUDGET)
                except OSError:
                    return  # the reader was closed: the view moved on
            worker.cancelled_event.wait(self.poll_interval)

    @work(thread=True, group=ATTACHERS, exclusive=True, exit_on_error=False)
    def scan_attachers(self) -> str:
        """Who maps the segment, as one line (unless the main app's snapshots tell)."""
        if self._attachers_from_snapshots or self.place is not None:
            return self._attachers  # another namespace's: its snapshots alone tell (ids repeat)
        return attachers_line(self.shmid)

    def run_scan(self, scan: Scan) -> None:
        """Run a scan of the segment in a thread, one at a time; its outcome lands in poll."""
        self.set_status(f"{scan.what}... (Esc cancels)")

        def run() -> Outcome:
            worker, started = get_current_worker(), time.perf_counter()
            result = scan.job(lambda: worker.is_cancelled)
            return scan.done(result, time.perf_counter() - started)

        self.run_worker(run, name=scan.what, group=SCAN, thread=True, exclusive=True,
                        exit_on_error=False)  # fmt: skip

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker, state = event.worker, event.state
        if worker.group == ATTACHERS and state is WorkerState.SUCCESS:
            self._attachers = str(worker.result)
            self._show_path()
        if worker.group != SCAN:
            return
        if state is WorkerState.SUCCESS and isinstance(worker.result, Outcome):
            if worker.result.match is not None:  # a search: its whole match marked
                self.hex_view.mark_match(worker.result.goto or 0, worker.result.match)
            if worker.result.goto is not None:
                self.hex_view.goto(worker.result.goto)
            self.set_status(worker.result.message, error=worker.result.error)
        elif state is WorkerState.ERROR:
            self.set_status(f"{worker.name} failed: {worker.error}", error=True)
        elif state is WorkerState.CANCELLED:
            self.set_status(f"{worker.name}: cancelled")

    # ---- keys ----

    def action_close(self) -> None:
        prompt = self.query_one("#prompt", Input)
        if prompt.display:
            self._close_prompt()
        elif any(w.group == SCAN and not w.is_finished for w in self.workers):
            self.workers.cancel_group(self, SCAN)
        else:
            self.dismiss(None)

    def action_save(self) -> None:
        if self.readonly:
            return  # check_action greys it out; an action run by name is refused here too
        self.action_ask("export")

    def action_ask(self, kind: str, direction: int = 1) -> None:
        if kind == "export" and self.readonly:
            return
        prompt = self.query_one("#prompt", Input)
        hints = {"goto": f"go to offset: {typed.OFFSET_HELP}",
                 "search": f"search {'forward' if direction > 0 else 'back'}: {typed.PATTERN_HELP}",
                 "export": f"save: {typed.EXPORT_HELP}"}  # fmt: skip
        self._asking = (kind, direction)
        prompt.placeholder = hints[kind]
        prompt.value = f"shm-{self.shmid}.bin" if kind == "export" else ""
        prompt.display = True
        self.set_focus(prompt)  # now: the next key may already be on its way (typeahead.py)

    def _close_prompt(self) -> None:
        self.query_one("#prompt", Input).display = False
        self.set_focus(self.hex_view)

    @on(Input.Submitted, "#prompt")
    def _answered(self, event: Input.Submitted) -> None:
        (kind, direction), view, reader = self._asking, self.hex_view, self.reader
        assert reader is not None
        self._close_prompt()
        try:
            if kind == "goto":
                view.goto(typed.parse_offset(event.value, view.cursor, view.length))
                self.set_status(f"at {view.cursor:#x}")
            elif kind == "search":
                self._pattern = (typed.parse_pattern(event.value), direction)
                self.run_scan(scans.search(reader, self._pattern[0], view.cursor, direction))
            elif kind == "export":
                request = typed.parse_export(event.value, view.cursor, view.length)
                self.run_scan(scans.export(reader, request))
        except ValueError as error:
            self.set_status(str(error), error=True)

    def action_search_again(self, direction: int) -> None:
        if self._pattern is None:
            self.set_status("nothing searched yet: / searches forward, b back", error=True)
            return
        assert self.reader is not None
        pattern, first = self._pattern
        self.run_scan(scans.search(self.reader, pattern, self.hex_view.cursor, first * direction))

    def action_region(self, direction: int) -> None:
        assert self.reader is not None
        self.run_scan(scans.region(self.reader, self.hex_view.cursor, direction))

    def action_freeze(self) -> None:
        view = self.hex_view
        view.frozen = not view.frozen
        if view.frozen:
            self._sweep_paused.set()
        else:
            self._sweep_paused.clear()
        self._show_summary()
        self._show_changes()

    def action_row_width(self) -> None:
        view = self.hex_view
        at = ROW_WIDTHS.index(view.row_setting) if view.row_setting in ROW_WIDTHS else -1
        view.row_setting = ROW_WIDTHS[(at + 1) % len(ROW_WIDTHS)]
        note = f"{view.row_setting or 'auto-fit: ' + str(view.row_bytes)} bytes a row"
        inspector = self.query_one(DataInspector)
        if view.row_setting and inspector.display and not self._inspector_asked:
            needed = row_layout(view.row_setting, view.digits)[2] + GUTTER
            if self.size.width - self.INSPECTOR_ROOM < needed:
                inspector.display = False  # the bytes first: i brings it back
                note += " (the inspector makes room: i shows it)"
        self._fit_panes()
        self.set_status(note)

    def action_inspector(self) -> None:
        inspector = self.query_one(DataInspector)
        self._inspector_asked = not inspector.display
        inspector.display = self._inspector_asked
        self._fit_panes()

    def on_resize(self) -> None:
        """The inspector shows by itself only where the bytes keep their room."""
        if self.reader is not None and self._inspector_asked is None:
            wide = self.size.width >= self.INSPECTOR_MIN_WIDTH
            self.query_one(DataInspector).display = wide
        self._fit_panes()

    def _fit_panes(self) -> None:
        """The hex view as wide as its rows (as many bytes as fit, when auto), the inspector
        the rest (56 columns or more); without the inspector the rows have it all."""
        if self.reader is None:
            return
        view, inspector = self.hex_view, self.query_one(DataInspector)
        if not inspector.display:
            view.styles.width = "1fr"
            return
        room = self.size.width - self.INSPECTOR_ROOM - GUTTER
        row_bytes = view.row_setting or fitting_bytes(room, view.digits)
        view.styles.width = row_layout(row_bytes, view.digits)[2] + GUTTER

    def action_switch_path(self) -> None:
        """Attached read-only <-> through another process's mapping (counters untouched)."""
        old = self.reader
        assert old is not None
        try:
            if old.path is ReadPath.ATTACH:
                # Another namespace's: its mappers only, the size stat'ed inside it.
                through = functools.partial(SegmentReader.through_process,
                                            namespace=self.namespace)  # fmt: skip
                new = self._in_place(through, self.shmid)
            else:
                new = self._in_place(SegmentReader.attach, self.shmid)
        except CannotRead as error:
            self.set_status(cannot_read(error), error=True)
            return
        except OSError as error:  # the namespace's joined thread is gone (it ended)
            self.set_status(f"shm {self.shmid}: IPC namespace {self.where}: {error}", error=True)
            return
        self.workers.cancel_group(self, SWEEP)
        self.reader = new
        self.hex_view.source = new
        self.hex_view.forget()
        old.close()
        if self.sweep_enabled and not new.touches_pages:
            self.sweep(new)
        self.set_status(f"now {new.describe()}")
        self._show_path()
        self.scan_attachers()


OPENERS = opener_actions(SegmentViewScreen.BINDINGS)
