"""The hex view of a POSIX shm object or named semaphore: read with pread, never mmap.

The object is opened once, checked to be the one the row showed (device and inode), by
its /dev/shm name or, unlinked or of another mount, through a mapper's
/proc/PID/map_files or a holder's /proc/PID/fd (core/posix/content.py). A truncated
object reads short, never SIGBUS.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from shmtop.core.posix import content
from shmtop.core.posix.model import PosixObject, PosixSnapshot
from shmtop.text import posix_table
from shmtop.text.sanitize import safe_text
from shmtop.text.units import human_size
from shmtop.text.wait_pages import blocked_words_text
from shmtop.tui.probes import Probes
from shmtop.tui.screens.segment_view import HEX_LEGEND
from shmtop.tui.widgets.footer import KeyFooter
from shmtop.tui.widgets.hex_view import HexView

POLL_INTERVAL = 0.25  # seconds between re-reads of the rows on screen


def read_route(obj: PosixObject) -> str:
    """How the bytes are read, in words."""
    if obj.in_shm_dir:
        return f"pread on {safe_text(obj.path.decode('utf-8', 'replace'))} (never mapped)"
    return ("pread through a mapper's /proc/PID/map_files or a holder's /proc/PID/fd "
            "(never mapped)")  # fmt: skip


class PosixObjectScreen(Screen[None]):
    """A live, read-only hex view of one POSIX object."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark,f1", "app.help", "Help", id="posix-view.help"),
        Binding("escape,q", "close", "Close", id="posix-view.close"),
    ]
    AUTO_FOCUS = "#hex"
    REFRESHES = False  # it reads on its own
    HELP_TITLE = "the POSIX object's hex view"
    DEFAULT_CSS = """
    PosixObjectScreen #summary { height: 1; background: $primary 30%; text-style: bold;
                                 padding: 0 1; }
    PosixObjectScreen #read-path { height: 1; color: $text-accent; padding: 0 1; }
    PosixObjectScreen HexView { width: 1fr; height: 1fr; }
    PosixObjectScreen #error { height: 1fr; padding: 1 2; color: $text-error; }
    """

    def __init__(self, obj: PosixObject, scan: PosixSnapshot, namespace: int | None = None) -> None:
        """namespace: the inode of the other IPC namespace whose object this is (None: ours);
        its waiter scan, made inside it, marks the words its threads sleep on."""
        super().__init__()
        self.obj = obj
        self.scan = scan
        self.namespace = namespace
        # The app scans the caller's waiters for a view that wants them (another
        # namespace's are scanned inside it: namespace_views.inode_of).
        self.WANTS_WAITERS = namespace is None
        self._waited = ""  # "blocked on +0x0 (1 thread)", or ''
        self.error: str | None = None
        self.reader: content.ObjectReader | None = None
        try:
            self.reader = content.ObjectReader(obj)
        except content.Unreadable as error:
            self.error = safe_text(str(error))

    def compose(self) -> ComposeResult:
        yield Static(Text(self._summary()), id="summary")
        yield Static(Text(read_route(self.obj)), id="read-path")
        if self.reader is None:
            yield Static(Text(self.error or "cannot read the object"), id="error")
        else:
            yield HexView(self.reader, id="hex")
        yield KeyFooter()

    def _summary(self) -> str:
        obj = self.obj
        parts = [f"{obj.kind} {safe_text(obj.name)}", f"{human_size(obj.size)} ({obj.size} bytes)",
                 f"maps {len(obj.mapper_pids)}", posix_table.status(obj, self.scan)]  # fmt: skip
        if not obj.linked:
            parts.append("UNLINKED (still mapped or open)")
        if self._waited:
            parts.append(self._waited)
        return "  ".join(p for p in parts if p and p != "-")

    def show_probes(self, probes: Probes) -> None:
        """Mark the futex words threads are blocked on (a named semaphore's value, a
        process-shared mutex or unnamed semaphore inside a shm object): the waiters the
        refresh found on this object, by device and inode."""
        if self.namespace is not None:
            probes = probes.inside(self.namespace)
        if self.reader is None or probes.waits is None:
            return
        key = self.obj.key
        waiters = [w for w in probes.waits.waiters if w.futex is not None
                   and (w.futex.device, w.object_id) == key]  # fmt: skip
        self.query_one(HexView).mark_waited({w.futex.offset: 4 for w in waiters if w.futex})
        waited = blocked_words_text(waiters)
        if waited != self._waited:
            self._waited = waited
            self.query_one("#summary", Static).update(Text(self._summary()))

    def on_mount(self) -> None:
        if self.reader is not None:
            self.query_one(HexView).focus()
            self.set_interval(POLL_INTERVAL, self.query_one(HexView).poll)

    def on_unmount(self) -> None:
        if self.reader is not None:
            self.reader.close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return True

    def help_topics(self) -> list[tuple[str, list[str]]]:
        return [("Bytes", HEX_LEGEND[:3]), ("Reading", [f"  {read_route(self.obj)}"])]

    def action_close(self) -> None:
        self.dismiss(None)
