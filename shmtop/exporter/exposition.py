"""The metrics as bytes, in the format the scraper asks for, and the read-only HTTP app.

The format is chosen by prometheus_client's own content negotiation (`choose_encoder` on the
Accept header: the Prometheus text format, or OpenMetrics). A snapshot's families are encoded
(and gzipped) once per format and reused by every scrape that serves the same snapshot; only
the few per-scrape families are encoded each time and appended. Two gzip members one after
the other are one valid gzip stream (RFC 1952; Go's reader, Prometheus', reads them all).
"""

from __future__ import annotations

import gzip
import operator
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.exposition import choose_encoder, gzip_accepted
from prometheus_client.registry import Collector

from shmtop.exporter.families import (
    Judged,
    Row,
    Verdicts,
    health_families,
    judged,
    judged_part,
    object_families,
    scrape_families,
    summary_families,
)
from shmtop.exporter.namespace_families import merged, namespace_families
from shmtop.exporter.posix_families import PosixRow
from shmtop.exporter.settings import DEFAULT_MAX_OBJECTS
from shmtop.exporter.source import Reading, SnapshotSource

OPENMETRICS_EOF = b"# EOF\n"
GZIP_LEVEL = 6  # the format's usual level: nearly level 9's size at a fraction of its time
Encoder = Callable[[Collector], bytes]
Lines = tuple[tuple[int, bytes], ...]  # (family index, encoded sample lines) of one object

_INDEX = (
    b"shmtop exporter: the IPC of this machine (System V and POSIX) as Prometheus metrics.\n"
    b"GET /metrics (Prometheus text format, or OpenMetrics by the Accept header).\n"
    b"Nothing here changes anything.\n"
)


class Families(Collector):
    """A fixed list of families, as a prometheus_client Collector (what encoders read)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterator[Metric]:
        return iter(self._families)


class ObjectLines:
    """The per-object families in one format, each object's sample lines reused while its
    Row is the same (a steady snapshot changes few objects, and the library's encoder costs
    tens of microseconds a sample). Every byte is still the library's: a changed object's
    families are encoded by it, one object at a time, and the headers once."""

    def __init__(self, encoder: Encoder) -> None:
        self._encoder = encoder
        self._headers = [encode(Families([f]), encoder, False) for f in object_families([])]
        self._lines: dict[tuple[object, ...], tuple[Row | PosixRow, Lines]] = {}
        self._last: tuple[tuple[Row | PosixRow, ...], bytes] = ((), b"")

    def render(self, rows: Sequence[Row | PosixRow]) -> bytes:
        """The per-object families' bytes: last time's bytes object itself when every row is
        last time's instance (Verdicts hands out the same rows while nothing changed)."""
        last_rows, last_bytes = self._last
        if last_bytes and len(rows) == len(last_rows) and all(map(operator.is_, rows, last_rows)):
            return last_bytes
        rendered = self._render(rows)
        self._last = (tuple(rows), rendered)
        return rendered

    def _render(self, rows: Sequence[Row | PosixRow]) -> bytes:
        kept: dict[tuple[object, ...], tuple[Row | PosixRow, Lines]] = {}
        columns: list[list[bytes]] = [[header] for header in self._headers]
        for row in rows:
            key = row.key
            cached = self._lines.get(key)
            same = cached is not None and (cached[0] is row or cached[0].same(row))
            lines = cached[1] if same and cached is not None else self._encode(row)
            kept[key] = (row, lines)
            for column, line in lines:
                columns[column].append(line)
        self._lines = kept  # objects gone, or left out, are forgotten
        return b"".join(b"".join(column) for column in columns)

    def _encode(self, row: Row | PosixRow) -> Lines:
        """(family index, sample lines) of each family that has a sample of the row."""
        encoded = []
        for column, (family, header) in enumerate(
            zip(object_families([row]), self._headers, strict=True)
        ):
            text = encode(Families([family]), self._encoder, False)
            assert text.startswith(header), (text, header)
            if len(text) > len(header):
                encoded.append((column, text[len(header) :]))
        return tuple(encoded)


class Exposition:
    """Scrapes of one SnapshotSource: the bytes, cached per reading and format."""

    def __init__(self, source: SnapshotSource, max_objects: int = DEFAULT_MAX_OBJECTS) -> None:
        self.source = source
        self.max_objects = max_objects
        self._lock = threading.Lock()
        self._serial = -1  # the reading the cache belongs to
        self._encoded: dict[tuple[str, bool], bytes] = {}
        self._objects: dict[str, ObjectLines] = {}  # by content type
        self._objects_gzip: dict[str, tuple[bytes, bytes]] = {}  # by content type: in, out
        self._verdicts = Verdicts()
        self._others_verdicts: dict[int, Verdicts] = {}  # -A: by namespace inode

    def scrape(
        self, accept: str = "", accept_encoding: str = ""
    ) -> tuple[bytes, list[tuple[str, str]]]:
        """One scrape: the body and the headers (Content-Type, and Content-Encoding if gzip)."""
        started = time.monotonic()
        encoder, content_type = choose_encoder(accept)
        compress = gzip_accepted(accept_encoding)
        reading = self.source.reading()
        body = self._snapshot_part(reading, encoder, content_type, compress)
        tail = encoder(Families(scrape_families(reading, started, time.monotonic())))
        headers = [("Content-Type", content_type)]
        if compress:
            headers.append(("Content-Encoding", "gzip"))
            return body + gzip.compress(tail, GZIP_LEVEL), headers
        return body + tail, headers

    def text(self) -> bytes:
        """The Prometheus text format, uncompressed (the textfile's)."""
        return self.scrape()[0]

    def _snapshot_part(
        self, reading: Reading, encoder: Encoder, content_type: str, compress: bool
    ) -> bytes:
        """The encoding of everything but the per-scrape families, OpenMetrics' EOF cut off."""
        with self._lock:
            if reading.serial < self._serial:  # a newer reading owns the cache: no caching
                return self._encode(reading, encoder, content_type, compress)
            if reading.serial != self._serial:
                self._serial, self._encoded = reading.serial, {}
            key = (content_type, compress)
            if key not in self._encoded:
                self._encoded[key] = self._encode(reading, encoder, content_type, compress)
            return self._encoded[key]

    def _encode(
        self, reading: Reading, encoder: Encoder, content_type: str, compress: bool
    ) -> bytes:
        found = judged(reading, self.max_objects, self._verdicts)
        every = [found, *self._others(reading)] if found is not None else []
        head = [*health_families(reading), *merged(summary_families(f) for f in every)]
        if reading.every is not None and found is not None:
            head += namespace_families(reading.every)
        encoded = encode(Families(head), encoder, False)
        if found is None:
            return gzip.compress(encoded, GZIP_LEVEL) if compress else encoded
        if content_type not in self._objects:
            self._objects[content_type] = ObjectLines(encoder)
        objects = self._objects[content_type].render([row for p in every for row in p.rows])
        if not compress:
            return encoded + objects
        # Two gzip members, the objects' kept while render gives the same bytes object.
        return gzip.compress(encoded, GZIP_LEVEL) + self._gzipped(content_type, objects)

    def _gzipped(self, content_type: str, objects: bytes) -> bytes:
        kept = self._objects_gzip.get(content_type)
        if kept is None or kept[0] is not objects:
            kept = self._objects_gzip[content_type] = (objects, gzip.compress(objects, GZIP_LEVEL))
        return kept[1]

    def _others(self, reading: Reading) -> list[Judged]:
        """-A: each other namespace judged (with its own Verdicts: ids repeat)."""
        if reading.every is None:
            return []
        verdicts = {p.namespace.inode: self._others_verdicts.get(p.namespace.inode, Verdicts())
                    for p in reading.every.others}  # fmt: skip
        self._others_verdicts = verdicts  # a namespace gone is forgotten
        return [
            judged_part(p.snapshot, p.waits, p.posix, str(p.namespace.inode), self.max_objects,
                        verdicts[p.namespace.inode])
            for p in reading.every.others
        ]  # fmt: skip


def encode(families: Families, encoder: Encoder, compress: bool) -> bytes:
    """Families in one format (OpenMetrics' EOF cut off, the scrape's tail adds it), gzipped
    if asked."""
    encoded = encoder(families).removesuffix(OPENMETRICS_EOF)
    return gzip.compress(encoded, GZIP_LEVEL) if compress else encoded


def wsgi_app(exposition: Exposition) -> Callable[..., Iterable[bytes]]:
    """/metrics and a short index; GET and HEAD only: no endpoint changes anything."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        if method not in ("GET", "HEAD"):
            start_response(
                "405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Type", "text/plain")]
            )
            return [b"shmtop exporter is read-only: GET /metrics\n"]
        if path == "/metrics":
            body, headers = exposition.scrape(
                environ.get("HTTP_ACCEPT", ""), environ.get("HTTP_ACCEPT_ENCODING", "")
            )
        elif path == "/":
            body, headers = _INDEX, [("Content-Type", "text/plain; charset=utf-8")]
        else:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: GET /metrics\n"]
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [] if method == "HEAD" else [body]

    return app
