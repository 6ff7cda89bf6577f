"""What a user types into the segment view (shmtop.text.view_input): offsets, patterns, exports."""

from __future__ import annotations

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
    with pytest.raises(ValueError, match="not an offset"):
        parse_offset("zz", 0, 100)
    assert parse_pattern("x: de ad BE ef") == b"\xde\xad\xbe\xef"
    assert parse_pattern("héllo") == "héllo".encode()
    with pytest.raises(ValueError, match="not hex"):
        parse_pattern("x:xyz")
    assert parse_export("out.bin", 5, 100) == ("out.bin", 0, 100, False)
    assert parse_export("'a b.txt' 0x10 +16 hex", 0, 100) == ("a b.txt", 16, 32, True)
    assert parse_export("o +0 end raw", 40, 100) == ("o", 40, 100, False)
    with pytest.raises(ValueError, match="outside"):
        parse_export("o 90 +20", 0, 100)
