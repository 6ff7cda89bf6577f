"""`list --filter EXPR`: the interactive view's filter language on list's tables, System V
and POSIX (text/posix_filtering.py: the terms that mean something for each POSIX kind; a
term that means nothing for one is a one-line usage error).

Imported only when --filter is given (a plain `list` pays no import of the language)."""

from __future__ import annotations

import os

import msgspec

from shmtop.cli.output import EXIT_USAGE, CliError
from shmtop.core.posix.model import MQ_KIND, PosixKind, PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot
from shmtop.text.filtering import EXAMPLES, Filter, FilterError, parse_filter
from shmtop.text.namespace_rows import Where

POSIX_KINDS = (str(PosixKind.SHM), str(PosixKind.SEM), MQ_KIND)
# `list all --filter` with a term no POSIX kind takes (key:, dest...): the POSIX tables are
# left out rather than shown unfiltered, and the line says which term.
POSIX_LEFT_OUT = "--filter keeps System V objects only"


def parse(expression: str) -> Filter:
    """The filter, or a usage error (exit 2) whose one line says what the language takes."""
    try:
        found = parse_filter(expression)
    except FilterError as error:
        raise CliError(f"--filter: {error}", EXIT_USAGE) from None
    if not found.active:
        raise CliError(f"--filter: needs a term, e.g. {EXAMPLES}", EXIT_USAGE)
    return found


def parse_posix(expression: str, kind: str) -> Filter:
    """The filter of a POSIX kind's rows (pshm, psem, pmq), or a usage error (exit 2) whose
    one line says which term does not apply to the kind, or what the language takes."""
    # Here, not at the top: the POSIX rows' modules cost a System V `--filter` ~20 ms.
    from shmtop.text.posix_filtering import parse_posix_filter, row_text

    try:
        found = parse_posix_filter(expression, kind, row_text)
    except FilterError as error:
        raise CliError(f"--filter: {error}", EXIT_USAGE) from None
    if not found.active:
        raise CliError(f"--filter: needs a term, e.g. {EXAMPLES}", EXIT_USAGE)
    return found


def posix_refusal(expression: str) -> str | None:
    """Why the POSIX tables of `list all --filter` are left out (a term one of the POSIX
    kinds does not take), or None: each kind's filter applies."""
    from shmtop.text.posix_filtering import parse_posix_filter, row_text

    for kind in POSIX_KINDS:
        try:
            parse_posix_filter(expression, kind, row_text)
        except FilterError as error:
            return f"{POSIX_LEFT_OUT}: {error}"
    return None


def keep_shm(
    snapshot: PosixSnapshot, kind: PosixKind, matches: Filter, where: Where | None = None
) -> PosixSnapshot:
    """The scan with only the objects of kind the filter keeps (other kinds' untouched);
    where: the IPC namespace its rows are in (for ns:; the caller's when None)."""
    from shmtop.text.posix_columns import shm_rows

    rows = shm_rows(snapshot, kind, where or _ours())
    gone = {row.obj.key for row in rows if not matches(row, None)}  # type: ignore[arg-type]
    kept = tuple(o for o in snapshot.objects if o.kind is not kind or o.key not in gone)
    return msgspec.structs.replace(snapshot, objects=kept)


def keep_queues(snapshot: MqSnapshot, matches: Filter, where: Where | None = None) -> MqSnapshot:
    """The queue scan with only the queues the filter keeps."""
    from shmtop.text.posix_columns import queue_rows

    rows = queue_rows(snapshot, where or _ours())
    kept = tuple(row.queue for row in rows if matches(row, None))  # type: ignore[arg-type]
    return msgspec.structs.replace(snapshot, queues=kept)


def _ours() -> Where:
    """The caller's IPC namespace, as ns: names it (its inode, and its name as list -A does)."""
    from shmtop.core.namespaces.discover import census

    ours = census([os.getpid()]).namespaces[0]
    return (ours.inode, ours.name, True)
