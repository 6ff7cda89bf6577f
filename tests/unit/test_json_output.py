"""cli/output.py's encoder: compact, ASCII-only JSON as json.dumps writes it, any text."""

from __future__ import annotations

import io
import json

import pytest
from msgspec import UNSET, Struct, UnsetType

from shmtop.cli.output import emit, encode


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
