"""The command line: argument parsing and the commands (entry point shmtop.cli:main)."""

from shmtop.cli.commands import main

__all__ = ["main"]
