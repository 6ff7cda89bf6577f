/* ==== Paths inside another process's root, resolved as that process would ====
 *
 * Appended after the other helpers by _build.py. Another IPC namespace's /dev/shm (and the
 * hostname file of its UTS namespace) is reached through /proc/PID/root; a plain open of
 * "/proc/PID/root/dev/shm" follows an absolute symlink or a ".." in that tree from OUR
 * root, so a container could point it at any directory of the host (which shmtop would
 * then list, read and unlink in). openat2's RESOLVE_IN_ROOT resolves every component,
 * symlinks and ".." included, as if the process's root were "/", and RESOLVE_NO_MAGICLINKS
 * refuses /proc magic links on the way (Linux >= 5.6; -ENOSYS before: the caller refuses). */
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#ifndef RESOLVE_IN_ROOT
struct open_how {
    __u64 flags;
    __u64 mode;
    __u64 resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_IN_ROOT 0x10
#else
#include <linux/openat2.h>
#endif
#ifndef SYS_openat2
#define SYS_openat2 437
#endif

/* An fd on path (relative) inside pid's root, opened with flags (O_CLOEXEC added), or -errno.
 * The root itself is opened O_PATH: nothing of it is read but its place. */
static int shmtop_open_in_root(int pid, const char *path, int flags)
{
    char proc_root[64];
    struct open_how how;
    int root, fd, failed;

    snprintf(proc_root, sizeof proc_root, "/proc/%d/root", pid);
    root = open(proc_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root < 0)
        return -errno;
    memset(&how, 0, sizeof how);
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    fd = (int)syscall(SYS_openat2, root, path, &how, sizeof how);
    failed = errno;
    close(root);
    return fd < 0 ? -failed : fd;
}

/* The filesystem type of what fd is open on (fstatfs's f_type: TMPFS_MAGIC...), or -errno. */
static long long shmtop_fs_magic(int fd)
{
    struct statfs info;
    if (fstatfs(fd, &info) < 0)
        return -errno;
    return (long long)(unsigned long)info.f_type;
}
