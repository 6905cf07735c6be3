"""Sentry gets errors without patient data or credentials (a fake transport captures what would be sent)."""

from __future__ import annotations

import io
from wsgiref.util import setup_testing_defaults

import pytest
import sentry_sdk
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from sentry_sdk.transport import Transport

from copilot.ops.sentry import scrub_event, sentry_init

SECRETS = [
    "Zebulon Quartermaine",  # title
    "Allergic to latex",  # notes
    "bearer-secret-123",  # Authorization header
    "cookie-secret-456",  # session cookie
    "alice@a.test",  # email in an exception message
    "bob@a.test",  # email in a log message
]


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)


@pytest.fixture
def sent():
    transport = CapturingTransport()
    sentry_init(dsn="https://key@sentry.invalid/1", environment="test", transport=transport)
    yield transport
    sentry_sdk.init()  # no DSN: the SDK is off again for the other tests


def post_through_wsgi(path: str, body: bytes, **headers) -> str:
    """POST through Django's real WSGI handler (the one Sentry instruments in production)."""
    from django.core.handlers.wsgi import WSGIHandler

    path, _, query = path.partition("?")
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query, "HTTP_HOST": "testserver"}
    setup_testing_defaults(environ)
    environ.update(
        {
            "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            **{f"HTTP_{name.upper()}": value for name, value in headers.items()},
        }
    )
    statuses = []
    # As Django's test client does: keep the test's database connection open across the request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        b"".join(WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)
    return statuses[0]


@pytest.mark.urls("tests.ops.urls_boom")
def test_an_error_reaches_sentry_without_patient_data_or_credentials(sent, db):
    status = post_through_wsgi(
        "/boom/?title=Zebulon+Quartermaine",
        b"title=Zebulon+Quartermaine&notes=Allergic+to+latex",
        authorization="Bearer bearer-secret-123",
        cookie="sessionid=cookie-secret-456",
        x_request_id="req-0123456789",
    )
    assert status.startswith("500")
    sentry_sdk.flush()
    events = [
        item.payload.json for envelope in sent.envelopes for item in envelope.items if item.type == "event"
    ]
    assert len(events) == 2  # the ERROR log line and the unhandled exception
    wire = b"".join(envelope.serialize() for envelope in sent.envelopes).decode()
    for secret in SECRETS:
        assert secret not in wire, f"{secret!r} was sent to Sentry"
    crash = next(e for e in events if e.get("exception"))
    assert crash["exception"]["values"][-1]["type"] == "RuntimeError"
    assert crash["exception"]["values"][-1]["value"] == "No free slot for [email]"
    assert crash["request"]["url"].endswith("/boom/")
    assert crash["request"]["headers"]["X-Request-Id"] == "req-0123456789"
    assert "Authorization" not in crash["request"]["headers"]
    log_event = next(e for e in events if e.get("logentry"))
    assert log_event["logentry"]["message"] == "Push failed for %s"


def test_scrubbing_keeps_what_a_developer_needs():
    event = {
        "user": {"id": "7", "email": "alice@a.test", "ip_address": "10.0.0.1"},
        "extra": {"title": "Zebulon", "appointment_id": 42, "access_token": "ya29.x", "connection_id": 3},
        "exception": {
            "values": [
                {"type": "KeyError", "stacktrace": {"frames": [{"function": "push", "vars": {"t": "x"}}]}}
            ]
        },
    }
    scrubbed = scrub_event(event, {})
    assert scrubbed["user"] == {"id": "7"}
    assert scrubbed["extra"] == {
        "title": "[Filtered]",
        "appointment_id": 42,
        "access_token": "[Filtered]",
        "connection_id": 3,
    }
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"] == [{"function": "push"}]
