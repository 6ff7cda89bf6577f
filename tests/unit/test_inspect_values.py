"""The value inspector (shmtop.text.inspect_values): the bytes at the cursor read as numbers,
times and strings, untrusted bytes shown through the sanitiser."""

from __future__ import annotations

import struct

from shmtop.text.inspect_values import decode


def test_inspector_decodes_known_values() -> None:
    data = struct.pack("<q", 1_700_000_000) + b"name\0"
    values = {v.name: v for v in decode(data)}
    assert values["u8"].little == "0"
    assert values["i32"].little == "1700000000"
    assert values["u64"].little == "1700000000"
    assert values["u64"].big == str(int.from_bytes(data[:8], "big"))
    assert values["time_t"].little == "2023-11-14 22:13:20Z"
    assert values["cstring"].little == '"" (0 bytes)'  # 1700000000 starts with a zero byte
    assert {v.name: v for v in decode(struct.pack("<d", -2.5))}["f64"].little == "-2.5"
    assert {v.name: v for v in decode(struct.pack(">f", 0.5) + bytes(4))}["f32"].big == "0.5"
    assert {v.name: v for v in decode(b"\x01")}["i16"].little == "-"
    assert {v.name: v for v in decode(b"\x1b[31m\0")}["cstring"].little == '".[31m" (5 bytes)'
