"""`show`, `dump` and `rm` of POSIX objects with `--namespace NS`: the objects of that
namespace, and the removals made inside it.

pshm and psem are files of the namespace's /dev/shm (its mount namespace's): scanned
through /proc/PID/root/dev/shm of a member, shown by the names its processes use, read
and unlinked through that same path after the identity check (device and inode) of
today's rm, so a same-named file of ours is never reached and a name reused since the
scan is refused. Queues belong to the IPC namespace: listed, checked and mq_unlink'ed by
a thread joined to it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import msgspec

from shmtop.cli import pmq, posix
from shmtop.cli.namespaces import chosen
from shmtop.cli.output import CliError
from shmtop.core.namespaces.discover import Namespace, ipc_inode
from shmtop.core.namespaces.joined import JoinedThread
from shmtop.core.posix import mqueue
from shmtop.core.posix.collect import PosixCollector
from shmtop.core.posix.model import MQ_KIND
from shmtop.core.posix.namespace_roots import as_seen_inside, root_of, shm_device, shm_dir_of
from shmtop.text.documents import namespace_record
from shmtop.text.namespace_table import namespace_label


def namespace_of(args: argparse.Namespace, *, say: bool = True) -> Namespace:
    _, namespaces = chosen(args)
    namespace = namespaces[0]
    if say:  # on stderr: stdout stays the command's own output
        print(f"IPC namespace {_label(namespace)}", file=sys.stderr)
    return namespace


def _label(namespace: Namespace) -> str:
    return namespace_label(namespace.name, namespace.inode)


def scope_of(namespace: Namespace) -> posix.Scope:
    """The namespace's /dev/shm scanned through a member's root, with its members' mappers."""
    if namespace.current:
        return posix.Scope.here()
    device = shm_device(namespace)
    if isinstance(device, str):
        raise CliError(f"IPC namespace {_label(namespace)}: {device}")
    # Every process's maps and fds, not its members' only: whoever maps a file of that
    # /dev/shm maps it (a /dev/shm shared with ours has mappers outside the namespace),
    # and rm --orphans must not call an object mapped from elsewhere unused.
    with PosixCollector(shm_dir_of(namespace)) as collector:
        scanned = collector.snapshot()
    # Only that /dev/shm's objects: the scan sees ours (and others') through their mappers.
    acting = msgspec.structs.replace(
        scanned, objects=tuple(o for o in scanned.objects if o.dev == device)
    )
    member = namespace.pids[0]
    # The root was reached by PID: still the namespace's member after the scan, so the
    # paths are that namespace's (each action checks device and inode besides).
    if ipc_inode(member) != namespace.inode:
        raise CliError(f"IPC namespace {_label(namespace)}: its process {member} ended")
    return posix.Scope(as_seen_inside(acting, root_of(namespace)), acting)


@contextmanager
def _joined(namespace: Namespace) -> Iterator[Callable[..., Any]]:
    """inside(call, *args): call(*args) in a thread joined to namespace (ours: here)."""
    if namespace.current:
        yield lambda call, *args: call(*args)
        return
    thread = JoinedThread(namespace.pids[0], namespace.inode)
    try:
        if thread.error is not None:
            raise CliError(f"IPC namespace {_label(namespace)}: {thread.error.strerror}")
        yield thread.run
    finally:
        thread.close()


def _queues(namespace: Namespace, inside: Callable[..., Any]) -> mqueue.MqSnapshot:
    pids = None if namespace.current else list(namespace.pids)
    snapshot: mqueue.MqSnapshot = inside(mqueue.take_snapshot, pids)
    return snapshot


def run_show(args: argparse.Namespace) -> int:
    namespace = namespace_of(args)
    record = namespace_record(namespace)
    if args.kind == MQ_KIND:
        with _joined(namespace) as inside:
            return pmq.run_show(args, _queues(namespace, inside), record)
    return posix.run_show(args, scope_of(namespace), record)


def run_dump(args: argparse.Namespace) -> int:
    return posix.run_dump(args, scope_of(namespace_of(args)))


def run_rm(args: argparse.Namespace) -> int:
    (pmq.usage if args.kind == MQ_KIND else posix.rm_usage)(args)  # before any join or scan
    namespace = namespace_of(args, say=False)
    print(f"in IPC namespace {_label(namespace)}")
    if args.kind == MQ_KIND:
        with _joined(namespace) as inside:
            return pmq.run_rm(args, _queues(namespace, inside), inside)
    return posix.run_rm(args, scope_of(namespace))
