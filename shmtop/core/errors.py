"""The one wording of each mistake about one object (unknown id, no permission), for all."""

from __future__ import annotations

import errno

GONE = (errno.EINVAL, errno.EIDRM)
DENIED = (errno.EACCES, errno.EPERM)


def no_such_object(kind: str, ident: int) -> str:
    """An id that names no object of that kind (never did, or it was removed)."""
    return (
        f"{kind} {ident}: no such object (removed, or never existed); "
        f"'shmtop list {kind}' shows the ids"
    )


def permission_denied(kind: str, ident: int, *, removing: bool = False) -> str:
    """The kernel said EACCES/EPERM: who may, instead."""
    if removing:
        return f"{kind} {ident}: permission denied: only its owner, creator or root may remove it"
    return (
        f"{kind} {ident}: permission denied: reading it needs read permission on it; "
        "run as its owner or as root"
    )


def object_error(number: int | None, kind: str, ident: int, fallback: str) -> str:
    """The message for an errno met while reading one object; fallback for the others."""
    if number in GONE:
        return no_such_object(kind, ident)
    if number in DENIED:
        return permission_denied(kind, ident)
    return f"{kind} {ident}: {fallback}"
