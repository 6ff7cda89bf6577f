/* ==== POSIX shared memory (issue 12): shared mappings and open files on shm filesystems ====
 *
 * Appended after native_helpers.c by _build.py (it uses that file's includes and its
 * shmtop_hex / shmtop_decimal), kept in a file of its own so the System V loops and these
 * can change apart. Objects are named by (device, inode), devices as glibc's makedev()
 * encodes them (os.makedev in Python), never by path. */
#include <sys/sysmacros.h>

/* A file mapping row: pid start end writable dev inode offset deleted name_length;
 * the path (as maps prints it, cut to SHMTOP_FMAP_NAME - 1 bytes, NUL-terminated) goes
 * to names + row * SHMTOP_FMAP_NAME. name_length is the full length (longer: cut). */
#define SHMTOP_FMAP_FIELDS 9
#define SHMTOP_FMAP_NAME 256
/* Lines of the text reader: a path can be PATH_MAX long; longer lines are skipped. */
#define SHMTOP_FMAP_LINE_MAX (4096 + 128)
#define SHMTOP_FMAP_BUFFER (1 << 16)

/* Whether dev is one of the ndevs wanted devices; with any_anon also any other device of
 * major 0 (tmpfs and hugetlbfs mounts of other mount namespaces: the caller sorts them). */
static int shmtop_dev_wanted(unsigned long long dev, const long long *devs, int ndevs,
                             int any_anon)
{
    int k;
    for (k = 0; k < ndevs; k++)
        if ((unsigned long long)devs[k] == dev)
            return 1;
    return any_anon && major(dev) == 0;
}

/* The text of maps writes a newline in a path as the four bytes \012 (and nothing else
 * escaped: a path holding a real backslash-0-1-2 reads the same); PROCMAP_QUERY gives the
 * bytes. Undo it in place so both readers give one name. Returns the new length. */
static size_t shmtop_unescape_newlines(char *name, size_t length)
{
    size_t from, to = 0;
    for (from = 0; from < length; from++) {
        if (from + 3 < length && memcmp(name + from, "\\012", 4) == 0) {
            name[to++] = '\n';
            from += 3;
        } else {
            name[to++] = name[from];
        }
    }
    return to;
}

static void shmtop_fmap_row(long long *row, char *name_slot, int pid,
                            unsigned long long start, unsigned long long stop, int writable,
                            unsigned long long dev, unsigned long long inode,
                            unsigned long long offset, const char *name, size_t length)
{
    size_t kept = length < SHMTOP_FMAP_NAME - 1 ? length : SHMTOP_FMAP_NAME - 1;
    row[0] = pid;
    row[1] = (long long)start;
    row[2] = (long long)stop;
    row[3] = writable;
    row[4] = (long long)dev;
    row[5] = (long long)inode;
    row[6] = (long long)offset;
    row[7] = length >= 10 && memcmp(name + length - 10, " (deleted)", 10) == 0;
    row[8] = (long long)length;
    memcpy(name_slot, name, kept);
    name_slot[kept] = 0;
}

/* Parse one maps line [line, end) (end is its newline); a shared mapping of a file on a
 * wanted device (never a /SYSV segment: those are the System V scan's) fills row. */
static int shmtop_parse_fmap_line(const char *line, const char *end, int pid,
                                  const long long *devs, int ndevs, int any_anon,
                                  long long *row, char *name_slot)
{
    const char *p = line, *mark;
    unsigned long long start, stop, offset, maj, min, inode, dev;
    int writable;

    mark = p;
    start = shmtop_hex(&p, end);
    if (p == mark || p >= end || *p != '-')
        return 0;
    p++;
    mark = p;
    stop = shmtop_hex(&p, end);
    if (p == mark || end - p < 6 || p[0] != ' ' || p[4] != 's' || p[5] != ' ')
        return 0;
    writable = p[2] == 'w';
    p += 6;
    mark = p;
    offset = shmtop_hex(&p, end);
    if (p == mark || p >= end || *p != ' ')
        return 0;
    p++;
    mark = p;
    maj = shmtop_hex(&p, end);
    if (p == mark || p >= end || *p != ':')
        return 0;
    p++;
    mark = p;
    min = shmtop_hex(&p, end);
    if (p == mark || p >= end || *p != ' ')
        return 0;
    p++;
    if (!shmtop_decimal(&p, end, &inode) || p >= end || *p != ' ')
        return 0;
    dev = makedev((unsigned int)maj, (unsigned int)min);
    if (!shmtop_dev_wanted(dev, devs, ndevs, any_anon))
        return 0;
    while (p < end && *p == ' ')
        p++;
    if (p >= end || shmtop_is_sysv_name(p, (size_t)(end - p)))
        return 0; /* no path (anonymous shared memory), or a System V segment */
    shmtop_fmap_row(row, name_slot, pid, start, stop, writable, dev, inode, offset, p,
                    (size_t)(end - p));
    if (memchr(name_slot, '\\', strlen(name_slot)) != NULL) {
        size_t kept = strlen(name_slot), now = shmtop_unescape_newlines(name_slot, kept);
        name_slot[now] = 0;
        row[8] -= (long long)(kept - now); /* a cut name's full length: its kept part's fix */
    }
    return 1;
}

/* The PROCMAP_QUERY reader of the same rows. Returns rows added, or -errno. */
static int shmtop_query_fmaps(int fd, int pid, const long long *devs, int ndevs,
                              int any_anon, long long *out, char *names, int cap)
{
    struct procmap_query query;
    char name[4096 + 16];
    unsigned long long address = 0;
    int rows = 0;

    for (;;) {
        unsigned long long dev;
        memset(&query, 0, sizeof query);
        query.size = sizeof query;
        query.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA |
                            PROCMAP_QUERY_VMA_SHARED | PROCMAP_QUERY_FILE_BACKED_VMA;
        query.query_addr = address;
        query.vma_name_addr = (unsigned long long)(unsigned long)name;
        query.vma_name_size = sizeof name;
        if (ioctl(fd, PROCMAP_QUERY, &query) < 0)
            return errno == ENOENT ? rows : -errno;
        address = query.vma_end;
        dev = makedev(query.dev_major, query.dev_minor);
        if (query.vma_name_size == 0 || !shmtop_dev_wanted(dev, devs, ndevs, any_anon) ||
            shmtop_is_sysv_name(name, query.vma_name_size - 1))
            continue;
        if (rows < cap) /* past cap only counted: the caller retries with room for all */
            shmtop_fmap_row(out + (long long)rows * SHMTOP_FMAP_FIELDS,
                            names + (long long)rows * SHMTOP_FMAP_NAME, pid, query.vma_start,
                            query.vma_end, (query.vma_flags & PROCMAP_QUERY_VMA_WRITABLE) != 0,
                            dev, query.inode, query.vma_offset, name, query.vma_name_size - 1);
        rows++;
    }
}

/* The text reader, as shmtop_read_maps_text but with this section's line parser and a
 * line bound that fits a whole path. Returns rows added, or -errno of a failed read. */
static int shmtop_read_fmaps_text(int fd, int pid, const long long *devs, int ndevs,
                                  int any_anon, long long *out, char *names, int cap,
                                  char *buffer)
{
    const size_t chunk = SHMTOP_FMAP_BUFFER - SHMTOP_FMAP_LINE_MAX;
    long long scratch[SHMTOP_FMAP_FIELDS];
    char scratch_name[SHMTOP_FMAP_NAME];
    size_t carried = 0;
    int skipping = 0, rows = 0;
    ssize_t got;

    for (;;) {
        const char *p = buffer, *end, *nl;
        got = read(fd, buffer + carried, chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        end = buffer + carried + got;
        if (skipping) {
            nl = memchr(p, '\n', (size_t)(end - p));
            if (nl == NULL) {
                carried = 0;
                continue;
            }
            p = nl + 1;
            skipping = 0;
        }
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            /* past cap a row is parsed into scratch, only counted */
            if (shmtop_parse_fmap_line(
                    p, nl, pid, devs, ndevs, any_anon,
                    rows < cap ? out + (long long)rows * SHMTOP_FMAP_FIELDS : scratch,
                    rows < cap ? names + (long long)rows * SHMTOP_FMAP_NAME : scratch_name))
                rows++;
            p = nl + 1;
        }
        carried = (size_t)(end - p);
        if (carried > SHMTOP_FMAP_LINE_MAX) {
            skipping = 1;
            carried = 0;
        } else {
            memmove(buffer, p, carried);
        }
    }
    return got < 0 ? -errno : rows;
}

/* Shared file mappings on the wanted devices of each pid's maps, as shmtop_scan_maps
 * scans /SYSV ones (status, *reader: the same meaning). Returns the rows found, of which
 * the first cap are written (more than cap: the caller retries once with room for all),
 * or -ENOMEM. */
static int shmtop_scan_fmaps(const int *pids, int npids, const long long *devs, int ndevs,
                             int any_anon, long long *out, char *names, int cap,
                             int *status, int *reader)
{
    char path[64];
    char *buffer = NULL;
    int i, rows = 0;

    for (i = 0; i < npids; i++) {
        int fd, added, room, at;

        status[i] = 0;
        snprintf(path, sizeof path, "/proc/%d/maps", pids[i]);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            status[i] = errno == ENOENT ? ESRCH : errno;
            continue;
        }
        added = -ENOTTY;
        room = rows < cap ? cap - rows : 0;
        at = rows < cap ? rows : 0; /* no room: nothing is written there */
        if (*reader) {
            added = shmtop_query_fmaps(fd, pids[i], devs, ndevs, any_anon,
                                       out + (long long)at * SHMTOP_FMAP_FIELDS,
                                       names + (long long)at * SHMTOP_FMAP_NAME, room);
            if (added == -ENOTTY || added == -EINVAL || added == -EOPNOTSUPP)
                *reader = 0;
        }
        if (!*reader) {
            if (buffer == NULL && (buffer = malloc(SHMTOP_FMAP_BUFFER)) == NULL) {
                close(fd);
                return -ENOMEM;
            }
            added = shmtop_read_fmaps_text(fd, pids[i], devs, ndevs, any_anon,
                                           out + (long long)at * SHMTOP_FMAP_FIELDS,
                                           names + (long long)at * SHMTOP_FMAP_NAME, room,
                                           buffer);
        }
        close(fd);
        if (added < 0) {
            status[i] = added == -ENOENT ? ESRCH : -added;
            continue;
        }
        rows += added;
    }
    free(buffer);
    return rows;
}

/* An open file row: pid fd dev inode access nlink size name_length, access = 1 (read)
 * | 2 (write) from the fd link's mode bits (procfs sets them from f_mode); nlink 0 =
 * the file was unlinked. The link text goes to names as for mappings. */
#define SHMTOP_FD_FIELDS 8

/* For each pid, the regular files open on its fds that live on one of the ndevs devices
 * (fstatat follows the fd's magic link to the open file itself, whatever its path in
 * the holder's mount namespace). status[i] as for maps. Returns rows (at most cap). */
static int shmtop_scan_fds(const int *pids, int npids, const long long *devs, int ndevs,
                           long long *out, char *names, int cap, int *status)
{
    char path[64];
    int i, rows = 0;

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
            long long *row;
            char *slot;
            ssize_t length;

            if (entry->d_name[0] < '0' || entry->d_name[0] > '9')
                continue;
            if (fstatat(dfd, entry->d_name, &target, 0) < 0 || !S_ISREG(target.st_mode) ||
                !shmtop_dev_wanted(target.st_dev, devs, ndevs, 0))
                continue; /* closed meanwhile, not a file, or elsewhere */
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
            row[4] = 0;
            if (fstatat(dfd, entry->d_name, &link, AT_SYMLINK_NOFOLLOW) == 0)
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
    }
    return rows;
}

/* The text reader on an fd the caller opened (tests feed it crafted maps text). */
static int shmtop_parse_fmaps_fd(int fd, int pid, const long long *devs, int ndevs,
                                 int any_anon, long long *out, char *names, int cap)
{
    char *buffer = malloc(SHMTOP_FMAP_BUFFER);
    int rows;

    if (buffer == NULL)
        return -ENOMEM;
    rows = shmtop_read_fmaps_text(fd, pid, devs, ndevs, any_anon, out, names, cap, buffer);
    free(buffer);
    return rows;
}
