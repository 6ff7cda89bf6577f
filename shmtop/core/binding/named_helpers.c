/* ==== POSIX named objects made and used as programs do: shm_open, sem_open and company ====
 *
 * Appended after the other helpers by _build.py. shmtop's commands never make a POSIX object
 * nor post a semaphore (they read files with pread and unlink by name after an identity
 * check: core/posix/actions.py); these are for scripts and the tests, which make real objects
 * through the same calls PostgreSQL or Python's multiprocessing make. sem_open is variadic
 * and returns SEM_FAILED: the wrapper has a fixed signature and returns NULL instead. */
#include <semaphore.h>

static sem_t *shmtop_sem_open(const char *name, int oflag, int mode, unsigned int value)
{
    sem_t *sem = (oflag & O_CREAT) ? sem_open(name, oflag, (mode_t)mode, value)
                                   : sem_open(name, oflag);
    return sem == SEM_FAILED ? NULL : sem;
}

static int shmtop_shm_open(const char *name, int oflag, int mode)
{
    return shm_open(name, oflag, (mode_t)mode);
}
