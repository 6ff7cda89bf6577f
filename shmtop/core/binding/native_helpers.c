/* Hot loops of shmtop's binding, done in C and handed to Python as flat
 * arrays of long long (ffi.unpack turns them into a list in one call).
 * Compiled by cffi in API mode from shmtop/core/binding/_build.py. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <linux/types.h>
#include <unistd.h>

/* The binding's interface number: bump it with every change to the C interface
 * (a function, a constant, a row layout); native.py refuses a module of another. */
#define SHMTOP_NATIVE_ABI 13

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif

/* glibc leaves this to the caller (semctl(2)). */
union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
    struct seminfo *__buf;
};

/* The directory at path (relative to the directory fd at, or AT_FDCWD), or NULL with
 * *error = -errno: open + fdopendir, the fd closed if fdopendir fails. */
static DIR *shmtop_open_dir(int at, const char *path, int *error)
{
    int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *dir;

    if (fd < 0) {
        *error = -errno;
        return NULL;
    }
    dir = fdopendir(fd);
    if (dir == NULL) {
        *error = -errno;
        close(fd);
    }
    return dir;
}

/* ---- thin wrappers the variadic semctl and private field names need ---- */

static int shmtop_semctl_val(int semid, int semnum, int cmd, int val)
{
    union semun arg;
    arg.val = val;
    return semctl(semid, semnum, cmd, arg);
}

static int shmtop_semctl_array(int semid, int cmd, unsigned short *values)
{
    union semun arg;
    arg.array = values;
    return semctl(semid, 0, cmd, arg);
}

static int shmtop_semctl_ds(int semid, int cmd, struct semid_ds *ds)
{
    union semun arg;
    arg.buf = ds;
    return semctl(semid, 0, cmd, arg);
}

static int shmtop_semctl_info(int cmd, struct seminfo *info)
{
    union semun arg;
    arg.__buf = info;
    return semctl(0, 0, cmd, arg);
}

/* prctl is variadic: this process gets signo when the thread that forked it ends
 * (`shmtop demo` dies with whoever started it). */
static int shmtop_set_pdeathsig(int signo)
{
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signo, 0UL, 0UL, 0UL);
}

/* glibc names the key field __key: keep that spelling out of Python. */
static int shmtop_perm_key(const struct ipc_perm *perm)
{
    return perm->__key;
}

/* ---- whole-table loops ---- */

#define SHMTOP_SEM_FIELDS 10
#define SHMTOP_MSG_FIELDS 16

/* Every semaphore set of this IPC namespace via SEM_STAT_ANY (no read
 * permission needed). Row: id key uid gid cuid cgid mode nsems otime ctime.
 * Returns the number of rows, or -errno. */
static int shmtop_sem_table(int cmd, long long *out, int cap)
{
    struct seminfo info;
    struct semid_ds ds;
    union semun arg;
    int max_index, index, rows = 0;

    arg.__buf = &info;
    max_index = semctl(0, 0, SEM_INFO, arg);
    if (max_index < 0)
        return -errno;
    for (index = 0; index <= max_index && rows < cap; index++) {
        long long *row = out + (long long)rows * SHMTOP_SEM_FIELDS;
        int id;
        arg.buf = &ds;
        id = semctl(index, 0, cmd, arg);
        if (id < 0)
            continue; /* EINVAL: unused slot; EACCES: SEM_STAT without rights */
        row[0] = id;
        row[1] = ds.sem_perm.__key;
        row[2] = ds.sem_perm.uid;
        row[3] = ds.sem_perm.gid;
        row[4] = ds.sem_perm.cuid;
        row[5] = ds.sem_perm.cgid;
        row[6] = ds.sem_perm.mode;
        row[7] = (long long)ds.sem_nsems;
        row[8] = (long long)ds.sem_otime;
        row[9] = (long long)ds.sem_ctime;
        rows++;
    }
    return rows;
}

/* Every message queue via MSG_STAT_ANY. Row: id key uid gid cuid cgid mode
 * cbytes qnum qbytes lspid lrpid stime rtime ctime, then a spare 0. */
static int shmtop_msg_table(int cmd, long long *out, int cap)
{
    struct msginfo info;
    struct msqid_ds ds;
    int max_index, index, rows = 0;

    max_index = msgctl(0, MSG_INFO, (struct msqid_ds *)&info);
    if (max_index < 0)
        return -errno;
    for (index = 0; index <= max_index && rows < cap; index++) {
        long long *row = out + (long long)rows * SHMTOP_MSG_FIELDS;
        int id = msgctl(index, cmd, &ds);
        if (id < 0)
            continue;
        row[0] = id;
        row[1] = ds.msg_perm.__key;
        row[2] = ds.msg_perm.uid;
        row[3] = ds.msg_perm.gid;
        row[4] = ds.msg_perm.cuid;
        row[5] = ds.msg_perm.cgid;
        row[6] = ds.msg_perm.mode;
        row[7] = (long long)ds.__msg_cbytes;
        row[8] = (long long)ds.msg_qnum;
        row[9] = (long long)ds.msg_qbytes;
        row[10] = ds.msg_lspid;
        row[11] = ds.msg_lrpid;
        row[12] = (long long)ds.msg_stime;
        row[13] = (long long)ds.msg_rtime;
        row[14] = (long long)ds.msg_ctime;
        row[15] = 0;
        rows++;
    }
    return rows;
}

/* GETALL writes as many values as the set has when it runs, whatever count
 * the caller read earlier. So the count comes from IPC_STAT right before it,
 * and the values go at the very end of a mapping followed by a PROT_NONE
 * page: should the id be removed and reused by a bigger set between the two
 * calls, the kernel's copy_to_user meets the guard page and GETALL fails with
 * EFAULT instead of writing past the buffer. */
struct shmtop_guarded {
    char *base;
    size_t size; /* usable bytes, the guard page after them */
};

static unsigned short *shmtop_guarded_values(struct shmtop_guarded *area, size_t count)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t need = count * sizeof(unsigned short);

    if (area->base == NULL || need > area->size) {
        size_t size = (need + page - 1) / page * page;
        char *base;
        if (size == 0)
            size = page;
        if (area->base != NULL)
            munmap(area->base, area->size + page);
        area->base = NULL;
        base = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (base == MAP_FAILED)
            return NULL;
        if (mprotect(base + size, page, PROT_NONE) < 0) {
            munmap(base, size + page);
            return NULL;
        }
        area->base = base;
        area->size = size;
    }
    return (unsigned short *)(area->base + area->size - need);
}

/* Values of many semaphore sets at once. For set i (nsems[i] semaphores),
 * four numbers a semaphore: value ncnt zcnt pid, packed one set after the
 * other. errs[i] is 0 or the errno that made set i unreadable (its slots
 * are then left as they were). A set's size never changes in its life: when
 * the kernel's count differs from nsems[i], the id now names another set and
 * errs[i] is EIDRM (the set the caller knew was removed). Returns the number
 * of longs used.
 *
 * stamps (NULL: read every pid) holds two numbers a set, the otime and ctime
 * its pids in out were read under (-1: none), and is updated. A set's pids
 * are left as out has them, without GETPID, when IPC_STAT shows the same
 * otime and ctime and both are older than keep_before (0: read them all).
 * The kernel sets a semaphore's sempid only in a successful semop (the set's
 * otime moves to now: do_semtimedop, and update_queue/wake_const_ops for a
 * sleeper, via do_smart_update), SETVAL and SETALL (ctime moves) and the
 * undo at exit (exit_sem: do_smart_update with otime forced), each in the
 * same locked section (ipc/sem.c). Those times have one-second resolution,
 * so the caller passes keep_before = the second at which the pids were read,
 * less one (the kernel's seconds can lag the clock by a tick): a change after
 * that read writes a time at or after keep_before, which no kept stamp is.
 *
 * sleepers (NULL: read every count) holds, one a set, -1 for a set some
 * task that ran since the last read sleeps or slept in (activity_helpers.c
 * says how that is known), else the number of tasks seen asleep in it. Such
 * a set keeps its ncnt and zcnt under the same rule as its pids, and only if
 * they add up to that number (each queued task counts once: count_semcnt), so
 * a task that came and went between two looks at it but was queued while we
 * read the set cannot leave its count behind. Every other change of a count
 * (a sleeper's op done or failed by another's semop, SETVAL, SETALL, the undo
 * at exit: do_smart_update and its update_queue/wake_const_ops unlink the
 * entry under the lock that moves otime or ctime; IPC_RMID: the set goes)
 * leaves a later stamp. */
static long long shmtop_sem_values(const int *ids, const int *nsems, int count,
                                   long long *out, int *errs,
                                   long long *stamps, long long keep_before,
                                   const int *sleepers)
{
    struct shmtop_guarded area = {NULL, 0};
    long long used = 0;
    int i, s;

    for (i = 0; i < count; i++) {
        long long *row = out + used;
        int n = nsems[i];
        struct semid_ds ds;
        unsigned short *values;
        union semun arg;
        int keep, keep_counts;

        used += 4LL * n;
        errs[i] = 0;
        keep = stamps != NULL && keep_before > 0 && stamps[2 * i] >= 0;
        arg.buf = &ds;
        if (semctl(ids[i], 0, IPC_STAT, arg) < 0) {
            errs[i] = errno;
            goto unread;
        }
        if ((long long)ds.sem_nsems != n) {
            errs[i] = EIDRM;
            goto unread;
        }
        keep = keep && stamps[2 * i] == (long long)ds.sem_otime
            && stamps[2 * i + 1] == (long long)ds.sem_ctime
            && (long long)ds.sem_otime < keep_before
            && (long long)ds.sem_ctime < keep_before;
        keep_counts = keep && sleepers != NULL && sleepers[i] >= 0;
        if (keep_counts) {
            long long waiting = 0;
            for (s = 0; s < n; s++)
                waiting += row[4 * s + 1] + row[4 * s + 2];
            keep_counts = waiting == sleepers[i];
        }
        values = shmtop_guarded_values(&area, ds.sem_nsems);
        if (values == NULL) {
            errs[i] = ENOMEM;
            goto unread;
        }
        arg.array = values;
        if (semctl(ids[i], 0, GETALL, arg) < 0) {
            /* EFAULT: the id grew a bigger set between IPC_STAT and GETALL */
            errs[i] = errno == EFAULT ? EIDRM : errno;
            goto unread;
        }
        for (s = 0; s < n; s++) {
            int ncnt = keep_counts ? 0 : semctl(ids[i], s, GETNCNT);
            int zcnt = keep_counts ? 0 : semctl(ids[i], s, GETZCNT);
            int pid = keep ? 0 : semctl(ids[i], s, GETPID);
            if (ncnt < 0 || zcnt < 0 || pid < 0) {
                errs[i] = errno; /* removed while we read it */
                break;
            }
            row[4 * s] = values[s];
            if (!keep_counts) {
                row[4 * s + 1] = ncnt;
                row[4 * s + 2] = zcnt;
            }
            if (!keep)
                row[4 * s + 3] = pid;
        }
        if (errs[i] != 0)
            goto unread;
        if (stamps != NULL) {
            stamps[2 * i] = (long long)ds.sem_otime;
            stamps[2 * i + 1] = (long long)ds.sem_ctime;
        }
        continue;
    unread:
        if (stamps != NULL)
            stamps[2 * i] = stamps[2 * i + 1] = -1;
    }
    if (area.base != NULL)
        munmap(area.base, area.size + (size_t)sysconf(_SC_PAGESIZE));
    return used;
}

/* Numbers of a /proc/sysvipc table after its header line, column by column
 * in the base bases[col] gives (8 for perms). Stops at cap rows; returns
 * the number of rows, or -1 if a line has too few numbers. */
static int shmtop_parse_columns(const char *text, long long length,
                                const int *bases, int ncols,
                                long long *out, int cap)
{
    const char *p = memchr(text, '\n', (size_t)length);
    const char *end = text + length;
    int rows = 0;

    if (p == NULL)
        return 0;
    p++;
    while (p < end && rows < cap) {
        int col;
        while (p < end && (*p == ' ' || *p == '\n'))
            p++;
        if (p >= end)
            break;
        for (col = 0; col < ncols; col++) {
            char *after;
            /* strtoll would skip a newline too: a short line must not borrow
             * numbers from the next one. */
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (p >= end || *p == '\n')
                return -1;
            out[(long long)rows * ncols + col] = strtoll(p, &after, bases[col]);
            if (after == p)
                return -1;
            p = after;
        }
        /* Columns we were not asked for (a newer kernel's) are skipped. */
        while (p < end && *p != '\n')
            p++;
        rows++;
    }
    return rows;
}

/* ---- attachments: /SYSV mappings of processes ---- */

#define SHMTOP_MAP_FIELDS 5

static int shmtop_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static unsigned long long shmtop_hex(const char **cursor, const char *end)
{
    unsigned long long value = 0;
    const char *p = *cursor;
    int digit;
    while (p < end && (digit = shmtop_hexval(*p)) >= 0) {
        value = value * 16 + (unsigned long long)digit;
        p++;
    }
    *cursor = p;
    return value;
}

/* A decimal number of at least one digit, never past end (strtoull would skip
 * a newline and read on into the next line, and take a sign). */
static int shmtop_decimal(const char **cursor, const char *end,
                          unsigned long long *value)
{
    const char *p = *cursor;
    *value = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        *value = *value * 10 + (unsigned long long)(*p - '0');
        p++;
    }
    if (p == *cursor)
        return 0;
    *cursor = p;
    return 1;
}

/* A segment's name: "/SYSV" and 8 hex digits, then nothing or " (deleted)"
 * (as procfs.parse_sysv_mapping has it). length excludes any NUL. */
static int shmtop_is_sysv_name(const char *name, size_t length)
{
    size_t k;
    if (length != 13 && length != 23)
        return 0;
    if (memcmp(name, "/SYSV", 5) != 0)
        return 0;
    for (k = 5; k < 13; k++)
        if (shmtop_hexval(name[k]) < 0)
            return 0;
    return length == 13 || memcmp(name + 13, " (deleted)", 10) == 0;
}

/* ---- process facts: name, start time and effective uid, many at once ---- */

#define SHMTOP_COMM_SIZE 16
#define SHMTOP_TITLE_SIZE 256

/* The first SHMTOP_TITLE_SIZE bytes of /proc/PID/cmdline into title (the
 * command line as the process left it: NUL-separated arguments, or a title
 * written over them); returns the bytes read (0: empty, a kernel thread or a
 * zombie), or -2 if it could not be read. */
static int shmtop_read_title(int pid, char *title)
{
    char path[64];
    ssize_t got;
    int fd;

    snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -2;
    got = read(fd, title, SHMTOP_TITLE_SIZE);
    close(fd);
    return got < 0 ? -2 : (int)got;
}

/* Parse the text of a /proc/PID/stat, [text, text + length), never reading
 * past it: comm (at most SHMTOP_COMM_SIZE - 1 bytes, NUL-terminated, into name)
 * and starttime (field 22, clock ticks since boot). comm may hold spaces and
 * parentheses: it ends at the last ')'. Returns 0, or EPROTO for text that is
 * not a whole stat line (no comm, a stat ending at ')', a field missing,
 * starttime cut short). */
static int shmtop_parse_stat(const char *text, long long length, char *name,
                             long long *start)
{
    const char *end = text + length, *open_paren, *close_paren = NULL, *p;
    unsigned long long ticks;
    size_t size;
    int field;

    name[0] = 0;
    *start = 0;
    if (length <= 0)
        return EPROTO;
    open_paren = memchr(text, '(', (size_t)length);
    if (open_paren == NULL)
        return EPROTO;
    for (p = end; p > open_paren + 1; p--)
        if (p[-1] == ')') {
            close_paren = p - 1;
            break;
        }
    if (close_paren == NULL)
        return EPROTO;
    /* Each field after comm is a space and a word; state is field 3. */
    p = close_paren + 1;
    for (field = 3; field <= 22; field++) {
        const char *word;
        if (p >= end || *p != ' ')
            return EPROTO;
        p++;
        if (field == 22)
            break;
        word = p;
        while (p < end && *p != ' ' && *p != '\n')
            p++;
        if (p == word)
            return EPROTO;
    }
    /* starttime is never the last field: without a space after it, it was cut. */
    if (!shmtop_decimal(&p, end, &ticks) || p >= end || *p != ' ')
        return EPROTO;
    *start = (long long)ticks;
    size = (size_t)(close_paren - open_paren - 1);
    if (size >= SHMTOP_COMM_SIZE)
        size = SHMTOP_COMM_SIZE - 1;
    memcpy(name, open_paren + 1, size);
    name[size] = 0;
    return 0;
}

/* For each pid: out[3i] = start time in clock ticks since boot (field 22 of
 * /proc/PID/stat), out[3i+1] = owner uid of /proc/PID (the effective uid, as
 * ps and htop show), out[3i+2] = 0, or the errno that kept it from being read
 * (ESRCH: gone). names[16i..] = comm, NUL-terminated, raw bytes.
 * With titles (else NULL): the title of each pid whose start time is not
 * known[i] (known NULL: of every pid) goes to titles[256i..], its length to
 * title_lengths[i] (shmtop_read_title); -1 where it was not read. */
static void shmtop_process_facts(const int *pids, int count, const long long *known,
                                 long long *out, char *names, char *titles,
                                 int *title_lengths)
{
    char path[64], text[1024];
    int i;

    for (i = 0; i < count; i++) {
        long long *row = out + 3LL * i;
        char *name = names + (long long)SHMTOP_COMM_SIZE * i;
        struct stat info;
        ssize_t got;
        int fd;

        row[0] = row[1] = 0;
        row[2] = 0;
        name[0] = 0;
        if (titles != NULL)
            title_lengths[i] = -1;
        snprintf(path, sizeof path, "/proc/%d/stat", pids[i]);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            row[2] = errno == ENOENT ? ESRCH : errno;
            continue;
        }
        got = read(fd, text, sizeof text - 1);
        if (got < 0) {
            row[2] = errno == ENOENT ? ESRCH : errno;
            close(fd);
            continue;
        }
        close(fd);
        /* The directory, not the stat file: procfs gives the files of a task that is not
         * dumpable (setuid, PR_SET_DUMPABLE 0) to root, its directory stays its euid's. */
        snprintf(path, sizeof path, "/proc/%d", pids[i]);
        if (stat(path, &info) < 0) {
            row[2] = errno == ENOENT ? ESRCH : errno;
            continue;
        }
        text[got] = 0;
        row[2] = shmtop_parse_stat(text, got, name, &row[0]);
        if (row[2] == 0)
            row[1] = info.st_uid;
        if (row[2] == 0 && titles != NULL && (known == NULL || known[i] != row[0]))
            title_lengths[i] =
                shmtop_read_title(pids[i], titles + (long long)SHMTOP_TITLE_SIZE * i);
    }
}

/* For each pid, the inode of its IPC namespace (stat of /proc/PID/ns/ipc: the
 * magic link's target), or -errno where it cannot be told (ESRCH: gone). The
 * scan asks it of every process that maps a segment, to keep only our
 * namespace's: a thousand os.stat calls cost Python several times this. */
static void shmtop_ipc_namespaces(const int *pids, int count, long long *out)
{
    char path[64];
    struct stat info;
    int i;

    for (i = 0; i < count; i++) {
        snprintf(path, sizeof path, "/proc/%d/ns/ipc", pids[i]);
        if (stat(path, &info) < 0)
            out[i] = errno == ENOENT ? -ESRCH : -errno;
        else
            out[i] = (long long)info.st_ino;
    }
}

/* ---- waiters: threads blocked in an IPC system call ---- */

#define SHMTOP_TASK_FIELDS 11

/* Parse "NR 0xA0 0xA1 ... 0xA5 SP PC" into nr and six arguments; 0 for
 * "running", a negative number (not in a system call) or anything else. */
static int shmtop_parse_syscall(const char *text, long long *nr, long long *args)
{
    const char *p = text;
    char *after;
    int i;

    *nr = strtoll(p, &after, 10);
    if (after == p || *nr < 0)
        return 0;
    p = after;
    for (i = 0; i < 6; i++) {
        args[i] = (long long)strtoull(p, &after, 16);
        if (after == p)
            return 0;
        p = after;
    }
    return 1;
}

/* Read a small /proc file into text (NUL-terminated); returns 0 or errno. */
static int shmtop_read_small(const char *path, char *text, size_t size)
{
    ssize_t got;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return errno;
    got = read(fd, text, size - 1);
    if (got < 0) {
        int number = errno;
        close(fd);
        return number;
    }
    close(fd);
    text[got] = 0;
    return 0;
}

/* Look at one thread: if it is in one of the nnums system calls in nums,
 * fill row (pid tid nr arg0..arg5 run_ns timeslices) and return 1. Returns
 * 0 otherwise, or -errno when its syscall file could not be read. */
static int shmtop_scan_task(int pid, int tid, const long long *nums, int nnums,
                            long long *row)
{
    char path[96], text[512];
    long long nr, args[6], run = 0, wait = 0, slices = 0;
    int k, number, wanted = 0;

    snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", pid, tid);
    number = shmtop_read_small(path, text, sizeof text);
    if (number != 0)
        return -number;
    if (!shmtop_parse_syscall(text, &nr, args))
        return 0;
    for (k = 0; k < nnums; k++)
        wanted |= nums[k] == nr;
    if (!wanted)
        return 0;
    row[0] = pid;
    row[1] = tid;
    row[2] = nr;
    for (k = 0; k < 6; k++)
        row[3 + k] = args[k];
    row[9] = row[10] = -1;
    snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", pid, tid);
    if (shmtop_read_small(path, text, sizeof text) == 0 &&
        sscanf(text, "%lld %lld %lld", &run, &wait, &slices) == 3) {
        row[9] = run;
        row[10] = slices;
    }
    return 1;
}

/* For each pid, read /proc/PID/task/TID/syscall of each of its threads and
 * keep the threads blocked in one of the nnums system calls in nums, one row
 * of SHMTOP_TASK_FIELDS each (see shmtop_scan_task): a thread that has not
 * run since the last scan shows the same run_ns and timeslices. status[i] is
 * 0 or the errno that kept a thread of pid i from being read (ESRCH: gone);
 * *tasks counts the threads looked at. Returns rows. */
static int shmtop_scan_syscalls(const int *pids, int npids, const long long *nums,
                                int nnums, long long *out, int cap, int *status,
                                long long *tasks)
{
    char path[64];
    int i, rows = 0;

    *tasks = 0;
    for (i = 0; i < npids && rows < cap; i++) {
        struct stat info;
        DIR *dir;
        struct dirent *entry;
        int found;

        status[i] = 0;
        snprintf(path, sizeof path, "/proc/%d/task", pids[i]);
        if (stat(path, &info) < 0) {
            status[i] = errno == ENOENT ? ESRCH : errno;
            continue;
        }
        /* nlink of a task directory is 2 + threads: one thread needs no listing. */
        if (info.st_nlink == 3) {
            (*tasks)++;
            found = shmtop_scan_task(pids[i], pids[i], nums, nnums,
                                     out + (long long)rows * SHMTOP_TASK_FIELDS);
            if (found > 0)
                rows++;
            else if (found < 0 && found != -ENOENT && found != -ESRCH)
                status[i] = -found;
            continue;
        }
        dir = opendir(path);
        if (dir == NULL) {
            status[i] = errno == ENOENT ? ESRCH : errno;
            continue;
        }
        while ((entry = readdir(dir)) != NULL && rows < cap) {
            if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
                continue;
            (*tasks)++;
            found = shmtop_scan_task(pids[i], atoi(entry->d_name), nums, nnums,
                                     out + (long long)rows * SHMTOP_TASK_FIELDS);
            if (found > 0)
                rows++;
            else if (found < 0 && found != -ENOENT && found != -ESRCH)
                status[i] = -found; /* a thread that ended is no blind spot */
        }
        closedir(dir);
    }
    return rows;
}
