/* floor: the work of `shmtop list --json` written plainly in C, as a floor to compare with.
 *
 * It reads what `list --json` reads on the System V workload, the way lsof and ipcs do:
 * /proc/sysvipc/{shm,sem,msg}; every semaphore's value, pid, ncnt and zcnt (GETALL, then
 * GETPID, GETNCNT, GETZCNT each); every process's comm, text maps (SysV and /dev/shm lines)
 * and fd links (readlink each, for POSIX holders); the /dev/shm directory with a stat each;
 * and it prints one JSON document of the same shape (objects, their attachments, their
 * semaphores), unsorted and without verdicts, users or namespaces. No caches, one pass,
 * no threads. bench/bench_floor.py builds and times it next to shmtop, ipcs and lsof.
 * With FLOOR_PROCMAP_QUERY=1 in the environment it asks each maps file for its shared
 * file mappings with the PROCMAP_QUERY ioctl (Linux 6.11+), as shmtop does by default,
 * instead of reading its text (as lsof does): the floor of shmtop's own read path.
 *
 * cc -O2 -o floor floor.c && ./floor > /dev/null
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

union semun {
    int val;
    struct semid_ds *buf;
    unsigned short *array;
};

struct attach {
    long shmid;
    int pid;
    unsigned long start, end;
    int writable;
};

static char *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + n, cap - n - 1);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The fields of one /proc/sysvipc line as numbers (up to max). */
static int fields(const char *line, long long *out, int max)
{
    int n = 0;
    char *end;
    while (n < max) {
        while (*line == ' ')
            line++;
        if (*line == '\n' || *line == '\0')
            break;
        out[n++] = strtoll(line, &end, 10);
        if (end == line)
            break;
        line = end;
    }
    return n;
}

static struct attach *attaches;
static size_t n_attaches, cap_attaches;

static int by_shmid(const void *a, const void *b)
{
    long x = ((const struct attach *)a)->shmid, y = ((const struct attach *)b)->shmid;
    return (x > y) - (x < y);
}

static void add_attach(long shmid, int pid, unsigned long start, unsigned long end, int w)
{
    if (n_attaches == cap_attaches) {
        cap_attaches = cap_attaches ? cap_attaches * 2 : 4096;
        attaches = realloc(attaches, cap_attaches * sizeof *attaches);
    }
    attaches[n_attaches++] = (struct attach){shmid, pid, start, end, w};
}

static size_t holders;
static int use_query; /* FLOOR_PROCMAP_QUERY=1 */

#ifdef PROCMAP_QUERY
/* The shared file mappings of an open maps file through PROCMAP_QUERY; 0, or -1 if the
 * kernel has no such ioctl (then the text is read). */
static int query_maps(int fd, int pid)
{
    struct procmap_query q;
    char name[4096 + 16];
    unsigned long long address = 0;
    for (;;) {
        memset(&q, 0, sizeof q);
        q.size = sizeof q;
        q.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA | PROCMAP_QUERY_VMA_SHARED |
                        PROCMAP_QUERY_FILE_BACKED_VMA;
        q.query_addr = address;
        q.vma_name_addr = (unsigned long long)(unsigned long)name;
        q.vma_name_size = sizeof name;
        if (ioctl(fd, PROCMAP_QUERY, &q) < 0)
            return errno == ENOENT ? 0 : (errno == ENAMETOOLONG ? 0 : -1);
        address = q.vma_end;
        if (q.vma_name_size == 0)
            continue;
        if (strstr(name, "SYSV") || strncmp(name, "/dev/shm/", 9) == 0)
            add_attach(strstr(name, "SYSV") ? (long)q.inode : -1, pid,
                       (unsigned long)q.vma_start, (unsigned long)q.vma_end,
                       (q.vma_flags & PROCMAP_QUERY_VMA_WRITABLE) != 0);
    }
}
#endif

static void scan_process(int pid)
{
    char path[64], comm[64] = "";
    size_t len;
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    char *c = slurp(path, &len);
    if (c) {
        snprintf(comm, sizeof comm, "%s", c);
        free(c);
    }
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
#ifdef PROCMAP_QUERY
    if (use_query) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        int done = fd >= 0 && query_maps(fd, pid) == 0;
        if (fd >= 0)
            close(fd);
        if (done || fd < 0)
            goto fds;
    }
#endif
    char *maps = slurp(path, &len);
    if (maps) {
        for (char *line = maps; *line;) {
            char *nl = strchr(line, '\n');
            if (nl)
                *nl = '\0';
            if (strstr(line, "SYSV") || strstr(line, "/dev/shm/")) {
                unsigned long start, end, ino;
                char perms[8];
                if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &start, &end, perms, &ino) == 4)
                    add_attach(strstr(line, "SYSV") ? (long)ino : -1, pid, start, end,
                               perms[1] == 'w');
            }
            if (!nl)
                break;
            line = nl + 1;
        }
        free(maps);
    }
#ifdef PROCMAP_QUERY
fds:
#endif
    snprintf(path, sizeof path, "/proc/%d/fd", pid);
    DIR *fds = opendir(path);
    if (fds) {
        struct dirent *d;
        char link[4096], target[4096];
        while ((d = readdir(fds))) {
            if (d->d_name[0] == '.')
                continue;
            snprintf(link, sizeof link, "/proc/%d/fd/%s", pid, d->d_name);
            ssize_t n = readlink(link, target, sizeof target - 1);
            if (n > 0 && (target[n] = '\0', strncmp(target, "/dev/shm/", 9) == 0))
                holders++;
        }
        closedir(fds);
    }
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* With an argument, each part's time goes to stderr: processes, shm, sem, msg, posix. */
int main(int argc, char **argv)
{
    int parts = argc > 1;
    const char *query = getenv("FLOOR_PROCMAP_QUERY");
    use_query = query != NULL && strcmp(query, "1") == 0;
    double mark = now_ms();
#define PART(name)                                                             \
    do {                                                                       \
        double t = now_ms();                                                   \
        if (parts)                                                             \
            fprintf(stderr, "%s %.2f\n", name, t - mark);                     \
        mark = t;                                                              \
    } while (0)
    size_t len;
    long long f[20];
    /* Processes first: their maps join the segments below. */
    DIR *proc = opendir("/proc");
    struct dirent *d;
    while (proc && (d = readdir(proc))) {
        int pid = atoi(d->d_name);
        if (pid > 0)
            scan_process(pid);
    }
    if (proc)
        closedir(proc);
    qsort(attaches, n_attaches, sizeof *attaches, by_shmid);
    PART("processes");

    printf("{\"schema_version\":\"floor\",\"segments\":[");
    char *shm = slurp("/proc/sysvipc/shm", &len);
    int first = 1;
    for (char *line = shm ? strchr(shm, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        /* key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime rss swap */
        if (fields(line + 1, f, 16) < 16)
            continue;
        printf("%s{\"kind\":\"shm\",\"id\":%lld,\"key\":\"0x%08llx\",\"perms\":\"%llo\","
               "\"size\":%lld,\"cpid\":%lld,\"lpid\":%lld,\"nattch\":%lld,\"uid\":%lld,"
               "\"gid\":%lld,\"atime\":%lld,\"dtime\":%lld,\"ctime\":%lld,\"rss\":%lld,"
               "\"swap\":%lld,\"attachments\":[",
               first ? "" : ",", f[1], (unsigned long long)f[0] & 0xffffffffULL, f[2], f[3],
               f[4], f[5], f[6], f[7], f[8], f[11], f[12], f[13], f[14], f[15]);
        first = 0;
        int first_a = 1;
        size_t lo = 0, hi = n_attaches;  /* the first attachment of this shmid */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (attaches[mid].shmid < f[1])
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t i = lo; i < n_attaches && attaches[i].shmid == f[1]; i++) {
            printf("%s{\"pid\":%d,\"start\":\"0x%lx\",\"end\":\"0x%lx\",\"writable\":%s}",
                   first_a ? "" : ",", attaches[i].pid, attaches[i].start, attaches[i].end,
                   attaches[i].writable ? "true" : "false");
            first_a = 0;
        }
        printf("]}");
    }
    free(shm);
    PART("shm");
    printf("],\"semaphore_sets\":[");
    char *sem = slurp("/proc/sysvipc/sem", &len);
    first = 1;
    unsigned short values[65536];
    for (char *line = sem ? strchr(sem, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        /* key semid perms nsems uid gid cuid cgid otime ctime */
        if (fields(line + 1, f, 10) < 10)
            continue;
        int semid = (int)f[1], nsems = (int)f[3];
        union semun arg = {.array = values};
        if (semctl(semid, 0, GETALL, arg) < 0)
            continue;
        printf("%s{\"kind\":\"sem\",\"id\":%d,\"key\":\"0x%08llx\",\"perms\":\"%llo\","
               "\"uid\":%lld,\"gid\":%lld,\"otime\":%lld,\"ctime\":%lld,\"semaphores\":[",
               first ? "" : ",", semid, (unsigned long long)f[0] & 0xffffffffULL, f[2], f[4],
               f[5], f[8], f[9]);
        first = 0;
        for (int i = 0; i < nsems; i++)
            printf("%s{\"num\":%d,\"value\":%u,\"pid\":%d,\"ncnt\":%d,\"zcnt\":%d}",
                   i ? "," : "", i, values[i], semctl(semid, i, GETPID),
                   semctl(semid, i, GETNCNT), semctl(semid, i, GETZCNT));
        printf("]}");
    }
    free(sem);
    PART("sem");
    printf("],\"queues\":[");
    char *msg = slurp("/proc/sysvipc/msg", &len);
    first = 1;
    for (char *line = msg ? strchr(msg, '\n') : NULL; line && line[1]; line = strchr(line + 1, '\n')) {
        /* key msqid perms cbytes qnum lspid lrpid uid gid cuid cgid stime rtime ctime */
        if (fields(line + 1, f, 14) < 14)
            continue;
        printf("%s{\"kind\":\"msg\",\"id\":%lld,\"key\":\"0x%08llx\",\"perms\":\"%llo\","
               "\"bytes\":%lld,\"messages\":%lld,\"lspid\":%lld,\"lrpid\":%lld,\"uid\":%lld,"
               "\"stime\":%lld,\"rtime\":%lld,\"ctime\":%lld}",
               first ? "" : ",", f[1], (unsigned long long)f[0] & 0xffffffffULL, f[2], f[3],
               f[4], f[5], f[6], f[7], f[11], f[12], f[13]);
        first = 0;
    }
    free(msg);
    PART("msg");
    printf("],\"posix_shm\":[");
    DIR *dir = opendir("/dev/shm");
    first = 1;
    while (dir && (d = readdir(dir))) {
        struct stat st;
        if (d->d_name[0] == '.' || fstatat(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW))
            continue;
        printf("%s{\"name\":\"%s\",\"size\":%lld,\"inode\":%llu}", first ? "" : ",", d->d_name,
               (long long)st.st_size, (unsigned long long)st.st_ino);
        first = 0;
    }
    if (dir)
        closedir(dir);
    printf("],\"fd_holders\":%zu}\n", holders);
    fflush(stdout);
    PART("posix");
    (void)argv;
    return 0;
}
