"""The interactive view: a thin Textual layer over shmtop.core and shmtop.text."""
