"""list's --user, --sort and --reverse on the POSIX kinds (pshm, psem, pmq), as they act on
the System V ones: --user keeps the objects a user owns (an object that could not be
stat'ed has no known owner: left out), --sort orders by a column the view's tab has
(text/posix_sorting.py, ties by identity), --reverse flips the whole order.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

import msgspec

from shmtop.cli.output import EXIT_USAGE, CliError
from shmtop.core.posix.model import PosixKind, PosixSnapshot
from shmtop.core.posix.mqueue import MqSnapshot
from shmtop.core.snapshot.accounts import user_name
from shmtop.text import posix_sorting
from shmtop.text.errors import bad_sort


def check(args: argparse.Namespace, kind: str) -> None:
    """A usage error (exit 2), before any scan, for a --sort column the kind has not."""
    if args.sort and not posix_sorting.takes(kind, args.sort):
        raise CliError(bad_sort(args.sort, posix_sorting.sort_names(kind)), EXIT_USAGE)


def owned(uid: int, known: bool, user: str | None) -> bool:
    """--user's rule for a POSIX owner (an object that could not be stat'ed: no one's)."""
    if user is None:
        return True
    from shmtop.text.filtering import user_matches  # imported only to be used (--user)

    return known and user_matches(user_name(uid), uid, user)


def check_user(args: argparse.Namespace, uids: Iterable[int]) -> None:
    """A usage error unless --user is a uid, a user name or a name of one of uids (any
    case), as a System V list says it."""
    user = args.user
    if user is None or any(owned(uid, True, user) for uid in uids):
        return
    from shmtop.cli.commands import check_user as known_user

    known_user(user, None)


def shm(args: argparse.Namespace, snapshot: PosixSnapshot, kind: PosixKind) -> PosixSnapshot:
    """The scan with only the objects of kind --user keeps (the other kind's untouched)."""
    if args.user is None:
        return snapshot
    kept = tuple(
        o for o in snapshot.objects if o.kind is not kind or owned(o.uid, o.stat_known, args.user)
    )
    return msgspec.structs.replace(snapshot, objects=kept)


def order(args: argparse.Namespace) -> posix_sorting.Order:
    """The objects of a kind in --sort's order, --reverse's way (for tables and documents)."""
    return posix_sorting.order_by(args.sort, args.reverse)


def queues(args: argparse.Namespace, snapshot: MqSnapshot) -> MqSnapshot:
    """The queue scan with only --user's queues, in --sort's order."""
    if args.user is not None:
        kept = tuple(q for q in snapshot.queues if owned(q.entry.uid, True, args.user))
        snapshot = msgspec.structs.replace(snapshot, queues=kept)
    return posix_sorting.sorted_queues(snapshot, args.sort, args.reverse)
