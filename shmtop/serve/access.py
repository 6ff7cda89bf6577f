"""Who gets which session: the token that allows changes, and the checks a request passes
before a session starts (pure functions, tested without a server)."""

from __future__ import annotations

import ipaddress
import secrets
from urllib.parse import urlsplit

from shmtop.serve.settings import LOOPBACK_NAMES


def new_token() -> str:
    """A fresh random token (256 bits), printed once at start and never logged."""
    return secrets.token_urlsafe(32)


def token_matches(given: str | None, token: str | None) -> bool:
    """True only when changes are allowed (a token exists) and `given` is it, compared in
    constant time."""
    if token is None or given is None:
        return False
    return secrets.compare_digest(given.encode(), token.encode())


def is_loopback(host: str) -> bool:
    """A host name or address that never leaves this machine."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The name in a Host header (`name:port`, `[v6]:port`), without the port."""
    parsed = urlsplit(f"//{host_header}")
    return parsed.hostname or ""


def request_refusal(host_header: str, origin: str | None, *, bound_to_loopback: bool) -> str | None:
    """Why a request must be refused, or None.

    Served on loopback, the Host must be a loopback name: a DNS-rebinding page reaching us
    under its own name is refused. A browser's Origin (sent with every websocket) must be
    the page's own: another site's page may not open a session in the visitor's browser.
    """
    if bound_to_loopback and not is_loopback(host_name(host_header)):
        return "a loopback server answers only to a loopback host name"
    if origin is not None:
        parsed = urlsplit(origin)
        if parsed.scheme not in ("http", "https") or parsed.netloc != host_header:
            return "the page's origin is not this server"
    return None
