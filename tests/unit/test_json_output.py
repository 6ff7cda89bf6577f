"""cli/output.py's encoder: compact, ASCII-only JSON as json.dumps writes it, any text."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from msgspec import UNSET, Struct, UnsetType

from shmtop.cli import output
from shmtop.cli.output import emit, emit_streamed, encode


class Named(Struct, gc=False):
    name: str
    more: list[int] | UnsetType = UNSET


TEXTS = [
    "plain",
    "bidi\u202eoverride, C1 \u0085 \u009b, ESC \x1b, NUL \x00",
    "astral \U0001f600 and \u00e9",
    "undecodable \udcff byte (surrogateescape)",
    'quote " backslash \\ newline \n',
]


@pytest.mark.parametrize("text", TEXTS)
def test_encode_is_json_dumps_ascii_output(text: str) -> None:
    data = encode(Named(name=text))

    assert data.isascii()
    assert data == json.dumps({"name": text}, separators=(",", ":")).encode()
    assert json.loads(data) == {"name": text}


def test_unset_fields_are_left_out_and_set_ones_kept() -> None:
    assert encode(Named(name="x")) == b'{"name":"x"}'
    assert encode(Named(name="\udcff", more=[1])) == b'{"name":"\\udcff","more":[1]}'


def test_emit_writes_one_line_to_text_and_byte_streams() -> None:
    text = io.StringIO()
    emit(Named(name="\u202e"), text)
    raw = io.BytesIO()
    wrapped = io.TextIOWrapper(raw, encoding="utf-8")
    wrapped.write("before\n")
    emit(Named(name="a"), wrapped, flush=True)

    assert text.getvalue() == '{"name":"\\u202e"}\n'
    assert raw.getvalue() == b'before\n{"name":"a"}\n'  # what was printed first comes first


class Tagged(Struct, tag="t", gc=False):
    name: str


class Listing(Struct, kw_only=True, gc=False):
    version: str
    items: list[Named] | UnsetType = UNSET
    others: list[Tagged] | UnsetType = UNSET
    tail: Named


def streamed(document: Listing, lists: Mapping[str, Sequence[Struct]]) -> bytes:
    raw = io.BytesIO()
    wrapped = io.TextIOWrapper(raw, encoding="utf-8")
    emit_streamed(document, {name: iter(records) for name, records in lists.items()}, wrapped)
    wrapped.flush()
    return raw.getvalue()


@pytest.mark.parametrize("text", TEXTS)
def test_a_streamed_document_is_the_bytes_emit_writes_of_the_whole(text: str) -> None:
    items = [Named(name=text, more=[1, 2]), Named(name="x"), Named(name=text)]
    others = [Tagged(name=text)]
    whole = Listing(version="1.0", items=items, others=others, tail=Named(name=text))
    raw = io.BytesIO()
    wrapped = io.TextIOWrapper(raw, encoding="utf-8")
    emit(whole, wrapped, flush=True)
    shell = Listing(version="1.0", items=[], others=[], tail=Named(name=text))

    assert streamed(shell, {"items": items, "others": others}) == raw.getvalue()


def test_a_streamed_document_leaves_unset_lists_out_and_writes_empty_ones() -> None:
    shell = Listing(version="1", items=[], tail=Named(name="t"))

    assert streamed(shell, {"items": []}) == b'{"version":"1","items":[],"tail":{"name":"t"}}\n'
    assert streamed(shell, {}) == b'{"version":"1","items":[],"tail":{"name":"t"}}\n'


def test_a_streamed_document_is_written_in_chunks_and_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = [Named(name=f"n{i}") for i in range(50)]
    shell = Listing(version="1", items=[], tail=Named(name="t"))
    expected = encode(Listing(version="1", items=items, tail=Named(name="t"))) + b"\n"
    writes: list[bytes] = []

    class Recorder(io.BytesIO):
        def write(self, data: Any) -> int:
            writes.append(bytes(data))
            return super().write(data)

    monkeypatch.setattr(output, "CHUNK_BYTES", 64)
    monkeypatch.setattr(output, "RUN_RECORDS", 1)  # a run encoded at once is one piece
    recorder = Recorder()
    emit_streamed(shell, {"items": iter(items)}, io.TextIOWrapper(recorder, encoding="utf-8"))

    assert b"".join(writes) == expected
    assert len(writes) > 5 and all(len(w) < 64 + 16 for w in writes)


@pytest.mark.parametrize("run", [1, 2, 3, 256])
def test_records_encoded_in_runs_are_the_bytes_of_each_alone(
    monkeypatch: pytest.MonkeyPatch, run: int
) -> None:
    """A run of records is one encode() call: the same bytes, whatever its length, with text
    to escape or one only json can write (a lone surrogate) anywhere in it, and with records
    given as their JSON already between the runs (as a --watch line gives them)."""
    monkeypatch.setattr(output, "RUN_RECORDS", run)
    items: list[Any] = [Named(name=text, more=[n]) for n, text in enumerate(TEXTS * 3)]
    items[4] = encode(items[4])  # already encoded
    items[5] = encode(items[5])
    shell = Listing(version="1", items=[], tail=Named(name="t"))
    whole = [item if type(item) is bytes else encode(item) for item in items]
    expected = b'{"version":"1","items":[' + b",".join(whole) + b'],"tail":{"name":"t"}}\n'

    assert streamed(shell, {"items": items}) == expected


def test_only_a_plain_struct_is_streamed() -> None:
    with pytest.raises(TypeError, match="not a plain Struct"):
        emit_streamed(Tagged(name="x"), {}, io.StringIO())
