"""PostgreSQL (Debian's package) with System V shared memory, in its own namespaces, and psql."""

from __future__ import annotations

import contextlib
import pwd
import select
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import helpers

from realworld.namespace import Namespace, free_port, require_namespace_tools, unavailable

PG_LIB = Path("/usr/lib/postgresql")
PREFERRED_MAJOR = "15"
ACCOUNT = "postgres"
# The parallel query's table and its per-row sleep: long enough to be observed (the test
# cancels it once it has looked), bounded if the cancel were lost.
SLOW_ROWS = 6000
ROW_SLEEP = 0.03  # 60 s over three processes, unless cancelled
FORCE_PARALLEL = (
    "SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; "
    "SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0;"
)
SETTINGS = {
    "shared_memory_type": "sysv",
    "dynamic_shared_memory_type": "sysv",
    "autovacuum": "off",
    "listen_addresses": "",  # the unix socket in the private directory only
    # Without the logical replication launcher nobody stays attached to the statistics
    # segment the startup process made: idle, it has nattch 0 and its creator is gone, the
    # case issue 8 found called an orphan (and removed).
    "max_logical_replication_workers": "0",
    "fsync": "off",  # a throwaway cluster
}


def bin_dir() -> Path:
    """The server's bin directory: PostgreSQL 15's if installed, else the newest."""
    found = sorted(
        (p for p in PG_LIB.glob("*/bin") if (p / "postgres").exists() and (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not found:
        unavailable(f"PostgreSQL server not installed (no {PG_LIB}/*/bin/postgres): "
                    "apt-get install postgresql")  # fmt: skip
    preferred = [p for p in found if p.parent.name == PREFERRED_MAJOR]
    return (preferred or found)[-1]


class Session:
    """One psql client kept connected (its backend is a process in the server's namespace)."""

    def __init__(self, command: list[str]) -> None:
        self._psql = subprocess.Popen(
            [*command, "-A", "-t"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        self.backend_pid = int(self.ask("SELECT pg_backend_pid();"))

    def send(self, sql: str) -> None:
        assert self._psql.stdin is not None
        self._psql.stdin.write(sql + "\n")
        self._psql.stdin.flush()

    def ask(self, sql: str) -> str:
        """Send a query that prints one line, and return the line."""
        self.send(sql)
        return self.read_line(f"psql did not answer {sql!r}")

    def answered(self) -> bool:
        """Whether psql has printed a line not read yet (without waiting)."""
        assert self._psql.stdout is not None
        ready, _, _ = select.select([self._psql.stdout], [], [], 0)
        return bool(ready)

    def read_line(self, what: str = "psql did not answer") -> str:
        """The next line psql prints (waiting for it, bounded)."""
        assert self._psql.stdout is not None
        ready, _, _ = select.select([self._psql.stdout], [], [], helpers.PATIENCE)
        if not ready:
            raise TimeoutError(what)
        return self._psql.stdout.readline().strip()

    def close(self) -> None:
        if self._psql.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self._psql.stdin.close()
        try:
            self._psql.wait(helpers.PATIENCE)
        except subprocess.TimeoutExpired:
            self._psql.kill()
            self._psql.wait()
        if self._psql.stdout is not None:
            self._psql.stdout.close()


class Postgres:
    """A fresh cluster (initdb in a temporary directory) served by PID 1's only child."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        """settings: the server's options (default SETTINGS: System V memory throughout)."""
        require_namespace_tools()
        self.bin = bin_dir()
        try:
            account = pwd.getpwnam(ACCOUNT)
        except KeyError:
            unavailable(f"no {ACCOUNT} account (the postgresql package makes it)")
        self.root = Path(tempfile.mkdtemp(prefix="shmtop-pg-"))
        try:
            shutil.chown(self.root, account.pw_uid, account.pw_gid)
            self.data = self.root / "data"
            self.port = free_port()
            self.log = self.root / "server.log"
            self._initdb()
            chosen = SETTINGS if settings is None else settings
            options = [f"--{name}={value}" for name, value in chosen.items()]
            self.namespace = Namespace(
                [str(self.bin / "postgres"), "-D", str(self.data),
                 f"--unix_socket_directories={self.root}", f"--port={self.port}", *options],
                user=ACCOUNT, log=self.log,
            )  # fmt: skip
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        try:
            helpers.wait_until(self._accepts, "PostgreSQL accepts connections")
        except BaseException:
            self.namespace.close()
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _as_postgres(self, *command: str) -> list[str]:
        return ["setpriv", f"--reuid={ACCOUNT}", f"--regid={ACCOUNT}", "--init-groups", *command]

    def _initdb(self) -> None:
        # initdb's bootstrap backend makes IPC objects too: give them a throwaway namespace.
        done = subprocess.run(
            ["unshare", "--ipc", "--", *self._as_postgres(
                str(self.bin / "initdb"), "-D", str(self.data), "-U", ACCOUNT, "-A", "trust",
                "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions")],
            capture_output=True, text=True, timeout=120, check=False, cwd="/",
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stdout}{done.stderr}")

    def log_tail(self) -> str:
        with contextlib.suppress(OSError):
            return self.log.read_text(errors="replace")[-2000:]
        return ""

    def _accepts(self) -> bool:
        if self.namespace.server_exited():
            raise RuntimeError(f"PostgreSQL exited at start:\n{self.log_tail()}")
        return self.psql("SELECT 1", check=False) == "1"

    def psql_command(self) -> list[str]:
        psql = self.bin / "psql"
        client = str(psql if psql.exists() else "psql")
        return [client, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(self.root),
                "-p", str(self.port), "-U", ACCOUNT, "-d", "postgres"]  # fmt: skip

    def psql(self, sql: str, *, check: bool = True) -> str:
        """One client connection running sql; its output (unaligned, tuples only)."""
        done = subprocess.run(
            [*self.psql_command(), "-A", "-t", "-c", sql],
            capture_output=True, text=True, timeout=helpers.PATIENCE, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise AssertionError(f"psql -c {sql!r} failed: {done.stderr}")
        return done.stdout.strip()

    @contextlib.contextmanager
    def sessions(self, count: int) -> Iterator[list[Session]]:
        """count clients connected (each checked by a query) until the block ends."""
        opened: list[Session] = []
        try:
            for _ in range(count):
                opened.append(Session(self.psql_command()))
            yield opened
        finally:
            for session in opened:
                session.close()

    def make_slow_table(self) -> None:
        self.psql(f"CREATE TABLE slow AS SELECT g FROM generate_series(1, {SLOW_ROWS}) g; "
                  "ANALYZE slow;")  # fmt: skip

    @contextlib.contextmanager
    def parallel_query(self) -> Iterator[Session]:
        """A parallel query running (a leader and its workers) until the block ends (cancelled)."""
        with self.sessions(1) as (leader,):
            leader.send(FORCE_PARALLEL)
            leader.send(f"SELECT count(*) FROM slow WHERE pg_sleep({ROW_SLEEP}) IS NOT NULL;")
            try:
                yield leader
            finally:
                self.psql(f"SELECT pg_cancel_backend({leader.backend_pid})")

    def stop(self) -> list[str]:
        """pg_ctl stop -m immediate inside, then end the namespace; what was left behind."""
        try:
            pg_ctl = str(self.bin / "pg_ctl")
            stop = [pg_ctl, "stop", "-D", str(self.data), "-m", "immediate", "-w"]
            return self.namespace.finish(self._as_postgres(*stop))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
