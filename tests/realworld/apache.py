"""Apache 2.4 prefork (Debian's package), a System V semaphore its accept mutex, in namespaces."""

from __future__ import annotations

import pwd
import shutil
import tempfile
import urllib.request
from pathlib import Path

import helpers

from realworld.namespace import Namespace, free_port, require_namespace_tools, unavailable

APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
ACCOUNT = "www-data"
SERVERS = 5
PAGE = b"shmtop realworld\n"
CONFIG = """\
ServerRoot "{root}"
ServerName 127.0.0.1
DefaultRuntimeDir "{root}"
PidFile "{root}/httpd.pid"
ErrorLog "{root}/error.log"
LogLevel warn
LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so
LoadModule authz_core_module {modules}/mod_authz_core.so
# Two listeners: with one, prefork children accept unserialized and take no accept mutex.
Listen 127.0.0.1:{port_a}
Listen 127.0.0.1:{port_b}
User {user}
Group {user}
Mutex sysvsem
StartServers {servers}
MinSpareServers {servers}
MaxSpareServers {servers}
ServerLimit {limit}
MaxRequestWorkers {limit}
KeepAlive Off
DocumentRoot "{root}/htdocs"
<Directory "{root}/htdocs">
    Require all granted
</Directory>
"""


class Apache:
    """apache2 -DFOREGROUND with a private configuration, as PID 1's only child."""

    def __init__(self) -> None:
        require_namespace_tools()
        if not APACHE.exists() or not (MODULES / "mod_mpm_prefork.so").exists():
            unavailable(f"Apache not installed (no {APACHE} with mpm_prefork): "
                        "apt-get install apache2")  # fmt: skip
        try:
            self.uid = pwd.getpwnam(ACCOUNT).pw_uid
        except KeyError:
            unavailable(f"no {ACCOUNT} account for Apache's children")
        self.root = Path(tempfile.mkdtemp(prefix="shmtop-apache-"))
        self.root.chmod(0o755)  # the children (www-data) read the document root
        self.ports = (free_port(), free_port())
        self.config = self.root / "httpd.conf"
        (self.root / "htdocs").mkdir()
        (self.root / "htdocs" / "index.html").write_bytes(PAGE)
        self.config.write_text(CONFIG.format(
            root=self.root, modules=MODULES, port_a=self.ports[0], port_b=self.ports[1],
            user=ACCOUNT, servers=SERVERS, limit=2 * SERVERS,
        ))  # fmt: skip
        try:
            self.namespace = Namespace([str(APACHE), "-f", str(self.config), "-DFOREGROUND"],
                                       log=self.root / "server.log")  # fmt: skip
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
        try:
            helpers.wait_until(self.at_rest, "Apache's children wait on the accept mutex")
        except BaseException:
            self.namespace.close()
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def log_tail(self) -> str:
        text = ""
        for name in ("server.log", "error.log"):
            path = self.root / name
            if path.exists():
                text += path.read_text(errors="replace")[-2000:]
        return text

    def at_rest(self) -> bool:
        """All children started, and all but the one holding the mutex blocked on it."""
        if self.namespace.server_exited():
            raise RuntimeError(f"Apache exited at start:\n{self.log_tail()}")
        truth = self.namespace.truth()
        children = [p.pid for p in truth.processes.values() if p.euid == self.uid]
        return len(children) == SERVERS and len(truth.sem_waiters()) == SERVERS - 1

    def get(self, port: int) -> bytes:
        """GET / from 127.0.0.1 (never through a proxy)."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{port}/index.html", timeout=helpers.PATIENCE) as reply:
            body: bytes = reply.read()
            return body

    def stop(self) -> list[str]:
        """apache2 -k stop inside, then end the namespace; what was left behind."""
        try:
            return self.namespace.finish([str(APACHE), "-f", str(self.config), "-k", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
