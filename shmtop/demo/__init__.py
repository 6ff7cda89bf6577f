"""`shmtop demo`: the workload, its children's roles and its private IPC namespace."""
