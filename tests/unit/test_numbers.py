"""The number syntax of the commands and the filter language (shmtop.text.numbers)."""

from __future__ import annotations

import argparse

import pytest

from shmtop.text.numbers import (
    INT32_MAX,
    KEY_MAX,
    OFF_MAX,
    byte_offset,
    counted,
    ipc_id,
    ipc_key,
    parse_number,
)


@pytest.mark.parametrize(
    ("text", "value"),
    [("0", 0), ("7", 7), ("42", 42), ("0x1F", 31), ("0X1f", 31), ("0o17", 15), ("0O17", 15),
     ("-5", -5), ("-0x10", -16), ("0x0", 0), ("-0", 0), (str(2**70), 2**70)],
)  # fmt: skip
def test_decimal_hex_and_octal_are_read(text: str, value: int) -> None:
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["010", "00", "-07", "0009"])
def test_a_leading_zero_is_refused_not_guessed(text: str) -> None:
    with pytest.raises(ValueError, match="leading zero: write 0o"):
        parse_number(text)


@pytest.mark.parametrize(
    "text",
    ["", " ", "+5", "1_000", "0b101", " 5", "5 ", "1e3", "0x", "0o", "0o8", "-", "--1",
     "0xg", "\u0663", "1\u0663", "\uff11", "five"],
)  # fmt: skip
def test_anything_else_is_not_a_number_and_says_the_syntax(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a number: .*\(decimal, 0x hex or 0o octal\)"):
        parse_number(text)


def test_an_id_is_0_to_int32_max_and_the_error_names_the_range() -> None:
    assert ipc_id("0") == 0
    assert ipc_id(str(INT32_MAX)) == INT32_MAX
    assert ipc_id("0x7fffffff") == INT32_MAX
    for text in (str(INT32_MAX + 1), "-1", str(2**64)):
        with pytest.raises(argparse.ArgumentTypeError) as error:
            ipc_id(text)
        assert str(error.value) == f"{text} is out of range: an IPC id is 0 to {INT32_MAX}"
    with pytest.raises(argparse.ArgumentTypeError, match="leading zero"):
        ipc_id("017")
    assert ipc_id.__name__ == "an IPC id"  # argparse's own messages name the type


def test_counts_and_offsets_have_their_own_ranges() -> None:
    assert counted(str(INT32_MAX)) == INT32_MAX
    assert byte_offset(str(OFF_MAX)) == OFF_MAX
    with pytest.raises(argparse.ArgumentTypeError, match="a count is 0 to"):
        counted(str(INT32_MAX + 1))
    with pytest.raises(argparse.ArgumentTypeError, match="an offset is 0 to"):
        byte_offset(str(OFF_MAX + 1))


@pytest.mark.parametrize(
    ("text", "key"),
    [("0", 0), ("0x1234", 0x1234), ("4660", 0x1234), ("0xffffffff", KEY_MAX),
     ("-1", KEY_MAX), ("-2147483648", 0x80000000), ("2147483648", 0x80000000),
     ("-0x21524111", 0xDEADBEEF)],
)  # fmt: skip
def test_a_key_is_returned_unsigned_from_either_form(text: str, key: int) -> None:
    assert ipc_key(text) == key


@pytest.mark.parametrize("text", ["0x100000000", "4294967296", "-2147483649", str(2**64)])
def test_a_key_outside_32_bits_is_refused_never_cut_down(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="out of range: a key is 0 to 0xffffffff"):
        ipc_key(text)
