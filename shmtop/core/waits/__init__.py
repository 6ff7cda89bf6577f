"""Who waits on what: the waiter scan, its data model, the wait-for graph and verdicts."""
