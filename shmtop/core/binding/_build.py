"""cffi API-mode builder for shmtop's System V IPC binding (run at install time)."""

from __future__ import annotations

from pathlib import Path

from cffi import FFI

CDEF = r"""
typedef int... key_t;
typedef int... pid_t;
typedef int... uid_t;
typedef int... gid_t;
typedef int... mode_t;
typedef int... time_t;
typedef unsigned long... shmatt_t;
typedef unsigned long... msgqnum_t;
typedef unsigned long... msglen_t;

#define IPC_PRIVATE ...
#define IPC_CREAT ...
#define IPC_EXCL ...
#define IPC_NOWAIT ...
#define IPC_RMID ...
#define IPC_STAT ...
#define IPC_INFO ...
#define SHM_INFO ...
#define SHM_STAT ...
#define SHM_STAT_ANY ...
#define SHM_RDONLY ...
#define SHM_DEST ...
#define SHM_LOCKED ...
#define SEM_INFO ...
#define SEM_STAT ...
#define SEM_STAT_ANY ...
#define SEM_UNDO ...
#define GETALL ...
#define GETVAL ...
#define GETNCNT ...
#define GETZCNT ...
#define GETPID ...
#define SETALL ...
#define SETVAL ...
#define MSG_INFO ...
#define MSG_STAT ...
#define MSG_STAT_ANY ...
#define MSG_COPY ...
#define MSG_NOERROR ...
#define SHMTOP_SEM_FIELDS ...
#define SHMTOP_MSG_FIELDS ...
#define SHMTOP_MAP_FIELDS ...
#define SHMTOP_NATIVE_ABI ...

struct ipc_perm { uid_t uid; gid_t gid; uid_t cuid; gid_t cgid; mode_t mode; ...; };
struct shmid_ds {
    struct ipc_perm shm_perm; size_t shm_segsz;
    time_t shm_atime; time_t shm_dtime; time_t shm_ctime;
    pid_t shm_cpid; pid_t shm_lpid; shmatt_t shm_nattch; ...;
};
struct shminfo { unsigned long shmmax; unsigned long shmmin; unsigned long shmmni;
                 unsigned long shmseg; unsigned long shmall; ...; };
struct shm_info { int used_ids; unsigned long shm_tot; unsigned long shm_rss;
                  unsigned long shm_swp; ...; };
struct semid_ds { struct ipc_perm sem_perm; time_t sem_otime; time_t sem_ctime;
                  unsigned long sem_nsems; ...; };
struct seminfo { int semmap; int semmni; int semmns; int semmnu; int semmsl;
                 int semopm; int semume; int semusz; int semvmx; int semaem; };
struct sembuf { unsigned short sem_num; short sem_op; short sem_flg; };
struct timespec { time_t tv_sec; long tv_nsec; ...; };
struct msqid_ds { struct ipc_perm msg_perm; time_t msg_stime; time_t msg_rtime;
                  time_t msg_ctime; msgqnum_t msg_qnum; msglen_t msg_qbytes;
                  pid_t msg_lspid; pid_t msg_lrpid; ...; };
struct msginfo { int msgpool; int msgmap; int msgmax; int msgmnb; int msgmni;
                 int msgssz; int msgtql; unsigned short msgseg; };

int shmget(key_t key, size_t size, int shmflg);
void *shmat(int shmid, const void *shmaddr, int shmflg);
int shmdt(const void *shmaddr);
int shmctl(int shmid, int cmd, struct shmid_ds *buf);
int semget(key_t key, int nsems, int semflg);
int semop(int semid, struct sembuf *sops, size_t nsops);
int semtimedop(int semid, struct sembuf *sops, size_t nsops, const struct timespec *timeout);
int msgget(key_t key, int msgflg);
int msgctl(int msqid, int cmd, struct msqid_ds *buf);
int msgsnd(int msqid, const void *msgp, size_t msgsz, int msgflg);
ssize_t msgrcv(int msqid, void *msgp, size_t msgsz, long msgtyp, int msgflg);

int shmtop_semctl_val(int semid, int semnum, int cmd, int val);
int shmtop_semctl_array(int semid, int cmd, unsigned short *values);
int shmtop_semctl_ds(int semid, int cmd, struct semid_ds *ds);
int shmtop_semctl_info(int cmd, struct seminfo *info);
int shmtop_perm_key(const struct ipc_perm *perm);
int shmtop_set_pdeathsig(int signo);
int shmtop_sem_table(int cmd, long long *out, int cap);
int shmtop_msg_table(int cmd, long long *out, int cap);
long long shmtop_sem_values(const int *ids, const int *nsems, int count,
                            long long *out, int *errs, long long *stamps,
                            long long keep_before, const int *sleepers);
int shmtop_parse_columns(const char *text, long long length, const int *bases,
                         int ncols, long long *out, int cap);
void shmtop_process_facts(const int *pids, int count, const long long *known,
                          long long *out, char *names, char *titles, int *title_lengths);
void shmtop_ipc_namespaces(const int *pids, int count, long long *out);
#define SHMTOP_COMM_SIZE ...
#define SHMTOP_TITLE_SIZE ...
int shmtop_scan_maps(const int *pids, int npids, long long want, long long *out,
                     int cap, int *status, int *scanned, int *reader);
int shmtop_parse_maps_fd(int fd, int pid, long long *out, int cap, int chunk);
int shmtop_parse_stat(const char *text, long long length, char *name, long long *start);
#define SHMTOP_MAPS_LINE_MAX ...
#define SHMTOP_MAPS_READ ...
#define SHMTOP_TASK_FIELDS ...
int shmtop_scan_syscalls(const int *pids, int npids, const long long *nums, int nnums,
                         long long *out, int cap, int *status, long long *tasks);
"""

# Namespaces: `shmtop demo` runs in an IPC namespace of its own (unshare); setns joins one
# (the IPC namespaces of other processes, and their UTS namespaces for a hostname).
NAMESPACE_CDEF = r"""
#define CLONE_NEWIPC ...
#define CLONE_NEWUSER ...
#define CLONE_NEWUTS ...
int unshare(int flags);
int setns(int fd, int nstype);
int shmtop_open_in_root(int pid, const char *path, int flags);
long long shmtop_fs_magic(int fd);
#define TMPFS_MAGIC ...
#define HUGETLBFS_MAGIC ...
"""
NAMESPACE_SOURCE = "\n#include <sched.h>\n"  # after the helpers, which define _GNU_SOURCE

# POSIX shared memory (issue 12): the maps side lives in maps_helpers.c (one pass reads the
# System V and the POSIX mappings), the fd scan in posix_helpers.c, both appended after
# native_helpers.c (whose includes and number parsers they use).
POSIX_CDEF = r"""
#define SHMTOP_FMAP_FIELDS ...
#define SHMTOP_FMAP_NAME ...
#define SHMTOP_FD_FIELDS ...
int shmtop_scan_fmaps(const int *pids, int npids, const long long *devs, int ndevs,
                      int any_anon, long long *out, char *names, int cap, int *status,
                      int *reader);
int shmtop_scan_shared_maps(const int *pids, int npids, const long long *devs, int ndevs,
                            int any_anon, long long *sysv, int sysv_cap, long long *files,
                            char *names, int files_cap, int *status, long long *uids,
                            int *reader, int *counts);
int shmtop_scan_fds(const int *pids, int npids, const long long *devs, int ndevs,
                    long long *out, char *names, int cap, int *status, int *looked);
int shmtop_parse_fmaps_fd(int fd, int pid, const long long *devs, int ndevs, int any_anon,
                          long long *out, char *names, int cap);
#define SHMTOP_DIRENT_FIELDS ...
#define SHMTOP_DIRENT_NAME ...
int shmtop_list_files(const char *directory, long long *out, char *names, int cap);
#define SHMTOP_SEM_SHORT ...
void shmtop_read_sems(const char *paths, const long long *keys, int n, long long *out);
"""

# POSIX message queues (issue 12 item 4): mqueue_helpers.c, appended after posix_helpers.c;
# mount and CLONE_NEWNS for the helper that mounts an mqueue fs in a private mount namespace.
MQUEUE_CDEF = r"""
#define SHMTOP_MQ_FIELDS ...
#define CLONE_NEWNS ...
#define MS_REC ...
#define MS_PRIVATE ...
#define MS_NOSUID ...
#define MS_NODEV ...
#define MS_NOEXEC ...
#define MNT_DETACH ...
int shmtop_mq_open(const char *name, int oflag, int mode, long maxmsg, long msgsize);
int shmtop_mq_getattr(int mqd, long long *out);
int shmtop_mq_notify_signal(int mqd, int signo);
int shmtop_mqueue_detached(void);
int mq_close(int mqd);
int mq_unlink(const char *name);
int mq_send(int mqd, const char *msg, size_t len, unsigned int prio);
ssize_t mq_receive(int mqd, char *msg, size_t len, unsigned int *prio);
int mount(const char *source, const char *target, const char *fstype, unsigned long flags,
          const void *data);
int umount2(const char *target, int flags);
"""

# Which tasks ran since the last look (issues 11/14, the steady snapshot): activity_helpers.c,
# appended last; its table is opaque to Python.
ACTIVITY_CDEF = r"""
#define SHMTOP_ACTIVITY_RAN ...
#define SHMTOP_ACTIVITY_NEW ...
#define SHMTOP_ACTIVITY_GONE ...
#define SHMTOP_ACTIVITY_FIRST ...
#define SHMTOP_ACTIVITY_SCHED_OFF ...
#define SHMTOP_ACTIVITY_UNREADABLE ...
#define SHMTOP_ACTIVITY_UNSURE ...
#define SHMTOP_ACTIVITY_TOO_MANY ...
#define SHMTOP_ACTIVITY_NO_MEMORY ...
#define SHMTOP_ACTIVITY_NO_PROC ...
struct shmtop_activity;
struct shmtop_activity *shmtop_activity_new(void);
void shmtop_activity_free(struct shmtop_activity *a);
int shmtop_activity_refresh(struct shmtop_activity *a, int semops, int cap, int max_fds,
                            int fd_floor, const int *vouched, int nvouched);
int shmtop_activity_events(const struct shmtop_activity *a, int *out, int cap);
int shmtop_activity_semids(const struct shmtop_activity *a, int *out, int cap);
int shmtop_activity_tasks(const struct shmtop_activity *a);
int shmtop_activity_listed(const struct shmtop_activity *a, int *out, int cap);
int shmtop_activity_sleepers(const struct shmtop_activity *a, long long *out, int cap);
"""

# Every segment's shmid_ds in one loop, compared in C with a kept look (issues 11/14: a steady
# snapshot that can tell nothing moved skips /proc/sysvipc/shm): shm_state_helpers.c.
SHM_STATE_CDEF = r"""
#define SHMTOP_SHM_STATE_FIELDS ...
int shmtop_shm_state(long long *out, int cap, const long long *kept, int kept_rows, int *same);
"""

ffibuilder = FFI()
ffibuilder.cdef(CDEF + NAMESPACE_CDEF + POSIX_CDEF + MQUEUE_CDEF + ACTIVITY_CDEF + SHM_STATE_CDEF)
_HERE = Path(__file__).parent
ffibuilder.set_source(
    "shmtop.core.binding._native",
    (_HERE / "native_helpers.c").read_text(encoding="utf-8")
    + NAMESPACE_SOURCE
    + (_HERE / "maps_helpers.c").read_text(encoding="utf-8")
    + (_HERE / "posix_helpers.c").read_text(encoding="utf-8")
    + (_HERE / "mqueue_helpers.c").read_text(encoding="utf-8")
    + (_HERE / "activity_helpers.c").read_text(encoding="utf-8")
    + (_HERE / "confined_helpers.c").read_text(encoding="utf-8")
    + (_HERE / "shm_state_helpers.c").read_text(encoding="utf-8"),
    libraries=["rt"],  # mq_* are in libc from glibc 2.34, in librt before (a stub after)
    extra_compile_args=["-O2"],
    py_limited_api=True,  # the stable ABI only: one abi3 wheel for every 3.11+
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
