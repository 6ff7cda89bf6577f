"""The POSIX scan's text maps reader on crafted lines, and the mountinfo parser."""

from __future__ import annotations

import os
import tempfile

from shmtop.core.binding import native
from shmtop.core.posix.mounts import parse_mountinfo

SHM = os.makedev(0, 0x1B)
OTHER = os.makedev(0, 0x2C)
DISK = os.makedev(8, 1)


def parse(
    text: bytes, devices: list[int], *, any_anonymous: bool = False
) -> list[native.FileMapRow]:
    with tempfile.TemporaryFile() as file:
        file.write(text)
        file.seek(0)
        return native.parse_file_maps_fd(file.fileno(), 42, devices, any_anonymous=any_anonymous)


LINES = b"""\
7f0000000000-7f0000003000 rw-s 00000000 00:1b 5  /dev/shm/plain
7f0000003000-7f0000004000 r--s 00001000 00:1b 6  /dev/shm/with space (deleted)
7f0000004000-7f0000005000 rw-p 00000000 00:1b 7  /dev/shm/private
7f0000005000-7f0000006000 rw-s 00000000 00:1b 8  /SYSV0000002a (deleted)
7f0000006000-7f0000007000 rw-s 00000000 00:2c 9  /dev/shm/container
7f0000007000-7f0000008000 rw-s 00000000 08:01 10  /var/db/file
7f0000008000-7f0000009000 rw-s 00000000 00:01 11  /dev/zero (deleted)
7f0000009000-7f000000a000 rw-s 00000000 00:00 0
"""


def test_shared_mappings_on_the_chosen_devices_only() -> None:
    rows = parse(LINES, [SHM])
    assert [(r.inode, r.writable, r.deleted, r.offset, r.name) for r in rows] == [
        (5, 1, 0, 0, b"/dev/shm/plain"),
        (6, 0, 1, 0x1000, b"/dev/shm/with space (deleted)"),
    ]
    assert rows[0] == native.FileMapRow(42, 0x7F0000000000, 0x7F0000003000, 1, SHM, 5, 0, 0,
                                        14, b"/dev/shm/plain")  # fmt: skip


def test_any_anonymous_device_adds_other_major_0_ones_but_never_system_v() -> None:
    rows = parse(LINES, [SHM], any_anonymous=True)
    assert [r.inode for r in rows] == [5, 6, 9, 11]  # not 8 (/SYSV), not 10 (a disk), not private


def test_a_path_longer_than_the_kept_name_is_cut_and_says_so() -> None:
    long_path = b"/dev/shm/" + b"n" * 600
    rows = parse(b"7f0000000000-7f0000001000 rw-s 00000000 00:1b 5  " + long_path + b"\n", [SHM])
    assert rows[0].name_length == len(long_path)
    assert rows[0].name == long_path[: native.FMAP_NAME - 1]


def test_a_line_longer_than_the_buffer_keeps_its_row_and_is_never_parsed_from_its_middle() -> None:
    # A path longer than the line bound (a deep tree reached by relative opens can be longer
    # than PATH_MAX): its row is kept from the line's prefix, its name cut; what its middle
    # holds (here the text of another mapping, inode 99) is never taken for a line.
    fake = b" 7f0000002000-7f0000003000 rw-s 00000000 00:1b 99  /dev/shm/evil "
    path = b"/dev/shm/" + b"x" * 30000 + fake + b"y" * 40000
    huge = b"7f0000000000-7f0000001000 rw-s 00000000 00:1b 7  " + path + b"\n"
    rows = parse(huge + LINES, [SHM])
    assert [r.inode for r in rows] == [7, 5, 6]
    assert (rows[0].name_length, rows[0].deleted) == (len(path), 0)
    assert rows[0].name == path[: native.FMAP_NAME - 1]


def test_a_cut_last_line_is_not_parsed() -> None:
    assert parse(b"7f0000000000-7f0000001000 rw-s 00000000 00:1b 5  /dev/shm/cut", [SHM]) == []


MOUNTINFO = rb"""22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
25 24 0:23 / /dev/shm rw,nosuid,nodev shared:4 - tmpfs tmpfs rw
26 24 0:24 / /mnt/huge\040pages rw,relatime shared:5 - hugetlbfs hugetlbfs rw,pagesize=2M
27 24 0:25 / /proc rw shared:6 master:2 - proc proc rw
garbage
"""


def test_mountinfo_gives_tmpfs_and_hugetlbfs_mounts_with_their_devices() -> None:
    assert parse_mountinfo(MOUNTINFO) == [
        (os.makedev(0, 23), "tmpfs", "/dev/shm"),
        (os.makedev(0, 24), "hugetlbfs", "/mnt/huge pages"),
    ]


def test_a_newline_the_text_wrote_as_backslash_012_is_a_newline_again() -> None:
    line = b"7f0000000000-7f0000001000 rw-s 00000000 00:1b 5  /dev/shm/a\\012b (deleted)\n"
    rows = parse(line, [SHM])
    assert rows[0].name == b"/dev/shm/a\nb (deleted)"
    assert (rows[0].name_length, rows[0].deleted) == (len(rows[0].name), 1)


def test_rows_past_the_capacity_are_counted_not_written() -> None:
    with tempfile.TemporaryFile() as file:
        file.write(LINES * 3)
        file.seek(0)
        rows = native.parse_file_maps_fd(file.fileno(), 42, [SHM], capacity=3)
    assert [r.inode for r in rows] == [5, 6, 5]
