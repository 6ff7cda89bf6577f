"""The semaphore set view: each semaphore's value, counts, last changer and history; its waiters."""

from __future__ import annotations

from collections import deque

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from shmtop.core.model import Kind, SemaphoreSet, Snapshot
from shmtop.core.snapshot.procs import alive_since
from shmtop.text import glossary
from shmtop.text.process_names import pid_note, process_label, process_name
from shmtop.text.report import semaphore_detail
from shmtop.text.sparkline import sparkline
from shmtop.tui.screens.waiter_screen import WaiterScreen
from shmtop.tui.widgets.alert_banner import AlertBanner
from shmtop.tui.widgets.footer import KeyFooter
from shmtop.tui.widgets.keyed_table import KeyedTable

SPARK_WIDTH = 32  # the recent values drawn; the range covers every value seen
CHANGER_WIDTH = 24  # of the last changer's name, in its 40 columns
COLUMNS: tuple[tuple[str, str, int | None], ...] = (
    ("num", "NUM", 5),
    ("value", "VALUE", 7),
    ("ncnt", "NCNT", 5),
    ("zcnt", "ZCNT", 5),
    ("changer", "LAST CHANGED BY (a hint, not a holder)", 40),
    ("history", "RECENT VALUES  low..high since the view opened", None),
)


def last_changer(snapshot: Snapshot, sem_set: SemaphoreSet, pid: int) -> str:
    """'4300 (producer) running', '4300 (gone)', or '-' when no process ever changed it.

    A process that started after the set's last change cannot have made it:
    its PID was reused, and the changer is gone.
    """
    if not pid:
        return "-"
    process = snapshot.processes.get(pid)
    if process is None:
        return process_label(pid, None, None)
    if not alive_since(process, max(sem_set.otime, sem_set.ctime)):
        now_names = process_name(process.command, process.title, CHANGER_WIDTH - 4)
        return pid_note(pid, f"gone; the PID now names {now_names}")
    return f"{process_label(pid, process.command, process.title, CHANGER_WIDTH)} running"


class ValueHistory:
    """One semaphore's values since the view opened: the recent ones, and the extremes of all."""

    def __init__(self) -> None:
        self.recent: deque[int] = deque(maxlen=SPARK_WIDTH)
        self.samples = 0
        self.low = self.high = 0

    def add(self, value: int) -> None:
        self.low = min(self.low, value) if self.samples else value
        self.high = max(self.high, value) if self.samples else value
        self.recent.append(value)
        self.samples += 1

    def cell(self) -> str:
        """A sparkline of the recent values, and the range of all of them once they moved."""
        spark = sparkline([float(v) for v in self.recent], SPARK_WIDTH)
        return (
            spark if self.low == self.high else f"{spark:<{SPARK_WIDTH}}  {self.low}..{self.high}"
        )


class SemaphoreSetScreen(WaiterScreen):
    """One set, live: semaphores on top, the threads blocked on them below."""

    KIND = Kind.SEM
    NOUN = "set"
    HELP_TITLE = "the semaphore set view"
    DEFAULT_CSS = """
    SemaphoreSetScreen #semaphores { height: auto; max-height: 60%; }
    SemaphoreSetScreen #unreadable { height: auto; padding: 0 1; color: $text-error;
                                     display: none; }
    SemaphoreSetScreen #unreadable.-on { display: block; }
    """

    def __init__(
        self, semid: int, snapshot: Snapshot | None, *, readonly: bool = False,
        labels: tuple[str, ...] = (), namespace: int | None = None, where: str = "",
    ) -> None:  # fmt: skip
        super().__init__(semid, snapshot, readonly=readonly, namespace=namespace, where=where)
        self.labels = labels  # what each semaphore counts, when known (the demo's sets)
        self.history: dict[int, ValueHistory] = {}
        self.sem_set: SemaphoreSet | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(f"sem {self.ident}"), id="summary")
        yield Static(id="facts")
        yield AlertBanner(id="alerts")
        yield Static(Text("Semaphores"), classes="section")
        columns = COLUMNS
        if self.labels:  # the number and what it counts: "1 empty slots"
            width = 2 + max(len(label) for label in self.labels) + len(str(len(self.labels)))
            columns = (("num", "NUM", max(width, 5)), *COLUMNS[1:])
        yield KeyedTable(columns, id="semaphores")
        yield Static(id="unreadable")
        yield from self.compose_waiters()
        yield from self.compose_status()
        yield KeyFooter()

    def on_mount(self) -> None:
        if self.first_snapshot is not None:
            self.show_snapshot(self.first_snapshot)

    def help_topics(self) -> list[tuple[str, list[str]]]:
        pairs = [(header, glossary.SEMAPHORE_COLUMNS[key]) for key, header, _ in COLUMNS]
        return [("Semaphores", glossary.described_lines(pairs)), *super().help_topics()]

    @property
    def semaphores(self) -> KeyedTable:
        return self.query_one("#semaphores", KeyedTable)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if self.gone:
            return
        found = snapshot.semaphore_set(self.ident)
        if found is None:
            self.mark_gone(snapshot)
            return
        self.sem_set = found
        header = semaphore_detail(snapshot, found)
        self.query_one("#summary", Static).update(Text(header[0]))
        self.query_one("#facts", Static).update(self.facts(header[1:3]))
        unreadable = self.query_one("#unreadable", Static)
        unreadable.set_class(found.semaphores is None, "-on")
        self.semaphores.display = found.semaphores is not None
        if found.semaphores is None:
            unreadable.update(
                Text(f"values unreadable ({found.unreadable}): values, counts and last changers "
                     "need read permission on the set")
            )  # fmt: skip
            return
        rows = {}
        for sem in found.semaphores:
            history = self.history.setdefault(sem.num, ValueHistory())
            history.add(sem.value)
            label = self.labels[sem.num] if sem.num < len(self.labels) else ""
            rows[str(sem.num)] = (
                f"{sem.num} {label}".rstrip(), str(sem.value), str(sem.ncnt), str(sem.zcnt),
                last_changer(snapshot, found, sem.pid), history.cell(),
            )  # fmt: skip
        self.semaphores.sync(rows)
