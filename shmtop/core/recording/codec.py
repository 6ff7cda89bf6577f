"""msgpack of the frames' bodies (msgspec: the model's Structs encode and decode as they are)."""

from __future__ import annotations

import socket
from types import MappingProxyType
from typing import Any

import msgspec

from shmtop.core.model import Snapshot
from shmtop.core.recording.changes import Change
from shmtop.core.recording.posix_changes import PosixChange, PosixRecord

# Of the file; a reader refuses a newer one. 1: System V only; 2: also the POSIX half
# (POSIX_KEY and POSIX_CHANGE frames, Meta.posix).
FORMAT = 2


class Meta(msgspec.Struct, frozen=True):
    """The META frame: what the rest of the file is."""

    format: int
    started: float  # epoch seconds, when the recorder started
    interval: float  # seconds between snapshots, as asked
    hostname: str
    keyframe_every: int  # a whole snapshot every this many frames
    posix: bool = False  # the POSIX half is recorded (format 2, without -A)


def _mapping(value: Any) -> Any:
    # The model's empty defaults are read-only mappings, which msgpack cannot name.
    if isinstance(value, MappingProxyType):
        return dict(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


ENCODER = msgspec.msgpack.Encoder(enc_hook=_mapping)
SNAPSHOT = msgspec.msgpack.Decoder(Snapshot)
CHANGE = msgspec.msgpack.Decoder(Change)
META = msgspec.msgpack.Decoder(Meta)
POSIX_RECORD = msgspec.msgpack.Decoder(PosixRecord)
POSIX_CHANGE = msgspec.msgpack.Decoder(PosixChange)


def meta_now(started: float, interval: float, keyframe_every: int, posix: bool = False) -> Meta:
    return Meta(FORMAT, started, interval, socket.gethostname(), keyframe_every, posix)
