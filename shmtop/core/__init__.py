"""The headless core: System V IPC facts as data. Imports no textual, rich, text, cli or tui."""
