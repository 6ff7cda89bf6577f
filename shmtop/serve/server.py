"""The web server: textual-serve's page and websocket, with a read-only session for every
browser and a changing one only for a browser that presents the token.

textual-serve runs one command per websocket (a browser session); here the command is
chosen per request: `shmtop --readonly` unless changes are allowed and the websocket's path
carries the token. The check is made before the session's process starts. The token
travels in the page's query (`/?token=T`) and the websocket's path (`/ws/T`: textual.js
appends its own query to the websocket URL); aiohttp's access log, which would write both
down, is off.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import signal
from collections.abc import Callable, Sequence
from typing import Any

import aiohttp_jinja2
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from shmtop.serve.access import is_loopback, request_refusal, token_matches

log = logging.getLogger("shmtop.serve")

STOP_GRACE = 5.0  # seconds a session has to quit when asked, before it is killed


class BrowserServer(Server):
    """textual-serve's Server with the choice of command made per session (see the module)."""

    def __init__(
        self,
        readonly_command: Sequence[str],
        changes_command: Sequence[str] | None,
        token: str | None,
        *,
        host: str,
        port: int,
    ) -> None:
        super().__init__(_shell(readonly_command), host=host, port=port, title="shmtop")
        self.changes_command = None if changes_command is None else _shell(changes_command)
        self.token = token if changes_command is not None else None
        self.bound_to_loopback = is_loopback(host)
        self.sessions: set[AppService] = set()

    async def _make_app(self) -> web.Application:
        app = web.Application()
        aiohttp_jinja2.setup(app, loader=_jinja_loader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                web.get("/ws/{token}", self.handle_websocket, name="websocket-token"),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    def _refuse(self, request: web.Request) -> None:
        """403 for a request from the wrong host or origin (see access.request_refusal)."""
        why = request_refusal(
            request.host, request.headers.get("Origin"), bound_to_loopback=self.bound_to_loopback
        )
        if why is not None:
            raise web.HTTPForbidden(text=f"shmtop serve: {why}\n")

    async def handle_download(self, request: web.Request) -> web.StreamResponse:
        """A file a session delivered: its key is unguessable, and the Host and Origin
        checks of every other route apply too (a rebinding name gets no download)."""
        self._refuse(request)
        return await super().handle_download(request)

    def _session_command(self, given: str | None) -> str:
        """The command for a session: a token given must be the right one (403 otherwise,
        rather than a silent read-only view the user would take for the changing one)."""
        if given is None:
            return self.command
        if self.changes_command is None or not token_matches(given, self.token):
            raise web.HTTPForbidden(text="shmtop serve: wrong token (or changes not allowed)\n")
        return self.changes_command

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        self._refuse(request)
        given = request.query.get("token")
        self._session_command(given)
        socket = f"ws://{request.host}/ws" + ("" if given is None else f"/{given}")
        context: dict[str, Any] = {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": socket,
            "config": {"static": {"url": "/static/"}},
            "application": {"name": "shmtop" if given is None else "shmtop (changes allowed)"},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Cache-Control"] = "no-store"  # the page holds the token
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """One browser session: checked, then its own shmtop process until either side ends."""
        self._refuse(request)
        command = self._session_command(request.match_info.get("token"))
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        await websocket.prepare(request)

        async def close() -> None:
            await websocket.close()

        service = AppService(
            command,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=self.download_manager,
        )
        self.sessions.add(service)
        try:
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # one session's failure must not stop the server
            log.warning("session failed: %s", error)
        finally:
            self.sessions.discard(service)
            await _stop(service)
        return websocket

    async def _process_messages(
        self, websocket: web.WebSocketResponse, app_service: AppService
    ) -> None:
        """textual-serve's loop, minus its assert: a malformed message ends the session."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            envelope = message.json()
            if not (isinstance(envelope, list) and envelope):
                return
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await app_service.send_bytes(data.encode("utf-8"))
            elif kind == "resize" and isinstance(data, dict):
                await app_service.set_terminal_size(
                    to_int(str(data.get("width")), 80), to_int(str(data.get("height")), 24)
                )
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()

    async def on_shutdown(self, app: web.Application) -> None:
        await asyncio.gather(*(_stop(service) for service in list(self.sessions)))

    async def run(self, started: Callable[[str], None]) -> int:
        """Serve until SIGINT or SIGTERM; `started(url)` is called with the bound address."""
        app = await self._make_app()
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        port = runner.addresses[0][1] if runner.addresses else self.port  # --port 0: chosen
        host = f"[{self.host}]" if ":" in self.host else self.host
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            started(f"http://{host}:{port}/")
            await stop.wait()
        finally:
            await runner.cleanup()  # on_shutdown: every session is asked to quit, or killed
        return 0


async def _stop(service: AppService) -> None:
    """Ask a session to quit; kill its process if it has not within STOP_GRACE."""
    process = service._process
    with contextlib.suppress(Exception):
        await asyncio.wait_for(service.stop(), STOP_GRACE)
    if process is not None and process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(process.wait(), STOP_GRACE)


def _shell(command: Sequence[str]) -> str:
    """textual-serve starts a command through the shell: quoted, and exec'd so the session's
    process is shmtop itself (the one a stop kills), not a shell around it."""
    return "exec " + shlex.join(command)


def _jinja_loader(path: Any) -> Any:
    import jinja2

    return jinja2.FileSystemLoader(path)


def serve(
    readonly_command: Sequence[str],
    changes_command: Sequence[str] | None,
    token: str | None,
    host: str,
    port: int,
    started: Callable[[str], None],
) -> int:
    """Run the server in this thread (see BrowserServer.run)."""
    logging.basicConfig(level=logging.WARNING, format="shmtop serve: %(message)s")
    server = BrowserServer(readonly_command, changes_command, token, host=host, port=port)
    return asyncio.run(server.run(started))
