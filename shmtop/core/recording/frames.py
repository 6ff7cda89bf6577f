"""The file's framing: a magic line, then frames, each with its length and a CRC-32.

A frame is written with one write() and nothing after it refers back, so a recorder stopped
at any moment (Ctrl-C, SIGKILL, a full disk) leaves whole frames and at most one torn one at
the end; a reader keeps every whole frame and ignores the rest (a wrong length or checksum
ends the file there).

    frame = header (25 bytes, little-endian: payload length u32, crc32 u32, type u8,
            taken_at f64, namespace u64) + payload (zlib-compressed msgpack)
    crc32 covers the type, taken_at, namespace and the payload.

Each frame names the IPC namespace (inode) whose snapshot it holds: the frames of one
namespace are a stream of their own (a key frame, then its changes), so one file can hold
several namespaces' streams interleaved (a recorder of every namespace, -A).
"""

from __future__ import annotations

import enum
import struct
import zlib
from typing import NamedTuple

MAGIC = b"shmtop recording\n"
_HEADER = struct.Struct("<IIBdQ")
_CHECKED = struct.Struct("<BdQ")  # the header's part under the checksum
HEADER_SIZE = _HEADER.size
MAX_PAYLOAD = 1 << 30  # a length beyond this is damage, not a frame
COMPRESSION_LEVEL = 1  # 5x faster than zlib's default 6 on a key frame's msgpack, as small


class FrameType(enum.IntEnum):
    META = 1  # the first frame: what was recorded, where, how often (Meta)
    KEY = 2  # a whole snapshot
    CHANGE = 3  # what changed since the frame before (Change)
    # Format 2: the POSIX half of a snapshot (posix_changes.py), a stream of its own beside
    # the System V one, each frame just before the System V frame of the same moment and
    # in the same write (a torn write leaves out the System V frame, and so the moment).
    POSIX_KEY = 4  # the whole POSIX part (PosixRecord)
    POSIX_CHANGE = 5  # what changed since the POSIX frame before (PosixChange); none
    # is written when nothing changed: a moment's POSIX part is the last frame's at or
    # before it


class Frame(NamedTuple):
    """One whole frame found in a file: where its payload is, not the payload itself."""

    type: FrameType
    taken_at: float
    start: int  # offset of the compressed payload
    length: int
    namespace: int  # inode of the IPC namespace of its snapshot (0: none, the META frame)


class NotARecording(ValueError):
    """The file does not start as a recording does."""


def encode_frame(frame_type: FrameType, taken_at: float, body: bytes, namespace: int = 0) -> bytes:
    """One frame, ready for a single write."""
    payload = zlib.compress(body, COMPRESSION_LEVEL)
    crc = zlib.crc32(payload, zlib.crc32(_CHECKED.pack(frame_type, taken_at, namespace)))
    return _HEADER.pack(len(payload), crc, frame_type, taken_at, namespace) + payload


def scan_frames(data: bytes | memoryview) -> tuple[list[Frame], int]:
    """Every whole frame of a file's bytes, and where the whole frames end (len(data) when
    nothing is torn). NotARecording unless it starts with the magic line."""
    view = memoryview(data)
    if bytes(view[: len(MAGIC)]) != MAGIC:
        raise NotARecording("not a shmtop recording (it does not start with its magic line)")
    frames: list[Frame] = []
    at, end = len(MAGIC), len(view)
    while at + HEADER_SIZE <= end:
        length, crc, kind, taken_at, namespace = _HEADER.unpack_from(view, at)
        start = at + HEADER_SIZE
        if length > MAX_PAYLOAD or start + length > end or kind not in _TYPES:
            break
        head = view[at + 8 : start]  # type, taken_at and namespace, as checksummed
        if zlib.crc32(view[start : start + length], zlib.crc32(head)) != crc:
            break
        frames.append(Frame(FrameType(kind), taken_at, start, length, namespace))
        at = start + length
    return frames, at


def payload(data: bytes | memoryview, frame: Frame) -> bytes:
    """A frame's body, decompressed."""
    return zlib.decompress(memoryview(data)[frame.start : frame.start + frame.length])


_TYPES = frozenset(int(t) for t in FrameType)
