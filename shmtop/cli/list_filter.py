"""`list --filter EXPR`: the interactive view's filter language on list's System V tables.

Imported only when --filter is given (a plain `list` pays no import of the language)."""

from __future__ import annotations

from shmtop.cli.output import EXIT_USAGE, CliError
from shmtop.text.filtering import EXAMPLES, Filter, FilterError, parse_filter

# The language's terms are the System V objects' (nattch, key, perms...): `list all` leaves
# the POSIX tables out rather than show them unfiltered, and says so.
POSIX_LEFT_OUT = "--filter keeps System V objects only: list pshm, psem or pmq for the POSIX ones"


def parse(expression: str) -> Filter:
    """The filter, or a usage error (exit 2) whose one line says what the language takes."""
    try:
        found = parse_filter(expression)
    except FilterError as error:
        raise CliError(f"--filter: {error}", EXIT_USAGE) from None
    if not found.active:
        raise CliError(f"--filter: needs a term, e.g. {EXAMPLES}", EXIT_USAGE)
    return found
