"""What each command is for: its one-line summary (the list in `shmtop --help`), the
paragraph its own `--help` opens with, and examples, each a whole command line that the
parser accepts (tests/unit/test_command_help.py parses every one). Defined once here;
`add_command` is the only way a command enters the parser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class CommandHelp(NamedTuple):
    summary: str
    description: str
    examples: tuple[str, ...]


COMMANDS: dict[str, CommandHelp] = {
    "list": CommandHelp(
        "a table of every object, with attached processes",
        "One table per kind (shm, sem, msg; pshm, psem for POSIX shared memory and named"
        " semaphores in /dev/shm, pmq for POSIX message queues; none or all: System V,"
        " then the POSIX ones, with -A, --watch and --from too; a recording made with -A"
        " holds the other namespaces' System V objects only), from one consistent"
        " snapshot: owner, size, attachments with their access (rw/ro), status (dest,"
        " orphan, locked) and who created and last used each object. Run as root to see"
        " every process's mappings; without root shmtop says what it could not inspect."
        " --filter takes the interactive view's filter terms, every kind's (a term that"
        " means nothing for a POSIX kind, such as key:, is a usage error that says so);"
        " --sort, --user and --reverse act on the POSIX kinds too, --sort by their own"
        " columns (pshm: name size alloc maps changed...; pmq: msgs qsize lastop...).",
        (
            "shmtop list",
            "shmtop list shm --sort size",
            "shmtop list sem --user postgres",
            "shmtop list shm --filter 'nattch:>0 size:>1M age:>1h'",
            "shmtop list pshm",
            "shmtop list pshm --sort size --reverse",
            "shmtop list pmq --user postgres --sort msgs",
            "shmtop list pshm -A --filter 'ns:web nattch:0'",
            "shmtop list --json",
            "shmtop list --json --watch 5 --count 12",
            "shmtop list -A",
            "shmtop list -A --json --watch 5",
            "shmtop list pmq --json --watch 5 -A",
            "shmtop list shm --namespace docker:3f2a1b9c8d7e --json",
            "shmtop list --from ipc.rec --at -5m",
        ),
    ),
    "show": CommandHelp(
        "everything about one object",
        "Every fact shmtop has about one object: its kernel record, times, creator and last"
        " user, each attaching process with its address range and access, the orphan"
        " verdict with its evidence, and for semaphores each value with its waiters.",
        (
            "shmtop show shm 0",
            "shmtop show sem 3 --json",
            "shmtop show msg 1 --messages",
            "shmtop show pshm --name /PostgreSQL.1234",
            "shmtop show pmq --name /jobs --json",
            "shmtop show shm 0 --namespace 4026532190",
            "shmtop show pshm --name /PostgreSQL.1234 --namespace docker:3f2a1b9c8d7e",
            "shmtop show msg 1 --messages --namespace web-box",
        ),
    ),
    "dump": CommandHelp(
        "hex + ASCII dump of a segment (attached read-only)",
        "The bytes of a System V segment (attached read-only, so it cannot write) or of a"
        " POSIX object (read with pread, never mapped), as hex and ASCII, or raw for a"
        " pipe. Control bytes never reach the terminal.",
        (
            "shmtop dump 0 --length 256",
            "shmtop dump 0 --offset 4096 --length 64",
            "shmtop dump --name /demo.ring --raw",
            "shmtop dump --name /demo.ring --namespace web-box --length 64",
        ),
    ),
    "view": CommandHelp(
        "live read-only hex viewer of a segment or a POSIX object",
        "The segment view on its own: the bytes of one segment, refreshed live, changed"
        " bytes marked, with search, a data inspector and save to a file; with --name, a"
        " POSIX shm object's or named semaphore's bytes, read with pread (never mapped). It"
        " never writes into what it views. --namespace: another IPC namespace's.",
        (
            "shmtop view 0",
            "shmtop view 0 --no-attach",
            "shmtop view --name /PostgreSQL.1234",
            "shmtop view 3 --namespace docker:4f2a",
        ),
    ),
    "rm": CommandHelp(
        "remove objects, after showing what goes",
        "Shows what would go (who is still attached or blocked, what removal does to them)"
        " and asks before it removes anything; each object is checked to be the one shown"
        " (ids are reused) right before its removal. Off a terminal it needs --yes.",
        (
            "shmtop rm shm 3",
            "shmtop rm sem --key 0x5100aa01",
            "shmtop rm --orphans --dry-run",
            "shmtop rm --orphans --idle-for 1h --yes",
            "shmtop rm pshm --name /stale.buffer",
            "shmtop rm shm 1 --namespace web-box",
            "shmtop rm pmq --name /jobs --namespace web-box",
        ),
    ),
    "demo": CommandHelp(
        "start a small live workload in an IPC namespace of its own and show it",
        "A small real workload (a ring buffer guarded by semaphores, producers and"
        " consumers, a read-only reader, a queue, a segment removed while attached, an"
        " orphan, a blocked process) in an IPC namespace of its own (needs root), opened in"
        " the interactive view; leaving the view removes everything it made.",
        ("shmtop demo", "shmtop demo --readonly --theme nord", "shmtop demo --no-ui"),
    ),
    "limits": CommandHelp(
        "kernel limits and how much of them is used",
        "Each kernel limit on System V IPC (SHMMNI, SHMALL, SEMMNI, SEMMNS, MSGMNI, ...)"
        " and on POSIX message queues (/proc/sys/fs/mqueue), and the size of each shm"
        " filesystem, beside how much of it is in use now.",
        ("shmtop limits", "shmtop limits --json"),
    ),
    "waiters": CommandHelp(
        "threads blocked on semaphores and queues, deadlocks and stuck waits",
        "Every thread blocked on a semaphore, a queue or a futex in shared memory: what it"
        " waits for, who could release it (exact where the kernel says, hints otherwise),"
        " wait-for cycles (deadlocks) and waits nobody can release (stuck).",
        (
            "shmtop waiters",
            "shmtop waiters --json",
            "shmtop waiters --observe 30 --stuck-after 10",
            "shmtop waiters --namespace 12345",
        ),
    ),
    "exporter": CommandHelp(
        "serve the IPC facts as Prometheus metrics (or write a textfile)",
        "A Prometheus exporter: per-kind counts and usage against each kernel limit,"
        " per-object size, RSS, attachments, waiters and queue depth, orphans, stuck waits"
        " and deadlocks, of the caller's IPC namespace or (-A) of every one, each series"
        " labelled with its namespace. It has no endpoint that changes anything.",
        (
            "shmtop exporter",
            "shmtop exporter --listen 127.0.0.1:9464 --max-objects 200",
            "shmtop exporter --textfile /var/lib/prometheus/node-exporter/shmtop.prom",
            "shmtop exporter -A",
        ),
    ),
    "serve": CommandHelp(
        "the interactive view in a browser (read-only unless --allow-changes)",
        "Serves the interactive view to a browser through textual-serve (the extra"
        " shmtop[serve]). Read-only unless --allow-changes, and then only for a browser"
        " that presents the token printed at start; it listens on this machine only"
        " unless --host says otherwise.",
        ("shmtop serve", "shmtop serve --port 0", "shmtop serve --allow-changes --tab sem"),
    ),
    "record": CommandHelp(
        "record snapshots to a file (only what changed, compressed) until Ctrl-C",
        "Takes a snapshot every interval (System V and POSIX objects; with -A, every"
        " namespace's System V ones) and appends it to FILE: a whole one every 60th,"
        " else only what changed since the one before, compressed, each frame with its"
        " checksum, so that the file stays readable whenever the recorder stops (a torn"
        " last frame is left out). Replay it with `shmtop replay`, or ask it with"
        " `shmtop list --from FILE --at TIME`.",
        (
            "shmtop record ipc.rec",
            "shmtop record ipc.rec --interval 5 --duration 2h",
            "shmtop record ipc.rec --no-posix",
            "shmtop record -A every-namespace.rec",
        ),
    ),
    "replay": CommandHelp(
        "the interactive view on a recording, with a time cursor",
        "Opens the interactive view on a recording made by `shmtop record`, paused at --at:"
        " [ and ] step back and forward, t goes to a time, z plays and pauses, + and - set"
        " the speed. Nothing can be removed or signalled; the status line says which"
        " recorded moment it shows.",
        ("shmtop replay ipc.rec", "shmtop replay ipc.rec --at -5m --speed 8"),
    ),
    "schema": CommandHelp(
        "the JSON Schema of a document --json prints (none given: the list)",
        "The JSON Schema (2020-12) of each document the commands print with --json,"
        " generated from the types that encode them; each document carries"
        " schema_version.",
        ("shmtop schema", "shmtop schema list"),
    ),
}


def epilog(name: str) -> str:
    """The examples of `name`, indented so that the formatter keeps their lines."""
    return "examples:\n" + "\n".join(f"  {line}" for line in COMMANDS[name].examples)


def add_command(subparsers: Any, name: str, arguments: Callable[[Any], None]) -> Any:
    """Add `name` to the top-level subparsers (argparse's _SubParsersAction), with its
    summary, description and examples; returns its parser. `arguments(parser)` adds its
    arguments when the parser is first used (cli/commands.Parser): a command line names one
    command, and building the others' arguments is most of building the parser."""
    entry = COMMANDS[name]
    return subparsers.add_parser(
        name, help=entry.summary, description=entry.description, epilog=epilog(name),
        arguments=arguments,
    )  # fmt: skip
