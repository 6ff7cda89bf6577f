"""Serving the metrics: over HTTP (`--listen`), or into a file for node_exporter (`--textfile`).

Both run until SIGTERM or SIGINT and then end cleanly (exit 0): the server stops taking
connections and closes, the textfile loop stops between writes (a write is never cut off:
the file is replaced whole, never rewritten in place).
"""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import socketserver
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from shmtop.exporter.exposition import Exposition, wsgi_app
from shmtop.exporter.settings import DEFAULT_LISTEN

BEYOND_LOCALHOST = (
    "listening beyond localhost on {where}: whoever reaches it reads every IPC object's id, key,"
    " owner and size (no endpoint changes anything)"
)


def parse_listen(text: str) -> tuple[str, int]:
    """ADDR:PORT ([::1]:9464 for IPv6; port 0 takes a free one): ValueError saying why not."""
    host, colon, port_text = text.rpartition(":")
    if not colon or not port_text.isascii() or not port_text.isdigit():
        raise ValueError(f"--listen {text!r}: use ADDR:PORT, e.g. {DEFAULT_LISTEN}")
    port = int(port_text)
    if port > 65535:
        raise ValueError(f"--listen {text!r}: the port must be 0 to 65535")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ValueError(f"--listen {text!r}: give an address (0.0.0.0 for every interface)")
    return host, port


def is_loopback(host: str) -> bool:
    """Whether an address (or name) stays on this machine: 127.0.0.0/8, ::1, localhost."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve beyond localhost


class _Server(socketserver.ThreadingMixIn, WSGIServer):
    """A thread a connection; a backlog deep enough for a burst of concurrent scrapes."""

    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No access log: a scrape a second would fill stderr."""


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def make_server(exposition: Exposition, host: str, port: int) -> WSGIServer:
    """A server bound to host:port (port 0: a free one; server_address says which)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server_class: type[_Server] = type("Server", (_Server,), {"address_family": family})
    server = server_class((host, port), _QuietHandler)
    server.set_app(wsgi_app(exposition))
    return server


def where(server: WSGIServer) -> str:
    """host:port the server listens on ([host]:port for IPv6)."""
    host, port = server.server_address[:2]
    return f"[{host!s}]:{port}" if server.address_family == socket.AF_INET6 else f"{host!s}:{port}"


def serve_http(
    exposition: Exposition,
    host: str,
    port: int,
    *,
    announce: Callable[[str], None] = print,
    warn: Callable[[str], None] = lambda line: print(f"shmtop: {line}", file=sys.stderr),
) -> int:
    """Serve until SIGTERM/SIGINT; announce() the URL (with the port taken) once listening."""
    stop = threading.Event()
    _stop_on_signals(stop)  # before anything is said: whoever reads it may signal at once
    server = make_server(exposition, host, port)
    if not is_loopback(host):
        warn(BEYOND_LOCALHOST.format(where=where(server)))
    worker = threading.Thread(target=server.serve_forever, name="shmtop-exporter", daemon=True)
    worker.start()
    announce(f"shmtop exporter: serving http://{where(server)}/metrics")
    sys.stdout.flush()
    try:
        stop.wait()
    finally:
        server.shutdown()
        server.server_close()
        worker.join()
    return 0


def write_atomically(path: Path, data: bytes) -> None:
    """Replace path with data at once: a temporary file in the same directory, then rename.

    A reader opening path sees the old file or the new one, never part of either."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            os.fchmod(file.fileno(), 0o644)  # node_exporter may run as another user
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_textfile(
    exposition: Exposition,
    path: Path,
    interval: float,
    *,
    warn: Callable[[str], None] = lambda line: print(f"shmtop: {line}", file=sys.stderr),
) -> int:
    """Write the metrics to path every interval until SIGTERM/SIGINT. The first write failing
    is an error (OSError raised: a wrong directory); later failures are said and retried."""
    stop = threading.Event()
    _stop_on_signals(stop)
    first = True
    while not stop.is_set():
        try:
            write_atomically(path, exposition.text())
        except OSError as error:
            if first:
                raise
            warn(f"cannot write {path}: {error.strerror or error}")
        first = False
        stop.wait(interval)
    return 0
