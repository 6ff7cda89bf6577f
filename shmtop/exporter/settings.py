"""The exporter's defaults and bounds, defined once (no imports: the CLI's parser reads them
without loading prometheus_client)."""

DEFAULT_LISTEN = "127.0.0.1:9464"
DEFAULT_INTERVAL = 5.0  # seconds a snapshot serves scrapes (and between textfile writes)
# The POSIX scan (one full read: every process's maps and fds, core/posix/full.py) reads
# every maps file each time, as nothing cheaper tells that a process mapped a tmpfs file;
# the System V collector reads maps only for what the kernel changed. Reused for this long,
# it costs a sixth of what it would every interval.
DEFAULT_POSIX_INTERVAL = 30.0
DEFAULT_MAX_OBJECTS = 1000  # per-object series for at most this many objects of each kind
MAX_INTERVAL = 3600.0
MAX_OBJECTS = 1_000_000
