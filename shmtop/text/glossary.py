"""What the words of the tables mean: each status word once, for every help screen.

The filter language (shmtop.text.filtering) takes these same words as terms; a test
checks that every word it takes is explained here.
"""

from __future__ import annotations

import textwrap

from shmtop.core.busy import BUSY_WINDOW
from shmtop.core.history import WINDOW as HISTORY_WINDOW
from shmtop.core.model import Kind
from shmtop.text.columns import COLUMNS

STATUS_MEANINGS: tuple[tuple[str, str], ...] = (
    ("dest", "removed (IPC_RMID) but still attached: it goes when the last process detaches"),
    ("locked", "its pages are locked in memory (SHM_LOCK)"),
    ("orphan", "private key, nobody uses it and its users are gone, untouched for a minute: "
               "nothing can ever reach it again"),
    ("unattached", "a keyed segment nobody has attached and whose creator is gone "
                   "(a new process could still open it by its key)"),
    ("unused", "a keyed set or queue whose last users are gone"),
    ("partial", "some attached processes could not be inspected (run as root to see them)"),
    ("inconsistent", "the attachments seen disagree with the kernel's count (they changed "
                     "while read)"),
    ("unreadable", "a set whose values cannot be read (no read permission)"),
    ("waiting", "a thread is blocked on it (filter term; w scans for waiters)"),
    ("attached", "at least one process is attached (filter term)"),
)  # fmt: skip

# The marks before a row and its highlights (the TUI draws them; the rule of busy is
# shmtop.core.busy's, its figures are here so that the text says what the code does).
MARKS: tuple[tuple[str, str], ...] = (
    ("●", "tagged (Space): d removes every tagged row"),
    ("!", "in a deadlock or a stuck wait (w scans for waiters)"),
    ("~", f"busy: changed in more than half of the last {BUSY_WINDOW} refreshes; a busy row "
          "is not highlighted (it would stay so for ever), the mark goes once it calms down"),
    ("bold row", "appeared or changed at the last refresh (for two seconds; a one-off change)"),
    ("struck red", "removed: it stays two seconds before it goes"),
    ("history", "the detail pane's sparklines: each figure (messages, bytes, attached, rss, "
                f"sem N) over the last {int(HISTORY_WINDOW // 60)} minutes, with its "
                "lowest..highest and current value"),
)  # fmt: skip

KIND_NAMES = {Kind.SHM: "Segments", Kind.SEM: "Semaphore sets", Kind.MSG: "Queues"}

# The columns of the set view's semaphores and of the waiters tables, by column key.
SEMAPHORE_COLUMNS = {
    "num": "the semaphore's number in the set (semnum)",
    "value": "its value (semval): what a semop with a negative count takes from",
    "ncnt": "threads waiting for the value to rise (semncnt)",
    "zcnt": "threads waiting for the value to reach zero (semzcnt)",
    "changer": "the last process that changed it (sempid): a hint, not a holder",
    "history": "its values since the view opened, lowest..highest",
}
WAITER_COLUMNS = {
    "pid": "the blocked process", "tid": "the blocked thread",
    "command": "its name or title",
    "operation": "what it waits to do (semop, msgsnd, msgrcv and their arguments)",
    "since": "how long it has waited (first seen by this view)",
    "state": "its scheduler state (S sleeping, D uninterruptible...)",
    "released": "which processes could let it go (the last changer, a sender...)",
}  # fmt: skip

# The words of the tree view's lines (t).
TREE_MEANINGS: tuple[tuple[str, str], ...] = (
    ("attached rw/ro", "maps the segment writable or read-only (x2: mapped twice)"),
    ("created it", "the segment's creator (cpid)"),
    ("last shmat/shmdt", "the last process to attach or detach it (lpid)"),
    ("last semop", "the last process to change those semaphores (sempid): a hint, not a holder"),
    ("last msgsnd/msgrcv", "the last sender (lspid) or receiver (lrpid) of the queue"),
    ("mapped rw/ro", "POSIX: maps the object (pshm, psem) shared, writable or read-only"),
    ("holds fd N", "POSIX: has the object or queue open on that descriptor (r, w)"),
    ("WAITING", "the process has a thread blocked on the object, doing what follows"),
    ("BLOCKED", "under an object: a thread blocked on it (removing the object wakes it "
                "with EIDRM)"),
)  # fmt: skip


WRAP = 74  # the help fits 80 columns (its frame takes the rest)
NAME_WIDTH = 14  # a longer name gets a line of its own


def status_lines(indent: str = "  ") -> list[str]:
    """'  dest          removed ... ', a word and its meaning, wrapped."""
    return described_lines(list(STATUS_MEANINGS), indent)


def mark_lines(indent: str = "  ") -> list[str]:
    """The row marks and highlights, and what each means."""
    return described_lines(list(MARKS), indent)


def column_lines(kind: Kind, indent: str = "  ") -> list[str]:
    """Each column of a kind's table and what it means, in the table's order."""
    return described_lines([(c.header, c.about) for c in COLUMNS[kind]], indent)


def described_lines(
    pairs: list[tuple[str, str]], indent: str = "  ", width: int = NAME_WIDTH
) -> list[str]:
    """'  NAME   meaning' lines, the meanings aligned and wrapped under themselves (a name
    wider than `width` takes a line of its own)."""
    width = min(width, max((len(name) for name, _ in pairs), default=0))
    hang = indent + " " * (width + 2)
    lines: list[str] = []
    for name, meaning in pairs:
        wrapped = textwrap.wrap(meaning, WRAP - len(hang)) or [""]
        if len(name) > width:
            lines.append(f"{indent}{name}")
        else:
            lines.append(f"{indent}{name:<{width}}  {wrapped.pop(0)}")
        lines += [hang + rest for rest in wrapped]
    return lines
