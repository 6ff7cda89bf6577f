"""The command line: argument parsing and the commands (the program's entry point is
shmtop.cli:script; main runs a command for a caller in-process)."""

from shmtop.cli.commands import main, script

__all__ = ["main", "script"]
