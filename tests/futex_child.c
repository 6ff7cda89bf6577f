/* A child that blocks in futex(2) on shared memory, for tests/native/test_futex_waits.py.
 *
 *   futex_child semwait NAME           sem_open(NAME, O_CREAT, 0600, 0), "ready", sem_wait,
 *                                      then "posted VALUE" and exit
 *   futex_child mutex-hold SHMID OFF [normal|pi|robust]
 *                                      a process-shared mutex (priority inheritance, or
 *                                      robust: the owner's TID in the word) made at OFF of
 *                                      the segment, locked; "locked TID"; holds it until a
 *                                      line or the end of stdin, then exits still holding it
 *   futex_child mutex-wait SHMID OFF   "ready", then pthread_mutex_lock at OFF (blocks)
 *   futex_child hold-then-semop SHMID OFF SEMID
 *                                      make and lock the mutex, "locked TID", then
 *                                      semop(SEMID, 0, -1) (blocks while it holds the mutex)
 *   futex_child semop-then-lock SHMID OFF SEMID
 *                                      semop +1 then -1 on SEMID 0 (its last changer),
 *                                      "ready", waits for a line, then locks the mutex
 *   futex_child private-wait SHMID OFF FUTEX_WAIT_PRIVATE on the word at OFF (blocks)
 *   futex_child unnamed-semwait SHMID OFF
 *                                      sem_init(at OFF, pshared 1, 0), "ready", sem_wait
 *                                      (PostgreSQL's semaphores are these)
 *   futex_child anon-semwait OFF      sem_init(pshared 1) at OFF of shared anonymous memory
 *                                      (mmap MAP_SHARED | MAP_ANONYMOUS: PostgreSQL's
 *                                      default), fork a child that sem_waits on it;
 *                                      "ready CHILDPID"; on a line sem_post, reap the
 *                                      child, "posted STATUS"
 *   futex_child waitv SHMID OFF PRIVOFF
 *                                      "ready", then futex_waitv on two words of the
 *                                      segment: a shared one at OFF and a private one
 *                                      (FUTEX2_PRIVATE) at PRIVOFF; "woken" when woken
 *
 * Every line goes to stdout, flushed. The process dies with its parent (PR_SET_PDEATHSIG). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char *text, long number)
{
    printf("%s %ld\n", text, number);
    fflush(stdout);
}

static char *segment(const char *id)
{
    void *at = shmat(atoi(id), NULL, 0);
    if (at == (void *)-1) {
        perror("shmat");
        exit(2);
    }
    return at;
}

static pthread_mutex_t *make_mutex(char *at, const char *offset, const char *kind)
{
    pthread_mutex_t *mutex = (pthread_mutex_t *)(at + atoi(offset));
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
    if (strcmp(kind, "pi") == 0)
        pthread_mutexattr_setprotocol(&attr, PTHREAD_PRIO_INHERIT);
    else if (strcmp(kind, "robust") == 0)
        pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
    if (pthread_mutex_init(mutex, &attr) != 0 || pthread_mutex_lock(mutex) != 0) {
        perror("mutex");
        exit(2);
    }
    return mutex;
}

static void semop_one(int semid, int op)
{
    struct sembuf buf = {0, (short)op, 0};
    if (semop(semid, &buf, 1) < 0) {
        perror("semop");
        exit(2);
    }
}

static void wait_stdin(void)
{
    char line[16];
    while (fgets(line, sizeof line, stdin) != NULL && line[0] != '\n')
        ;
}

int main(int argc, char **argv)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (argc == 3 && strcmp(argv[1], "semwait") == 0) {
        sem_t *sem = sem_open(argv[2], O_CREAT, 0600, 0);
        int value = -1;
        if (sem == SEM_FAILED) {
            perror("sem_open");
            return 2;
        }
        say("ready", 0);
        while (sem_wait(sem) != 0)
            ;
        sem_getvalue(sem, &value);
        say("posted", value);
        return 0;
    }
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "mutex-hold") == 0) {
        make_mutex(segment(argv[2]), argv[3], argc == 5 ? argv[4] : "normal");
        say("locked", syscall(SYS_gettid));
        wait_stdin();
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "mutex-wait") == 0) {
        pthread_mutex_t *mutex = (pthread_mutex_t *)(segment(argv[2]) + atoi(argv[3]));
        say("ready", 0);
        pthread_mutex_lock(mutex);
        say("acquired", 0);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "hold-then-semop") == 0) {
        make_mutex(segment(argv[2]), argv[3], "normal");
        say("locked", syscall(SYS_gettid));
        semop_one(atoi(argv[4]), -1);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "semop-then-lock") == 0) {
        pthread_mutex_t *mutex = (pthread_mutex_t *)(segment(argv[2]) + atoi(argv[3]));
        semop_one(atoi(argv[4]), 1);
        semop_one(atoi(argv[4]), -1);
        say("ready", 0);
        wait_stdin();
        pthread_mutex_lock(mutex);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "private-wait") == 0) {
        unsigned int *word = (unsigned int *)(segment(argv[2]) + atoi(argv[3]));
        say("ready", 0);
        syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, *word, NULL, NULL, 0);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "unnamed-semwait") == 0) {
        sem_t *sem = (sem_t *)(segment(argv[2]) + atoi(argv[3]));
        if (sem_init(sem, 1, 0) != 0) {
            perror("sem_init");
            return 2;
        }
        say("ready", 0);
        while (sem_wait(sem) != 0)
            ;
        say("posted", 0);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "anon-semwait") == 0) {
        char *at = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        sem_t *sem = (sem_t *)(at + atoi(argv[2]));
        int status = -1;
        pid_t child;
        if (at == MAP_FAILED || sem_init(sem, 1, 0) != 0) {
            perror("anonymous semaphore");
            return 2;
        }
        child = fork();
        if (child == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* not inherited: dies with its parent too */
            while (sem_wait(sem) != 0)
                ;
            _exit(0);
        }
        say("ready", child);
        wait_stdin();
        sem_post(sem);
        waitpid(child, &status, 0);
        say("posted", status);
        return 0;
    }
    if (argc == 5 && strcmp(argv[1], "waitv") == 0) {
        char *at = segment(argv[2]);
        unsigned int *shared = (unsigned int *)(at + atoi(argv[3]));
        unsigned int *private = (unsigned int *)(at + atoi(argv[4]));
        struct futex_waitv vector[2] = {
            {*shared, (unsigned long)shared, FUTEX_32, 0},
            {*private, (unsigned long)private, FUTEX_32 | FUTEX_PRIVATE_FLAG, 0},
        };
        say("ready", 0);
        if (syscall(SYS_futex_waitv, vector, 2, 0, NULL, 0) < 0) {
            perror("futex_waitv");
            return 2;
        }
        say("woken", 0);
        return 0;
    }
    fprintf(stderr, "usage: see the comment at the top of futex_child.c\n");
    return 2;
}
