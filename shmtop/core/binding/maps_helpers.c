/* ==== /proc/PID/maps: System V segments and POSIX shared files, in one pass ====
 *
 * Appended after native_helpers.c by _build.py (it uses that file's includes, number
 * parsers and shmtop_is_sysv_name). Every maps line is parsed by one prefix parser and
 * handed to a sink that keeps the rows its caller wants: System V mappings (/SYSV names on
 * a device of major 0), shared mappings of files on chosen devices (POSIX shm), or both
 * from the same read (issues 11 and 12: a full snapshot reads each maps file once).
 * Devices are encoded as glibc's makedev() does (os.makedev in Python). */
#include <limits.h>
#include <sys/sysmacros.h>

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

/* A file mapping row: pid start end writable dev inode offset deleted name_length;
 * the path (as maps prints it, cut to SHMTOP_FMAP_NAME - 1 bytes, NUL-terminated) goes
 * to names + row * SHMTOP_FMAP_NAME. name_length is the full length (longer: cut). */
#define SHMTOP_FMAP_FIELDS 9
#define SHMTOP_FMAP_NAME 256

/* The text reader: maps lines are parsed as reads bring them, a partial last line carried
 * over to the next read. A line still without its newline after the line bound is skipped
 * up to its newline, never parsed from its middle; a last line without a newline was cut
 * short and is not parsed either. The bound is SHMTOP_MAPS_LINE_MAX when only System V
 * rows are wanted (no /SYSV line is that long), SHMTOP_FMAP_LINE_MAX when file rows are
 * (a path can be PATH_MAX long). */
#define SHMTOP_MAPS_BUFFER (1 << 16)
#define SHMTOP_MAPS_LINE_MAX 512
#define SHMTOP_MAPS_READ (SHMTOP_MAPS_BUFFER - SHMTOP_MAPS_LINE_MAX)
#define SHMTOP_FMAP_LINE_MAX (4096 + 128)

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

/* The fields of one maps line, as the prefix parser found them. */
struct shmtop_maps_line {
    unsigned long long start, stop, offset, inode, dev;
    unsigned int major;
    int writable;
    const char *name; /* the path after the inode's padding; name_length 0: none */
    size_t name_length;
    /* Set for a path the reader could not hold whole (a maps line over the line bound,
     * PROCMAP_QUERY's ENAMETOOLONG): its printed length and whether it ends " (deleted)";
     * name is then the part kept. printed_length 0: name is the whole path. */
    size_t printed_length;
    int deleted;
};

/* Whether a path as maps prints it ends " (deleted)": the file was unlinked. */
static int shmtop_deleted_suffix(const char *name, size_t length)
{
    return length >= 10 && memcmp(name + length - 10, " (deleted)", 10) == 0;
}

/* The prefix every maps line [line, end) starts with (end is its newline, never read):
 * "start-stop perms offset major:minor inode", then the path. Returns 1 for a whole
 * prefix of a shared mapping ("rw-s"), else 0 (a private mapping, a truncated line). */
static int shmtop_parse_maps_prefix(const char *line, const char *end,
                                    struct shmtop_maps_line *out)
{
    const char *p = line, *mark;
    unsigned long long minor;

    mark = p;
    out->start = shmtop_hex(&p, end);
    if (p == mark || p >= end || *p != '-')
        return 0;
    p++;
    mark = p;
    out->stop = shmtop_hex(&p, end);
    /* " rw-s ": only shared mappings */
    if (p == mark || end - p < 6 || p[0] != ' ' || p[4] != 's' || p[5] != ' ')
        return 0;
    out->writable = p[2] == 'w';
    p += 6;
    mark = p;
    out->offset = shmtop_hex(&p, end);
    if (p == mark || p >= end || *p != ' ')
        return 0;
    p++;
    mark = p;
    out->major = (unsigned int)shmtop_hex(&p, end);
    if (p == mark || p >= end || *p != ':')
        return 0;
    p++;
    mark = p;
    minor = shmtop_hex(&p, end);
    if (p == mark || p >= end || *p != ' ')
        return 0;
    p++;
    if (!shmtop_decimal(&p, end, &out->inode) || p >= end || *p != ' ')
        return 0; /* no inode field, or a truncated line */
    while (p < end && *p == ' ')
        p++;
    out->dev = makedev(out->major, (unsigned int)minor);
    out->name = p;
    out->name_length = (size_t)(end - p);
    out->printed_length = 0;
    out->deleted = 0;
    return 1;
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

/* Where one scan's rows go. Either kind may be unwanted (its out NULL). Rows are counted
 * past cap but written only below it (the caller makes room and reads again). */
struct shmtop_maps_sink {
    int pid;
    long long *sysv; /* SHMTOP_MAP_FIELDS a row */
    int sysv_cap, sysv_rows;
    const long long *devs; /* file rows: shared mappings of files on these devices */
    int ndevs, any_anon;
    long long *files; /* SHMTOP_FMAP_FIELDS a row, names SHMTOP_FMAP_NAME bytes a row */
    char *names;
    int files_cap, files_rows;
};

static void shmtop_sink_sysv(struct shmtop_maps_sink *s, unsigned long long start,
                             unsigned long long stop, int writable, unsigned long long inode)
{
    if (s->sysv_rows < s->sysv_cap) {
        long long *row = s->sysv + (long long)s->sysv_rows * SHMTOP_MAP_FIELDS;
        row[0] = s->pid;
        row[1] = (long long)start;
        row[2] = (long long)stop;
        row[3] = writable;
        row[4] = (long long)inode;
    }
    s->sysv_rows++;
}

/* escaped: the name is maps text (a newline written as \012), not PROCMAP_QUERY's bytes. */
static void shmtop_sink_file(struct shmtop_maps_sink *s, const struct shmtop_maps_line *m,
                             int escaped)
{
    if (s->files_rows < s->files_cap) {
        long long *row = s->files + (long long)s->files_rows * SHMTOP_FMAP_FIELDS;
        char *slot = s->names + (long long)s->files_rows * SHMTOP_FMAP_NAME;
        size_t length = m->printed_length > 0 ? m->printed_length : m->name_length;
        size_t kept = m->name_length < SHMTOP_FMAP_NAME - 1 ? m->name_length
                                                             : SHMTOP_FMAP_NAME - 1;
        row[0] = s->pid;
        row[1] = (long long)m->start;
        row[2] = (long long)m->stop;
        row[3] = m->writable;
        row[4] = (long long)m->dev;
        row[5] = (long long)m->inode;
        row[6] = (long long)m->offset;
        row[7] = m->printed_length > 0 ? m->deleted : shmtop_deleted_suffix(m->name, length);
        row[8] = (long long)length;
        memcpy(slot, m->name, kept);
        slot[kept] = 0;
        if (escaped && memchr(slot, '\\', kept) != NULL) {
            size_t now = shmtop_unescape_newlines(slot, kept);
            slot[now] = 0;
            row[8] -= (long long)(kept - now); /* a cut name's full length: its kept part's fix */
        }
    }
    s->files_rows++;
}

/* One mapping, from either reader: a System V segment (a /SYSV name on an internal device
 * of major 0), else a file on a wanted device (a named one: anonymous shared memory has
 * no path). Both are shared mappings: the readers ask for no others. */
static void shmtop_sink_mapping(struct shmtop_maps_sink *s, const struct shmtop_maps_line *m,
                                int escaped)
{
    if (m->major == 0 && shmtop_is_sysv_name(m->name, m->name_length)) {
        if (s->sysv != NULL)
            shmtop_sink_sysv(s, m->start, m->stop, m->writable, m->inode);
    } else if (s->files != NULL && m->name_length > 0 &&
               shmtop_dev_wanted(m->dev, s->devs, s->ndevs, s->any_anon)) {
        shmtop_sink_file(s, m, escaped);
    }
}

/* A file mapping whose path the kernel could not give PROCMAP_QUERY (ENAMETOOLONG: longer
 * than PATH_MAX), asked again without its name. It is no System V segment (their names are
 * short); a file row with no name kept, its length PATH_MAX ("at least"), and unlinked if
 * the file it maps has no links left (map_files follows the mapping without a path). */
static int shmtop_query_nameless(int fd, struct shmtop_maps_sink *s,
                                 struct procmap_query *query)
{
    char path[96];
    struct stat info;
    struct shmtop_maps_line m;
    unsigned long long address = query->query_addr;

    memset(query, 0, sizeof *query);
    query->size = sizeof *query;
    query->query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA | PROCMAP_QUERY_VMA_SHARED |
                         PROCMAP_QUERY_FILE_BACKED_VMA;
    query->query_addr = address;
    if (ioctl(fd, PROCMAP_QUERY, query) < 0)
        return -errno;
    if (s->files == NULL || !shmtop_dev_wanted(makedev(query->dev_major, query->dev_minor),
                                               s->devs, s->ndevs, s->any_anon))
        return 0;
    snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", s->pid,
             (unsigned long long)query->vma_start, (unsigned long long)query->vma_end);
    m.start = query->vma_start;
    m.stop = query->vma_end;
    m.offset = query->vma_offset;
    m.inode = query->inode;
    m.major = query->dev_major;
    m.dev = makedev(query->dev_major, query->dev_minor);
    m.writable = (query->vma_flags & PROCMAP_QUERY_VMA_WRITABLE) != 0;
    m.name = "";
    m.name_length = 0;
    m.printed_length = PATH_MAX;
    /* Unknown (map_files refused): kept, never called unlinked on no evidence. */
    m.deleted = stat(path, &info) == 0 && info.st_nlink == 0;
    shmtop_sink_file(s, &m, 0);
    return 0;
}

/* The mappings of the maps file open on fd, through PROCMAP_QUERY. Returns 0, or -errno
 * (-ENOTTY: no such ioctl). */
static int shmtop_query_maps(int fd, struct shmtop_maps_sink *s)
{
    struct procmap_query query;
    struct shmtop_maps_line m;
    char name[4096 + 16];
    unsigned long long address = 0;

    for (;;) {
        memset(&query, 0, sizeof query);
        query.size = sizeof query;
        query.query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA |
                            PROCMAP_QUERY_VMA_SHARED | PROCMAP_QUERY_FILE_BACKED_VMA;
        query.query_addr = address;
        query.vma_name_addr = (unsigned long long)(unsigned long)name;
        query.vma_name_size = sizeof name;
        if (ioctl(fd, PROCMAP_QUERY, &query) < 0) {
            int failed = errno;
            if (failed == ENOENT)
                return 0; /* no more VMAs */
            if (failed != ENAMETOOLONG)
                return -failed;
            /* One path too long must not cost the process its other rows. */
            query.query_addr = address;
            if ((failed = shmtop_query_nameless(fd, s, &query)) < 0)
                return failed == -ENOENT ? 0 : failed;
            address = query.vma_end;
            continue;
        }
        address = query.vma_end;
        if (query.vma_name_size == 0)
            continue;
        m.printed_length = 0;
        m.deleted = 0;
        m.start = query.vma_start;
        m.stop = query.vma_end;
        m.offset = query.vma_offset;
        m.inode = query.inode;
        m.major = query.dev_major;
        m.dev = makedev(query.dev_major, query.dev_minor);
        m.writable = (query.vma_flags & PROCMAP_QUERY_VMA_WRITABLE) != 0;
        m.name = name;
        m.name_length = query.vma_name_size - 1; /* vma_name_size counts the NUL */
        shmtop_sink_mapping(s, &m, 0);
    }
}

/* A file mapping whose maps line outgrew the line bound (its path, escaped, longer than
 * the buffer keeps): its prefix and the start of its path are kept while the rest of the
 * line is read past, counting its length and keeping its last bytes for " (deleted)". */
struct shmtop_long_line {
    int pending; /* 1: a wanted file mapping awaits its newline */
    struct shmtop_maps_line m;
    char name[SHMTOP_FMAP_NAME];
    char tail[10];
    size_t tail_length;
};

static void shmtop_long_line_tail(struct shmtop_long_line *l, const char *from, size_t n)
{
    size_t keep = sizeof l->tail;
    if (n >= keep) {
        memcpy(l->tail, from + n - keep, keep);
        l->tail_length = keep;
        return;
    }
    if (l->tail_length + n > keep) {
        size_t drop = l->tail_length + n - keep;
        memmove(l->tail, l->tail + drop, l->tail_length - drop);
        l->tail_length -= drop;
    }
    memcpy(l->tail + l->tail_length, from, n);
    l->tail_length += n;
}

/* The start of an over-long line [line, end) (no newline yet): kept if it is a shared
 * mapping of a file on a wanted device (no System V name is that long). */
static void shmtop_long_line_start(struct shmtop_long_line *l, struct shmtop_maps_sink *s,
                                   const char *line, const char *end)
{
    size_t kept;
    l->pending = 0;
    if (s->files == NULL || !shmtop_parse_maps_prefix(line, end, &l->m) ||
        !shmtop_dev_wanted(l->m.dev, s->devs, s->ndevs, s->any_anon))
        return;
    kept = l->m.name_length < sizeof l->name ? l->m.name_length : sizeof l->name;
    memcpy(l->name, l->m.name, kept);
    l->m.printed_length = l->m.name_length;
    l->m.name = l->name;
    l->m.name_length = kept;
    l->tail_length = 0;
    shmtop_long_line_tail(l, line, (size_t)(end - line));
    l->pending = 1;
}

/* More of the over-long line: n bytes, the last of them before its newline if done. */
static void shmtop_long_line_more(struct shmtop_long_line *l, struct shmtop_maps_sink *s,
                                  const char *from, size_t n, int done)
{
    if (!l->pending)
        return;
    l->m.printed_length += n;
    shmtop_long_line_tail(l, from, n);
    if (!done)
        return;
    l->m.deleted = shmtop_deleted_suffix(l->tail, l->tail_length);
    shmtop_sink_file(s, &l->m, 1);
    l->pending = 0;
}

/* The mappings of the maps text readable on fd, asking each read() for at most chunk bytes
 * (0 or too many: all the buffer leaves; tests make lines span reads), into buffer
 * (SHMTOP_MAPS_BUFFER bytes, the caller's: concurrent scans share nothing). A line longer
 * than line_max is read past to its newline; a file row it holds keeps the start of its
 * path (shmtop_long_line). Returns 0, or -errno of a failed read. */
static int shmtop_read_maps_text(int fd, struct shmtop_maps_sink *s, char *buffer,
                                 size_t chunk, size_t line_max)
{
    struct shmtop_maps_line m;
    struct shmtop_long_line long_line;
    size_t carried = 0;
    int skipping = 0;
    ssize_t got;

    long_line.pending = 0;
    if (chunk == 0 || chunk > SHMTOP_MAPS_BUFFER - line_max)
        chunk = SHMTOP_MAPS_BUFFER - line_max;
    for (;;) {
        const char *p = buffer, *end, *nl;
        /* carried <= line_max, so there is always room for chunk */
        got = read(fd, buffer + carried, chunk);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        end = buffer + carried + got;
        if (skipping) {
            nl = memchr(p, '\n', (size_t)(end - p));
            shmtop_long_line_more(&long_line, s, p, (size_t)((nl != NULL ? nl : end) - p),
                                  nl != NULL);
            if (nl == NULL) {
                carried = 0; /* still inside the over-long line */
                continue;
            }
            p = nl + 1;
            skipping = 0;
        }
        while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            if (shmtop_parse_maps_prefix(p, nl, &m))
                shmtop_sink_mapping(s, &m, 1);
            p = nl + 1;
        }
        carried = (size_t)(end - p);
        if (carried > line_max) {
            shmtop_long_line_start(&long_line, s, p, end);
            skipping = 1;
            carried = 0;
        } else {
            memmove(buffer, p, carried);
        }
    }
    return got < 0 ? -errno : 0;
}

/* Read one pid's maps into the sink. *reader: 1 PROCMAP_QUERY, 0 text; set to 0 when the
 * ioctl turns out missing (ENOTTY, EINVAL, EOPNOTSUPP), and the pid is read as text. *buffer
 * is the text reader's, made at its first use (the caller frees it). uid (NULL: not asked):
 * the owner of the /proc/PID directory (its effective uid, as ps shows), or -errno: a stat
 * of its own, as the files in it (maps too) belong to root when the task is not dumpable.
 * A pid that fails adds no row. Returns 0, the errno that kept it from being read (ESRCH:
 * gone), or -ENOMEM. */
static int shmtop_maps_of(int pid, struct shmtop_maps_sink *s, int *reader, char **buffer,
                          long long *uid)
{
    char path[64];
    struct stat info;
    int sysv_before = s->sysv_rows, files_before = s->files_rows;
    int fd, got = -ENOTTY;

    s->pid = pid;
    if (uid != NULL) {
        snprintf(path, sizeof path, "/proc/%d", pid);
        *uid = stat(path, &info) == 0 ? (long long)info.st_uid
                                      : -(long long)(errno == ENOENT ? ESRCH : errno);
    }
    snprintf(path, sizeof path, "/proc/%d/maps", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? ESRCH : errno;
    if (*reader) {
        got = shmtop_query_maps(fd, s);
        if (got == -ENOTTY || got == -EINVAL || got == -EOPNOTSUPP) {
            *reader = 0;
            s->sysv_rows = sysv_before;
            s->files_rows = files_before;
        }
    }
    if (!*reader) {
        if (*buffer == NULL && (*buffer = malloc(SHMTOP_MAPS_BUFFER)) == NULL) {
            close(fd);
            return -ENOMEM;
        }
        got = shmtop_read_maps_text(fd, s, *buffer, 0,
                                    s->files != NULL ? SHMTOP_FMAP_LINE_MAX
                                                     : SHMTOP_MAPS_LINE_MAX);
    }
    close(fd);
    if (got < 0) {
        s->sysv_rows = sysv_before;
        s->files_rows = files_before;
        return got == -ENOENT ? ESRCH : -got;
    }
    return 0;
}

/* Read /proc/PID/maps for each pid in order and collect its System V mappings
 * (SHMTOP_MAP_FIELDS longs a row). status[i] is 0, or the errno that kept pid i from being
 * read (ESRCH for a process that is gone). Stops after the pid whose mappings bring the
 * total to want (want < 0: never), or once cap rows are found; *scanned tells how many
 * pids were looked at. *reader as for shmtop_maps_of. Nothing is shared between calls:
 * scans may run in many threads at once. Returns rows (cap or more: some were not
 * written, read again with more room), or -ENOMEM. */
static int shmtop_scan_maps(const int *pids, int npids, long long want,
                            long long *out, int cap, int *status, int *scanned,
                            int *reader)
{
    struct shmtop_maps_sink sink;
    char *buffer = NULL;
    int i;

    memset(&sink, 0, sizeof sink);
    sink.sysv = out;
    sink.sysv_cap = cap;
    for (i = 0; i < npids && sink.sysv_rows < cap; i++) {
        status[i] = shmtop_maps_of(pids[i], &sink, reader, &buffer, NULL);
        if (status[i] < 0) {
            free(buffer);
            *scanned = i;
            return status[i];
        }
        if (want >= 0 && sink.sysv_rows >= want) {
            i++;
            break;
        }
    }
    free(buffer);
    *scanned = i;
    return sink.sysv_rows;
}

/* Shared file mappings on the wanted devices of each pid's maps (never /SYSV segments),
 * status and *reader as for shmtop_scan_maps. Returns the rows found, of which the first
 * cap are written (more than cap: the caller reads again with room for all), or -ENOMEM. */
static int shmtop_scan_fmaps(const int *pids, int npids, const long long *devs, int ndevs,
                             int any_anon, long long *out, char *names, int cap,
                             int *status, int *reader)
{
    struct shmtop_maps_sink sink;
    char *buffer = NULL;
    int i;

    memset(&sink, 0, sizeof sink);
    sink.devs = devs;
    sink.ndevs = ndevs;
    sink.any_anon = any_anon;
    sink.files = out;
    sink.names = names;
    sink.files_cap = cap;
    for (i = 0; i < npids; i++) {
        status[i] = shmtop_maps_of(pids[i], &sink, reader, &buffer, NULL);
        if (status[i] < 0) {
            free(buffer);
            return status[i];
        }
    }
    free(buffer);
    return sink.files_rows;
}

/* Both at once, one read of each maps file: the System V rows into sysv (sysv_cap rows),
 * the file rows as shmtop_scan_fmaps gives them, counts[0] and counts[1] how many of each
 * were found (more than their cap: the first cap are written). It stops after the first
 * pid whose rows did not fit (the caller reads on from there with more room: reading the
 * rest only to count their rows would read them twice), counts[2] the pids looked at
 * (status and uids are set for those). uids[i]: the owner of /proc/PID of pid i, or
 * -errno (see shmtop_maps_of). status and *reader as for shmtop_scan_maps. Returns 0, or
 * -ENOMEM. */
static int shmtop_scan_shared_maps(const int *pids, int npids, const long long *devs,
                                   int ndevs, int any_anon, long long *sysv, int sysv_cap,
                                   long long *files, char *names, int files_cap,
                                   int *status, long long *uids, int *reader, int *counts)
{
    struct shmtop_maps_sink sink;
    char *buffer = NULL;
    int i;

    memset(&sink, 0, sizeof sink);
    sink.sysv = sysv;
    sink.sysv_cap = sysv_cap;
    sink.devs = devs;
    sink.ndevs = ndevs;
    sink.any_anon = any_anon;
    sink.files = files;
    sink.names = names;
    sink.files_cap = files_cap;
    for (i = 0; i < npids; i++) {
        status[i] = shmtop_maps_of(pids[i], &sink, reader, &buffer, uids + i);
        if (status[i] < 0) {
            free(buffer);
            return status[i];
        }
        if (sink.sysv_rows > sysv_cap || sink.files_rows > files_cap) {
            i++;
            break;
        }
    }
    free(buffer);
    counts[0] = sink.sysv_rows;
    counts[1] = sink.files_rows;
    counts[2] = i;
    return 0;
}

/* The System V text reader on an fd the caller opened (tests feed it crafted text through
 * pipes and files); chunk as for shmtop_read_maps_text. Returns rows (at most cap). */
static int shmtop_parse_maps_fd(int fd, int pid, long long *out, int cap, int chunk)
{
    struct shmtop_maps_sink sink;
    char *buffer = malloc(SHMTOP_MAPS_BUFFER);
    int got;

    if (buffer == NULL)
        return -ENOMEM;
    memset(&sink, 0, sizeof sink);
    sink.pid = pid;
    sink.sysv = out;
    sink.sysv_cap = cap;
    got = shmtop_read_maps_text(fd, &sink, buffer, chunk > 0 ? (size_t)chunk : 0,
                                SHMTOP_MAPS_LINE_MAX);
    free(buffer);
    if (got < 0)
        return got;
    return sink.sysv_rows < cap ? sink.sysv_rows : cap;
}

/* The file rows' text reader on an fd the caller opened (tests feed it crafted maps text).
 * Returns the rows found (the first cap written), or -errno. */
static int shmtop_parse_fmaps_fd(int fd, int pid, const long long *devs, int ndevs,
                                 int any_anon, long long *out, char *names, int cap)
{
    struct shmtop_maps_sink sink;
    char *buffer = malloc(SHMTOP_MAPS_BUFFER);
    int got;

    if (buffer == NULL)
        return -ENOMEM;
    memset(&sink, 0, sizeof sink);
    sink.pid = pid;
    sink.devs = devs;
    sink.ndevs = ndevs;
    sink.any_anon = any_anon;
    sink.files = out;
    sink.names = names;
    sink.files_cap = cap;
    got = shmtop_read_maps_text(fd, &sink, buffer, 0, SHMTOP_FMAP_LINE_MAX);
    free(buffer);
    return got < 0 ? got : sink.files_rows;
}
