"""Snapshot objects as plain JSON-ready dicts: numbers stay numbers, times are ISO 8601 or None."""

from __future__ import annotations

import ctypes
from datetime import UTC, datetime
from typing import Any

from shmtop.core.model import (
    Attachment,
    BlindSpots,
    Coverage,
    IpcObject,
    Limits,
    MessageQueue,
    Owner,
    Segment,
    SemaphoreSet,
    Snapshot,
)
from shmtop.core.verdicts import Verdict, attachments_note, judge
from shmtop.text.units import hex_key, octal_perms


def iso_time(epoch: float) -> str | None:
    """ISO 8601 in UTC, or None for the kernel's 0 (never)."""
    if not epoch:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def owner_dict(owner: Owner) -> dict[str, Any]:
    return {
        "key": owner.key,
        "key_hex": hex_key(owner.key),
        "uid": owner.uid,
        "user": owner.user,
        "gid": owner.gid,
        "group": owner.group,
        "cuid": owner.cuid,
        "creator_user": owner.creator_user,
        "cgid": owner.cgid,
        "creator_group": owner.creator_group,
        "perms": octal_perms(owner.perms),
    }


def attachment_dict(attachment: Attachment) -> dict[str, Any]:
    return {
        "pid": attachment.pid,
        "command": attachment.command,
        "title": attachment.title,
        "user": attachment.user,
        "access": "rw" if attachment.writable else "ro",
        "start": f"0x{attachment.start:x}",
        "end": f"0x{attachment.end:x}",
        "viewer": attachment.is_self,
    }


def verdict_dict(verdict: Verdict) -> dict[str, Any]:
    """The rule's word on an object and the evidence it rests on (shmtop.core.verdicts)."""
    return {
        "status": None if verdict.status is None else str(verdict.status),
        "orphan": verdict.orphan,
        "evidence": {
            "key_private": verdict.private,
            "users": [
                {"role": u.role, "pid": u.pid, "alive": u.alive, "state": u.state}
                for u in verdict.users
            ],
            "users_gone": verdict.users_gone,
            "unknown": verdict.unknown,
            "in_use": verdict.busy,
            "last_touched": iso_time(verdict.last_touched),
            "grace_seconds": int(verdict.grace),
            "settling": verdict.settling,
        },
    }


def _verdict(obj: IpcObject, snapshot: Snapshot) -> dict[str, Any]:
    return verdict_dict(judge(obj, snapshot))


def segment_dict(segment: Segment, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "kind": "shm",
        "id": segment.id,
        **owner_dict(segment.owner),
        "size": segment.size,
        "rss": segment.rss,
        "swap": segment.swap,
        "nattch": segment.nattch,
        "cpid": segment.cpid,
        "cpid_command": snapshot.command_of(segment.cpid),
        "cpid_title": snapshot.title_of(segment.cpid),
        "creator_alive": segment.creator_alive,
        "lpid": segment.lpid,
        "lpid_command": snapshot.command_of(segment.lpid),
        "lpid_title": snapshot.title_of(segment.lpid),
        "atime": iso_time(segment.atime),
        "dtime": iso_time(segment.dtime),
        "ctime": iso_time(segment.ctime),
        "dest": segment.dest,
        "locked": segment.locked,
        **_verdict(segment, snapshot),
        "attachments": [attachment_dict(a) for a in segment.attachments],
        "attachments_consistent": segment.coverage is Coverage.COMPLETE,
        "attachments_coverage": str(segment.coverage),
        "attachments_note": attachments_note(segment, snapshot.blind_spots),
    }


def semaphore_set_dict(sem_set: SemaphoreSet, snapshot: Snapshot) -> dict[str, Any]:
    semaphores = None
    if sem_set.semaphores is not None:
        semaphores = [
            {
                "num": s.num,
                "value": s.value,
                "ncnt": s.ncnt,
                "zcnt": s.zcnt,
                "pid": s.pid,
                "pid_command": snapshot.command_of(s.pid),
                "pid_title": snapshot.title_of(s.pid),
            }
            for s in sem_set.semaphores
        ]
    return {
        "kind": "sem",
        "id": sem_set.id,
        **owner_dict(sem_set.owner),
        "nsems": sem_set.nsems,
        "otime": iso_time(sem_set.otime),
        "ctime": iso_time(sem_set.ctime),
        "waiters": sem_set.waiters,
        "semaphores": semaphores,
        "unreadable": sem_set.unreadable,
        **_verdict(sem_set, snapshot),
    }


def queue_dict(queue: MessageQueue, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "kind": "msg",
        "id": queue.id,
        **owner_dict(queue.owner),
        "cbytes": queue.cbytes,
        "qnum": queue.qnum,
        "qbytes": queue.qbytes,
        "lspid": queue.lspid,
        "lspid_command": snapshot.command_of(queue.lspid),
        "lspid_title": snapshot.title_of(queue.lspid),
        "lrpid": queue.lrpid,
        "lrpid_command": snapshot.command_of(queue.lrpid),
        "lrpid_title": snapshot.title_of(queue.lrpid),
        "stime": iso_time(queue.stime),
        "rtime": iso_time(queue.rtime),
        "ctime": iso_time(queue.ctime),
        **_verdict(queue, snapshot),
    }


# The kernel's own "no limit" for SHMMAX and SHMALL (include/uapi/linux/shm.h:
# ULONG_MAX - 2**24, the default since Linux 3.16). At or above it a limit cannot
# be reached: shown as unlimited (null in JSON), never as a 20-digit number.
ULONG_MAX = 2 ** (8 * ctypes.sizeof(ctypes.c_ulong)) - 1
SHM_NO_LIMIT = ULONG_MAX - 2**24


def shm_limit(value: int) -> int | None:
    """shmall or shmmax, None where it is the kernel's "no limit" (or beyond)."""
    return None if value >= SHM_NO_LIMIT else value


def limits_dict(limits: Limits) -> dict[str, Any]:
    """Each limit with its usage and percentage; limit and percent None where there is none."""
    rows = limit_rows(limits)
    return {
        name: {"used": used, "limit": limit, "percent": percent(used, limit)}
        for name, used, limit in rows
    }


def limit_rows(limits: Limits) -> list[tuple[str, int, int | None]]:
    """(what, used, limit or None for no limit) for every limit with a usage figure.

    Only shm_pages (SHMALL) can be unlimited: whatever is set, the counts of
    segments, sets and queues are capped by IPCMNI (32768, 2**24 with
    ipcmni_extend) and SEMMNS is a C int."""
    return [
        ("shm_segments", limits.shm_segments, limits.shmmni),
        ("shm_pages", limits.shm_pages, shm_limit(limits.shmall)),
        ("sem_sets", limits.sem_sets, limits.semmni),
        ("sem_semaphores", limits.sem_semaphores, limits.semmns),
        ("msg_queues", limits.msg_queues, limits.msgmni),
    ]


def percent(used: int, limit: int | None) -> float | None:
    """used as a percentage of limit, to 0.01; None for no limit (or a limit of 0)."""
    if limit is None or limit <= 0:
        return None
    return round(100.0 * used / limit, 2)


def blind_spots_dict(blind: BlindSpots) -> dict[str, Any]:
    return {
        "processes_scanned": blind.processes_scanned,
        "uninspected": dict(blind.uninspected),
        "attachments_missing": blind.attachments_missing,
        "other_namespace_mappings": blind.other_namespace_mappings,
        "processes_hidden": blind.processes_hidden,
    }
