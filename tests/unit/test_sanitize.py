"""The one sanitiser (shmtop.text.sanitize): nothing a terminal would act on gets through."""

from __future__ import annotations

import sys
import unicodedata

import pytest

from shmtop.text.sanitize import BYTE_TABLE, safe_bytes, safe_text


@pytest.mark.parametrize(
    "text",
    ["postgres: checkpointer", "", " ", "héllo wörld", "日本語", "emoji 😀", "e\u0301",
     "[red]not markup[/red]", "[b]bold?[/]", "$(rm -rf /) `id` %s %n {x}", "\\x1b[31m"],
)  # fmt: skip
def test_printable_text_and_markup_looking_text_pass_unchanged(text: str) -> None:
    # Markup is not interpreted here (nor stripped): the widgets show text as text.
    assert safe_text(text) == text


@pytest.mark.parametrize(
    ("text", "shown"),
    [("a\x1b[31mb", "a\u241b[31mb"), ("\x1b]2;pwned\x07", "\u241b]2;pwned\u2407"),
     ("\x00", "\u2400"), ("\t", "\u2409"), ("line\nnext", "line\u240anext"), ("\r", "\u240d"),
     ("\x7f", "\u2421"), ("\x9b31m", "\ufffd31m"), ("\x85", "\ufffd")],
)  # fmt: skip
def test_controls_show_as_control_pictures_or_the_replacement_character(
    text: str, shown: str
) -> None:
    assert safe_text(text) == shown


@pytest.mark.parametrize(
    "char",
    ["\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\u00ad", "\u2028", "\u2029",
     "\ud800", "\ue000", "\U0010fffd", "\u0378"],
    ids=["RLO", "LRI", "ZWSP", "ZWJ", "BOM", "SHY", "LS", "PS", "surrogate", "private",
         "private-plane-16", "unassigned"],
)  # fmt: skip
def test_format_separator_surrogate_private_and_unassigned_become_u_fffd(char: str) -> None:
    assert safe_text(f"ab{char}cd") == "ab\ufffdcd"


# The planes where assigned characters live (BMP, SMP), tags and variation selectors (plane
# 14), the private planes' edges, the last code point: every category of the sanitiser's rule.
PLANES = (range(0x20000), range(0xE0000, 0xE1000), range(0xF0000, 0xF0100),
          range(0x10FF00, sys.maxunicode + 1))  # fmt: skip


def test_every_code_point_comes_out_as_one_printable_character() -> None:
    every = "".join(chr(code) for plane in PLANES for code in plane)
    shown = safe_text(every)
    assert len(shown) == len(every)  # one character for one: columns stay where they were
    bad = {c for c in set(shown) if not (c == " " or c.isprintable() or c == "\ufffd")}
    assert not bad
    assert not {c for c in set(shown) if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co")}


def test_bytes_show_printable_ascii_and_a_dot_for_every_other_byte() -> None:
    everything = bytes(range(256))
    shown = safe_bytes(everything)
    assert len(shown) == 256
    for value, char in enumerate(shown):
        assert char == (chr(value) if 0x20 <= value < 0x7F else "."), value
    assert "".join(BYTE_TABLE) == shown  # the per-byte table the hex view uses agrees
    assert safe_bytes(b"\x1b[41mred\x9b\xff") == ".[41mred.."
