"""Fixtures for the emulator's own tests: a real server over loopback, real Google libraries.

`emulator` is one server per test module, reset before each test (cheap and
isolated). `google` wraps it with helpers to make people, calendars, tokens,
credentials and API clients. `receiver` is a tiny webhook endpoint for push.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from google_emulator import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    EmulatorServer,
    start_emulator,
)

CALENDAR = "https://www.googleapis.com/auth/calendar"
EVENTS = "https://www.googleapis.com/auth/calendar.events"
READONLY = "https://www.googleapis.com/auth/calendar.readonly"
FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"
SIGN_IN = ["openid", "email", "profile"]


def reason_of(error: HttpError) -> str:
    """Google's reason code from an HttpError body (HttpError.reason is the message)."""
    return json.loads(error.content)["error"]["errors"][0]["reason"]


class Google:
    """Helpers around one running emulator."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.url = server.url

    def control(self, method: str, path: str, body: Any = None) -> Any:
        response = requests.request(method, f"{self.url}/_emulator/{path}", json=body, timeout=10)
        assert response.status_code < 300, response.text
        return response.json()

    def user(self, email: str, name: str | None = None, time_zone: str = "UTC") -> dict[str, Any]:
        return self.control("POST", "users", {"email": email, "name": name, "timeZone": time_zone})

    def calendar(
        self, owner: str, summary: str, acl: dict[str, str] | None = None, time_zone: str = "UTC"
    ) -> str:
        rules = [{"email": e, "role": r} for e, r in (acl or {}).items()]
        body = {"owner": owner, "summary": summary, "timeZone": time_zone, "acl": rules}
        return self.control("POST", "calendars", body)["id"]

    def tokens(self, email: str, scopes: list[str] | None = None) -> dict[str, Any]:
        return self.control("POST", "tokens", {"email": email, "scopes": scopes or [*SIGN_IN, CALENDAR]})

    def credentials(self, email: str, scopes: list[str] | None = None) -> Credentials:
        return self.credentials_of(self.tokens(email, scopes))

    def credentials_of(self, tokens: dict[str, Any]) -> Credentials:
        """Credentials for a token answer (`/token`, `/_emulator/tokens` or `/_emulator/bulk`)."""
        return Credentials(
            tokens["access_token"],
            refresh_token=tokens["refresh_token"],
            token_uri=self.url + "/token",
            client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
            scopes=tokens["scope"].split(),
        )

    def service(
        self, email: str, scopes: list[str] | None = None, credentials: Credentials | None = None
    ) -> Any:
        creds = credentials or self.credentials(email, scopes)
        return build(
            "calendar",
            "v3",
            credentials=creds,
            static_discovery=True,
            client_options={"api_endpoint": self.url + "/calendar/v3/"},
        )

    def stats(self) -> dict[str, Any]:
        return self.control("GET", "stats")


@pytest.fixture(scope="module")
def emulator_server() -> Iterator[EmulatorServer]:
    server = start_emulator(port=0, push_retry_delay=0.05)
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server: EmulatorServer) -> EmulatorServer:
    """A running emulator, reset to empty for this test."""
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def google(emulator: EmulatorServer) -> Google:
    return Google(emulator)


@pytest.fixture
def ana(google: Google) -> str:
    """Ana owns a primary calendar in UTC."""
    return google.user("ana@example.test", "Ana Diaz")["email"]


@pytest.fixture
def ben(google: Google) -> str:
    return google.user("ben@example.test", "Ben Okafor")["email"]


# -- a webhook receiver for push notifications ----------------------------------------
class Receiver:
    """Records POSTs; answers with scripted statuses (then 200)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, str]] = []
        self.statuses: list[int] = []
        self._cond = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._cond:
                    receiver.calls.append({k.lower(): v for k, v in self.headers.items()})
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/google"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
        """Block until at least `count` calls arrived; return them all."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.calls) >= count, timeout)
            assert ok, f"expected {count} deliveries, got {len(self.calls)}: {self.calls}"
            return list(self.calls)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    yield hook
    hook.close()
