"""Types of the compiled binding: what the cdef in _build.py declares (keep the two in step)."""

# Pointers and arrays are cffi's CData; the structs native.py reads field by field get a
# class each, returned by ffi.new for their exact cdecl, so a misspelt field fails mypy.
# These classes exist only here: at run time every one of them is a CData. (A literal
# cdecl is also a str, hence the overload-overlap ignores: the first match wins.)

import types
from collections.abc import Callable, Iterator
from typing import Any, Literal, TypeAlias, overload, type_check_only

import _cffi_backend
from _typeshed import ReadableBuffer, WriteableBuffer
from cffi import FFI

CData: TypeAlias = FFI.CData

@type_check_only
class _Struct:
    """A struct (or a pointer to one) as cffi hands it out: fields as attributes."""

@type_check_only
class _IpcPerm(_Struct):
    uid: int
    gid: int
    cuid: int
    cgid: int
    mode: int

@type_check_only
class _ShmidDs(_Struct):
    shm_perm: _IpcPerm
    shm_segsz: int
    shm_atime: int
    shm_dtime: int
    shm_ctime: int
    shm_cpid: int
    shm_lpid: int
    shm_nattch: int

@type_check_only
class _ShmInfoLimits(_Struct):  # struct shminfo (IPC_INFO)
    shmmax: int
    shmmin: int
    shmmni: int
    shmseg: int
    shmall: int

@type_check_only
class _ShmInfoUsage(_Struct):  # struct shm_info (SHM_INFO)
    used_ids: int
    shm_tot: int
    shm_rss: int
    shm_swp: int

@type_check_only
class _SemidDs(_Struct):
    sem_perm: _IpcPerm
    sem_otime: int
    sem_ctime: int
    sem_nsems: int

@type_check_only
class _SemInfo(_Struct):
    semmap: int
    semmni: int
    semmns: int
    semmnu: int
    semmsl: int
    semopm: int
    semume: int
    semusz: int
    semvmx: int
    semaem: int

@type_check_only
class _Sembuf(_Struct):
    sem_num: int
    sem_op: int
    sem_flg: int

@type_check_only
class _SembufArray(_Struct):
    def __iter__(self) -> Iterator[_Sembuf]: ...
    def __getitem__(self, index: int, /) -> _Sembuf: ...
    def __len__(self) -> int: ...

@type_check_only
class _Timespec(_Struct):
    tv_sec: int
    tv_nsec: int

@type_check_only
class _MsqidDs(_Struct):
    msg_perm: _IpcPerm
    msg_stime: int
    msg_rtime: int
    msg_ctime: int
    msg_qnum: int
    msg_qbytes: int
    msg_lspid: int
    msg_lrpid: int

@type_check_only
class _MsgInfo(_Struct):
    msgpool: int
    msgmap: int
    msgmax: int
    msgmnb: int
    msgmni: int
    msgssz: int
    msgtql: int
    msgseg: int

_Pointer: TypeAlias = CData | _Struct

@type_check_only
class _FFI:
    """The part of cffi's FFI object the binding uses, with the structs above."""

    NULL: CData
    errno: int
    def release(self, cdata: CData, /) -> None: ...
    @overload
    def new(self, cdecl: Literal["struct shmid_ds *"], init: None = None) -> _ShmidDs: ...  # type: ignore[overload-overlap]
    @overload
    def new(self, cdecl: Literal["struct shminfo *"], init: None = None) -> _ShmInfoLimits: ...  # type: ignore[overload-overlap]
    @overload
    def new(self, cdecl: Literal["struct shm_info *"], init: None = None) -> _ShmInfoUsage: ...  # type: ignore[overload-overlap]
    @overload
    def new(self, cdecl: Literal["struct semid_ds *"], init: None = None) -> _SemidDs: ...  # type: ignore[overload-overlap]
    @overload
    def new(self, cdecl: Literal["struct seminfo *"], init: None = None) -> _SemInfo: ...  # type: ignore[overload-overlap]
    @overload
    def new(self, cdecl: Literal["struct sembuf[]"], init: int) -> _SembufArray: ...
    @overload
    def new(self, cdecl: Literal["struct timespec *"], init: None = None) -> _Timespec: ...  # type: ignore[overload-overlap]
    @overload
    def new(self, cdecl: Literal["struct msqid_ds *"], init: None = None) -> _MsqidDs: ...  # type: ignore[overload-overlap]
    @overload
    def new(self, cdecl: Literal["struct msginfo *"], init: None = None) -> _MsgInfo: ...  # type: ignore[overload-overlap]
    @overload
    def new(self, cdecl: str, init: Any = None) -> CData: ...
    def cast(self, cdecl: str, value: _Pointer | int, /) -> CData: ...
    def addressof(self, cdata: _Pointer, /, *field_or_index: str | int) -> CData: ...
    def buffer(self, cdata: CData, size: int = ..., /) -> _cffi_backend.buffer: ...
    def unpack(self, cdata: CData, length: int) -> bytes | str | list[Any]: ...
    def string(self, cdata: CData, maxlen: int = -1) -> bytes | str: ...
    def memmove(
        self, dest: CData | WriteableBuffer, src: CData | ReadableBuffer, n: int
    ) -> None: ...
    def sizeof(self, cdecl: str | CData) -> int: ...
    def gc(self, cdata: CData, destructor: Callable[[CData], object], size: int = 0) -> CData: ...
    def typeof(
        self, cdecl: str | CData | types.BuiltinFunctionType | types.FunctionType, /
    ) -> _cffi_backend.CType: ...

@type_check_only
class _Lib:
    """The cdef's constants (#define NAME ...) and functions, as the module exposes them."""

    IPC_PRIVATE: int
    IPC_CREAT: int
    IPC_EXCL: int
    IPC_NOWAIT: int
    IPC_RMID: int
    IPC_STAT: int
    IPC_INFO: int
    SHM_INFO: int
    SHM_STAT: int
    SHM_STAT_ANY: int
    SHM_RDONLY: int
    SHM_DEST: int
    SHM_LOCKED: int
    SEM_INFO: int
    SEM_STAT: int
    SEM_STAT_ANY: int
    SEM_UNDO: int
    GETALL: int
    GETVAL: int
    GETNCNT: int
    GETZCNT: int
    GETPID: int
    SETALL: int
    SETVAL: int
    MSG_INFO: int
    MSG_STAT: int
    MSG_STAT_ANY: int
    MSG_COPY: int
    MSG_NOERROR: int
    SHMTOP_SEM_FIELDS: int
    SHMTOP_MSG_FIELDS: int
    SHMTOP_MAP_FIELDS: int
    SHMTOP_NATIVE_ABI: int
    SHMTOP_SEM_SHORT: int
    SHMTOP_COMM_SIZE: int
    SHMTOP_TITLE_SIZE: int
    SHMTOP_MAPS_LINE_MAX: int
    SHMTOP_MAPS_READ: int
    SHMTOP_TASK_FIELDS: int
    CLONE_NEWIPC: int
    CLONE_NEWUTS: int
    SHMTOP_FMAP_FIELDS: int
    SHMTOP_FMAP_NAME: int
    SHMTOP_FD_FIELDS: int
    SHMTOP_DIRENT_FIELDS: int
    SHMTOP_DIRENT_NAME: int
    CLONE_NEWUSER: int
    SHMTOP_MQ_FIELDS: int
    CLONE_NEWNS: int
    MS_REC: int
    MS_PRIVATE: int
    MS_NOSUID: int
    MS_NODEV: int
    MS_NOEXEC: int
    MNT_DETACH: int
    SHMTOP_ACTIVITY_RAN: int
    SHMTOP_ACTIVITY_NEW: int
    SHMTOP_ACTIVITY_GONE: int
    SHMTOP_ACTIVITY_FIRST: int
    SHMTOP_ACTIVITY_SCHED_OFF: int
    SHMTOP_ACTIVITY_UNREADABLE: int
    SHMTOP_ACTIVITY_UNSURE: int
    SHMTOP_ACTIVITY_TOO_MANY: int
    SHMTOP_ACTIVITY_NO_MEMORY: int
    SHMTOP_ACTIVITY_NO_PROC: int
    SHMTOP_SHM_STATE_FIELDS: int

    def shmget(self, key: int, size: int, shmflg: int, /) -> int: ...
    def shmat(self, shmid: int, shmaddr: CData, shmflg: int, /) -> CData: ...
    def shmdt(self, shmaddr: CData, /) -> int: ...
    def shmctl(self, shmid: int, cmd: int, buf: _ShmidDs | CData, /) -> int: ...
    def semget(self, key: int, nsems: int, semflg: int, /) -> int: ...
    def semop(self, semid: int, sops: _SembufArray | CData, nsops: int, /) -> int: ...
    def semtimedop(
        self, semid: int, sops: _SembufArray | CData, nsops: int, timeout: _Timespec | CData, /
    ) -> int: ...
    def msgget(self, key: int, msgflg: int, /) -> int: ...
    def msgctl(self, msqid: int, cmd: int, buf: _MsqidDs | CData, /) -> int: ...
    def msgsnd(self, msqid: int, msgp: CData | bytes, msgsz: int, msgflg: int, /) -> int: ...
    def msgrcv(self, msqid: int, msgp: CData, msgsz: int, msgtyp: int, msgflg: int, /) -> int: ...
    def shmtop_semctl_val(self, semid: int, semnum: int, cmd: int, val: int, /) -> int: ...
    def shmtop_semctl_array(self, semid: int, cmd: int, values: CData, /) -> int: ...
    def shmtop_semctl_ds(self, semid: int, cmd: int, ds: _SemidDs | CData, /) -> int: ...
    def shmtop_semctl_info(self, cmd: int, info: _SemInfo | CData, /) -> int: ...
    def shmtop_perm_key(self, perm: CData, /) -> int: ...
    def shmtop_sem_table(self, cmd: int, out: CData, cap: int, /) -> int: ...
    def shmtop_msg_table(self, cmd: int, out: CData, cap: int, /) -> int: ...
    def shmtop_sem_values(
        self,
        ids: CData,
        nsems: CData,
        count: int,
        out: CData,
        errs: CData,
        stamps: CData,
        keep_before: int,
        sleepers: CData,
        /,
    ) -> int: ...
    def shmtop_shm_state(
        self, out: CData, cap: int, kept: CData, kept_rows: int, same: CData, /
    ) -> int: ...
    def shmtop_activity_new(self, /) -> CData: ...
    def shmtop_activity_free(self, a: CData, /) -> None: ...
    def shmtop_activity_refresh(
        self,
        a: CData,
        semops: int,
        cap: int,
        max_fds: int,
        fd_floor: int,
        vouched: CData,
        nvouched: int,
        /,
    ) -> int: ...
    def shmtop_activity_events(self, a: CData, out: CData, cap: int, /) -> int: ...
    def shmtop_activity_semids(self, a: CData, out: CData, cap: int, /) -> int: ...
    def shmtop_activity_tasks(self, a: CData, /) -> int: ...
    def shmtop_activity_listed(self, a: CData, out: CData, cap: int, /) -> int: ...
    def shmtop_activity_sleepers(self, a: CData, out: CData, cap: int, /) -> int: ...
    def shmtop_parse_columns(
        self, text: bytes | CData, length: int, bases: CData, ncols: int, out: CData, cap: int, /
    ) -> int: ...
    def shmtop_process_facts(
        self,
        pids: CData,
        count: int,
        known: CData,
        out: CData,
        names: CData,
        titles: CData,
        title_lengths: CData,
        /,
    ) -> None: ...
    def shmtop_ipc_namespaces(self, pids: CData, count: int, out: CData, /) -> None: ...
    def shmtop_scan_maps(
        self,
        pids: CData,
        npids: int,
        want: int,
        out: CData,
        cap: int,
        status: CData,
        scanned: CData,
        reader: CData,
        /,
    ) -> int: ...
    def shmtop_parse_maps_fd(
        self, fd: int, pid: int, out: CData, cap: int, chunk: int, /
    ) -> int: ...
    def shmtop_parse_stat(
        self, text: bytes | CData, length: int, name: CData, start: CData, /
    ) -> int: ...
    def shmtop_scan_syscalls(
        self,
        pids: CData,
        npids: int,
        nums: CData,
        nnums: int,
        out: CData,
        cap: int,
        status: CData,
        tasks: CData,
        /,
    ) -> int: ...
    def shmtop_scan_fmaps(
        self,
        pids: CData,
        npids: int,
        devs: CData,
        ndevs: int,
        any_anon: int,
        out: CData,
        names: CData,
        cap: int,
        status: CData,
        reader: CData,
        /,
    ) -> int: ...
    def shmtop_scan_shared_maps(
        self,
        pids: CData,
        npids: int,
        devs: CData,
        ndevs: int,
        any_anon: int,
        sysv: CData,
        sysv_cap: int,
        files: CData,
        names: CData,
        files_cap: int,
        status: CData,
        uids: CData,
        reader: CData,
        counts: CData,
        /,
    ) -> int: ...
    def shmtop_scan_fds(
        self,
        pids: CData,
        npids: int,
        devs: CData,
        ndevs: int,
        out: CData,
        names: CData,
        cap: int,
        status: CData,
        looked: CData,
        /,
    ) -> int: ...
    def shmtop_list_files(self, directory: bytes, out: CData, names: CData, cap: int, /) -> int: ...
    def shmtop_read_sems(self, paths: bytes, keys: CData, n: int, out: CData, /) -> None: ...
    def shmtop_parse_fmaps_fd(
        self,
        fd: int,
        pid: int,
        devs: CData,
        ndevs: int,
        any_anon: int,
        out: CData,
        names: CData,
        cap: int,
        /,
    ) -> int: ...
    def unshare(self, flags: int, /) -> int: ...
    def shmtop_set_pdeathsig(self, signo: int, /) -> int: ...
    def setns(self, fd: int, nstype: int, /) -> int: ...
    def shmtop_open_in_root(self, pid: int, path: bytes, flags: int, /) -> int: ...
    def shmtop_fs_magic(self, fd: int, /) -> int: ...
    TMPFS_MAGIC: int
    HUGETLBFS_MAGIC: int
    def shmtop_mq_open(
        self, name: bytes, oflag: int, mode: int, maxmsg: int, msgsize: int, /
    ) -> int: ...
    def shmtop_mq_getattr(self, mqd: int, out: CData, /) -> int: ...
    def shmtop_mq_notify_signal(self, mqd: int, signo: int, /) -> int: ...
    def shmtop_mqueue_detached(self, /) -> int: ...
    def mq_close(self, mqd: int, /) -> int: ...
    def mq_unlink(self, name: bytes, /) -> int: ...
    def mq_send(self, mqd: int, msg: bytes | CData, len: int, prio: int, /) -> int: ...
    def mq_receive(self, mqd: int, msg: CData, len: int, prio: CData, /) -> int: ...
    def mount(
        self, source: bytes, target: bytes, fstype: bytes | CData, flags: int, data: CData, /
    ) -> int: ...
    def umount2(self, target: bytes, flags: int, /) -> int: ...

ffi: _FFI
lib: _Lib
