"""The segment reader on real segments: both read paths, what they change, scans, export."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import helpers
import pytest
import segment_writer
from helpers import MakeShm, Spawn

from shmtop.core.binding import native
from shmtop.core.segment import segment_reader
from shmtop.core.segment.change_map import ChangeMap
from shmtop.core.segment.segment_reader import CannotRead, ReadPath, SegmentReader
from shmtop.text import errors
from shmtop.text.hexdump import hex_lines

NOBODY = 65534
PIECES = [(0, b"hello, segment\0"), (0x1234, bytes(range(256))), (0x7FF8, b"LASTWORD")]


def counters(shmid: int) -> tuple[int, int, int, int, int]:
    """What observing may change: nattch, lpid, atime, dtime, and rss (pages allocated)."""
    stat = native.shm_stat(shmid)
    rss = helpers.live_rows("shm")[shmid].get("rss", -1)
    return stat.nattch, stat.lpid, stat.atime, stat.dtime, rss


def written(make_shm: MakeShm, size: int = 0x8000) -> int:
    shmid = make_shm(size)
    segment_writer.write(shmid, PIECES)
    return shmid


def as_nobody(job: Callable[[], str]) -> str:
    """Run job in a forked child with the uid and gid of nobody; returns what it returned."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            answer = job()
        except BaseException as error:
            answer = f"raised {type(error).__name__}: {error}"
        os.write(write_end, answer.encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        answer = pipe.read().decode()
    os.waitpid(pid, 0)
    return answer


# ---- attached read-only ----


def test_attached_reader_returns_the_bytes_another_process_wrote(make_shm: MakeShm) -> None:
    shmid = written(make_shm)
    with SegmentReader.attach(shmid) as reader:
        assert reader.path is ReadPath.ATTACH
        assert reader.describe() == "attached read-only: nattch +1"
        assert reader.read(0, reader.size) == segment_writer.expected(0x8000, PIECES)
        assert reader.read(0x7FF8, 100) == b"LASTWORD"  # cut at the end of the segment


def test_attaching_raises_nattch_until_closed_also_after_an_error(make_shm: MakeShm) -> None:
    shmid = written(make_shm)
    before = native.shm_stat(shmid).nattch
    with pytest.raises(RuntimeError), SegmentReader.attach(shmid) as reader:
        assert native.shm_stat(shmid).nattch == before + 1
        assert native.shm_stat(shmid).lpid == os.getpid()
        raise RuntimeError("the view failed")
    assert native.shm_stat(shmid).nattch == before
    with pytest.raises(segment_reader.ReaderClosed):
        reader.read(0, 1)


def test_attached_reads_as_root_go_through_the_file_and_allocate_no_page(make_shm: MakeShm) -> None:
    if os.geteuid() != 0:
        pytest.skip("map_files needs root")
    shmid = make_shm(8 << 20)  # nothing written: every page is a hole
    with SegmentReader.attach(shmid) as reader:
        assert not reader.touches_pages
        assert reader.find(b"absent!!", 0) == -1
        assert reader.first_nonzero(0) == -1
        assert counters(shmid)[4] == 0


# ---- through another process, counters untouched ----


@pytest.mark.root
def test_reading_through_an_attacher_changes_nothing(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = written(make_shm)
    holder = spawn(name="holder", attach=[(shmid, False)])
    before = counters(shmid)
    with SegmentReader.through_process(shmid) as reader:
        assert reader.pid == holder.pid
        assert reader.describe() == f"read through pid {holder.pid}, counters untouched"
        content = reader.read(0, reader.size)
        assert reader.find(b"LASTWORD", 0) == 0x7FF8
        assert reader.next_region(0x100) == 0x1235  # range(256) starts with a zero
    assert counters(shmid) == before
    assert content == segment_writer.expected(0x8000, PIECES)
    assert segment_writer.checksum(content) == segment_writer.checksum(
        native.read_segment(shmid, 0, 0x8000)
    )


@pytest.mark.root
def test_reading_through_a_process_that_exited_keeps_working(
    make_shm: MakeShm, spawn: Spawn
) -> None:
    shmid = written(make_shm)
    holder = spawn(name="holder", attach=[(shmid, False)])
    with SegmentReader.through_process(shmid) as reader:
        holder.stop()
        assert "exited" in reader.describe()
        assert reader.read(0x7FF8, 8) == b"LASTWORD"


def test_no_attach_without_another_attacher_says_why(make_shm: MakeShm) -> None:
    shmid = written(make_shm)
    with pytest.raises(CannotRead, match="no other process has it attached"):
        SegmentReader.open(shmid, no_attach=True)


def test_unknown_segment_is_named_in_the_error() -> None:
    with pytest.raises(CannotRead) as raised:
        SegmentReader.attach(0x7FFFFFFF)
    assert errors.cannot_read(raised.value) == errors.no_such_object("shm", 0x7FFFFFFF)


def test_a_segment_without_read_permission_gives_a_clear_message(make_shm: MakeShm) -> None:
    shmid = written(make_shm)  # mode 0600, owned by root

    def attach() -> str:
        try:
            SegmentReader.attach(shmid)
        except CannotRead as error:
            return errors.cannot_read(error)
        return "attached"

    assert as_nobody(attach) == (errors.permission_denied("shm", shmid))


@pytest.mark.root
def test_no_attach_as_another_user_says_it_needs_root(make_shm: MakeShm, spawn: Spawn) -> None:
    shmid = make_shm(4096, 0o644)
    spawn(name="holder", attach=[(shmid, False)])

    def through() -> str:
        try:
            SegmentReader.through_process(shmid)
        except CannotRead as error:
            return str(error)
        return "opened"

    assert "needs root" in as_nobody(through)


# ---- scans at C speed ----


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scan in 4 KiB chunks so a small segment crosses many chunk boundaries."""
    monkeypatch.setattr(segment_reader, "CHUNK", 4096)


@pytest.mark.usefixtures("small_chunks")
def test_find_and_rfind_across_chunk_boundaries(make_shm: MakeShm) -> None:
    shmid = make_shm(64 << 10)
    pieces = [(4096 - 3, b"NEEDLE"), (3 * 4096 - 1, b"NEEDLE"), ((64 << 10) - 6, b"NEEDLE")]
    segment_writer.write(shmid, pieces)
    with SegmentReader.attach(shmid) as reader:
        assert reader.find(b"NEEDLE", 0) == 4093
        assert reader.find(b"NEEDLE", 4094) == 12287
        assert reader.find(b"NEEDLE", 12288) == (64 << 10) - 6
        assert reader.find(b"NEEDLE", 0, end=4093) == -1
        assert reader.rfind(b"NEEDLE", 0, 64 << 10) == (64 << 10) - 6
        assert reader.rfind(b"NEEDLE", 0, (64 << 10) - 1) == 12287
        assert reader.rfind(b"NEEDLE", 0, 12287 + 5) == 4093
        assert reader.rfind(b"NEEDLE", 0, 4093 + 5) == -1


@pytest.mark.usefixtures("small_chunks")
def test_non_zero_regions(make_shm: MakeShm) -> None:
    shmid = make_shm(64 << 10)
    # Two regions: 0x2000..0x2010 (with a 4-zero gap inside) and 0x9ffe..0xa002.
    pieces = [(0x2000, b"\x01\x02\0\0\0\0\x03" + b"\x04" * 9), (0x9FFE, b"\xff" * 4)]
    segment_writer.write(shmid, pieces)
    with SegmentReader.attach(shmid) as reader:
        assert reader.first_nonzero(0) == 0x2000
        assert reader.last_nonzero(0, 64 << 10) == 0xA001
        assert reader.next_region(0) == 0x2000
        assert reader.next_region(0x1FFA) == 0x2000  # from the zeros just before it
        assert reader.next_region(0x2000) == 0x9FFE  # the inner gap is too short to part
        assert reader.next_region(0x2003) == 0x9FFE
        assert reader.next_region(0x9FFE) == -1
        assert reader.previous_region(0xA001) == 0x9FFE  # inside: to its start
        assert reader.previous_region(0x9FFE) == 0x2000
        assert reader.previous_region(0x2000) == -1


def test_export_raw_and_hex_of_a_range_and_never_overwrites(
    make_shm: MakeShm, tmp_path: Path
) -> None:
    shmid = written(make_shm)
    with SegmentReader.attach(shmid) as reader:
        raw, dump = tmp_path / "part.bin", tmp_path / "part.txt"
        assert reader.export(str(raw), 0x1234, 0x1334) == 256
        assert raw.read_bytes() == bytes(range(256))
        reader.export(str(dump), 0x7FF0, 0x8000, lines=hex_lines)
        assert dump.read_text() == (
            "00007ff0  00 00 00 00 00 00 00 00  4c 41 53 54 57 4f 52 44  |........LASTWORD|\n"
            "00008000\n"
        )
        with pytest.raises(FileExistsError):
            reader.export(str(raw), 0, 16)
        assert raw.read_bytes() == bytes(range(256))
        cancelled = tmp_path / "cancelled.bin"
        reader.export(str(cancelled), 0, 0x8000, cancelled=lambda: True)
        assert not cancelled.exists()


# ---- change map ----


def test_change_map_finds_the_bucket_that_changed(make_shm: MakeShm) -> None:
    shmid = make_shm(1 << 20)
    changes = ChangeMap(1 << 20, buckets=16)
    with SegmentReader.attach(shmid) as reader:

        def one_pass() -> None:
            start = changes.passes
            while changes.passes == start:
                changes.sweep(reader, budget=0.0)  # one chunk a call

        one_pass()
        segment_writer.write(shmid, [(5 * 65536 + 7, b"x")])
        one_pass()
    seen = changes.changed_at()
    assert [i for i, when in enumerate(seen) if when != float("-inf")] == [5]
    assert changes.bucket_of(5 * 65536 + 7) == 5
