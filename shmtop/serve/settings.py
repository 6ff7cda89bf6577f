"""The browser view's defaults, defined once (no imports: the CLI's parser reads them
without loading aiohttp or textual-serve)."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Names a browser on this machine may use for a loopback server: any other Host header
# is a DNS-rebinding page speaking to us under a name of its own, and is refused.
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
