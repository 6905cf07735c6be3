"""Error reports to Sentry when ``SENTRY_DSN`` is set, with patient data scrubbed before sending.

``scrub_event`` is the ``before_send`` hook (also applied to transactions): it removes request
bodies, cookies, query strings and credentials headers, every frame's local variables, values
under keys that can carry patient data or secrets (titles, notes, summaries, descriptions,
emails, tokens, passwords), and email addresses anywhere in messages. It keeps what is needed to
fix a bug: exception types, stack frames, URL paths, logger names, request ids.
"""

from __future__ import annotations

import re
from typing import Any

FILTERED = "[Filtered]"
# Keys whose values are dropped wherever they appear: whole names, then parts of names.
SENSITIVE_KEYS = {
    "title",
    "note",
    "notes",
    "summary",
    "description",
    "name",
    "first_name",
    "last_name",
    "phone",
}
SENSITIVE_PARTS = re.compile(r"email|token|secret|password|passwd|authorization|cookie|session|csrf|patient")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
DROPPED_HEADERS = {"authorization", "cookie", "x-goog-channel-token", "proxy-authorization", "x-csrftoken"}


def _sensitive(key: object) -> bool:
    return isinstance(key, str) and (
        key.lower() in SENSITIVE_KEYS or bool(SENSITIVE_PARTS.search(key.lower()))
    )


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: FILTERED if _sensitive(key) else _scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    if isinstance(value, str):
        return EMAIL.sub("[email]", value)
    return value


def _scrub_request(request: dict) -> dict:
    for key in ("data", "cookies", "query_string", "env"):
        request.pop(key, None)
    headers = request.get("headers") or {}
    request["headers"] = {k: v for k, v in headers.items() if k.lower() not in DROPPED_HEADERS}
    if "url" in request:
        request["url"] = request["url"].split("?", 1)[0]
    return request


def _drop_frame_vars(event: dict) -> None:
    for exception in (event.get("exception") or {}).get("values") or []:
        for frame in (exception.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)
    for thread in (event.get("threads") or {}).get("values") or []:
        for frame in (thread.get("stacktrace") or {}).get("frames") or []:
            frame.pop("vars", None)


def scrub_event(event: dict, hint: dict | None = None) -> dict:
    """``before_send``: the event without patient data or credentials (never drops the event)."""
    if isinstance(event.get("request"), dict):
        event["request"] = _scrub_request(event["request"])
    _drop_frame_vars(event)
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {key: user[key] for key in ("id",) if key in user}
    for key in ("extra", "contexts", "breadcrumbs", "logentry", "exception", "message", "tags"):
        if key in event:
            event[key] = _scrub(event[key])
    return event


def sentry_init(*, dsn: str, environment: str = "", release: str = "", transport: Any = None) -> None:
    """Start the SDK with the Django and logging integrations (errors and ERROR log lines become events)."""
    import logging

    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration
    from sentry_sdk.integrations.logging import LoggingIntegration

    options: dict[str, Any] = {
        "dsn": dsn,
        "environment": environment or None,
        "release": release or None,
        "integrations": [
            DjangoIntegration(),
            LoggingIntegration(level=logging.INFO, event_level=logging.ERROR),
        ],
        "include_local_variables": False,
        "max_request_body_size": "never",
        "before_send": scrub_event,
        "before_send_transaction": scrub_event,
        "traces_sample_rate": 0.0,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)
