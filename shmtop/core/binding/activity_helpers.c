/* Which tasks ran since the last look (issues 11 and 14: the steady snapshot).
 * Appended after native_helpers.c by _build.py (its includes are ours).
 *
 * A table of every task (tid, tgid, its /proc/PID/task/TID/schedstat and, when
 * asked, the System V semaphore set it sleeps in) is kept between refreshes. A
 * task whose schedstat (sum_exec_runtime, run_delay, pcount) did not move did
 * not run: sched_info counts every switch in (pcount) and update_curr adds the
 * time of every stretch on a CPU when it ends (sum_exec_runtime). A refresh
 * reads one schedstat a known task, lists a process's task/ directory again
 * only when one of its threads ran or ended or the process is new (a thread
 * that did not run made no new one), and tells which processes ran, appeared
 * or vanished.
 *
 * Semaphore waits (semops != 0): a task that ran, or is new, has its
 * /proc/PID/task/TID/syscall read; blocked in semop/semtimedop, arg0 is the
 * semid it waits on. A semaphore's ncnt and zcnt count the entries of its
 * set's pending queues (ipc/sem.c: count_semcnt walks pending_alter and
 * pending_const); an entry is added only by the task that blocks, in
 * do_semtimedop, and removed by unlink_queue: by the waker (update_queue and
 * wake_const_ops in do_smart_update, called from semop, SETVAL, SETALL and
 * exit_sem, each of which moves the set's otime or ctime), by freeary
 * (IPC_RMID: the set is gone) or by the sleeper itself after schedule() (a
 * signal, a timeout, death: the sleeper runs). So the sets whose counts a
 * task's own doings may have changed since the last refresh are the one it
 * slept in then and the one it sleeps in now, and only if it ran, appeared or
 * vanished; the others are the caller's to decide from otime and ctime.
 * The refresh lists those semids.
 *
 * A task on a CPU at the read has "running" in its syscall file: it keeps the
 * set it slept in before (it may still be queued there, woken and about to
 * unlink itself), which is read again when it next runs. What two looks cannot
 * see is a task that came to a set after one and left it (a signal, a timeout)
 * before the next, while we read that set in between: its count would stay.
 * shmtop_activity_sleepers gives the caller what to check kept counts against
 * (each queued task counts once in a set's ncnt+zcnt: count_semcnt), so such a
 * set, whose counts add up to more than the tasks seen asleep in it, is read
 * again (shmtop_sem_values). Tasks asleep in semop carry their IPC namespace
 * (a semid names a set of its own namespace only).
 *
 * Evidence is incomplete (the refresh returns a reason, and the caller reads
 * everything) on the first refresh, when sched_info is off (every schedstat
 * reads "0 0 0", our own running thread's too), when a live task's files are
 * unreadable, when a task sleeps in a syscall number another ABI could mean
 * semop by (its set is then unknown), or past cap syscall reads. */

#include <sys/syscall.h>

#define SHMTOP_ACTIVITY_RAN 1
#define SHMTOP_ACTIVITY_NEW 2
#define SHMTOP_ACTIVITY_GONE 4

/* Reasons a refresh's evidence is incomplete (0: complete). */
#define SHMTOP_ACTIVITY_FIRST 1
#define SHMTOP_ACTIVITY_SCHED_OFF 2
#define SHMTOP_ACTIVITY_UNREADABLE 3
#define SHMTOP_ACTIVITY_UNSURE 4
#define SHMTOP_ACTIVITY_TOO_MANY 5
#define SHMTOP_ACTIVITY_NO_MEMORY 6
#define SHMTOP_ACTIVITY_NO_PROC 7 /* /proc itself could not be listed: nothing told */

#define SHMTOP_BLOCKED_NONE (-1)
#define SHMTOP_BLOCKED_UNKNOWN (-2) /* a set we could not learn */

struct shmtop_task {
    int tid, tgid;
    unsigned long long exec, delay, count;
    int blocked; /* semid, or SHMTOP_BLOCKED_* */
    int fd; /* its schedstat kept open (-1: opened each time) */
    unsigned long long ipc_ns; /* of the set it sleeps in (0: unknown) */
};

struct shmtop_activity {
    struct shmtop_task *tasks; /* sorted by tgid, then tid */
    int ntasks;
    int primed; /* a refresh has filled tasks */
    int *events; /* pairs: tgid, SHMTOP_ACTIVITY_* flags */
    int nevents, events_cap;
    int *semids;
    int nsemids, semids_cap;
    int nfds; /* schedstat files kept open */
    int *listed; /* the last refresh's listing of /proc: its tgids, sorted */
    int nlisted; /* how many (-1: that refresh listed none) */
};

struct shmtop_table {
    struct shmtop_task *tasks;
    int n, cap;
};

struct shmtop_refresh {
    struct shmtop_activity *a;
    struct shmtop_table next;
    int proc; /* fd of /proc */
    int semops, cap, reads, reason, oom, max_fds, fd_floor;
    const int *vouched; /* sorted tgids the caller says wait on none of its sets */
    int nvouched;
};

static int shmtop_compare_tid(const void *x, const void *y);

static struct shmtop_activity *shmtop_activity_new(void)
{
    return calloc(1, sizeof(struct shmtop_activity));
}

static void shmtop_close_all(struct shmtop_activity *a)
{
    int i;
    for (i = 0; i < a->ntasks; i++)
        if (a->tasks[i].fd >= 0)
            close(a->tasks[i].fd);
    a->nfds = 0;
}

static void shmtop_activity_free(struct shmtop_activity *a)
{
    if (a == NULL)
        return;
    shmtop_close_all(a);
    free(a->tasks);
    free(a->events);
    free(a->semids);
    free(a->listed);
    free(a);
}

static int shmtop_grow(void **items, int *cap, int need, size_t size)
{
    void *bigger;
    int want;

    if (need <= *cap)
        return 0;
    want = *cap < 64 ? 64 : *cap;
    while (want < need)
        want *= 2;
    bigger = realloc(*items, (size_t)want * size);
    if (bigger == NULL)
        return -1;
    *items = bigger;
    *cap = want;
    return 0;
}

static void shmtop_note_event(struct shmtop_refresh *r, int tgid, int flags)
{
    struct shmtop_activity *a = r->a;
    if (shmtop_grow((void **)&a->events, &a->events_cap, 2 * (a->nevents + 1), sizeof(int)) < 0) {
        r->oom = 1;
        return;
    }
    a->events[2 * a->nevents] = tgid;
    a->events[2 * a->nevents + 1] = flags;
    a->nevents++;
}

static void shmtop_note_semid(struct shmtop_refresh *r, int semid)
{
    struct shmtop_activity *a = r->a;
    if (semid == SHMTOP_BLOCKED_NONE)
        return;
    if (semid == SHMTOP_BLOCKED_UNKNOWN) {
        if (r->reason == 0)
            r->reason = SHMTOP_ACTIVITY_UNSURE;
        return;
    }
    if (shmtop_grow((void **)&a->semids, &a->semids_cap, a->nsemids + 1, sizeof(int)) < 0) {
        r->oom = 1;
        return;
    }
    a->semids[a->nsemids++] = semid;
}

static void shmtop_keep(struct shmtop_refresh *r, const struct shmtop_task *task)
{
    struct shmtop_table *t = &r->next;
    if (shmtop_grow((void **)&t->tasks, &t->cap, t->n + 1, sizeof *task) < 0) {
        r->oom = 1;
        return;
    }
    t->tasks[t->n++] = *task;
}

/* Read a small /proc file relative to dirfd; returns bytes or -errno. */
static int shmtop_read_tiny(int dirfd, const char *path, char *buf, int size)
{
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    ssize_t got;

    if (fd < 0)
        return -errno;
    got = read(fd, buf, (size_t)size - 1);
    if (got < 0) {
        int number = errno;
        close(fd);
        return -number;
    }
    close(fd);
    buf[got] = '\0';
    return (int)got;
}

static int shmtop_parse_schedstat(const char *buf, struct shmtop_task *task)
{
    if (sscanf(buf, "%llu %llu %llu", &task->exec, &task->delay, &task->count) != 3)
        return -EINVAL;
    return 0;
}

/* A task's schedstat into task: 0, or -errno (ENOENT/ESRCH: the task is
 * gone). A kept file is read again with pread at 0 (the seq_file shows it
 * anew), three to five times cheaper than a path lookup; it names the task
 * itself (its struct pid), so a task that ended reads ESRCH even when a new
 * one has taken its number. */
static int shmtop_read_schedstat(struct shmtop_refresh *r, int tgid, int tid,
                                 struct shmtop_task *task)
{
    char path[64], buf[96];
    ssize_t got;
    int fd;

    if (task->fd >= 0) {
        got = pread(task->fd, buf, sizeof buf - 1, 0);
        if (got > 0) {
            buf[got] = '\0';
            return shmtop_parse_schedstat(buf, task);
        }
        close(task->fd);
        task->fd = -1;
        r->a->nfds--;
        return got == 0 ? -ESRCH : -errno;
    }
    snprintf(path, sizeof path, "%d/task/%d/schedstat", tgid, tid);
    fd = openat(r->proc, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    got = read(fd, buf, sizeof buf - 1);
    if (got <= 0) {
        int number = got == 0 ? ESRCH : errno;
        close(fd);
        return -number;
    }
    buf[got] = '\0';
    if (r->a->nfds < r->max_fds) {
        /* kept high (at fd_floor or above), out of the numbers select() can take and the
         * process's own files get first */
        int high = fcntl(fd, F_DUPFD_CLOEXEC, r->fd_floor);
        if (high >= 0) {
            task->fd = high;
            r->a->nfds++;
        }
    }
    close(fd);
    return shmtop_parse_schedstat(buf, task);
}

static void shmtop_forget(struct shmtop_refresh *r, struct shmtop_task *task)
{
    if (task->fd >= 0) {
        close(task->fd);
        task->fd = -1;
        r->a->nfds--;
    }
}

/* Syscall numbers that may be a semop of another ABI on this kernel: their
 * semid is not known (x86_64: i386's ipc(2) and semtimedop_time64, and the
 * x32 bit; arm64: arm's semop, semtimedop and semtimedop_time64). */
static int shmtop_unsure_syscall(long long nr)
{
#if defined(__x86_64__)
    return nr == 117 || nr == 420 || (nr & 0x40000000LL) != 0;
#elif defined(__aarch64__)
    return nr == 298 || nr == 312 || nr == 420;
#elif defined(SYS_ipc)
    return nr == SYS_ipc; /* i386, ppc, s390, mips: semop may go through ipc(2) */
#else
    (void)nr;
    return 0;
#endif
}

/* The IPC namespace of a task asleep in semop (0: unknown): a semid means a
 * set of its namespace only. */
static unsigned long long shmtop_ipc_namespace(int proc, int tgid, int tid)
{
    char path[64];
    struct stat info;

    snprintf(path, sizeof path, "%d/task/%d/ns/ipc", tgid, tid);
    return fstatat(proc, path, &info, 0) < 0 ? 0 : (unsigned long long)info.st_ino;
}

/* Learn the set task sleeps in now (blocked: a semid, NONE or UNKNOWN, and
 * its namespace); a task on a CPU keeps the one before (see the top). */
static void shmtop_learn_blocked(struct shmtop_refresh *r, struct shmtop_task *task)
{
    char path[64], buf[256];
    long long nr;
    unsigned long long arg0;
    int got;

    /* (a first refresh reads them all: every task's set is needed from then on) */
    if (r->reads >= r->cap && r->a->primed) {
        if (r->reason == 0)
            r->reason = SHMTOP_ACTIVITY_TOO_MANY;
        task->blocked = SHMTOP_BLOCKED_UNKNOWN;
        return;
    }
    r->reads++;
    snprintf(path, sizeof path, "%d/task/%d/syscall", task->tgid, task->tid);
    got = shmtop_read_tiny(r->proc, path, buf, sizeof buf);
    if (got < 0) {
        if (got == -ENOENT || got == -ESRCH)
            return; /* ended: the caller sees it gone next time */
        if (r->nvouched > 0 && bsearch(&task->tgid, r->vouched, (size_t)r->nvouched,
                                       sizeof(int), shmtop_compare_tid) != NULL) {
            task->blocked = SHMTOP_BLOCKED_NONE;
            return;
        }
        if (r->reason == 0)
            r->reason = SHMTOP_ACTIVITY_UNREADABLE;
        task->blocked = SHMTOP_BLOCKED_UNKNOWN;
        return;
    }
    if (strncmp(buf, "running", 7) == 0) {
        /* Looked at again next time whatever its schedstat says: with the tick off
         * (nohz_full) a task that stays on its CPU may not move it for a while. */
        task->count = ~0ULL;
        return;
    }
    task->ipc_ns = 0;
    got = sscanf(buf, "%lld %llx", &nr, &arg0);
    if (got < 1) {
        task->blocked = SHMTOP_BLOCKED_UNKNOWN;
        return;
    }
    task->blocked = SHMTOP_BLOCKED_NONE; /* nr < 0: asleep outside any syscall */
    if (nr < 0)
        return;
    if (got < 2) { /* a syscall number without its arguments: which set is unknown */
        task->blocked = SHMTOP_BLOCKED_UNKNOWN;
        return;
    }
#ifdef SYS_semop
    if (nr == SYS_semop)
        task->blocked = (int)arg0;
#endif
#ifdef SYS_semtimedop
    if (nr == SYS_semtimedop)
        task->blocked = (int)arg0;
#endif
    if (task->blocked >= 0)
        task->ipc_ns = shmtop_ipc_namespace(r->proc, task->tgid, task->tid);
    else if (shmtop_unsure_syscall(nr))
        task->blocked = SHMTOP_BLOCKED_UNKNOWN;
}

/* A task first seen: its schedstat and (semops) its set. */
static void shmtop_add_new(struct shmtop_refresh *r, int tgid, int tid)
{
    struct shmtop_task task = {tid, tgid, 0, 0, 0, SHMTOP_BLOCKED_NONE, -1, 0};
    int got = shmtop_read_schedstat(r, tgid, tid, &task);

    if (got == -ENOENT || got == -ESRCH)
        return; /* gone already: it left no queue entry we counted */
    if (got < 0) {
        if (r->reason == 0)
            r->reason = SHMTOP_ACTIVITY_UNREADABLE;
        task.blocked = SHMTOP_BLOCKED_UNKNOWN;
        task.count = ~0ULL; /* never equal: looked at again next time */
    } else if (r->semops) {
        shmtop_learn_blocked(r, &task);
    }
    if (r->semops && r->a->primed)
        shmtop_note_semid(r, task.blocked);
    shmtop_keep(r, &task);
}

static int shmtop_compare_tid(const void *x, const void *y)
{
    int a = *(const int *)x, b = *(const int *)y;
    return (a > b) - (a < b);
}

/* The tids in /proc/TGID/task, sorted; count or -errno. */
static int shmtop_list_tids(int proc, int tgid, int **tids, int *cap)
{
    char path[32];
    int n = 0, error = 0;
    DIR *dir;
    struct dirent *entry;

    snprintf(path, sizeof path, "%d/task", tgid);
    dir = shmtop_open_dir(proc, path, &error);
    if (dir == NULL)
        return error;
    for (errno = 0; (entry = readdir(dir)) != NULL; errno = 0) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        if (shmtop_grow((void **)tids, cap, n + 1, sizeof(int)) < 0) {
            closedir(dir);
            return -ENOMEM;
        }
        (*tids)[n++] = atoi(entry->d_name);
    }
    if (errno != 0) { /* a listing cut short: not every thread is known */
        error = -errno;
        closedir(dir);
        return error;
    }
    closedir(dir);
    qsort(*tids, (size_t)n, sizeof(int), shmtop_compare_tid);
    return n;
}

/* One process: old[0..nold) are its tasks last time (none if it is new). */
static void shmtop_refresh_process(struct shmtop_refresh *r, int tgid,
                                   const struct shmtop_task *old, int nold,
                                   struct shmtop_task *now, int **tids, int *tids_cap)
{
    int i, j, n, flags = 0, moved = 0;

    /* now[i]: old[i] as read again (count ~0: gone). */
    for (i = 0; i < nold; i++) {
        now[i] = old[i]; /* takes over its fd */
        if (shmtop_read_schedstat(r, tgid, old[i].tid, &now[i]) < 0) {
            now[i].count = ~0ULL;
            now[i].exec = ~0ULL;
            moved = 1;
        } else if (now[i].exec != old[i].exec || now[i].delay != old[i].delay
                   || now[i].count != old[i].count) {
            moved = 1;
        }
    }
    if (nold > 0 && !moved) {
        for (i = 0; i < nold; i++)
            shmtop_keep(r, &now[i]);
        return;
    }
    flags = nold == 0 ? SHMTOP_ACTIVITY_NEW : SHMTOP_ACTIVITY_RAN;
    n = shmtop_list_tids(r->proc, tgid, tids, tids_cap);
    if (n < 0) {
        if (n == -ENOMEM)
            r->oom = 1;
        else if (n != -ENOENT && n != -ESRCH && r->reason == 0)
            r->reason = SHMTOP_ACTIVITY_UNREADABLE;
        if (nold == 0) {
            /* A new process whose tasks cannot be listed, not one that ended: told as
             * new every time, so that a consumer reads it rather than carrying nothing. */
            if (n != -ENOENT && n != -ESRCH && n != -ENOMEM)
                shmtop_note_event(r, tgid, SHMTOP_ACTIVITY_NEW);
            return;
        }
        n = 0; /* gone: every old task ended */
        flags = SHMTOP_ACTIVITY_GONE;
    }
    /* Merge the sorted listing with the sorted old tasks. */
    for (i = 0, j = 0; i < n || j < nold;) {
        if (j < nold && (i >= n || old[j].tid < (*tids)[i])) {
            if (r->semops)
                shmtop_note_semid(r, old[j].blocked); /* ended */
            shmtop_forget(r, &now[j]);
            j++;
        } else if (j >= nold || (*tids)[i] < old[j].tid) {
            shmtop_add_new(r, tgid, (*tids)[i]);
            i++;
        } else {
            struct shmtop_task *task = &now[j];
            if (task->count == ~0ULL && task->exec == ~0ULL) {
                /* listed but its schedstat failed: ended between the two, or a
                 * new task took the tid: look at it as new */
                if (r->semops)
                    shmtop_note_semid(r, old[j].blocked);
                shmtop_forget(r, task);
                shmtop_add_new(r, tgid, task->tid);
            } else if (task->exec != old[j].exec || task->delay != old[j].delay
                       || task->count != old[j].count) {
                if (r->semops) {
                    shmtop_learn_blocked(r, task);
                    shmtop_note_semid(r, old[j].blocked);
                    shmtop_note_semid(r, task->blocked);
                }
                shmtop_keep(r, task);
            } else {
                shmtop_keep(r, task);
            }
            i++;
            j++;
        }
    }
    shmtop_note_event(r, tgid, flags);
}

static int shmtop_compare_tgid(const void *x, const void *y)
{
    const struct shmtop_task *a = x, *b = y;
    if (a->tgid != b->tgid)
        return (a->tgid > b->tgid) - (a->tgid < b->tgid);
    return (a->tid > b->tid) - (a->tid < b->tid);
}

/* Whether sched_info counts: our own thread, running now, has been switched
 * in at least once. */
static int shmtop_sched_info_on(int proc)
{
    char buf[96];
    unsigned long long exec, delay, count;

    if (shmtop_read_tiny(proc, "thread-self/schedstat", buf, sizeof buf) < 0)
        return 0;
    if (sscanf(buf, "%llu %llu %llu", &exec, &delay, &count) != 3)
        return 0;
    return count > 0 || exec > 0;
}

/* Compare every task with the table and update it. semops: also learn the
 * set each task that ran sleeps in (at most cap syscall reads). At most
 * max_fds schedstat files stay open between refreshes, as fds at fd_floor or
 * above. vouched (sorted):
 * processes whose unreadable syscall files the caller knows do not matter
 * (they cannot wait on its sets); any other unreadable one makes the
 * evidence incomplete. Returns 0 if
 * the evidence is complete, else a SHMTOP_ACTIVITY_* reason; the events and
 * semids are then read with shmtop_activity_events/_semids. */
static int shmtop_activity_refresh(struct shmtop_activity *a, int semops, int cap,
                                   int max_fds, int fd_floor, const int *vouched,
                                   int nvouched)
{
    struct shmtop_refresh r;
    struct shmtop_task *now = NULL;
    int now_cap = 0, *tgids = NULL, tgids_cap = 0, ntgids = 0, *tids = NULL, tids_cap = 0;
    int i, j, k;
    DIR *dir;
    struct dirent *entry;

    memset(&r, 0, sizeof r);
    r.a = a;
    r.semops = semops;
    r.cap = cap;
    r.max_fds = max_fds;
    r.fd_floor = fd_floor;
    r.vouched = vouched;
    r.nvouched = nvouched;
    a->nevents = a->nsemids = 0;
    a->nlisted = -1;
    r.proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (r.proc < 0)
        return SHMTOP_ACTIVITY_NO_PROC;
    if (!shmtop_sched_info_on(r.proc)) {
        close(r.proc);
        a->primed = 0;
        return SHMTOP_ACTIVITY_SCHED_OFF;
    }
    i = dup(r.proc);
    dir = i < 0 ? NULL : fdopendir(i);
    if (dir == NULL) {
        if (i >= 0)
            close(i);
        close(r.proc);
        return SHMTOP_ACTIVITY_NO_PROC;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
            continue;
        if (shmtop_grow((void **)&tgids, &tgids_cap, ntgids + 1, sizeof(int)) < 0) {
            r.oom = 1;
            break;
        }
        tgids[ntgids++] = atoi(entry->d_name);
    }
    closedir(dir);
    qsort(tgids, (size_t)ntgids, sizeof(int), shmtop_compare_tid);

    /* Walk the sorted listing and the old table (sorted by tgid) together. */
    for (i = 0, j = 0; !r.oom && (i < ntgids || j < a->ntasks);) {
        int tgid, nold = 0;
        if (j < a->ntasks && (i >= ntgids || a->tasks[j].tgid < tgids[i])) {
            tgid = a->tasks[j].tgid; /* vanished */
            while (j < a->ntasks && a->tasks[j].tgid == tgid) {
                if (semops)
                    shmtop_note_semid(&r, a->tasks[j].blocked);
                shmtop_forget(&r, &a->tasks[j]);
                j++;
            }
            shmtop_note_event(&r, tgid, SHMTOP_ACTIVITY_GONE);
            continue;
        }
        tgid = tgids[i++];
        if (j < a->ntasks && a->tasks[j].tgid == tgid)
            for (k = j; k < a->ntasks && a->tasks[k].tgid == tgid; k++)
                nold++;
        if (shmtop_grow((void **)&now, &now_cap, nold + 1, sizeof *now) < 0) {
            r.oom = 1;
            break;
        }
        shmtop_refresh_process(&r, tgid, a->tasks + j, nold, now, &tids, &tids_cap);
        j += nold;
    }
    close(r.proc);
    free(now);
    free(tids);
    if (r.oom) {
        free(tgids);
        /* start again: the fds are in old, next or now; close every kept one */
        for (i = 0; i < r.next.n; i++)
            if (r.next.tasks[i].fd >= 0)
                close(r.next.tasks[i].fd);
        for (i = j; i < a->ntasks; i++)
            if (a->tasks[i].fd >= 0)
                close(a->tasks[i].fd);
        free(r.next.tasks);
        free(a->tasks);
        a->tasks = NULL;
        a->ntasks = a->primed = a->nfds = 0;
        return SHMTOP_ACTIVITY_NO_MEMORY;
    }
    /* Kept: a caller that lists /proc for the same snapshot takes this listing instead. */
    free(a->listed);
    a->listed = tgids;
    a->nlisted = ntgids;
    qsort(r.next.tasks, (size_t)r.next.n, sizeof *r.next.tasks, shmtop_compare_tgid);
    free(a->tasks);
    a->tasks = r.next.tasks;
    a->ntasks = r.next.n;
    if (!a->primed) {
        a->primed = 1;
        return SHMTOP_ACTIVITY_FIRST;
    }
    return r.reason;
}

/* The last refresh's events: pairs (tgid, flags) into out; returns how many
 * pairs there are (copies at most cap). */
static int shmtop_activity_events(const struct shmtop_activity *a, int *out, int cap)
{
    int n = a->nevents < cap ? a->nevents : cap;
    if (n > 0)
        memcpy(out, a->events, (size_t)n * 2 * sizeof(int));
    return a->nevents;
}

/* The last refresh's semids to read again (repeats possible); as above. */
static int shmtop_activity_semids(const struct shmtop_activity *a, int *out, int cap)
{
    int n = a->nsemids < cap ? a->nsemids : cap;
    if (n > 0)
        memcpy(out, a->semids, (size_t)n * sizeof(int));
    return a->nsemids;
}

/* The tasks seen asleep in semop, as pairs (semid, IPC namespace inode or 0)
 * into out (at most cap pairs); returns how many there are. A set's ncnt and
 * zcnt together count each task queued on it once (count_semcnt: a task on a
 * per-semaphore list, or check_qop on the one op that blocks a complex one),
 * so a caller can check kept counts against this. */
static int shmtop_activity_sleepers(const struct shmtop_activity *a, long long *out, int cap)
{
    int i, n = 0;
    for (i = 0; i < a->ntasks; i++) {
        if (a->tasks[i].blocked < 0)
            continue;
        if (n < cap) {
            out[2 * n] = a->tasks[i].blocked;
            out[2 * n + 1] = (long long)a->tasks[i].ipc_ns;
        }
        n++;
    }
    return n;
}

/* The last refresh's listing of /proc (tgids, ascending) into out (at most cap); returns
 * how many there are, or -1 when that refresh listed none (it failed before or in it). */
static int shmtop_activity_listed(const struct shmtop_activity *a, int *out, int cap)
{
    int n = a->nlisted < cap ? a->nlisted : cap;
    if (n > 0)
        memcpy(out, a->listed, (size_t)n * sizeof(int));
    return a->nlisted;
}

static int shmtop_activity_tasks(const struct shmtop_activity *a)
{
    return a->ntasks;
}
