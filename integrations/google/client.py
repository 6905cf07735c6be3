"""The only module that calls Google.

It builds an API client per task from plain token data, runs Calendar API requests (one by
one or in batches), and maps every failure to a few typed exceptions. It knows nothing of
the ORM: callers pass tokens in and get plain dicts back; a refreshed access token is
handed to the caller's ``on_refresh`` callback so it can be persisted (google-auth does
not do that).
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import google.auth.exceptions
import httplib2
import requests
from django.conf import settings
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import BatchHttpRequest

logger = logging.getLogger(__name__)

FREEBUSY_MAX_CALENDARS = 50
FREEBUSY_MAX_RANGE = timedelta(days=60)

# Scope names Google reports for what we ask as "email" / "profile".
SCOPE_ALIASES = {
    "email": "https://www.googleapis.com/auth/userinfo.email",
    "profile": "https://www.googleapis.com/auth/userinfo.profile",
}


def normalize_scopes(scopes: str | Sequence[str]) -> set[str]:
    """Scopes as Google reports them (``email`` → ``…/userinfo.email``)."""
    items = scopes.split() if isinstance(scopes, str) else scopes
    return {SCOPE_ALIASES.get(item, item) for item in items}


# --- Errors ---------------------------------------------------------------------------------


class GoogleError(Exception):
    """A Google request failed. ``status`` and ``reason`` are Google's; str() is for people."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = ""):
        super().__init__(message)
        self.status = status
        self.reason = reason


class Retryable(GoogleError):
    """Google is down, slow or rate limiting: try again later."""


class NeedsReconnect(GoogleError):
    """The grant is dead (revoked or expired refresh token): a person must reconnect."""


class MissingPermission(GoogleError):
    """The grant lacks a scope this request needs."""


class Forbidden(GoogleError):
    """The account may not do this to this calendar (for example no write access)."""


class NotFound(GoogleError):
    """The event or calendar does not exist, or is gone (404 / 410 deleted)."""


class Duplicate(GoogleError):
    """409: an event with that id exists or existed on the calendar."""


class PreconditionFailed(GoogleError):
    """412: the event changed in Google since the etag we sent."""


class SyncTokenInvalid(GoogleError):
    """410 fullSyncRequired: drop the sync token and do a full sync."""


class BadRequest(GoogleError):
    """400: Google refused what we sent; retrying the same will not help."""


def _reason_and_message(content: bytes | str | None) -> tuple[str, str]:
    try:
        error = json.loads(content or b"{}").get("error", {})
    except (ValueError, AttributeError):
        return "", ""
    if not isinstance(error, dict):
        return str(error), ""
    errors = error.get("errors") or [{}]
    return errors[0].get("reason", ""), error.get("message", "")


def classify_http_error(status: int, content: bytes | str | None) -> GoogleError:
    """Map a Google HTTP error response to one of the typed exceptions."""
    reason, message = _reason_and_message(content)
    text = (
        f"Google answered {status}" + (f" ({reason})" if reason else "") + (f": {message}" if message else "")
    )
    kwargs = {"status": status, "reason": reason}
    if status == 401:
        return NeedsReconnect("Google no longer accepts this connection's credentials.", **kwargs)
    if status == 403:
        if reason == "insufficientPermissions":
            return MissingPermission("Google says this connection lacks a permission it needs.", **kwargs)
        if reason in {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}:
            return Retryable(text, **kwargs)
        return Forbidden(text, **kwargs)
    if status == 410 and reason == "fullSyncRequired":
        return SyncTokenInvalid(text, **kwargs)
    if status in (404, 410):
        return NotFound(text, **kwargs)
    if status == 409:
        return Duplicate(text, **kwargs)
    if status == 412:
        return PreconditionFailed(text, **kwargs)
    if status == 429 or status >= 500:
        return Retryable(text, **kwargs)
    return BadRequest(text, **kwargs)


def classify_exception(exc: BaseException) -> GoogleError:
    """Map anything a Google call raised to a typed exception."""
    if isinstance(exc, GoogleError):
        return exc
    if isinstance(exc, HttpError):
        return classify_http_error(exc.resp.status, exc.content)
    if isinstance(exc, google.auth.exceptions.RefreshError):
        text = str(exc)
        if "invalid_grant" in text:
            return NeedsReconnect("Google no longer accepts this connection (token expired or revoked).")
        if "invalid_scope" in text:
            return MissingPermission("Google refused a permission this connection needs.")
        return Retryable(f"Refreshing the Google token failed: {text}")
    if isinstance(
        exc,
        (
            socket.timeout,
            TimeoutError,
            ConnectionError,
            OSError,
            httplib2.HttpLib2Error,
            google.auth.exceptions.TransportError,
            requests.RequestException,
        ),
    ):
        return Retryable(f"Could not reach Google: {exc.__class__.__name__}: {exc}")
    raise exc


# --- Observers (metrics count Google requests through this) -------------------------------------

_request_observers: list[Callable[[GoogleError | None], None]] = []


def add_request_observer(observer: Callable[[GoogleError | None], None]) -> None:
    """Have ``observer(error)`` called after every Google request: ``None`` on success."""
    if observer not in _request_observers:
        _request_observers.append(observer)


def _observed(error: GoogleError | None = None) -> GoogleError | None:
    for observer in _request_observers:
        with contextlib.suppress(Exception):  # counting must never break a sync
            observer(error)
    return error


# --- Tokens -----------------------------------------------------------------------------------


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    expiry: datetime | None  # aware UTC
    scopes: set[str] = field(default_factory=set)


def _credentials(tokens: Tokens) -> Credentials:
    expiry = tokens.expiry.astimezone(UTC).replace(tzinfo=None) if tokens.expiry else None
    return Credentials(
        tokens.access_token or None,
        refresh_token=tokens.refresh_token or None,
        token_uri=settings.GOOGLE_URLS["token"],
        client_id=settings.GOOGLE_CLIENT_ID,
        client_secret=settings.GOOGLE_CLIENT_SECRET,
        expiry=expiry,
    )


def revoke(token: str) -> None:
    """Revoke a grant at Google (access or refresh token). Unknown tokens are ignored."""
    try:
        response = requests.post(
            settings.GOOGLE_URLS["revoke"], data={"token": token}, timeout=settings.GOOGLE_HTTP_TIMEOUT
        )
    except requests.RequestException as exc:
        raise classify_exception(exc) from exc
    if response.status_code >= 500:
        raise Retryable(f"Google could not revoke the token ({response.status_code}).")


# --- Operations ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventOp:
    """One event write or read, as plain data, so it can run alone or in a batch."""

    kind: str  # insert | update | patch | delete | get | move
    calendar_id: str
    event_id: str = ""
    body: dict | None = None
    etag: str = ""
    destination: str = ""


@dataclass(frozen=True)
class EventPage:
    items: list[dict]
    next_sync_token: str | None


class GoogleSession:
    """Calendar API calls with one account's credentials. Build one per task; not thread-safe."""

    def __init__(self, tokens: Tokens, *, on_refresh: Callable[[Tokens], None] | None = None):
        self._tokens = tokens
        self._on_refresh = on_refresh
        self._credentials = _credentials(tokens)
        self._http = AuthorizedHttp(
            self._credentials, http=httplib2.Http(timeout=settings.GOOGLE_HTTP_TIMEOUT)
        )
        self._service = build(
            "calendar",
            "v3",
            http=self._http,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": settings.GOOGLE_URLS["api_endpoint"]},
        )

    # -- plumbing
    def _noticed_refresh(self) -> None:
        creds = self._credentials
        if creds.token and creds.token != self._tokens.access_token:
            expiry = creds.expiry.replace(tzinfo=UTC) if creds.expiry else None
            granted = getattr(creds, "granted_scopes", None)
            self._tokens = Tokens(
                access_token=creds.token,
                refresh_token=creds.refresh_token or self._tokens.refresh_token,
                expiry=expiry,
                scopes=normalize_scopes(granted) if granted else self._tokens.scopes,
            )
            if self._on_refresh is not None:
                self._on_refresh(self._tokens)

    def _execute(self, request) -> Any:
        try:
            answer = request.execute(num_retries=0)
        except Exception as exc:
            raise _observed(classify_exception(exc)) from exc
        finally:
            self._noticed_refresh()
        _observed()
        return answer

    def refresh(self) -> Tokens:
        """Refresh the access token now (proves the grant is alive). Returns the new tokens."""
        import google.auth.transport.requests

        try:
            self._credentials.refresh(google.auth.transport.requests.Request())
        except Exception as exc:
            raise _observed(classify_exception(exc)) from exc
        _observed()
        self._noticed_refresh()
        return self._tokens

    @property
    def tokens(self) -> Tokens:
        return self._tokens

    # -- calendars
    def list_calendars(self) -> list[dict]:
        """Every entry of the account's calendar list (all pages)."""
        entries: list[dict] = []
        page_token = None
        while True:
            page = self._execute(
                self._service.calendarList().list(pageToken=page_token, maxResults=250, showHidden=True)
            )
            entries.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return entries

    # -- events
    @functools.cached_property
    def _events(self):
        # Building a resource is costly (the client renders every method's docstring): once per session.
        return self._service.events()

    def _request(self, op: EventOp):
        events = self._events
        if op.kind == "insert":
            request = events.insert(calendarId=op.calendar_id, body=op.body, sendUpdates="none")
        elif op.kind == "update":
            request = events.update(
                calendarId=op.calendar_id, eventId=op.event_id, body=op.body, sendUpdates="none"
            )
        elif op.kind == "patch":
            request = events.patch(
                calendarId=op.calendar_id, eventId=op.event_id, body=op.body, sendUpdates="none"
            )
        elif op.kind == "delete":
            request = events.delete(calendarId=op.calendar_id, eventId=op.event_id, sendUpdates="none")
        elif op.kind == "get":
            request = events.get(calendarId=op.calendar_id, eventId=op.event_id)
        elif op.kind == "move":
            request = events.move(
                calendarId=op.calendar_id, eventId=op.event_id, destination=op.destination, sendUpdates="none"
            )
        else:
            raise ValueError(f"Unknown event operation {op.kind!r}")
        if op.etag:
            request.headers["If-Match"] = op.etag
        return request

    def run(self, op: EventOp) -> dict:
        """Run one operation; returns the event (``{}`` for a delete)."""
        return self._execute(self._request(op)) or {}

    def run_batch(self, ops: Sequence[EventOp], *, batch_size: int | None = None) -> list[dict | GoogleError]:
        """Run operations through Google's batch endpoint, ``batch_size`` per HTTP request.

        Up to ``GOOGLE_BATCH_CONCURRENCY`` batch requests are in flight at once, each on its own
        HTTP connection (httplib2 is not thread-safe; the credentials are refreshed first, here).
        Returns one entry per operation, in order: the event dict or the classified error.
        A whole batch that fails (network, auth) raises instead.
        """
        size = batch_size or settings.GOOGLE_BATCH_SIZE
        chunks = [list(ops[offset : offset + size]) for offset in range(0, len(ops), size)]
        if not chunks:
            return []
        if not self._credentials.valid:
            self.refresh()
        batches = [self._batch(chunk) for chunk in chunks]
        workers = max(1, min(settings.GOOGLE_BATCH_CONCURRENCY, len(batches)))
        try:
            if workers == 1:
                answers = [self._send_batch(batch, self._http) for batch in batches]
            else:
                with ThreadPoolExecutor(max_workers=workers) as pool:
                    answers = list(pool.map(lambda b: self._send_batch(b, self._new_http()), batches))
        finally:
            self._noticed_refresh()
        missing = Retryable("Google's batch answer lacked this part.")
        return [
            answer.get(str(index), missing)
            for answer, chunk in zip(answers, chunks, strict=True)
            for index in range(len(chunk))
        ]

    def _batch(self, chunk: list[EventOp]) -> tuple[BatchHttpRequest, dict]:
        answers: dict[str, dict | GoogleError] = {}

        def callback(request_id, response, exception):
            error = classify_exception(exception) if exception else None
            answers[request_id] = _observed(error) or response or {}

        batch = BatchHttpRequest(callback=callback, batch_uri=settings.GOOGLE_URLS["batch"])
        for index, op in enumerate(chunk):
            # Short ids keep the Content-ID header on one line (long ones get folded).
            batch.add(self._request(op), request_id=str(index))
        return batch, answers

    def _new_http(self) -> AuthorizedHttp:
        return AuthorizedHttp(self._credentials, http=httplib2.Http(timeout=settings.GOOGLE_HTTP_TIMEOUT))

    @staticmethod
    def _send_batch(batch: tuple[BatchHttpRequest, dict], http) -> dict:
        request, answers = batch
        try:
            request.execute(http=http)
        except Exception as exc:
            raise classify_exception(exc) from exc
        return answers

    def find_tagged_events(self, calendar_id: str, tags: dict[str, str]) -> list[dict]:
        """Live events on ``calendar_id`` whose private extended properties match ``tags``."""
        found: list[dict] = []
        page_token = None
        filters = [f"{key}={value}" for key, value in tags.items()]
        while True:
            page = self._execute(
                self._events.list(
                    calendarId=calendar_id,
                    privateExtendedProperty=filters,
                    showDeleted=False,
                    pageToken=page_token,
                    maxResults=2500,
                )
            )
            found.extend(page.get("items", []))
            page_token = page.get("nextPageToken")
            if not page_token:
                return found

    def iter_event_pages(
        self,
        calendar_id: str,
        *,
        sync_token: str | None = None,
        time_min: datetime | None = None,
        time_max: datetime | None = None,
        page_size: int = 250,
    ) -> Iterator[EventPage]:
        """Stream ``events.list`` pages (singleEvents) until the one carrying ``nextSyncToken``.

        With ``sync_token`` only changes come back; raises ``SyncTokenInvalid`` on 410.
        """
        params: dict[str, Any] = {"calendarId": calendar_id, "singleEvents": True, "maxResults": page_size}
        if sync_token:
            params["syncToken"] = sync_token
        else:
            if time_min:
                params["timeMin"] = time_min.isoformat()
            if time_max:
                params["timeMax"] = time_max.isoformat()
        page_token = None
        while True:
            page = self._execute(self._events.list(pageToken=page_token, **params))
            page_token = page.get("nextPageToken")
            yield EventPage(items=page.get("items", []), next_sync_token=page.get("nextSyncToken"))
            if not page_token:
                return

    # -- push notifications
    def watch(self, calendar_id: str, *, channel_id: str, token: str, address: str, ttl_seconds: int) -> dict:
        body = {
            "id": channel_id,
            "token": token,
            "type": "web_hook",
            "address": address,
            "params": {"ttl": str(ttl_seconds)},
        }
        return self._execute(self._events.watch(calendarId=calendar_id, body=body))

    def stop_channel(self, *, channel_id: str, resource_id: str) -> None:
        with contextlib.suppress(NotFound):  # already stopped or expired
            self._execute(self._service.channels().stop(body={"id": channel_id, "resourceId": resource_id}))

    # -- free/busy
    def free_busy(
        self, calendar_ids: Sequence[str], time_min: datetime, time_max: datetime
    ) -> dict[str, list[tuple[datetime, datetime]] | GoogleError]:
        """Busy intervals per calendar, chunked to Google's limits (50 calendars, bounded range)."""
        result: dict[str, list[tuple[datetime, datetime]] | GoogleError] = {cid: [] for cid in calendar_ids}
        for offset in range(0, len(calendar_ids), FREEBUSY_MAX_CALENDARS):
            ids = list(calendar_ids[offset : offset + FREEBUSY_MAX_CALENDARS])
            start = time_min
            while start < time_max:
                end = min(start + FREEBUSY_MAX_RANGE, time_max)
                body = {
                    "timeMin": start.isoformat(),
                    "timeMax": end.isoformat(),
                    "items": [{"id": cid} for cid in ids],
                }
                answer = self._execute(self._service.freebusy().query(body=body))
                for cid, data in answer.get("calendars", {}).items():
                    if cid not in result or isinstance(result[cid], GoogleError):
                        continue
                    if data.get("errors"):
                        reason = data["errors"][0].get("reason", "")
                        result[cid] = NotFound(
                            f"Google cannot show free/busy of {cid} ({reason}).", reason=reason
                        )
                        continue
                    result[cid].extend(
                        (parse_datetime(b["start"]), parse_datetime(b["end"])) for b in data.get("busy", [])
                    )
                start = end
        return result


def parse_datetime(value: str) -> datetime:
    """An RFC 3339 timestamp from Google as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
