"""Snapshot objects as plain JSON-ready dicts: numbers stay numbers, times are ISO 8601 or None."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from shmtop.ipc.model import (
    Attachment,
    BlindSpots,
    Limits,
    MessageQueue,
    Owner,
    Segment,
    SemaphoreSet,
    Snapshot,
)


def iso_time(epoch: float) -> str | None:
    """ISO 8601 in UTC, or None for the kernel's 0 (never)."""
    if not epoch:
        return None
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def owner_dict(owner: Owner) -> dict[str, Any]:
    return {
        "key": owner.key,
        "key_hex": f"0x{owner.key:08x}",
        "uid": owner.uid,
        "user": owner.user,
        "gid": owner.gid,
        "group": owner.group,
        "cuid": owner.cuid,
        "creator_user": owner.creator_user,
        "cgid": owner.cgid,
        "creator_group": owner.creator_group,
        "perms": f"{owner.perms:03o}",
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
        "orphan": segment.orphan,
        "attachments": [attachment_dict(a) for a in segment.attachments],
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
    }


def limits_dict(limits: Limits) -> dict[str, Any]:
    """Each limit with its usage and percentage (None where the limit is effectively infinite)."""
    rows = limit_rows(limits)
    return {
        name: {"used": used, "limit": limit, "percent": percent(used, limit)}
        for name, used, limit in rows
    }


def limit_rows(limits: Limits) -> list[tuple[str, int, int]]:
    """(what, used, limit) for every limit with a usage figure."""
    return [
        ("shm_segments", limits.shm_segments, limits.shmmni),
        ("shm_pages", limits.shm_pages, limits.shmall),
        ("sem_sets", limits.sem_sets, limits.semmni),
        ("sem_semaphores", limits.sem_semaphores, limits.semmns),
        ("msg_queues", limits.msg_queues, limits.msgmni),
    ]


def percent(used: int, limit: int) -> float | None:
    """used as a percentage of limit, to 0.01; None for no limit."""
    if limit <= 0:
        return None
    return round(100.0 * used / limit, 2)


def blind_spots_dict(blind: BlindSpots) -> dict[str, Any]:
    return {
        "processes_scanned": blind.processes_scanned,
        "uninspected": dict(blind.uninspected),
        "attachments_missing": blind.attachments_missing,
        "other_namespace_mappings": blind.other_namespace_mappings,
    }
