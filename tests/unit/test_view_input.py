"""What a user types into the segment view (shmtop.text.view_input): offsets, patterns, exports."""

from __future__ import annotations

import os

import pytest

from shmtop.text.view_input import parse_export, parse_offset, parse_pattern


def test_offsets_patterns_and_export_requests() -> None:
    assert parse_offset("0x10", 0, 100) == 16
    assert parse_offset("+0x10", 32, 100) == 48
    assert parse_offset("-8", 32, 100) == 24
    assert parse_offset("1k", 0, 4096) == 1024
    assert parse_offset("50%", 0, 100) == 50
    assert parse_offset("end", 0, 100) == 99
    with pytest.raises(ValueError, match="outside"):
        parse_offset("200", 0, 100)
    for typo in ("zz", "010", "1_0", "\u0661"):  # the commands' syntax: no guessing
        with pytest.raises(ValueError, match="not an offset"):
            parse_offset(typo, 0, 100)
    assert parse_pattern("x: de ad BE ef") == b"\xde\xad\xbe\xef"
    assert parse_pattern("héllo") == "héllo".encode()
    with pytest.raises(ValueError, match="not hex"):
        parse_pattern("x:xyz")
    assert parse_export("out.bin", 5, 100) == ("out.bin", 0, 100, False)
    assert parse_export("'a b.txt' 0x10 +16 hex", 0, 100) == ("a b.txt", 16, 32, True)
    assert parse_export("o +0 end raw", 40, 100) == ("o", 40, 100, False)
    with pytest.raises(ValueError, match="outside"):
        parse_export("o 90 +20", 0, 100)


def test_an_offset_can_be_the_end_a_percentage_or_relative_to_the_cursor() -> None:
    assert parse_offset("$", 0, 100) == parse_offset("END", 0, 100) == 99
    assert parse_offset("end", 0, 0) == 0  # an empty segment: nowhere else to go
    assert parse_offset("0%", 50, 100) == 0
    assert parse_offset("100%", 0, 100) == 99  # the last byte, not one past it
    assert parse_offset("4K", 0, 8192) == 4096
    assert parse_offset("2M", 0, 4 << 20) == 2 << 20
    assert parse_offset(" 0o17 ", 0, 100) == 15
    for text, said in (("", "type an offset"), ("   ", "type an offset"),
                       ("101%", "0 to 100"), ("-5%", "0 to 100"),
                       ("-8", "outside the segment"), ("100", "outside the segment"),
                       ("0x10k", "not an offset"), ("1g", "outside the segment")):  # fmt: skip
        with pytest.raises(ValueError, match=said):
            parse_offset(text, 4, 100)


def test_a_pattern_is_utf8_text_or_hex_bytes_after_x() -> None:
    assert parse_pattern("X:DEAD") == b"\xde\xad"
    assert parse_pattern("x:de\tad  be") == b"\xde\xad\xbe"
    assert parse_pattern("x") == b"x" and parse_pattern("x;") == b"x;"
    assert parse_pattern(" ") == b" "  # a space is something to look for
    for text, said in (("", "type what to search for"), ("x:", "type what to search for"),
                       ("x:abc", "not hex bytes: 'abc'"), ("x:zz", "not hex")):  # fmt: skip
        with pytest.raises(ValueError, match=said):
            parse_pattern(text)


def test_an_export_names_a_file_a_range_and_a_format() -> None:
    assert parse_export("f all hex", 7, 100) == ("f", 0, 100, True)
    assert parse_export("f 0x10", 0, 100) == ("f", 16, 100, False)  # to the end
    assert parse_export("f 0x10 0x20", 0, 100) == ("f", 16, 32, False)  # END is absolute
    assert parse_export("f +4 +4", 10, 100) == ("f", 14, 18, False)
    assert parse_export("f RAW", 0, 100) == ("f", 0, 100, False)
    assert parse_export("hex", 0, 100) == ("hex", 0, 100, False)  # a file may be named hex
    assert parse_export("~/seg.bin", 0, 1).path == os.path.expanduser("~/seg.bin")
    refused = {"": "type FILE", "'open": "No closing quotation: FILE", "f 0 10 20": "too many",
               "f 0 +0": "empty or outside", "f 50 10": "empty or outside",
               "f 0 101": "empty or outside"}  # fmt: skip
    for text, said in refused.items():
        with pytest.raises(ValueError, match=said):
            parse_export(text, 0, 100)
