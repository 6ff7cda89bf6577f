"""How an IPC key and permission bits are written, everywhere shmtop shows them."""

from __future__ import annotations


def hex_key(key: int) -> str:
    """An IPC key as ipcs shows it: 0x and 8 hex digits (unsigned)."""
    return f"0x{key:08x}"


def octal_perms(perms: int) -> str:
    """Permission bits as 3 octal digits (644)."""
    return f"{perms:03o}"
