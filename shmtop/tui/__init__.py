"""The interactive view: a thin Textual layer over shmtop.ipc."""
