/* A C mapper for the POSIX shm tests: pshm_mapper NAME maps the shm_open object NAME
 * read-only (MAP_SHARED), closes its fd, prints "pid start end" and waits for stdin to
 * close. Dies with its parent (PR_SET_PDEATHSIG). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct stat info;
    char *base;
    int fd;

    if (argc != 2)
        return 2;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    fd = shm_open(argv[1], O_RDONLY, 0);
    if (fd < 0 || fstat(fd, &info) < 0)
        return 3;
    base = mmap(NULL, (size_t)info.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return 4;
    close(fd);
    printf("%d %lu %lu\n", (int)getpid(), (unsigned long)base,
           (unsigned long)(base + info.st_size));
    fflush(stdout);
    while (getchar() != EOF)
        ;
    return 0;
}
