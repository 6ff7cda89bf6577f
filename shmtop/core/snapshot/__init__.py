"""One snapshot of the IPC tables: the collector, /proc parsers, process facts, accounts."""
