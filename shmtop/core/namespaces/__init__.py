"""Every IPC namespace on the machine (issue 12 item 5): discovery, names, joined snapshots."""
