"""`shmtop limits`' rows for the POSIX kinds: the mqueue sysctls and the shm filesystems."""

from __future__ import annotations

from shmtop.core.posix.limits import PosixLimits
from shmtop.text.export import percent
from shmtop.text.report import render_table
from shmtop.text.sanitize import safe_text
from shmtop.text.units import human_size


def _share(used: int, limit: int | None) -> str:
    share = percent(used, limit)
    return "-" if share is None else f"{share:.2f}%"


def mqueue_rows(posix: PosixLimits) -> list[tuple[str, str, str, str]]:
    """(RESOURCE, USED, LIMIT, USE) rows beside the System V ones; '?' where unreadable."""
    mq = posix.mqueue
    rows = []
    for name, used, limit in (
        ("mq_queues", mq.queues, mq.queues_max),
        ("mq_msg_max", mq.largest_max_messages, mq.msg_max),  # the fullest-made queue
        ("mq_msgsize_max", mq.largest_max_size, mq.msgsize_max),
    ):
        shown_used = "?" if used is None else str(used)
        shown_limit = "?" if limit is None else str(limit)
        rows.append((name, shown_used, shown_limit, "-" if used is None else _share(used, limit)))
    return rows


def defaults_line(posix: PosixLimits) -> str:
    mq = posix.mqueue
    known = [f"{n} {'?' if v is None else v}" for n, v in (
        ("msg_default", mq.msg_default), ("msgsize_default", mq.msgsize_default))]  # fmt: skip
    return ("mq_msg_max and mq_msgsize_max: the highest any queue was made with; a queue "
            "made without attributes gets " + ", ".join(known))  # fmt: skip


def filesystem_lines(posix: PosixLimits) -> list[str]:
    """One row a shm filesystem: its size and use, in bytes and inodes."""
    rows = []
    for fs in posix.filesystems:
        if fs.problem is not None:
            rows.append((safe_text(fs.mount_point), fs.fstype or "-", "?", "?", "-", "?",
                         str(fs.objects)))  # fmt: skip
            continue
        rows.append((
            safe_text(fs.mount_point), fs.fstype or "-", human_size(fs.size),
            human_size(fs.used), _share(fs.used, fs.size or None),
            f"{fs.inodes_used}/{fs.inodes}", str(fs.objects),
        ))  # fmt: skip
    return render_table(
        ("SHM FILESYSTEM", "TYPE", "SIZE", "USED", "USE", "INODES", "OBJECTS"), rows
    )
