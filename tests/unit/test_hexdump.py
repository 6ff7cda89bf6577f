"""hexdump -C lines (shmtop.text.hexdump.hex_lines): layout, squeezed repeats, chunking."""

from __future__ import annotations

import pytest

from shmtop.text.hexdump import ROW, format_row, hex_lines

ZEROS = "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00"


def lines(data: bytes, start: int = 0, *, squeeze: bool = True) -> list[str]:
    return list(hex_lines([data], start, squeeze=squeeze))


def test_a_full_row_is_offset_two_groups_of_eight_and_the_text() -> None:
    assert lines(bytes(range(0x30, 0x40))) == [
        "00000000  30 31 32 33 34 35 36 37  38 39 3a 3b 3c 3d 3e 3f  |0123456789:;<=>?|",
        "00000010",
    ]


def test_a_short_last_row_is_padded_so_the_text_column_stays_put() -> None:
    got = lines(b"ABC")
    assert got == ["00000000  41 42 43" + " " * 42 + "|ABC|", "00000003"]
    assert got[0].index("|") == lines(bytes(16))[0].index("|")
    nine = lines(b"0123456789")[0]
    assert nine == "00000000  30 31 32 33 34 35 36 37  38 39" + " " * 20 + "|0123456789|"


def test_nothing_gives_only_the_end_offset() -> None:
    assert lines(b"") == ["00000000"]
    assert lines(b"", start=0x40) == ["00000040"]


def test_control_and_high_bytes_are_dots_in_the_text_column() -> None:
    first, second, _end = lines(b"\x1b]2;pwned\x07\x1b[41m\x9b\xff")
    assert first.endswith("|.]2;pwned..[41m.|") and second == "00000010  ff" + " " * 48 + "|.|"
    assert not {"\x1b", "\x07", "\x9b", "\xff"} & set(first + second)


def test_repeated_rows_become_one_star_and_the_end_offset_counts_them() -> None:
    assert lines(bytes(64)) == [f"00000000  {ZEROS}  |................|", "*", "00000040"]
    assert lines(bytes(64), squeeze=False) == [
        f"{offset:08x}  {ZEROS}  |................|" for offset in range(0, 64, 16)
    ] + ["00000040"]


def test_a_row_after_a_run_is_shown_at_its_offset_and_only_neighbours_are_squeezed() -> None:
    a, b = b"A" * ROW, b"B" * ROW
    got = lines(a * 5 + b + a + b"tail")
    assert [line[:8] for line in got] == ["00000000", "*", "00000050", "00000060", "00000070",
                                          "00000074"]  # fmt: skip
    assert got[2].endswith("|BBBBBBBBBBBBBBBB|") and got[3].endswith("|AAAAAAAAAAAAAAAA|")
    assert got[4].endswith("|tail|")


def test_a_megabyte_hole_is_one_star() -> None:
    got = lines(bytes(2**20) + b"x")
    assert got == [f"00000000  {ZEROS}  |................|", "*",
                   "00100000  78" + " " * 48 + "|x|", "00100001"]  # fmt: skip


def test_start_offsets_every_line() -> None:
    got = lines(b"0123456789abcdefz", start=0x1F0)
    assert [line[:8] for line in got] == ["000001f0", "00000200", "00000201"]


@pytest.mark.parametrize("size", [1, 3, 7, 15, 16, 17, 33, 1000])
def test_chunks_cut_anywhere_give_the_lines_of_the_whole(size: int) -> None:
    data = bytes(48) + bytes(range(256)) * 2 + b"\xff" * 40 + bytes(100) + b"end"
    chunks = [data[at : at + size] for at in range(0, len(data), size)]
    assert list(hex_lines(chunks, 0x1000)) == lines(data, start=0x1000)
    assert list(hex_lines(chunks, squeeze=False)) == lines(data, squeeze=False)


def test_format_row_is_the_line_of_one_row() -> None:
    assert format_row(0xABCDEF, b"\x00\x7f ~") == "00abcdef  00 7f 20 7e" + " " * 39 + "|.. ~|"
