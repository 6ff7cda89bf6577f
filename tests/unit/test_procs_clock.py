"""The boot time from /proc/stat's btime line (psutil's source too), and start times from it."""

from __future__ import annotations

import os
import time

import pytest

from shmtop.core.binding import native
from shmtop.core.snapshot.procs import boot_time, start_time

STAT = b"cpu  1 2 3 4 5 6 7 0 0 0\ncpu0 1 2 3 4 5 6 7 0 0 0\nintr 0\nctxt 9\nbtime 1795000000\n"


def test_the_boot_time_is_the_btime_line_wherever_it_is() -> None:
    assert boot_time(STAT) == 1_795_000_000.0
    assert boot_time(b"btime 12\nprocs_running 1\n") == 12.0


def test_a_stat_without_btime_is_an_error_not_a_zero_boot_time() -> None:
    with pytest.raises(OSError, match="btime"):
        boot_time(b"cpu  1 2 3\nbtimes 5\n")


def test_our_own_start_time_lies_between_boot_and_now() -> None:
    with open("/proc/stat", "rb") as file:
        booted = boot_time(file.read())
    [(number, _comm, ticks, _uid, _title)] = native.process_facts([os.getpid()])
    assert number == 0
    started = start_time(ticks)
    assert booted <= started <= time.time() + 1
