"""POSIX shared memory (issue 12): /dev/shm objects, their mappers and holders, leaks, removal."""
