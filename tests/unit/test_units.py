"""How sizes, ages, times, keys and permission bits are written (one formatter each)."""

from __future__ import annotations

import time

import pytest

from shmtop.text.units import age, clock, hex_key, human_size, octal_perms, short_age

NOW = 1_795_000_000.0


@pytest.mark.parametrize(
    ("count", "shown"),
    [(None, "-"), (0, "0B"), (1, "1B"), (1023, "1023B"), (1024, "1.0K"), (1536, "1.5K"),
     (4096, "4.0K"), (2**20, "1.0M"), (148 * 2**20, "148.0M"), (3 * 2**30 // 2, "1.5G"),
     (2**40, "1.0T"), (2**50, "1024.0T"), (2**64 - 2**24, "16777216.0T")],
)  # fmt: skip
def test_human_size_uses_binary_units_with_one_decimal_and_stops_at_terabytes(
    count: int | None, shown: str
) -> None:
    assert human_size(count) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (59, "59s"), (60, "1m"), (119, "1m"), (3599, "59m"), (3600, "1h"),
     (86399, "23h"), (86400, "1d"), (400 * 86400, "400d")],
)  # fmt: skip
def test_a_short_age_is_the_largest_whole_unit(seconds: int, shown: str) -> None:
    assert short_age(int(NOW) - seconds, NOW) == shown


def test_never_is_a_dash_and_a_time_after_now_is_no_age() -> None:
    assert short_age(0, NOW) == "-"
    assert short_age(int(NOW) + 30, NOW) == "0s"  # the clock stepped back: not "-30s"


def test_age_says_ago_or_never_and_defaults_to_the_clock() -> None:
    assert age(int(NOW) - 5, NOW) == "5s ago"
    assert age(int(NOW) - 7200, NOW) == "2h ago"
    assert age(0, NOW) == "never"
    assert age(0) == "never"
    assert age(int(time.time()) - 150) == "2m ago"  # 150 s: 2m for a minute to come


@pytest.mark.usefixtures("utc")
def test_clock_is_local_date_and_time_or_never() -> None:
    assert clock(int(NOW)) == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(NOW))
    assert clock(86400 + 3661) == "1970-01-02 01:01:01"
    assert clock(0) == "never"


@pytest.mark.parametrize(
    ("key", "shown"),
    [(0, "0x00000000"), (0x1234, "0x00001234"), (0xDEADBEEF, "0xdeadbeef"),
     (0xFFFFFFFF, "0xffffffff")],
)  # fmt: skip
def test_a_key_is_0x_and_eight_hex_digits_as_ipcs_writes_it(key: int, shown: str) -> None:
    assert hex_key(key) == shown


def test_perms_are_three_octal_digits() -> None:
    assert octal_perms(0o600) == "600"
    assert octal_perms(0o7) == "007"
    assert octal_perms(0) == "000"
    assert octal_perms(0o777) == "777"
