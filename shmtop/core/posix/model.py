"""Frozen records of one POSIX shared memory scan (msgspec Structs: cheap to build by the 1000)."""

from __future__ import annotations

import enum

import msgspec

SHM_DIR = "/dev/shm"  # where glibc's shm_open and sem_open put their files
SEM_PREFIX = "sem."  # glibc's named semaphores: /dev/shm/sem.NAME


MQ_KIND = "pmq"  # the CLI's kind name of POSIX message queues, beside pshm and psem


class PosixKind(enum.StrEnum):
    """What a file on a shm filesystem is to shmtop."""

    SHM = "pshm"  # POSIX shared memory (shm_open), or any file mapped shared from a shm mount
    SEM = "psem"  # a glibc named semaphore (sem_open): /dev/shm/sem.NAME


class ShmMount(msgspec.Struct, frozen=True, gc=False):
    """A tmpfs or hugetlbfs mount processes may map shared memory from."""

    dev: int  # st_dev (os.makedev of mountinfo's major:minor)
    fstype: str  # "tmpfs" or "hugetlbfs"
    mount_point: str  # in our mount namespace; "" for one seen only in another's maps
    shm_dir: bool  # the mount holding /dev/shm: every file in it is listed


class Mapping(msgspec.Struct, frozen=True, gc=False):
    """One shared mapping of an object by a process (one maps line)."""

    pid: int
    start: int
    end: int
    writable: bool
    offset: int  # in the object, bytes

    @property
    def size(self) -> int:
        return self.end - self.start

    @property
    def map_file(self) -> str:
        """The /proc path that opens the mapped file itself (needs CAP_SYS_ADMIN)."""
        return f"/proc/{self.pid}/map_files/{self.start:x}-{self.end:x}"


class Holder(msgspec.Struct, frozen=True, gc=False):
    """A process holding an object open on a file descriptor."""

    pid: int
    fd: int
    readable: bool
    writable: bool

    @property
    def fd_path(self) -> str:
        return f"/proc/{self.pid}/fd/{self.fd}"


class SemState(msgspec.Struct, frozen=True, gc=False):
    """A glibc named semaphore's words, read with pread (x86_64/arm64 glibc layout only)."""

    value: int | None  # None: layout unknown or unreadable (see problem)
    nwaiters: int | None  # a hint: a killed waiter never decrements it
    problem: str | None = None


class PosixObject(msgspec.Struct, frozen=True, gc=False):
    """One file on a shm filesystem: named in /dev/shm, mapped shared, or held open."""

    dev: int
    inode: int
    kind: PosixKind
    path: bytes  # where it was found: /dev/shm/NAME, or as a mapper/holder printed it; untrusted
    linked: bool  # False: unlinked (shm_unlink'd) but still mapped or open: memory no ls shows
    in_shm_dir: bool  # a name in /dev/shm (shm_unlink can remove it)
    size: int
    allocated: int  # st_blocks * 512: memory (or swap) the object really holds
    uid: int
    gid: int
    mode: int  # permission bits
    atime: float
    mtime: float
    ctime: float
    mappings: tuple[Mapping, ...] = ()
    holders: tuple[Holder, ...] = ()
    semaphore: SemState | None = None
    # False: the object could not be stat'ed (no name here, and /proc/PID/map_files needs
    # CAP_SYS_ADMIN): size is what its mappings or fds show, owner, mode and times unknown
    # (uid and gid -1, the rest 0).
    stat_known: bool = True

    @property
    def key(self) -> tuple[int, int]:
        """The object's identity: (device, inode). Never the path."""
        return (self.dev, self.inode)

    @property
    def name(self) -> str:
        """The POSIX name ("/NAME", without sem.) for a /dev/shm object, else the path; for
        an unlinked one without " (deleted)". Untrusted text: show through the sanitiser."""
        text = self.path.decode("utf-8", "replace").removesuffix(" (deleted)")
        prefix = SHM_DIR + "/"
        if text.startswith(prefix) and "/" not in text[len(prefix) :]:
            text = "/" + text[len(prefix) :]
            if self.kind is PosixKind.SEM:
                text = "/" + text[1 + len(SEM_PREFIX) :]
        return text

    @property
    def mapper_pids(self) -> tuple[int, ...]:
        return tuple(sorted({m.pid for m in self.mappings}))

    @property
    def holder_pids(self) -> tuple[int, ...]:
        return tuple(sorted({h.pid for h in self.holders}))

    @property
    def in_use(self) -> bool:
        return bool(self.mappings or self.holders)


class PosixProcess(msgspec.Struct, frozen=True, gc=False):
    """What the scan read of a process that maps or holds an object (or owns one)."""

    pid: int
    command: str  # comm, untrusted
    uid: int  # effective uid
    started: float  # epoch seconds


class PosixSnapshot(msgspec.Struct, frozen=True, gc=False):
    """Everything one POSIX scan found, at one moment."""

    taken_at: float
    objects: tuple[PosixObject, ...]
    mounts: tuple[ShmMount, ...]
    processes: dict[int, PosixProcess]  # mappers and holders of the objects
    uids_running: frozenset[int]  # effective uids of every process that could be read
    uninspected: dict[int, int]  # pid -> errno of processes whose maps or fds were unreadable
    reader: str  # the maps reader the scan used
    scanned: int  # processes looked at
    processes_hidden: str | None = None  # why /proc hides processes from us (hidepid=)

    @property
    def complete(self) -> bool:
        """Whether every process's maps and fds were read (else a mapper may be missing)."""
        return not self.uninspected and self.processes_hidden is None

    def find(self, dev: int, inode: int) -> PosixObject | None:
        return next((o for o in self.objects if o.dev == dev and o.inode == inode), None)
