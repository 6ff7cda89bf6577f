"""The one wording of each mistake a user can make or meet, for every command and the TUI.

Which errno is which mistake is the core's fact (core/errors.py); the sentences are here,
so `show`, `dump`, `view`, `rm`, `show --messages` and the TUI say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from shmtop.core.errors import Mistake, mistake_of
from shmtop.text.sanitize import safe_text

if TYPE_CHECKING:  # the removal and segment-reading code is theirs to import (not list's)
    from shmtop.core.actions import Removal
    from shmtop.core.posix.actions import PosixRemoval
    from shmtop.core.segment.segment_reader import CannotRead

REMOVE_RIGHTS = "only its owner, creator or root may remove it"
READ_RIGHTS = "reading it needs read permission on it; run as its owner or as root"


def no_such_object(kind: str, ident: int) -> str:
    """An id that names no object of that kind (never did, or it was removed)."""
    return (
        f"{kind} {ident}: no such object (removed, or never existed); "
        f"'shmtop list {kind}' shows the ids"
    )


def permission_denied(kind: str, ident: int, *, removing: bool = False) -> str:
    """The kernel said EACCES/EPERM: who may, instead."""
    return f"{kind} {ident}: permission denied: {REMOVE_RIGHTS if removing else READ_RIGHTS}"


def object_error(number: int | None, kind: str, ident: int, fallback: str) -> str:
    """The message for an errno met while reading one object; fallback for the others."""
    mistake = mistake_of(number)
    if mistake is Mistake.GONE:
        return no_such_object(kind, ident)
    if mistake is Mistake.DENIED:
        return permission_denied(kind, ident)
    return f"{kind} {ident}: {fallback}"


def cannot_read(error: CannotRead) -> str:
    """Why a segment cannot be read: the vocabulary's sentence when the segment itself
    refused (gone, no permission), the reader's own line for the other reasons."""
    if error.shmid is not None and error.mistake is not None:
        return object_error(error.errno, "shm", error.shmid, str(error))
    return str(error)


def removal_text(removal: Removal) -> str:
    """What became of one removal, in the CLI and the TUI alike: 'shm 5: removed',
    the vocabulary's sentence when it was gone or denied."""
    from shmtop.core.actions import Outcome

    if removal.outcome is Outcome.NOT_FOUND:
        return no_such_object(str(removal.kind), removal.id)
    if removal.outcome is Outcome.DENIED:
        return permission_denied(str(removal.kind), removal.id, removing=True)
    detail = f": {removal.detail}" if removal.detail else ""
    return f"{removal.kind} {removal.id}: {removal.outcome}{detail}"


def bad_sort(name: str, known: Iterable[str]) -> str:
    """A --sort (or a saved sort) that names no column."""
    return f"cannot sort by {safe_text(name)!r}; columns: {', '.join(sorted(known))}"


def waiter_scan_failed(error: object) -> str:
    """A waiter scan (of /proc's threads) that failed, in the TUI's notes and questions."""
    return f"the waiter scan failed: {error}"


def tables_unreadable(error: OSError) -> str:
    """The System V tables (or /proc/sysvipc) could not be read at all."""
    return f"cannot read the System V IPC tables: {error}"


def no_such_user(user: str) -> str:
    """A --user that is neither a uid, a user name nor an owner's name."""
    return f"--user {safe_text(user)!r}: no such user (give a user name or a uid)"


# ---- POSIX objects (named, not numbered) ----

POSIX_REMOVE_RIGHTS = "only its owner or root may remove it (/dev/shm is sticky)"
MQ_REMOVE_RIGHTS = "only its owner or root may remove it (the mqueue fs is sticky)"


def no_such_name(kind: str, name: str) -> str:
    """A name that names no POSIX object of that kind (never did, or it was unlinked)."""
    return (
        f"{kind} {safe_text(name)!r}: no such object (removed, or never existed); "
        f"'shmtop list {kind}' shows the names"
    )


def posix_removal_text(kind: str, removal: PosixRemoval) -> str:
    """What became of one unlink, as removal_text says it of a System V removal."""
    from shmtop.core.posix.actions import PosixOutcome
    from shmtop.core.posix.model import MQ_KIND

    if removal.outcome is PosixOutcome.NOT_FOUND:
        return no_such_name(kind, removal.name)
    if removal.outcome is PosixOutcome.DENIED:
        rights = MQ_REMOVE_RIGHTS if kind == MQ_KIND else POSIX_REMOVE_RIGHTS
        return f"{kind} {safe_text(removal.name)}: permission denied: {rights}"
    detail = f": {removal.detail}" if removal.detail else ""
    return safe_text(f"{kind} {removal.name}: {removal.outcome}{detail}")


NAMESPACE_RIGHTS = "every IPC namespace needs root (CAP_SYS_ADMIN to join, CAP_SYS_PTRACE to read)"


def namespaces_denied(processes: int, namespaces: int) -> str:
    """-A without the privilege: how much could not be read, and what it takes."""
    whose = _plural(processes, "process's", "processes'")
    parts = [f"{processes} {whose} IPC namespace unreadable"] if processes else []
    parts += [f"{namespaces} {_plural(namespaces, 'namespace')} not joinable"] if namespaces else []
    return f"permission denied ({', '.join(parts)}): {NAMESPACE_RIGHTS}"


def namespaces_partial(shown: Sequence[str], processes: int, namespaces: int) -> str:
    """-A without the privilege, the answer partial: the namespaces shown (their labels),
    how many processes' namespace and how many namespaces could not be read, and why."""
    what = f"IPC namespace {shown[0]}" if len(shown) == 1 else f"{len(shown)} IPC namespaces"
    return f"-A: only {what} shown; {namespaces_denied(processes, namespaces)}"


def _plural(count: int, noun: str, plural: str | None = None) -> str:
    return noun if count == 1 else (plural or noun + "s")


def no_such_namespace(wanted: str) -> str:
    return (
        f"no IPC namespace {safe_text(wanted)!r} (a name, ipc:[INODE], an inode, a member pid "
        "or a container id); 'shmtop list -A' shows them"
    )
