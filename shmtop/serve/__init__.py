"""The browser view: `shmtop serve` runs the TUI once per browser session through
textual-serve. Started only by the CLI's lazy hook (shmtop/cli/serve_hook.py); imports no cli."""
