/* Hot loops of shmtop's binding, done in C and handed to Python as flat
 * arrays of long long (ffi.unpack turns them into a list in one call).
 * Compiled by cffi in API mode from shmtop/ipc/_build.py. */
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
#include <sys/stat.h>
#include <linux/types.h>
#include <unistd.h>

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

/* Values of many semaphore sets at once. For set i (nsems[i] semaphores),
 * four numbers a semaphore: value ncnt zcnt pid, packed one set after the
 * other. errs[i] is 0 or the errno that made set i unreadable (its slots
 * are then left as they were). Returns the number of longs used. */
static long long shmtop_sem_values(const int *ids, const int *nsems, int count,
                                   long long *out, int *errs)
{
    unsigned short values[32000];
    long long used = 0;
    int i, s;

    for (i = 0; i < count; i++) {
        long long *row = out + used;
        int n = nsems[i];
        union semun arg;

        used += 4LL * n;
        errs[i] = 0;
        if (n > 32000) {
            errs[i] = E2BIG;
            continue;
        }
        arg.array = values;
        if (semctl(ids[i], 0, GETALL, arg) < 0) {
            errs[i] = errno;
            continue;
        }
        for (s = 0; s < n; s++) {
            int ncnt = semctl(ids[i], s, GETNCNT);
            int zcnt = semctl(ids[i], s, GETZCNT);
            int pid = semctl(ids[i], s, GETPID);
            if (ncnt < 0 || zcnt < 0 || pid < 0) {
                errs[i] = errno; /* removed while we read it */
                break;
            }
            row[4 * s] = values[s];
            row[4 * s + 1] = ncnt;
            row[4 * s + 2] = zcnt;
            row[4 * s + 3] = pid;
        }
    }
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

/* Parse one maps line; if it is a System V segment (a "/SYSVxxxxxxxx"
 * path on an internal device of major 0), write pid start end writable
 * inode to row and return 1. */
static int shmtop_parse_map_line(const char *line, const char *end, int pid,
                                 long long *row)
{
    const char *p = line;
    unsigned long long start, stop, inode;
    int writable;

    start = shmtop_hex(&p, end);
    if (p >= end || *p != '-')
        return 0;
    p++;
    stop = shmtop_hex(&p, end);
    if (end - p < 6 || p[4] != 's') /* " rw-s": only shared mappings */
        return 0;
    writable = p[2] == 'w';
    p += 6;
    shmtop_hex(&p, end); /* offset */
    while (p < end && *p == ' ')
        p++;
    if (shmtop_hex(&p, end) != 0) /* device major: internal mounts are 0 */
        return 0;
    if (p >= end || *p != ':')
        return 0;
    p++;
    shmtop_hex(&p, end); /* minor */
    while (p < end && *p == ' ')
        p++;
    inode = strtoull(p, (char **)&p, 10);
    while (p < end && *p == ' ')
        p++;
    if (end - p < 13 || memcmp(p, "/SYSV", 5) != 0)
        return 0;
    row[0] = pid;
    row[1] = (long long)start;
    row[2] = (long long)stop;
    row[3] = writable;
    row[4] = (long long)inode;
    return 1;
}

/* PROCMAP_QUERY (Linux >= 6.11) asks the kernel for the next VMA matching
 * flags, so only shared file mappings cross to user space and no path is
 * formatted except theirs. Declared here for older headers. */
#ifndef PROCMAP_QUERY
struct procmap_query {
    __u64 size;
    __u64 query_flags;
    __u64 query_addr;
    __u64 vma_start;
    __u64 vma_end;
    __u64 vma_flags;
    __u64 vma_page_size;
    __u64 vma_offset;
    __u64 inode;
    __u32 dev_major;
    __u32 dev_minor;
    __u32 vma_name_size;
    __u32 build_id_size;
    __u64 vma_name_addr;
    __u64 build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_SHARED 0x08
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#define PROCMAP_QUERY_FILE_BACKED_VMA 0x20
#endif

/* 1: use PROCMAP_QUERY; 0: it failed with ENOTTY/EINVAL once, read text. */
static int shmtop_have_procmap_query = 1;

/* Tests turn the ioctl off to check the text path against it. */
static void shmtop_use_procmap_query(int on)
{
    shmtop_have_procmap_query = on;
}

/* Collect the System V mappings of the maps file open on fd through
 * PROCMAP_QUERY. Returns rows added, or -errno (-ENOTTY: no such ioctl). */
static int shmtop_query_maps(int fd, int pid, long long *out, int cap)
{
    struct procmap_query query;
    char name[4096];
    unsigned long long address = 0;
    int rows = 0;

    for (;;) {
        memset(&query, 0, sizeof query);
        query.size = sizeof query;
        query.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA |
                            PROCMAP_QUERY_VMA_SHARED | PROCMAP_QUERY_FILE_BACKED_VMA;
        query.query_addr = address;
        query.vma_name_addr = (unsigned long long)(unsigned long)name;
        query.vma_name_size = sizeof name;
        if (ioctl(fd, PROCMAP_QUERY, &query) < 0)
            return errno == ENOENT ? rows : -errno; /* ENOENT: no more VMAs */
        address = query.vma_end;
        if (query.dev_major != 0 || query.vma_name_size < 14 ||
            memcmp(name, "/SYSV", 5) != 0 || rows >= cap)
            continue;
        out[(long long)rows * SHMTOP_MAP_FIELDS] = pid;
        out[(long long)rows * SHMTOP_MAP_FIELDS + 1] = (long long)query.vma_start;
        out[(long long)rows * SHMTOP_MAP_FIELDS + 2] = (long long)query.vma_end;
        out[(long long)rows * SHMTOP_MAP_FIELDS + 3] =
            (query.vma_flags & PROCMAP_QUERY_VMA_WRITABLE) != 0;
        out[(long long)rows * SHMTOP_MAP_FIELDS + 4] = (long long)query.inode;
        rows++;
    }
}

/* Read /proc/PID/maps for each pid in order and collect its System V
 * mappings (SHMTOP_MAP_FIELDS longs a row). status[i] is 0, or the errno
 * that kept pid i from being read (ESRCH for a process that is gone).
 * Stops after the pid whose mappings bring the total to want (want < 0:
 * never); *scanned tells how many pids were looked at. Returns rows. */
static int shmtop_scan_maps(const int *pids, int npids, long long want,
                            long long *out, int cap, int *status, int *scanned)
{
    static char buffer[1 << 16];
    char path[64];
    char carry[512];
    int i, rows = 0;

    for (i = 0; i < npids && rows < cap; i++) {
        int fd, carried = 0;
        ssize_t got;

        status[i] = 0;
        snprintf(path, sizeof path, "/proc/%d/maps", pids[i]);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            status[i] = errno == ENOENT ? ESRCH : errno;
            continue;
        }
        if (shmtop_have_procmap_query) {
            int added = shmtop_query_maps(fd, pids[i],
                                          out + (long long)rows * SHMTOP_MAP_FIELDS,
                                          cap - rows);
            if (added >= 0) {
                rows += added;
                close(fd);
                if (want >= 0 && rows >= want) {
                    i++;
                    break;
                }
                continue;
            }
            if (added == -ENOTTY || added == -EINVAL || added == -EOPNOTSUPP) {
                shmtop_have_procmap_query = 0;
            } else {
                status[i] = added == -ENOENT ? ESRCH : -added;
                close(fd);
                continue;
            }
        }
        /* maps hands out about a page per read: parse lines as they come,
         * carrying a partial last line over to the next read. */
        while ((got = read(fd, buffer + carried, sizeof buffer - carried)) > 0) {
            const char *p = buffer, *end = buffer + carried + got;
            const char *nl;
            while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
                if (rows < cap &&
                    shmtop_parse_map_line(p, nl, pids[i],
                                          out + (long long)rows * SHMTOP_MAP_FIELDS))
                    rows++;
                p = nl + 1;
            }
            carried = (int)(end - p);
            if (carried >= (int)sizeof carry)
                carried = 0; /* absurd line: drop it */
            memmove(buffer, p, (size_t)carried);
        }
        if (got < 0)
            status[i] = errno == ENOENT ? ESRCH : errno;
        close(fd);
        if (want >= 0 && rows >= want) {
            i++;
            break;
        }
    }
    *scanned = i;
    return rows;
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
        const char *open_paren, *close_paren, *p;
        ssize_t got;
        int fd, field;

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
        if (got < 0 || fstat(fd, &info) < 0) {
            row[2] = errno == ENOENT ? ESRCH : errno;
            close(fd);
            continue;
        }
        close(fd);
        text[got] = 0;
        /* comm may hold spaces and parentheses: it ends at the last ')'. */
        open_paren = strchr(text, '(');
        close_paren = strrchr(text, ')');
        if (open_paren == NULL || close_paren == NULL || close_paren < open_paren) {
            row[2] = EPROTO;
            continue;
        }
        {
            size_t length = (size_t)(close_paren - open_paren - 1);
            if (length >= SHMTOP_COMM_SIZE)
                length = SHMTOP_COMM_SIZE - 1;
            memcpy(name, open_paren + 1, length);
            name[length] = 0;
        }
        /* Fields after comm start at 3 (state); starttime is field 22. */
        p = close_paren + 2;
        for (field = 3; field < 22 && *p; field++) {
            p = strchr(p, ' ');
            if (p == NULL)
                break;
            p++;
        }
        if (p == NULL || field != 22) {
            row[2] = EPROTO;
            continue;
        }
        row[0] = strtoll(p, NULL, 10);
        row[1] = info.st_uid;
        if (titles != NULL && (known == NULL || known[i] != row[0]))
            title_lengths[i] =
                shmtop_read_title(pids[i], titles + (long long)SHMTOP_TITLE_SIZE * i);
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
