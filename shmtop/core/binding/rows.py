"""The rows the C loops write (SHMTOP_*_FIELDS numbers each, named in their order) and the
other tuples of the binding; native.py gives them out.

Here, not in native.py, and without `from __future__ import annotations`: typing.NamedTuple
compiles each field's annotation when it is a string (9 classes, 77 fields: 2-5 ms of every
command's start), and takes a real type as it is. Only builtins are named here.
"""

from typing import NamedTuple


class SemRow(NamedTuple):
    """One semaphore set, as sem_table reads it (SEM_STAT_ANY)."""

    id: int
    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    nsems: int
    otime: int
    ctime: int


class MsgRow(NamedTuple):
    """One queue, as msg_table reads it (MSG_STAT_ANY); qbytes is -1 where unknown."""

    id: int
    key: int
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int
    cbytes: int
    qnum: int
    qbytes: int
    lspid: int
    lrpid: int
    stime: int
    rtime: int
    ctime: int
    spare: int  # always 0: room for a field without a new row width


class MapRow(NamedTuple):
    """One System V mapping found in /proc/PID/maps (writable is 0 or 1)."""

    pid: int
    start: int
    end: int
    writable: int
    shmid: int


class TaskRow(NamedTuple):
    """One thread in a chosen system call: its registers (/proc/PID/task/TID/syscall) and
    schedstat (run_ns, timeslices: -1 when unreadable)."""

    pid: int
    tid: int
    nr: int
    arg0: int
    arg1: int
    arg2: int
    arg3: int
    arg4: int
    arg5: int
    run_ns: int
    timeslices: int

    @property
    def call(self) -> tuple[int, ...]:
        """pid, tid, call number and arguments: the same while the thread is in the same call."""
        return (self.pid, self.tid, self.nr, self.arg0, self.arg1, self.arg2, self.arg3,
                self.arg4, self.arg5)  # fmt: skip


class SemValue(NamedTuple):
    """One semaphore, as sem_values reads it."""

    value: int
    ncnt: int  # callers waiting for the value to grow
    zcnt: int  # callers waiting for it to be 0
    pid: int  # the last to change it (sempid)


class ProcessFacts(NamedTuple):
    """What process_facts read of one pid."""

    errno: int  # 0 when read, ESRCH when the process is gone
    comm: bytes
    start: int  # clock ticks since boot (field 22 of /proc/PID/stat)
    uid: int  # the effective uid (the owner of /proc/PID), as ps and htop show
    title: bytes | None  # see process_facts


class FileMapRow(NamedTuple):
    """One shared mapping of a file on a chosen device (scan_file_maps)."""

    pid: int
    start: int
    end: int
    writable: int  # 0 or 1
    dev: int  # st_dev encoding (os.makedev)
    inode: int
    offset: int  # in the file, bytes
    deleted: int  # 1: maps said " (deleted)": the file was unlinked
    name_length: int  # of the path as maps printed it (longer than name: cut)
    name: bytes  # the path as maps printed it (the mapper's mount namespace), untrusted


class FdRow(NamedTuple):
    """One fd open on a regular file of a chosen device (scan_fds)."""

    pid: int
    fd: int
    dev: int
    inode: int
    access: int  # 1 read | 2 write
    nlink: int  # 0: unlinked
    size: int
    name_length: int
    name: bytes  # the fd link's text (the holder's mount namespace), untrusted


class MqAttr(NamedTuple):
    """mq_getattr of a queue: its O_NONBLOCK flag, limits and the messages queued now."""

    flags: int
    max_messages: int
    max_size: int
    messages: int
