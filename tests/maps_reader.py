"""The maps_reader fixture's object: which reader a test runs on, and which its scans used."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import pytest

from shmtop.core.binding import native


class MapsReader:
    """One of native.READERS, made the process-wide choice for a test.

    Every maps scan during the test (native.scan_maps, scan_file_maps, scan_shared_maps)
    is recorded (the real call, passed through), so the fixture can check at the end that
    the scans really ran on this reader: a text-reader test that silently used the ioctl
    would pass for nothing. calls names the function of each, in order.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.used: list[str] = []
        self.calls: list[str] = []

    @property
    def env(self) -> dict[str, str]:
        """The environment a subprocess needs to pick this reader."""
        return {native.PROCMAP_QUERY_ENV: "1" if self.name == native.PROCMAP_QUERY else "0"}

    def check(self) -> None:
        """The test scanned maps, every time with this reader."""
        assert self.used, "the test never scanned maps: it needs no maps_reader"
        assert set(self.used) == {self.name}, f"asked for {self.name}, scans used {self.used}"


def run_on(name: str) -> Iterator[MapsReader]:
    """Set up reader `name` for one test, record its scans, check them, restore the choice."""
    if name == native.PROCMAP_QUERY and os.environ.get(native.PROCMAP_QUERY_ENV) == "0":
        pytest.skip(f"{native.PROCMAP_QUERY_ENV}=0: this run is for the text reader")
    if name == native.PROCMAP_QUERY:
        probe = native.scan_maps([os.getpid()], reader=native.PROCMAP_QUERY)
        if probe.reader != native.PROCMAP_QUERY:
            pytest.skip("this kernel has no PROCMAP_QUERY (Linux < 6.11): text only")
    chosen = MapsReader(name)
    real = native.scan_maps

    def spy(pids: Sequence[int], want: int = -1, *, reader: str | None = None) -> native.MapsScan:
        scan = real(pids, want, reader=reader)
        chosen.used.append(scan.reader)  # list.append: safe from the collector's threads
        chosen.calls.append("scan_maps")
        return scan

    real_files = native.scan_file_maps  # the POSIX scan (core/posix) reads maps too

    def spy_files(
        pids: Sequence[int], devices: Sequence[int], *, any_anonymous: bool = False,
        reader: str | None = None, capacity: int = 1024,
    ) -> native.FileMapsScan:  # fmt: skip
        scan = real_files(pids, devices, any_anonymous=any_anonymous, reader=reader,
                          capacity=capacity)  # fmt: skip
        chosen.used.append(scan.reader)
        chosen.calls.append("scan_file_maps")
        return scan

    real_shared = native.scan_shared_maps  # both in one read (core/posix/full.py)

    def spy_shared(
        pids: Sequence[int], devices: Sequence[int], *, any_anonymous: bool = False,
        reader: str | None = None, capacity: tuple[int, int] = (4096, 1024),
        last: native.SharedMapsScan | None = None,
    ) -> native.SharedMapsScan:  # fmt: skip
        scan = real_shared(pids, devices, any_anonymous=any_anonymous, reader=reader,
                           capacity=capacity, last=last)  # fmt: skip
        chosen.used.append(scan.sysv.reader)
        chosen.calls.append("scan_shared_maps")
        return scan

    was = native.procmap_query_enabled()
    native.use_procmap_query(name == native.PROCMAP_QUERY)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(native, "scan_maps", spy)
            patch.setattr(native, "scan_file_maps", spy_files)
            patch.setattr(native, "scan_shared_maps", spy_shared)
            yield chosen
    finally:
        native.use_procmap_query(was)
    chosen.check()
