"""Which processes ran, appeared or vanished since the last look, and whether that is known.

A steady snapshot reads again only what may have changed. A task that did not run changed
nothing itself (its schedstat did not move), so a consumer asks refresh() for the processes
that ran, appeared or vanished since its previous refresh, and whether that evidence is
complete (when it is not, the consumer reads everything, as on a first look). The semaphore
reader also wants the System V sets the tasks that ran sleep or slept in (their ncnt and
zcnt may have moved): binding/activity_helpers.c says why those, with otime and ctime, are
all that can have. One TaskActivity a consumer (each has its own "since"), one caller at a
time.
"""

from __future__ import annotations

import os
import resource
from collections import Counter
from collections.abc import Mapping

import msgspec

from shmtop.core.binding import native
from shmtop.core.snapshot import visibility

# The initial pid namespace's inode (a constant of the kernel: PROC_PID_INIT_INO).
INITIAL_PID_NAMESPACE = "pid:[4026531836]"
MAX_KEPT_FILES = 8192
FD_SETSIZE = 1024
MAX_SKIPPED = 128  # calls refresh_if_worth skips at most after incomplete evidence


class Activity(msgspec.Struct, frozen=True, gc=False):
    """What ran since the previous refresh. complete False: the sets below may miss some
    (then why says what was missing), and a consumer must read everything. (A Struct, not
    a dataclass: dataclasses imports inspect, 20 ms of every one-shot command.)"""

    ran: frozenset[int]  # processes one of whose threads ran, appeared or ended
    appeared: frozenset[int]
    vanished: frozenset[int]
    complete: bool
    why: str | None = None
    semids: frozenset[int] = frozenset()  # sets a task that ran sleeps or slept in
    # semid: how many tasks were seen asleep in it (tasks of another IPC namespace left out
    # when theirs is known: a semid names a set of its own namespace only)
    sleepers: Mapping[int, int] = msgspec.field(default_factory=dict)
    # Whether ran, appeared and vanished name every process of our /proc view that may have
    # changed, even where complete is False for the semaphores: a task whose schedstat
    # cannot be read is told as ran at every refresh, and a pid namespace view, a syscall
    # file or a cap matter to the waits only. False on a first look, with sched_info off or
    # out of memory. (Maps and fds of a process that did not run: core/posix/carry.py.)
    processes_known: bool = False
    # The tgids this refresh found listing /proc (ascending; None: it listed none): what a
    # snapshot of the same round takes as every process, rather than list /proc again.
    pids: tuple[int, ...] | None = None

    @property
    def changed(self) -> frozenset[int]:
        """Every process that ran, appeared or vanished."""
        return self.ran | self.appeared | self.vanished


def merged(earlier: Activity, later: Activity) -> Activity:
    """What ran since the refresh before earlier: for a consumer whose snapshot failed
    after earlier's refresh (what it told would be lost, the next refresh answering
    "since earlier"). The sleepers are later's: they are what the tasks do now."""
    return Activity(
        earlier.ran | later.ran, earlier.appeared | later.appeared,
        earlier.vanished | later.vanished, earlier.complete and later.complete,
        earlier.why or later.why, earlier.semids | later.semids, later.sleepers,
        earlier.processes_known and later.processes_known, later.pids,
    )  # fmt: skip


def _outside_view() -> str | None:
    """Why some tasks may be missing from our /proc (None: we see every task)."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return "our pid namespace is unknown"
    if namespace != INITIAL_PID_NAMESPACE:
        return "not in the initial pid namespace"  # tasks outside our view could wait
    if visibility.processes_hidden():
        return "/proc hides processes"
    return None


# SHMTOP_SEM_COUNT_SKIP=0: read every semaphore's ncnt and zcnt, as before issue 14.
SKIP_VARIABLE = "SHMTOP_SEM_COUNT_SKIP"
# SHMTOP_ACTIVITY_VOUCHED=1,2: processes whose syscall files are closed even to root (a
# sandbox's own init, say) that the operator knows wait on none of the sets shmtop reads.
# Without it any such process that runs makes the evidence incomplete.
VOUCHED_VARIABLE = "SHMTOP_ACTIVITY_VOUCHED"


def count_skip_enabled() -> bool:
    """Whether semaphore counts may be kept from task evidence (SKIP_VARIABLE)."""
    return os.environ.get(SKIP_VARIABLE, "1") != "0"


def vouched_from_environment() -> frozenset[int]:
    """The pids VOUCHED_VARIABLE names (words that are no pid are ignored)."""
    words = os.environ.get(VOUCHED_VARIABLE, "").replace(",", " ").split()
    return frozenset(int(word) for word in words if word.isdigit())


def kept_files() -> tuple[int, int]:
    """(how many schedstat files to keep open, the lowest fd for them). A kept one reads
    three to five times cheaper (activity_helpers.c); they go in the upper half of our fd
    limit, above every number select() takes (FD_SETSIZE) and the files we open (which get
    the lowest free numbers). None under a limit of 2048 or less (a common 1024)."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    floor = max(FD_SETSIZE, soft // 2)
    return max(0, min(MAX_KEPT_FILES, soft - floor - 64)) if soft > 2 * FD_SETSIZE else 0, floor


class TaskActivity:
    """refresh() again and again, each answering "since the previous one".

    semops: also learn which semaphore sets the tasks that ran sleep in (one syscall
    file each; past max_reads of them the evidence is incomplete: reading every
    count is then cheaper). vouched: processes whose unreadable syscall files do not
    make that evidence incomplete (VOUCHED_VARIABLE). ipc_namespace: the inode of the
    namespace whose sets are read (its sleepers are those that count)."""

    def __init__(
        self, semops: bool = False, vouched: frozenset[int] = frozenset(), ipc_namespace: int = 0
    ) -> None:
        self._semops = semops
        self._namespace = ipc_namespace  # of the sets (0: unknown, every sleeper counts)
        self._backoff = self._skipping = 0  # refresh_if_worth's
        self._vouched = vouched
        self._table = native.TaskTable()
        self._outside = _outside_view()  # neither changes while we run
        self._kept_files = kept_files()

    def refresh(self, max_reads: int = 1 << 30) -> Activity:
        """What ran since the previous refresh (the first one is never complete)."""
        reason, events, semids = self._table.refresh(
            self._semops, max_reads, self._kept_files, self._vouched
        )
        listed = self._table.listed()
        ran: set[int] = set()
        appeared: set[int] = set()
        vanished: set[int] = set()
        for tgid, flags in zip(events[0::2], events[1::2], strict=True):
            if flags & native.TaskTable.GONE:
                vanished.add(tgid)
            elif flags & native.TaskTable.NEW:
                appeared.add(tgid)
            else:
                ran.add(tgid)
        sleepers: Counter[int] = Counter()
        if self._semops and reason == 0:
            pairs = self._table.sleepers()
            for semid, namespace in zip(pairs[0::2], pairs[1::2], strict=True):
                if not namespace or not self._namespace or namespace == self._namespace:
                    sleepers[semid] += 1
        why = self._outside or (
            native.TaskTable.REASONS.get(reason, str(reason)) if reason else None
        )
        return Activity(
            frozenset(ran), frozenset(appeared), frozenset(vanished), why is None, why,
            frozenset(semids), sleepers, reason not in native.TaskTable.TOLD_NOTHING,
            None if listed is None else tuple(listed),
        )  # fmt: skip

    def close(self) -> None:
        """Close the files the table keeps open; the next refresh is a first look."""
        self._table.close()

    def refresh_if_worth(self, max_reads: int = 1 << 30) -> Activity | None:
        """refresh(), or None without looking while the evidence keeps being incomplete:
        after each incomplete refresh (but the first) twice as many calls are skipped, up
        to MAX_SKIPPED; a complete one starts again at every call. A skipped look loses
        nothing: the next one answers since the previous one. Never looks when some tasks
        are outside our view (that will not change)."""
        if self._outside is not None:
            return None
        if self._skipping > 0:
            self._skipping -= 1
            return None
        report = self.refresh(max_reads)
        if report.complete or report.why == native.TaskTable.REASONS[native.TaskTable.FIRST]:
            self._backoff = 0
        else:
            self._backoff = min(MAX_SKIPPED, max(1, 2 * self._backoff))
            self._skipping = self._backoff
        return report

    @property
    def tasks(self) -> int:
        """How many tasks the last refresh knew."""
        return self._table.tasks
