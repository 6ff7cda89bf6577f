"""`shmtop exporter`: the IPC facts as Prometheus metrics, over HTTP or in a textfile.

A face of its own beside cli/ and tui/: it reads core/ and text/, and nothing imports it but
the CLI's lazy command hook (the contracts in pyproject.toml say so).
"""
