"""The HTTP face of the emulator: a ThreadingHTTPServer in a daemon thread."""

from __future__ import annotations

import logging
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from . import oauth
from .app import Emulator
from .demo import seed as seed_demo
from .quotas import QuotaPlan
from .store import Store
from .wire import Request

log = logging.getLogger("google_emulator")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in separate writes; without this, Nagle plus the
        # client's delayed ACK adds ~40 ms to every response.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request.from_target(self.command, self.path, dict(self.headers.items()), body)
        response = self.server.app.handle(req)  # type: ignore[attr-defined]
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status not in (204, 304):
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.status not in (204, 304):
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    app: Emulator


class _Server6(_Server):
    address_family = socket.AF_INET6


class EmulatorServer:
    """A running emulator. Use `.url`, `.reset()`, `.stop()` (or `with`)."""

    def __init__(self, app: Emulator, httpd: _Server, host: str) -> None:
        self.app = app
        self._httpd = httpd
        self.host = host
        self.port: int = httpd.server_address[1]
        shown = "127.0.0.1" if host in ("", "0.0.0.0") else host
        shown = f"[{shown}]" if ":" in shown else shown
        self.url = f"http://{shown}:{self.port}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name=f"google-emulator-{self.port}", daemon=True
        )
        self._stopped = False

    def start(self) -> EmulatorServer:
        self.app.channels.start()
        self.app.store.start_saver()
        self._thread.start()
        return self

    def reset(self) -> None:
        """Same as `POST /_emulator/reset`: keeps clients and the signing key."""
        with self.app.store.lock:
            self.app.reset()

    def stop(self) -> None:
        """Stop serving, stop push delivery, and flush the state file. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._httpd.shutdown()
        self._httpd.server_close()
        self.app.channels.close()
        self.app.store.close()

    def serve_forever(self) -> None:
        """Block the calling thread until interrupted (for the management command)."""
        try:
            self._thread.join()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> EmulatorServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    state_file: str | os.PathLike[str] | None = None,
    access_token_lifetime: int = 3600,
    clients: list[dict[str, Any]] | None = None,
    demo: bool = False,
    *,
    push_retry_delay: float = 1.0,
    push_attempts: int = 5,
    quotas: bool | dict[str, Any] = False,
) -> EmulatorServer:
    """Start a Google emulator in a daemon thread and return it, already serving.

    `port=0` picks a free port (see `.url`). `state_file` loads state when it
    exists and saves changes back. `clients` registers extra OAuth clients
    (`client_id`, `client_secret`, optional `redirect_uris`, `name`); the
    default client is always there. `demo=True` seeds the demo accounts. `quotas=True`
    enforces Google's per-minute quotas (600 per user, 10,000 per project); a dict such as
    `{"user_per_minute": 5}` changes them (see `quotas.QuotaPlan`); off by default.
    """
    store = Store(state_file)
    app = Emulator(
        store,
        token_lifetime=access_token_lifetime,
        push_retry_delay=push_retry_delay,
        push_attempts=push_attempts,
        quotas=_quota_plan(quotas),
    )
    oauth.register_client(app, oauth.default_client())
    for client in clients or []:
        oauth.register_client(app, client)
    if demo:
        seed_demo(store)
    server_class = _Server6 if ":" in host else _Server
    httpd = server_class((host, port), _Handler)
    httpd.app = app
    server = EmulatorServer(app, httpd, host)
    app.base_url = server.url
    return server.start()


def _quota_plan(quotas: bool | dict[str, Any]) -> QuotaPlan:
    if isinstance(quotas, dict):
        return QuotaPlan.from_json({"enabled": True, **quotas})
    return QuotaPlan(enabled=bool(quotas))
