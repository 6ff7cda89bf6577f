/* Many cheap attachers for tests/native/test_maps_readers.py (compiled there with cc).
 *
 * attacher COUNT SHMID...: forks COUNT children; child k attaches segment
 * k % n read-write and segment (k * 7 + 3) % n read-only, then maps a few
 * dozen small regions of alternating protection (more maps lines, several
 * reads of text each), prints "pid rw-shmid rw-address ro-shmid ro-address", and sleeps. The
 * children die with this parent (PR_SET_PDEATHSIG); the parent prints "ready"
 * once all have reported and, when its stdin closes, kills and reaps them. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

static void child(int k, const int *ids, int n, int report)
{
    char line[128];
    void *rw, *ro;
    int r, len;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    rw = shmat(ids[k % n], NULL, 0);
    ro = shmat(ids[(k * 7 + 3) % n], NULL, SHM_RDONLY);
    if (rw == (void *)-1 || ro == (void *)-1)
        _exit(2);
    for (r = 0; r < 48; r++)
        mmap(NULL, 4096, r % 2 ? PROT_READ : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    len = snprintf(line, sizeof line, "%d %d %lu %d %lu\n", (int)getpid(), ids[k % n],
                   (unsigned long)rw, ids[(k * 7 + 3) % n], (unsigned long)ro);
    if (write(report, line, (size_t)len) != len)
        _exit(3);
    close(report); /* the parent's read ends once every child reported or died */
    for (;;)
        pause();
}

int main(int argc, char **argv)
{
    int count, n, k, *ids, report[2];
    pid_t *pids;
    char byte;

    if (argc < 3)
        return 64;
    count = atoi(argv[1]);
    n = argc - 2;
    ids = calloc((size_t)n, sizeof *ids);
    pids = calloc((size_t)count, sizeof *pids);
    for (k = 0; k < n; k++)
        ids[k] = atoi(argv[k + 2]);
    if (pipe(report) < 0)
        return 1;
    for (k = 0; k < count; k++) {
        pids[k] = fork();
        if (pids[k] < 0)
            break;
        if (pids[k] == 0)
            child(k, ids, n, report[1]);
    }
    close(report[1]);
    {
        /* Relay the children's lines (each one write, shorter than PIPE_BUF). */
        char buffer[4096];
        ssize_t got;
        int lines = 0;
        while (lines < count && (got = read(report[0], buffer, sizeof buffer)) > 0) {
            ssize_t i;
            fwrite(buffer, 1, (size_t)got, stdout);
            for (i = 0; i < got; i++)
                lines += buffer[i] == '\n';
        }
        printf(lines == count ? "ready\n" : "failed\n");
        fflush(stdout);
    }
    while (read(0, &byte, 1) > 0)
        ;
    for (k = 0; k < count; k++)
        if (pids[k] > 0)
            kill(pids[k], SIGKILL);
    for (k = 0; k < count; k++)
        if (pids[k] > 0)
            waitpid(pids[k], NULL, 0);
    return 0;
}
