"""Recordings: snapshots written as they come (only what changed, compressed) and read back.

Headless, like the rest of the core: `shmtop record`, `list --from` and `replay` use it, and so
can a script (Recording.open(path).snapshot_at(when) is a Snapshot like a live one).
"""
