"""What the removal question says of the threads blocked on a set or a queue: who they are,
and that IPC_RMID wakes them, their call failing with EIDRM."""

from __future__ import annotations

from collections.abc import Sequence

from shmtop.core.model import IpcObject, Kind, SemaphoreSet
from shmtop.core.waits.wait_report import WaitReport
from shmtop.text.report import counted
from shmtop.text.usage_tree import waiter_text

INDENT = "  "
SHOWN = 8  # blocked threads named an object; the rest are counted


def wakes(kind: Kind, calls: Sequence[str], count: int) -> str:
    """'removing the set wakes it (semtimedop fails with EIDRM)'; calls: the blocked ones."""
    names = "/".join(sorted(set(calls))) or "call"
    verb = "fails" if len(set(calls)) <= 1 else "fail"
    noun = "set" if kind is Kind.SEM else "queue"
    return f"removing the {noun} wakes {'it' if count == 1 else 'them'} ({names} {verb} with EIDRM)"


def blocked_lines(
    kind: Kind, obj: IpcObject, waits: WaitReport | None, error: str | None = None
) -> list[str]:
    """The lines under a set's or a queue's line in the question (none for a segment).

    waits: a scan taken as the question was asked (None: it failed, error says why). A
    set's kernel counts (semncnt + semzcnt) tell of waiters the scan could not name."""
    if kind is Kind.SHM:
        return []
    counted_by_kernel = obj.waiters if isinstance(obj, SemaphoreSet) else None
    if waits is None:
        why = error or "no waiter scan"
        if counted_by_kernel:
            return [f"{INDENT}{counted(counted_by_kernel, 'thread')} blocked on it, not named "
                    f"({why}); {wakes(kind, ['semop'], counted_by_kernel)}"]  # fmt: skip
        return [f"{INDENT}who is blocked on it is unknown ({why})"]
    mine = sorted(waits.on(kind, obj.id), key=lambda w: (w.pid, w.tid))
    if not mine:
        if counted_by_kernel:
            blind = waits.blind_spot() or "they are in another namespace or could not be read"
            return [f"{INDENT}{counted(counted_by_kernel, 'thread')} blocked on it, not named "
                    f"({blind}); {wakes(kind, ['semop'], counted_by_kernel)}"]  # fmt: skip
        unseen = waits.blind_spot()
        return [f"{INDENT}nobody is blocked on it" if unseen is None else
                f"{INDENT}no blocked thread seen ({unseen})"]  # fmt: skip
    calls = [w.syscall for w in mine]
    lines = [
        f"{INDENT}{counted(len(mine), 'thread')} blocked on it; {wakes(kind, calls, len(mine))}:"
    ]
    lines += [f"{INDENT}{INDENT}{waiter_text(w)}" for w in mine[:SHOWN]]
    if len(mine) > SHOWN:
        lines.append(f"{INDENT}{INDENT}and {len(mine) - SHOWN} more")
    return lines


def with_waiters(
    plan: list[str], kind: Kind, targets: Sequence[IpcObject], waits: WaitReport | None,
    error: str | None = None,
) -> list[str]:  # fmt: skip
    """The question's lines (one a target, in order) with each one's blocked threads."""
    return [
        "\n".join([line, *blocked_lines(kind, obj, waits, error)])
        for line, obj in zip(plan, targets, strict=True)
    ]
