"""`list --json --watch SECONDS` of every kind (plain `list`, `list all`): each line the
`list --json` document plain `list --json` prints, System V and POSIX (posix_shm,
posix_semaphores, posix_queues, posix_scan), JSON Lines.

One FullCollector serves every line: a steady line reads again only the processes that ran
since the last one and carries the others' maps and fds rows (core/posix/carry.py), so it
costs a steady full snapshot, not a new scan; the System V records and the POSIX shm and
semaphore ones are encoded once and written again while they hold (text/watch_records.py,
text/posix_watch_records.py; queues are encoded each line).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Sequence
from typing import Any, TextIO

from shmtop.cli import commands, list_posix, output
from shmtop.cli.output import CliError, emit_encoded
from shmtop.core.posix.full import FullCollector, FullSnapshot
from shmtop.text.errors import tables_unreadable
from shmtop.text.posix_watch_records import PosixWatchRecords


def _snapshot(collector: FullCollector) -> FullSnapshot:
    try:
        return collector.snapshot()
    except OSError as error:
        raise CliError(tables_unreadable(error)) from error


class Lines:
    """The lines of one watch of every kind, by one FullCollector (the caller closes it)."""

    def __init__(
        self, args: argparse.Namespace, kinds: Sequence[str], collector: FullCollector
    ) -> None:
        self._args, self._kinds, self._collector = args, kinds, collector
        self._kept = list_posix.filters(args)  # parsed once, not every line
        self._records = commands.watch_records()
        self._posix_records = PosixWatchRecords(output.encode)

    def line(self, number: int, out: TextIO | None = None) -> None:
        """Line `number` (0: the first), written to out (default stdout) and flushed."""
        args = self._args
        full = _snapshot(self._collector)
        if number == 0 and args.user is not None:
            commands.check_user(args.user, full.sysv)
        part = list_posix.part_of(full, args, self._kept)
        chosen = commands.choose(full.sysv, args, self._kinds)
        shell, kept = self._records.records(full.sysv, chosen)
        sysv: dict[str, Iterator[Any]] = {name: iter(made) for name, made in kept.items()}
        shell, lists = list_posix.json_parts(shell, sysv, part, self._posix_records)
        # Every record as its JSON (the queues' encoded here), written as it is (writev).
        lists["posix_queues"] = (output.encode(q) for q in lists["posix_queues"])
        emit_encoded(shell, lists, out, flush=True)


def run(args: argparse.Namespace, kinds: Sequence[str]) -> int:
    collector = FullCollector()
    try:
        return commands.watch_lines(args, Lines(args, kinds, collector).line)
    finally:
        collector.close()
