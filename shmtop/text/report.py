"""Plain-text tables, units and detail pages of snapshot objects, for the CLI and the TUI."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

from shmtop.core.model import (
    SHM_DEST,
    SHM_LOCKED,
    Coverage,
    IpcObject,
    MessageQueue,
    Segment,
    SemaphoreSet,
    Snapshot,
)
from shmtop.core.verdicts import Verdict, attachments_note, judge
from shmtop.text.export import limit_rows, percent
from shmtop.text.process_names import (
    CELL_WIDTH,
    LINE_WIDTH,
    SUMMARY_WIDTH,
    VIEWER,
    attachers_text,
    pid_note,
    process_name,
)
from shmtop.text.process_names import process_label as label_of
from shmtop.text.sanitize import safe_text
from shmtop.text.units import age, clock, hex_key, human_size, lasted, octal_perms

ATTACHED_WIDTH = 48
COMMAND_LINE_WIDTH = 200


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """'1 process', '3 processes'."""
    if count == 1:
        return f"1 {noun}"
    return f"{count} {plural or (noun + 'es' if noun.endswith('s') else noun + 's')}"


def process_label(snapshot: Snapshot, pid: int, width: int | None = CELL_WIDTH) -> str:
    """'1234 (postgres: checkpointer)': the name or title cut to width, sanitised;
    '1234 (gone)' if not running, '1234 (hidden)' if it runs but cannot be seen, '-' for 0."""
    command = snapshot.command_of(pid)
    if pid and command is None and pid in snapshot.hidden:
        return pid_note(pid, "hidden")
    return label_of(pid, command, snapshot.title_of(pid), width)


def creator_label(snapshot: Snapshot, segment: Segment) -> str:
    """'4100 (postgres -D /srv/pg)'; '4100 (gone)' once the creator is shown gone (its PID may
    name another process by now), '4100 (unknown)' when that cannot be told (hidden, or not in
    our PID namespace); '-' for none."""
    if segment.cpid and segment.creator_alive is False:
        return pid_note(segment.cpid, "gone")
    if segment.cpid and segment.creator_alive is None:
        return pid_note(segment.cpid, "unknown")
    return process_label(snapshot, segment.cpid, SUMMARY_WIDTH)


COVERAGE_FLAGS = {Coverage.PARTIAL: "partial", Coverage.CHANGED: "inconsistent"}


def status_words(obj: IpcObject, verdict: Verdict) -> tuple[str, ...]:
    """The kernel's flags (dest, locked), the rule's word (orphan, unattached, unused) and
    whether a segment's attachments could not all be seen (partial) or disagreed (inconsistent)."""
    words: list[str] = []
    if type(obj) is Segment:
        if obj.owner.mode & _FLAG_BITS:  # most segments have neither: no flags to ask for
            words += obj.flags
        if verdict.status is not None:
            words.append(str(verdict.status))
        coverage = COVERAGE_FLAGS.get(obj.coverage)
        if coverage is not None:
            words.append(coverage)
    elif verdict.status is not None:
        words.append(str(verdict.status))
    return tuple(words)


_FLAG_BITS = SHM_DEST | SHM_LOCKED  # the bits Segment.flags names


def flags_cell(obj: IpcObject, snapshot: Snapshot) -> str:
    return ",".join(status_words(obj, judge(obj, snapshot))) or "-"


def evidence_text(obj: IpcObject, verdict: Verdict, now: float) -> str:
    """What the rule's verdict rests on, in one line: key, use, users, idle time."""
    key = "key private" if verdict.private else f"keyed ({hex_key(obj.owner.key)})"
    parts = [key]
    if verdict.busy:
        parts.append(verdict.busy)
    for user in verdict.users:
        state = user.state if user.alive is not None else f"unknown ({user.state})"
        parts.append(f"{user.role} {user.pid} {state}")
    if verdict.unknown and not any(u.alive is None for u in verdict.users):
        parts.append(verdict.unknown)
    times = ", ".join(f"{what} {age(t, now)}" for what, t in verdict.times)
    parts.append(f"untouched {lasted(verdict.last_touched, now)} ({times})")
    if verdict.settling:
        parts.append(f"an orphan once untouched for {int(verdict.grace)}s")
    return "; ".join(parts)


def attached_summary(segment: Segment, width: int = ATTACHED_WIDTH) -> str:
    """Who is attached, cut to fit width with a '+N' tail; '-' for nobody."""
    return attachers_text(segment.attachments, width) or "-"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Left-aligned columns, two spaces apart; the last column is not padded."""
    widths = [len(h) for h in headers]
    if rows:
        columns = list(zip(*rows, strict=True))
        if len(columns) != len(headers):
            raise ValueError("a row has not one cell a header")
        widths = [max(w, *map(len, cells)) for w, cells in zip(widths, columns, strict=True)]
    # One format a line ({:<w} pads as str.ljust does), the last cell as it is.
    line = "  ".join([*(f"{{:<{w}}}" for w in widths[:-1]), "{}"]).format
    return [line(*headers).rstrip(), *(line(*row).rstrip() for row in rows)]


def compact_values(sem_set: SemaphoreSet, width: int = 32) -> str:
    """Values like '1 0 3 …' or '? (permission denied)' for an unreadable set."""
    if sem_set.semaphores is None:
        return f"? ({sem_set.unreadable})"
    text = " ".join(str(s.value) for s in sem_set.semaphores)
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"


def root_advice(root: bool | None = None) -> str:
    """What to add after "N processes could not be inspected": advice to run as root only
    to a user who is not root (root refused too is said as such)."""
    root = os.geteuid() == 0 if root is None else root
    return " even as root" if root else " - run as root for the full picture"


def blind_spot_note(snapshot: Snapshot, *, root: bool | None = None) -> str | None:
    """One line saying what the snapshot could not see and why, or None if it saw everything.

    "Run as root" is advice only to a user who is not root and was refused; the
    attachments nattch counts but no mapping showed have other causes, said as such.
    """
    blind = snapshot.blind_spots
    parts = []
    if blind.uninspected_total:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(blind.uninspected.items()))
        parts.append(f"{counted(blind.uninspected_total, 'process')} could not be inspected"
                     f" ({reasons}){root_advice(root)}")  # fmt: skip
    if blind.processes_hidden:
        parts.append(blind.processes_hidden)
    if blind.attachments_missing:
        causes = []
        if blind.uninspected_total:
            causes.append("in the processes not inspected")
        if blind.other_namespace_mappings:
            causes.append(
                "in processes that moved to another IPC namespace after attaching ("
                f"{counted(blind.other_namespace_mappings, 'mapping')} there, not joined)"
            )
        if not causes:
            causes.append(
                "in processes that attached, detached or exited while the scan ran, or that "
                "this /proc does not show (another PID namespace)"
            )
        parts.append(
            f"{counted(blind.attachments_missing, 'attachment')} counted by nattch not found:"
            f" perhaps {', or '.join(causes)}"
        )
    return "note: " + "; ".join(parts) if parts else None


def allocating_read_note(shmid: int, resident: int | None, size: int) -> str | None:
    """Why reading a segment through its attachment grows it, when it will; else None."""
    if resident is None or resident >= size:
        return None
    return (
        f"note: shm {shmid} is read through an attachment (no CAP_SYS_ADMIN or "
        "CAP_CHECKPOINT_RESTORE to read its file): each page nobody wrote that is read gets "
        f"allocated, and stays (it has {human_size(size - resident)} of them)"
    )


def limits_lines(snapshot: Snapshot, extra: Sequence[tuple[str, str, str, str]] = ()) -> list[str]:
    """The limits table; extra rows (the POSIX kinds': text/posix_limits.py) go last."""
    rows = []
    for name, used, limit in limit_rows(snapshot.limits):
        share = percent(used, limit)
        shown = "unlimited" if limit is None else str(limit)
        rows.append((name, str(used), shown, "-" if share is None else f"{share:.2f}%"))
    return render_table(("RESOURCE", "USED", "LIMIT", "USE"), [*rows, *extra])


def segment_detail(
    snapshot: Snapshot, s: Segment, command_lines: Mapping[int, str | None] | None = None
) -> list[str]:
    """Everything about a segment; with command_lines, each attacher's command line too."""
    verdict = judge(s, snapshot)
    lines = [
        f"segment {s.id}  key {hex_key(s.owner.key)}  flags {flags_cell(s, snapshot)}",
        f"  owner    {safe_text(s.owner.user)}:{safe_text(s.owner.group)}"
        f"  creator {safe_text(s.owner.creator_user)}:{safe_text(s.owner.creator_group)}"
        f"  perms {octal_perms(s.owner.perms)}",
        f"  size     {s.size} ({human_size(s.size)})  rss {human_size(s.rss)}"
        f"  swap {human_size(s.swap)}  nattch {s.nattch}",
        f"  creator  {process_label(snapshot, s.cpid, LINE_WIDTH)}{creator_note(verdict)}",
        f"  last     {process_label(snapshot, s.lpid, LINE_WIDTH)}",
        f"  attached {clock(s.atime)}  detached {clock(s.dtime)}  changed {clock(s.ctime)}",
        verdict_line(s, verdict, snapshot.taken_at),
        "",
    ]
    rows = [
        (str(a.pid), process_name(a.command, a.title, LINE_WIDTH)
         + (f" ({VIEWER})" if a.is_self else ""),
         safe_text(a.user), "rw" if a.writable else "ro", f"{a.start:x}-{a.end:x}")
        for a in s.attachments
    ]  # fmt: skip
    lines += render_table(("PID", "COMMAND", "USER", "ACCESS", "ADDRESSES"), rows)
    note = attachments_note(s, snapshot.blind_spots)
    if note:
        lines.append(f"({note})")
    elif not rows:
        lines.append("(no process has it attached)")
    if command_lines:
        lines += ["", "Command lines:"]
        for pid, line in command_lines.items():
            text = (
                safe_text(line)[:COMMAND_LINE_WIDTH] if line is not None else "(gone or unreadable)"
            )
            lines.append(f"  {pid}  {text}")
    return lines


def semaphore_detail(snapshot: Snapshot, s: SemaphoreSet) -> list[str]:
    lines = [
        f"semaphore set {s.id}  key {hex_key(s.owner.key)}  nsems {s.nsems}",
        f"  owner    {safe_text(s.owner.user)}:{safe_text(s.owner.group)}"
        f"  creator {safe_text(s.owner.creator_user)}  perms {octal_perms(s.owner.perms)}",
        f"  last op  {clock(s.otime)}  changed {clock(s.ctime)}",
        verdict_line(s, judge(s, snapshot), snapshot.taken_at),
        "",
    ]
    if s.semaphores is None:
        return [*lines, f"values unreadable: {s.unreadable}"]
    rows = [
        (str(m.num), str(m.value), str(m.ncnt), str(m.zcnt), process_label(snapshot, m.pid))
        for m in s.semaphores
    ]
    headers = ("NUM", "VALUE", "NCNT", "ZCNT", "LAST CHANGED BY (a hint, not a holder)")
    return lines + render_table(headers, rows)


def queue_detail(snapshot: Snapshot, q: MessageQueue) -> list[str]:
    return [
        f"message queue {q.id}  key {hex_key(q.owner.key)}",
        f"  owner     {safe_text(q.owner.user)}:{safe_text(q.owner.group)}"
        f"  creator {safe_text(q.owner.creator_user)}  perms {octal_perms(q.owner.perms)}",
        f"  messages  {q.qnum}  bytes {q.cbytes} of {q.qbytes if q.qbytes is not None else '?'}",
        f"  sender    {process_label(snapshot, q.lspid, LINE_WIDTH)}  at {clock(q.stime)}",
        f"  receiver  {process_label(snapshot, q.lrpid, LINE_WIDTH)}  at {clock(q.rtime)}",
        f"  changed   {clock(q.ctime)}",
        verdict_line(q, judge(q, snapshot), snapshot.taken_at),
    ]


def creator_note(verdict: Verdict) -> str:
    """' - no longer running' when the creator is shown gone, ' - cannot tell: why' if unknown."""
    creator = next((u for u in verdict.users if u.role == "creator"), None)
    if creator is None or creator.alive:
        return ""
    return " - no longer running" if creator.alive is False else f" - cannot tell: {creator.state}"


def verdict_line(obj: IpcObject, verdict: Verdict, now: float) -> str:
    """'  verdict  orphan: key private; ...' for a detail page."""
    return f"  verdict  {verdict_word(verdict)}: {evidence_text(obj, verdict, now)}"


def verdict_word(verdict: Verdict) -> str:
    """orphan, unattached, unused; else in use, unknown (cannot tell) or settling (grace)."""
    if verdict.status is not None:
        return str(verdict.status)
    if verdict.busy or verdict.users_gone is False:
        return "in use"
    if verdict.users_gone is None:
        return "unknown"
    return "settling"
