/* ---- the segments' shmid_ds without /proc/sysvipc/shm (issues 11 and 14) ----
 *
 * A steady snapshot that can tell nothing moved takes the segment rows of its last read of
 * /proc/sysvipc/shm (core/snapshot/shm_carry.py says when that is exact). The kernel formats
 * that file afresh at every read (10-14 ms for 4000 segments on the 2-core development
 * machine); a SHM_STAT_ANY a segment costs ~3 ms for the same 4000 (bench/bench_record_parts.py).
 * Appended after native_helpers.c, whose includes and SHM_STAT_ANY fallback it uses. */

/* Numbers a row: /proc/sysvipc/shm's columns up to ctime, in its order:
 * key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime. */
#define SHMTOP_SHM_STATE_FIELDS 14

/* Every segment of the caller's IPC namespace by index (SHM_STAT_ANY: no read permission
 * needed), one row each in index order (the file's order too), at most cap rows written.
 * *same is 1 when the rows found are exactly the kept_rows rows at kept (kept may be NULL:
 * 0). Returns how many segments were found (more than cap: call again with room), or
 * -errno when IPC_INFO fails. The highest index comes from IPC_INFO, which returns it
 * without the walk over every segment SHM_INFO makes. */
static int shmtop_shm_state(long long *out, int cap, const long long *kept, int kept_rows,
                            int *same)
{
    struct shminfo limits;
    struct shmid_ds ds;
    int max_index, index, rows = 0;

    *same = 0;
    max_index = shmctl(0, IPC_INFO, (struct shmid_ds *)&limits);
    if (max_index < 0)
        return -errno;
    for (index = 0; index <= max_index; index++) {
        long long *row = out + (long long)rows * SHMTOP_SHM_STATE_FIELDS;
        int id = shmctl(index, SHM_STAT_ANY, &ds);
        if (id < 0)
            continue; /* EINVAL: an unused slot (or a kernel before 4.17: no rows) */
        if (rows < cap) {
            row[0] = ds.shm_perm.__key;
            row[1] = id;
            row[2] = ds.shm_perm.mode;
            row[3] = (long long)ds.shm_segsz;
            row[4] = ds.shm_cpid;
            row[5] = ds.shm_lpid;
            row[6] = (long long)ds.shm_nattch;
            row[7] = ds.shm_perm.uid;
            row[8] = ds.shm_perm.gid;
            row[9] = ds.shm_perm.cuid;
            row[10] = ds.shm_perm.cgid;
            row[11] = (long long)ds.shm_atime;
            row[12] = (long long)ds.shm_dtime;
            row[13] = (long long)ds.shm_ctime;
        }
        rows++;
    }
    if (kept != NULL && rows == kept_rows && rows <= cap)
        *same = memcmp(out, kept, sizeof(long long) * SHMTOP_SHM_STATE_FIELDS * (size_t)rows) == 0;
    return rows;
}
