"""Find every IPC namespace from /proc/*/ns/ipc and give each a name a person recognises.

Processes are grouped by the inode of their ns/ipc link. The name is, in order: the
container in a member's cgroup path (Docker, containerd, Podman, Kubernetes pods), else the
hostname of its UTS namespace when that is not ours, else "ipc:[INODE]".
"""

from __future__ import annotations

import errno
import functools
import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import msgspec

PROC = "/proc"

_HEX_ID = r"([0-9a-f]{64})"
# (runtime, pattern) tried in order on each cgroup path; the first that matches names it.
_RUNTIME_SOURCES = (
    ("docker", rf"docker-{_HEX_ID}\.scope"),
    ("docker", rf"/docker/{_HEX_ID}"),
    ("containerd", rf"cri-containerd-{_HEX_ID}\.scope"),
    ("containerd", rf"/containerd/{_HEX_ID}"),
    ("podman", rf"libpod-{_HEX_ID}\.scope"),
    ("crio", rf"crio-{_HEX_ID}\.scope"),
)
# kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid with _>.slice/...
# or cgroup v1 /kubepods/besteffort/pod<uid>/<container id>
_POD_SOURCE = (r"kubepods.*?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}"
               r"[-_][0-9a-f]{12})")  # fmt: skip
# Every pattern above holds one of these words: a path with none of them matches none, and
# is passed without a regex (the patterns are compiled at the first path that may match:
# compiling them cost every one-shot command ~2.5 ms of imports, for a check of its own
# namespace's cgroup that is seldom a container's).
_WORDS = ("docker", "containerd", "libpod", "crio", "kubepods")


class _Patterns(NamedTuple):
    runtimes: tuple[tuple[str, re.Pattern[str]], ...]
    pod: re.Pattern[str]
    any_id: re.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    runtimes = tuple((runtime, re.compile(source)) for runtime, source in _RUNTIME_SOURCES)
    return _Patterns(runtimes, re.compile(_POD_SOURCE), re.compile(_HEX_ID))


class Container(msgspec.Struct, frozen=True, gc=False):
    """A container as its cgroup path tells it."""

    runtime: str  # docker, containerd, podman, crio, or kubernetes (a pod, runtime unknown)
    id: str  # the container's 64-hex id ("" for a pod whose container id is not in the path)
    pod: str | None = None  # the Kubernetes pod uid, when it is one

    @property
    def name(self) -> str:
        short = self.id[:12]
        if self.pod is not None:
            return f"k8s:pod{self.pod}" + (f"/{short}" if short else "")
        return f"{self.runtime}:{short}"


def container_of(cgroup: str) -> Container | None:
    """The container named in the text of a /proc/PID/cgroup file, or None."""
    for line in cgroup.splitlines():
        path = line.split(":", 2)[-1]
        if not any(word in path for word in _WORDS):
            continue  # no pattern can match (see _WORDS)
        patterns = _patterns()
        pod = patterns.pod.search(path)
        for runtime, pattern in patterns.runtimes:
            found = pattern.search(path)
            if found:
                uid = pod.group(1).replace("_", "-") if pod else None
                return Container(runtime, found.group(1), uid)
        if pod:
            any_id = patterns.any_id.search(path[pod.end() :])
            return Container("kubernetes", any_id.group(1) if any_id else "",
                             pod.group(1).replace("_", "-"))  # fmt: skip
    return None


class Namespace(msgspec.Struct, frozen=True, gc=False):
    """One IPC namespace and the processes in it."""

    inode: int
    name: str  # what a person calls it: a container, a hostname, or ipc:[INODE]
    source: str  # where the name came from: docker, containerd, podman, crio, kubernetes,
    # hostname or inode
    pids: tuple[int, ...]  # its live members when discovered, in order
    current: bool  # it is the caller's own (the one ipcs shows)
    container: Container | None = None
    hostname: str | None = None

    @property
    def label(self) -> str:
        return f"ipc:[{self.inode}]"


def ipc_inode(pid: int | str) -> int | None:
    """Inode of a process's (or "thread-self"'s) IPC namespace; None if it cannot be told."""
    try:
        return os.stat(f"{PROC}/{pid}/ns/ipc").st_ino
    except OSError:
        return None


def uts_inode(pid: int | str) -> int | None:
    try:
        return os.stat(f"{PROC}/{pid}/ns/uts").st_ino
    except OSError:
        return None


class Census(msgspec.Struct, frozen=True, gc=False):
    """Every IPC namespace found, and how many processes could not be placed in one."""

    namespaces: tuple[Namespace, ...]  # the caller's first, then by inode
    unplaced: dict[str, int]  # reason -> processes whose ns/ipc could not be read


def group_by_namespace(pids: Iterable[int]) -> tuple[dict[int, list[int]], dict[str, int]]:
    """inode -> member PIDs (sorted), and reason -> count of PIDs whose link is unreadable."""
    groups: dict[int, list[int]] = defaultdict(list)
    unplaced: dict[str, int] = defaultdict(int)
    for pid in sorted(pids):
        try:
            groups[os.stat(f"{PROC}/{pid}/ns/ipc").st_ino].append(pid)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ESRCH):
                continue  # ended: not a blind spot
            why = "permission denied" if error.errno in (errno.EACCES, errno.EPERM) else (
                os.strerror(error.errno or 0).lower())  # fmt: skip
            unplaced[why] += 1
    return dict(groups), dict(unplaced)


def all_pids() -> list[int]:
    return [int(name) for name in os.listdir(PROC) if name.isdigit()]


def read_cgroup(pid: int) -> str | None:
    try:
        with open(f"{PROC}/{pid}/cgroup", encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return None


def name_namespace(
    inode: int, pids: Sequence[int], *, current: bool, our_uts: int | None
) -> Namespace:
    """Name one namespace from its members: a container, else a hostname of a UTS namespace
    that is not ours (ours would name every namespace after the host), else its inode."""
    members = tuple(pids)
    for pid in members[:8]:  # a few members: a namespace's processes share a cgroup subtree
        text = read_cgroup(pid)
        container = container_of(text) if text is not None else None
        if container is not None:
            return Namespace(inode, container.name, container.runtime if container.pod is None
                             else "kubernetes", members, current, container)  # fmt: skip
    for pid in members[:8]:
        uts = uts_inode(pid)
        if uts is None or uts == our_uts:
            continue
        # Threads, imported only when needed: not for a namespace in our own UTS namespace
        # (every one-shot command's own, named for its records: ~1-3 ms of imports).
        from shmtop.core.namespaces.hostname import hostname_of

        name = hostname_of(pid)
        if name:
            return Namespace(inode, name, "hostname", members, current, hostname=name)
    return Namespace(inode, f"ipc:[{inode}]", "inode", members, current)


def census(pids: Iterable[int] | None = None) -> Census:
    """Every IPC namespace that has a live process, named; the caller's first."""
    groups, unplaced = group_by_namespace(all_pids() if pids is None else pids)
    ours = ipc_inode("thread-self")
    our_uts = uts_inode("thread-self")
    order = sorted(groups, key=lambda inode: (inode != ours, inode))
    found = tuple(
        name_namespace(inode, groups[inode], current=inode == ours, our_uts=our_uts)
        for inode in order
    )
    return Census(found, unplaced)


def find(namespaces: Sequence[Namespace], wanted: str) -> Namespace | None:
    """The namespace `wanted` means: its name, "ipc:[INODE]", an inode, a member PID,
    or a container id prefix (of 4+ hex digits). Names and inodes win over PIDs."""
    text = wanted.strip()
    for ns in namespaces:
        if text in (ns.name, ns.label) or (ns.hostname is not None and text == ns.hostname):
            return ns
    if text.isdigit():
        number = int(text)
        for ns in namespaces:
            if ns.inode == number:
                return ns
        for ns in namespaces:
            if number in ns.pids:
                return ns
        inode = ipc_inode(number)  # a member that started after the census
        for ns in namespaces:
            if ns.inode == inode:
                return ns
    if len(text) >= 4 and all(c in "0123456789abcdef" for c in text):
        hits = [ns for ns in namespaces if ns.container and ns.container.id.startswith(text)]
        if len(hits) == 1:
            return hits[0]
    return None


CAP_SYS_ADMIN = 21  # what setns into another IPC namespace takes


def can_join(status_path: str = f"{PROC}/thread-self/status") -> bool:
    """Whether the calling thread has CAP_SYS_ADMIN in its effective set (CapEff), which
    joining another namespace needs; False if that cannot be told."""
    try:
        with open(status_path, encoding="ascii", errors="replace") as file:
            for line in file:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_ADMIN & 1)
    except (OSError, ValueError):
        pass
    return False


PROC_USER_INIT_INO = 0xEFFFFFFD  # the initial user namespace's inode (include/linux/proc_ns.h)


def in_initial_user_namespace(link: str = f"{PROC}/thread-self/ns/user") -> bool:
    """Whether the calling thread is in the initial user namespace: its capabilities are
    then the host's (root's reach every process's links but where an LSM or a sandbox's
    PID 1 refuses them); in another one, CAP_SYS_ADMIN is of that namespace only, and the
    host's processes stay out of reach. False if that cannot be told."""
    try:
        return os.stat(link).st_ino == PROC_USER_INIT_INO
    except OSError:
        return False
