/* ==== POSIX message queues (issue 12 item 4): thin wrappers over mq_* and mount ====
 *
 * Appended after posix_helpers.c by _build.py. mq_open is variadic and mq_attr a struct
 * of longs: these wrappers give cffi fixed signatures and a flat row. On Linux an mqd_t
 * is a file descriptor (fstat, /proc/PID/fd and close work on it). */
#include <mqueue.h>
#include <signal.h>
#include <sys/mount.h>

/* The fields of one mq_getattr row: flags maxmsg msgsize curmsgs. */
#define SHMTOP_MQ_FIELDS 4

/* mq_open; with O_CREAT, mode and (maxmsg > 0) a queue of maxmsg messages of msgsize
 * bytes (else the namespace's defaults). Returns the descriptor or -1 (errno set). */
static int shmtop_mq_open(const char *name, int oflag, int mode, long maxmsg, long msgsize)
{
    struct mq_attr attr;

    if (!(oflag & O_CREAT))
        return (int)mq_open(name, oflag);
    if (maxmsg <= 0)
        return (int)mq_open(name, oflag, (mode_t)mode, NULL);
    memset(&attr, 0, sizeof attr);
    attr.mq_maxmsg = maxmsg;
    attr.mq_msgsize = msgsize;
    return (int)mq_open(name, oflag, (mode_t)mode, &attr);
}

/* mq_getattr into out[SHMTOP_MQ_FIELDS]; works on any fd open on a queue (an open(2) of
 * its file in an mqueue mount, or /proc/PID/fd/N of a holder). 0 or -1 (errno set). */
static int shmtop_mq_getattr(int mqd, long long *out)
{
    struct mq_attr attr;

    if (mq_getattr((mqd_t)mqd, &attr) < 0)
        return -1;
    out[0] = attr.mq_flags;
    out[1] = attr.mq_maxmsg;
    out[2] = attr.mq_msgsize;
    out[3] = attr.mq_curmsgs;
    return 0;
}

/* mq_notify: signo > 0 registers the caller for signal signo when a message arrives on an
 * empty queue (SIGEV_SIGNAL); 0 removes its registration. 0 or -1 (errno set). */
static int shmtop_mq_notify_signal(int mqd, int signo)
{
    struct sigevent event;

    if (signo == 0)
        return mq_notify((mqd_t)mqd, NULL);
    memset(&event, 0, sizeof event);
    event.sigev_notify = SIGEV_SIGNAL;
    event.sigev_signo = signo;
    return mq_notify((mqd_t)mqd, &event);
}

/* A detached mount of our IPC namespace's mqueue fs (fsopen + fsmount, Linux >= 5.2): an
 * fd of its root that no mount namespace's table holds, gone at its close. The calling
 * thread's IPC namespace picks the fs; threads may do this in a multithreaded process
 * (unlike unshare(CLONE_NEWNS)). Returns an fd of its root directory, open for
 * reading, or -errno (-ENOSYS: no such calls). */
#include <sys/syscall.h>
#define SHMTOP_FSOPEN_CLOEXEC 0x1       /* linux/mount.h: it clashes with sys/mount.h */
#define SHMTOP_FSCONFIG_CMD_CREATE 6
#define SHMTOP_FSMOUNT_CLOEXEC 0x1
#define SHMTOP_MOUNT_ATTR_SAFE (0x2 | 0x4 | 0x8) /* MOUNT_ATTR_NOSUID | NODEV | NOEXEC */
static int shmtop_mqueue_detached(void)
{
#if defined(SYS_fsopen) && defined(SYS_fsconfig) && defined(SYS_fsmount)
    int fs, mnt, number;

    fs = (int)syscall(SYS_fsopen, "mqueue", SHMTOP_FSOPEN_CLOEXEC);
    if (fs < 0)
        return -errno;
    if (syscall(SYS_fsconfig, fs, SHMTOP_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
        number = errno;
        close(fs);
        return -number;
    }
    mnt = (int)syscall(SYS_fsmount, fs, SHMTOP_FSMOUNT_CLOEXEC, SHMTOP_MOUNT_ATTR_SAFE);
    number = errno;
    close(fs);
    if (mnt < 0)
        return -number;
    /* fsmount gives an O_PATH fd, which cannot be listed: open its root for reading (the
     * open directory keeps the detached mount alive). */
    fs = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    number = errno;
    close(mnt);
    return fs < 0 ? -number : fs;
#else
    return -ENOSYS;
#endif
}
