"""`rm` of POSIX objects and queues once they are found (cli/posix.py, cli/pmq.py): the plan,
the question, the unlinks and what became of each."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TypeVar

from shmtop.cli.commands import confirmed
from shmtop.cli.output import EXIT_ERROR, say_error
from shmtop.core.posix.actions import PosixRemoval
from shmtop.text.errors import posix_removal_text

T = TypeVar("T")  # what rm removes: a POSIX object, or a queue


def remove_after_plan(
    args: argparse.Namespace, kind: str, plan: Sequence[str], targets: Sequence[T],
    remove: Callable[[T], PosixRemoval], *, missing: int,
) -> int:  # fmt: skip
    """`rm` of POSIX objects (and queues) once they are found: print the plan; unless
    --dry-run, ask (or --yes), remove each and say how each went. Exit 1 if a name was
    missing or a removal failed."""
    print("\n".join(plan))
    failed = EXIT_ERROR if missing else 0
    if args.dry_run:
        return failed
    if not args.yes and not confirmed(len(targets)):
        print("nothing removed")
        return EXIT_ERROR
    outcomes = [remove(target) for target in targets]
    for outcome in outcomes:
        line = posix_removal_text(kind, outcome)
        if outcome.outcome.ok:
            print(line)
        else:
            say_error(line)
    return failed if all(o.outcome.ok for o in outcomes) else EXIT_ERROR
