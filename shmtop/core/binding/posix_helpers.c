/* ==== POSIX shared memory (issue 12): open files on shm filesystems ====
 *
 * Appended after maps_helpers.c by _build.py (it uses that file's shmtop_dev_wanted and
 * SHMTOP_FMAP_NAME). The maps side of POSIX objects (shared file mappings) is read by
 * maps_helpers.c, in the same pass as the System V one. Objects are named by (device,
 * inode), devices as glibc's makedev() encodes them (os.makedev in Python), never by path. */
/* An open file row: pid fd dev inode access nlink size name_length, access = 1 (read)
 * | 2 (write) from the fd link's mode bits (procfs sets them from f_mode); nlink 0 =
 * the file was unlinked. The link text goes to names as for mappings. */
#define SHMTOP_FD_FIELDS 8

/* Our own pid as our /proc names it (/proc/self: the /proc mount may be another pid
 * namespace's than ours, where getpid() would name another process), or -1. */
static int shmtop_proc_self(void)
{
    char text[32];
    ssize_t length = readlink("/proc/self", text, sizeof text - 1);

    if (length <= 0)
        return -1;
    text[length] = 0;
    return atoi(text);
}

/* The access bits (1 read, 2 write) of an fd of our own, from F_GETFL on the fd itself:
 * with fstat on it (not fstatat on /proc/self/fd/N, a path lookup and a magic-link walk
 * each) our own fds cost little to read. A steady snapshot reads our process every time
 * (it runs), and the task evidence keeps a schedstat file open a task (1000+ fds at the
 * benchmark's workload: 7 ms a scan by fstatat). Returns 0, or -1 (closed meanwhile). */
static int shmtop_own_access(int fd, long long *access)
{
    int flags = fcntl(fd, F_GETFL);

    if (flags < 0)
        return -1;
#ifdef O_PATH
    if (flags & O_PATH) { /* as procfs's link mode: an O_PATH file is neither */
        *access = 0;
        return 0;
    }
#endif
    switch (flags & O_ACCMODE) {
    case O_RDONLY: *access = 1; break;
    case O_WRONLY: *access = 2; break;
    default: *access = 3; break;
    }
    return 0;
}

/* For each pid, the regular files open on its fds that live on one of the ndevs devices
 * (fstatat follows the fd's magic link to the open file itself, whatever its path in
 * the holder's mount namespace; our own fds by fstat and shmtop_own_access). status[i]
 * as for maps. Returns the rows found, of which the first cap are written; it stops after
 * the first pid whose rows did not fit (the caller reads on from it with more room),
 * *looked the pids read (status is set for those). */
static int shmtop_scan_fds(const int *pids, int npids, const long long *devs, int ndevs,
                           long long *out, char *names, int cap, int *status, int *looked)
{
    char path[64];
    int i, rows = 0, self = shmtop_proc_self();

    for (i = 0; i < npids; i++) {
        struct dirent *entry;
        DIR *dir;
        int dfd;

        status[i] = 0;
        snprintf(path, sizeof path, "/proc/%d/fd", pids[i]);
        dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
            status[i] = errno == ENOENT ? ESRCH : errno;
            continue;
        }
        dir = fdopendir(dfd);
        if (dir == NULL) {
            status[i] = errno;
            close(dfd);
            continue;
        }
        while ((entry = readdir(dir)) != NULL) {
            struct stat target, link;
            long long *row, access = 0;
            char *slot;
            ssize_t length;
            int own = pids[i] == self;

            if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
                continue;
            if (own ? (atoi(entry->d_name) == dfd || fstat(atoi(entry->d_name), &target) < 0)
                    : fstatat(dfd, entry->d_name, &target, 0) < 0)
                continue; /* closed meanwhile (or the listing's own fd) */
            if (!S_ISREG(target.st_mode) || !shmtop_dev_wanted(target.st_dev, devs, ndevs, 0))
                continue; /* not a file, or elsewhere */
            if (own && shmtop_own_access(atoi(entry->d_name), &access) < 0)
                continue;
            if (rows >= cap) {
                rows++; /* counted, not kept: the caller retries with more room */
                continue;
            }
            row = out + (long long)rows * SHMTOP_FD_FIELDS;
            slot = names + (long long)rows * SHMTOP_FMAP_NAME;
            row[0] = pids[i];
            row[1] = atoi(entry->d_name);
            row[2] = (long long)target.st_dev;
            row[3] = (long long)target.st_ino;
            row[4] = access;
            if (!own && fstatat(dfd, entry->d_name, &link, AT_SYMLINK_NOFOLLOW) == 0)
                row[4] = ((link.st_mode & S_IRUSR) ? 1 : 0) | ((link.st_mode & S_IWUSR) ? 2 : 0);
            row[5] = (long long)target.st_nlink;
            row[6] = (long long)target.st_size;
            length = readlinkat(dfd, entry->d_name, slot, SHMTOP_FMAP_NAME - 1);
            if (length < 0)
                length = 0;
            slot[length] = 0;
            row[7] = length;
            rows++;
        }
        closedir(dir); /* closes dfd */
        if (rows > cap) {
            i++;
            break;
        }
    }
    *looked = i;
    return rows;
}

/* ==== A shm directory's regular files, each with its stat (issue 12: the steady listing) ====
 *
 * One record each: SHMTOP_DIRENT_FIELDS numbers (dev inode mode nlink uid gid size blocks
 * atime_ns mtime_ns ctime_ns) and its name in a SHMTOP_DIRENT_NAME slot, NUL-padded, so
 * that an unchanged directory gives the same bytes (the caller keeps last time's rows).
 * Entries that are not regular files, or gone before their stat, are left out. Returns
 * how many there are (records are written for the first cap), or -errno. */
#define SHMTOP_DIRENT_FIELDS 11
#define SHMTOP_DIRENT_NAME 256

static long long shmtop_ns(struct timespec t)
{
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static int shmtop_list_files(const char *directory, long long *out, char *names, int cap)
{
    int n = 0, error = 0;
    struct dirent *entry;
    DIR *dir = shmtop_open_dir(AT_FDCWD, directory, &error);

    if (dir == NULL)
        return error;
    for (errno = 0; (entry = readdir(dir)) != NULL; errno = 0) {
        struct stat st;
        size_t length = strlen(entry->d_name);

        if (entry->d_type != DT_REG && entry->d_type != DT_UNKNOWN)
            continue;
        if (length >= SHMTOP_DIRENT_NAME
            || fstatat(dirfd(dir), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0
            || !S_ISREG(st.st_mode))
            continue;
        if (n < cap) {
            long long *row = out + (size_t)n * SHMTOP_DIRENT_FIELDS;
            char *name = names + (size_t)n * SHMTOP_DIRENT_NAME;
            row[0] = (long long)st.st_dev;
            row[1] = (long long)st.st_ino;
            row[2] = st.st_mode;
            row[3] = (long long)st.st_nlink;
            row[4] = st.st_uid;
            row[5] = st.st_gid;
            row[6] = st.st_size;
            row[7] = st.st_blocks;
            row[8] = shmtop_ns(st.st_atim);
            row[9] = shmtop_ns(st.st_mtim);
            row[10] = shmtop_ns(st.st_ctim);
            memset(name, 0, SHMTOP_DIRENT_NAME);
            memcpy(name, entry->d_name, length);
        }
        n++;
    }
    if (errno != 0) { /* a listing cut short is no listing: the caller says so */
        int number = errno;
        closedir(dir);
        return -number;
    }
    closedir(dir);
    return n;
}

/* ==== Named semaphores' words, in one loop (issue 12: 100 of them, every snapshot) ====
 *
 * For each of n files, a NUL-terminated path in paths (one after the other) and its
 * identity keys[2i], keys[2i+1] (device, inode, as the listing saw it): open it (O_NOATIME
 * where we may: the leak rule judges atimes; never following a symlink), check with fstat
 * that it is still that file, and pread its first two 32-bit words (glibc's sem_t on 64-bit:
 * value, then nwaiters; native order, they are a futex), never through a mapping (a
 * truncated file would SIGBUS us). out[3i] is 0 (read: out[3i+1] value, out[3i+2]
 * nwaiters), SHMTOP_SEM_SHORT (fewer than 8 bytes: truncated), ESTALE (the path names
 * another file now: replaced since the listing) or the errno of the open (ENOENT: unlinked
 * since). */
#define SHMTOP_SEM_SHORT (-1)

static void shmtop_read_sems(const char *paths, const long long *keys, int n, long long *out)
{
    const char *path = paths;
    int i;

    for (i = 0; i < n; i++, path += strlen(path) + 1) {
        long long *row = out + 3 * (long long)i;
        unsigned int words[2];
        struct stat info;
        ssize_t got;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME);

        row[1] = row[2] = 0;
        if (fd < 0 && errno == EPERM) /* O_NOATIME: owner or CAP_FOWNER only */
            fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
            row[0] = errno;
            continue;
        }
        if (fstat(fd, &info) < 0 || (long long)info.st_dev != keys[2 * i] ||
            (long long)info.st_ino != keys[2 * i + 1]) {
            row[0] = ESTALE;
            close(fd);
            continue;
        }
        got = pread(fd, words, sizeof words, 0);
        close(fd);
        if (got < 0) {
            row[0] = errno;
        } else if ((size_t)got < sizeof words) {
            row[0] = SHMTOP_SEM_SHORT;
        } else {
            row[0] = 0;
            row[1] = words[0];
            row[2] = words[1];
        }
    }
}
