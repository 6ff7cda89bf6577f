"""Usage meters against the kernel limits, each with a sparkline of its recent history."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widget import Widget

from shmtop.core.model import Limits
from shmtop.core.posix.limits import PosixLimits
from shmtop.core.posix.model import SHM_DIR
from shmtop.text.sparkline import sparkline
from shmtop.text.units import human_size

HISTORY = 60
SPARK_WIDTH = 12
MIN_SPARK = 4  # a caption is dropped rather than leave the sparkline fewer cells
MIN_BAR = 4
BAR_EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")  # a cell's left 0/8 .. 7/8

Figure = Callable[[Limits], int]

# (id, label, used, limit) for each meter.
METERS: tuple[tuple[str, str, Figure, Figure], ...] = (
    ("segments", "Segments", lambda lim: lim.shm_segments, lambda lim: lim.shmmni),
    ("pages", "SHM pages", lambda lim: lim.shm_pages, lambda lim: lim.shmall),
    ("sets", "Sem sets", lambda lim: lim.sem_sets, lambda lim: lim.semmni),
    ("semaphores", "Semaphores", lambda lim: lim.sem_semaphores, lambda lim: lim.semmns),
    ("queues", "Queues", lambda lim: lim.msg_queues, lambda lim: lim.msgmni),
)
# A meter whose sparkline follows another figure than its bar, with the caption drawn
# before it. The number of queues rarely moves (not at all in the demo, which makes
# no objects after it starts); the messages queued in all of them are what moves.
SPARKS: dict[str, tuple[str, Figure]] = {
    "queues": ("msgs", lambda lim: lim.msg_messages),
}


def bar_cells(used: int, limit: int, width: int) -> tuple[str, int]:
    """The filled part of a `width`-cell bar, in eighths of a cell, and how many cells it
    takes. Any usage above zero shows (at least one eighth: 0.07 % is a sliver, not a
    full block), and only a full resource fills the bar."""
    if used <= 0 or limit <= 0 or width <= 0:
        return "", 0
    eighths = width * 8
    filled = max(1, min(eighths, round(used / limit * eighths)))
    if used < limit:
        filled = min(filled, eighths - 1)
    full, part = divmod(filled, 8)
    return "█" * full + BAR_EIGHTHS[part], full + (1 if part else 0)


def compact_count(value: int) -> str:
    """12, 4.1k, 1.0M...; '∞' for the kernel's effectively unlimited values."""
    if value >= 10**15:
        return "∞"
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if value >= 10 * size:
            return f"{value / size:.0f}{unit}"
    return str(value)


class UsageMeter(Widget):
    """'Label used/limit ▕███░░░▏ ▁▂▅' fitted to its width; the bar turns red past 80%."""

    COMPONENT_CLASSES = {
        "usage-meter--label",
        "usage-meter--bar",
        "usage-meter--empty",
        "usage-meter--high",
        "usage-meter--spark",
    }
    DEFAULT_CSS = """
    UsageMeter { height: 1; }
    UsageMeter > .usage-meter--label { color: $text-muted; }
    UsageMeter > .usage-meter--bar { color: $success; }
    UsageMeter > .usage-meter--empty { color: $foreground 20%; }
    UsageMeter > .usage-meter--high { color: $error; }
    UsageMeter > .usage-meter--spark { color: $accent; }
    """

    def __init__(
        self, label: str, *, caption: str = "", id: str | None = None,
        count: Callable[[int], str] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(id=id)
        self.label = label
        self.caption = f"{caption} " if caption else ""  # what the sparkline follows
        self.count = count or compact_count  # how used and limit are written
        self.used = 0
        self.limit = 0
        self.history: deque[float] = deque(maxlen=HISTORY)

    def set_usage(self, used: int, limit: int, spark: int | None = None) -> None:
        """The bar's figures, and the sparkline's (None: the used count)."""
        self.used, self.limit = used, limit
        self.history.append(float(used if spark is None else spark))
        self.refresh()

    def render(self) -> Text:
        style = self.get_component_rich_style
        counts = f" {self.count(self.used)}/{self.count(self.limit)} "
        # The bar keeps MIN_BAR cells; the sparkline takes up to SPARK_WIDTH of the rest
        # (narrower rather than cropped away at 80 columns), the bar whatever is left.
        room = self.size.width - len(self.label) - len(counts) - 1
        caption = self.caption if room - MIN_BAR - len(self.caption) >= MIN_SPARK else ""
        spark_width = max(0, min(SPARK_WIDTH, room - MIN_BAR - len(caption)))
        spark = sparkline(list(self.history), spark_width)
        bar_width = max(MIN_BAR, room - spark_width - len(caption))
        share = self.used / self.limit if self.limit > 0 else 0.0
        bar, filled = bar_cells(self.used, self.limit, bar_width)
        bar_class = "usage-meter--high" if share >= 0.8 else "usage-meter--bar"
        return Text.assemble(
            (self.label, style("usage-meter--label")),
            counts,
            (bar, style(bar_class)),
            ("░" * (bar_width - filled), style("usage-meter--empty")),
            " ",
            (caption, style("usage-meter--label")),
            (spark, style("usage-meter--spark")),
            no_wrap=True,
            overflow="crop",
        )


class UsageMeters(Grid):
    """The header block: one meter a resource, fed each snapshot's limits."""

    DEFAULT_CSS = """
    UsageMeters { height: auto; grid-size: 3; grid-rows: 1; grid-gutter: 0 2; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        for key, label, _used, _limit in METERS:
            caption = SPARKS[key][0] if key in SPARKS else ""
            yield UsageMeter(label, caption=caption, id=f"meter-{key}")
        # The POSIX kinds' (show_posix): queues against fs.mqueue.queues_max, /dev/shm's room.
        # Hidden until a POSIX scan comes (an app without a POSIX feed shows none).
        for meter in (UsageMeter("POSIX mq", id="meter-pmq"),
                      UsageMeter("/dev/shm", id="meter-devshm", count=_bytes)):  # fmt: skip
            meter.display = False
            yield meter

    def show_posix(self, limits: PosixLimits) -> None:
        mq = limits.mqueue
        if mq.queues is not None and mq.queues_max is not None:
            meter = self.query_one("#meter-pmq", UsageMeter)
            meter.display = True
            meter.set_usage(mq.queues, mq.queues_max)
        shm_dir = next((fs for fs in limits.filesystems if fs.problem is None
                        and fs.mount_point == SHM_DIR), None)  # fmt: skip
        if shm_dir is not None:
            meter = self.query_one("#meter-devshm", UsageMeter)
            meter.display = True
            meter.set_usage(shm_dir.used, shm_dir.size)

    def show(self, limits: Limits) -> None:
        for key, _label, used_of, limit_of in METERS:
            meter = self.query_one(f"#meter-{key}", UsageMeter)
            spark = SPARKS[key][1](limits) if key in SPARKS else None
            meter.set_usage(used_of(limits), limit_of(limits), spark)


def _bytes(count: int) -> str:
    return human_size(count)
