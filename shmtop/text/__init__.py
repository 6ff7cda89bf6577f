"""Plain text shared by the CLI and the TUI: sanitiser, units, labels, pages, JSON, parsers."""
