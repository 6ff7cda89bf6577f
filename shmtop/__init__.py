"""shmtop: an htop for Linux System V IPC (shared memory, semaphores, message queues)."""

__version__ = "0.1.0"
