"""Push notification channels (events.watch) and their delivery worker.

After a watch the channel gets a `sync` message, then an `exists` message on
every change to the watched calendar. Messages are POSTed off the request
thread by one worker, with Google's `X-Goog-*` headers and an empty body, and
retried with exponential backoff on a non-2xx answer or a connection error.
Nothing is sent once a channel is stopped or expired. Only loopback
addresses are contacted: the emulator never reaches beyond this machine.
"""

from __future__ import annotations

import hashlib
import heapq
import http.client
import itertools
import ssl
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass
from typing import Any

from . import errors, timeutil
from .oauth import is_loopback_uri
from .store import Store

DEFAULT_TTL = 7 * 24 * 3600
LOG_SIZE = 500


@dataclass(order=True)
class _Delivery:
    due: float
    order: int
    channel_id: str = ""
    state: str = ""
    number: int = 0
    attempt: int = 1


def resource_id(calendar_id: str) -> str:
    """A stable opaque id for "the events of this calendar", as Google's `resourceId`."""
    return hashlib.sha1(f"events:{calendar_id}".encode()).hexdigest()[:27]


def _expiration_ms(body: dict[str, Any]) -> int:
    params = body.get("params") or {}
    if params.get("ttl") is not None:
        try:
            ttl = int(params["ttl"])
        except (TypeError, ValueError) as exc:
            raise errors.bad_request("Invalid ttl value.", location="params.ttl") from exc
        return int((time.time() + ttl) * 1000)
    if body.get("expiration"):
        return int(body["expiration"])
    return int((time.time() + DEFAULT_TTL) * 1000)


class ChannelHub:
    """Registry of channels plus the delivery worker thread."""

    def __init__(
        self, store: Store, *, retry_delay: float = 1.0, attempts: int = 5, timeout: float = 5.0
    ) -> None:
        self.store = store
        self.retry_delay = retry_delay
        self.attempts = attempts
        self.timeout = timeout
        self.log: deque[dict[str, Any]] = deque(maxlen=LOG_SIZE)
        self._queue: list[_Delivery] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._worker = threading.Thread(target=self._run, name="emulator-push", daemon=True)
        self._index: dict[str, list[str]] = {}
        self._index_of: dict[str, dict[str, Any]] | None = None
        self._indexed = 0
        store.listeners.append(self.calendar_changed)

    def start(self) -> None:
        self._worker.start()

    def reset(self) -> None:
        """Drop queued deliveries and the delivery log (channels live in the store)."""
        with self._cond:
            self._queue.clear()
            self.log.clear()

    def close(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._worker.is_alive():
            self._worker.join(timeout=self.timeout + 1)

    # -- registry (callers hold store.lock) -------------------------------------------
    def watch(
        self, *, calendar_id: str, url_calendar_id: str, email: str, body: dict[str, Any], base_url: str
    ) -> dict[str, Any]:
        """Register a channel from an events.watch body and queue its `sync` message."""
        channel_id = body.get("id")
        if not channel_id:
            raise errors.required("Required channel id", location="id")
        if body.get("type", "web_hook") not in ("web_hook", "webhook"):
            raise errors.bad_request(f"Invalid channel type: {body.get('type')}", "channelTypeInvalid")
        address = body.get("address") or ""
        self._check_address(address)
        if channel_id in self.store.data["channels"]:
            raise errors.bad_request(f"Channel id {channel_id} not unique", "channelIdNotUnique")
        quoted = urllib.parse.quote(url_calendar_id)
        channel = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": resource_id(calendar_id),
            "resourceUri": f"{base_url}/calendar/v3/calendars/{quoted}/events?alt=json",
            "expiration": str(_expiration_ms(body)),
            "address": address,
            "calendarId": calendar_id,
            "email": email,
            "number": 0,
            "stopped": False,
        }
        if body.get("token") is not None:
            channel["token"] = body["token"]
        self.store.data["channels"][channel_id] = channel
        self.store.mark_dirty()
        self._enqueue(channel, "sync")
        return self.public(channel)

    @staticmethod
    def public(channel: dict[str, Any]) -> dict[str, Any]:
        keys = ("kind", "id", "resourceId", "resourceUri", "token", "expiration")
        return {k: channel[k] for k in keys if k in channel}

    @staticmethod
    def _check_address(address: str) -> None:
        scheme = urllib.parse.urlsplit(address).scheme
        if scheme not in ("http", "https"):
            raise errors.bad_request(f"Invalid push address: {address}", "push.webhookUrlUnauthorized")
        if scheme == "http" and not is_loopback_uri(address):
            raise errors.bad_request(f"WebHook callback must be HTTPS: {address}", "push.webhookUrlNotHttps")

    def stop(self, channel_id: str, resource: str) -> bool:
        """channels.stop: True when a live channel with that id and resourceId existed."""
        channel = self.store.data["channels"].get(channel_id)
        if not channel or channel["resourceId"] != resource or channel["stopped"]:
            return False
        channel["stopped"] = True
        self.store.mark_dirty()
        return True

    def calendar_changed(self, calendar_id: str) -> None:
        """Store listener: queue an `exists` message for every live channel on the calendar."""
        channels = self.store.data["channels"]
        for channel_id in self._on_calendar(channels).get(calendar_id, ()):
            channel = channels[channel_id]
            if self._alive(channel):
                self._enqueue(channel, "exists")

    def _on_calendar(self, channels: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
        """Channel ids by watched calendar (callers hold store.lock): a write looks at its calendar's
        channels only, not at every channel (10,000 in a benchmark). Channels are only ever added
        (stopping flags one), so the index is rebuilt when the store's channels are another dict
        (a reset, a loaded state file) or more of them."""
        if self._index_of is not channels or self._indexed != len(channels):
            index: dict[str, list[str]] = {}
            for channel_id, channel in channels.items():
                index.setdefault(channel["calendarId"], []).append(channel_id)
            self._index, self._index_of, self._indexed = index, channels, len(channels)
        return self._index

    @staticmethod
    def _alive(channel: dict[str, Any]) -> bool:
        return not channel["stopped"] and int(channel["expiration"]) > time.time() * 1000

    def _enqueue(self, channel: dict[str, Any], state: str) -> None:
        channel["number"] += 1
        delivery = _Delivery(time.monotonic(), next(self._order), channel["id"], state, channel["number"])
        with self._cond:
            heapq.heappush(self._queue, delivery)
            self._cond.notify()

    # -- the worker ---------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            delivery = self._next()
            if delivery is None:
                return
            self._attempt(delivery)

    def _next(self) -> _Delivery | None:
        with self._cond:
            while not self._stopped:
                if self._queue and self._queue[0].due <= time.monotonic():
                    return heapq.heappop(self._queue)
                wait = self._queue[0].due - time.monotonic() if self._queue else None
                self._cond.wait(wait)
            return None

    def _attempt(self, delivery: _Delivery) -> None:
        with self.store.lock:
            channel = self.store.data["channels"].get(delivery.channel_id)
            channel = dict(channel) if channel and self._alive(channel) else None
        if channel is None:
            return
        outcome = self._post(channel, delivery)
        self.log.append(outcome)
        if outcome["ok"] or delivery.attempt >= self.attempts or outcome.get("skipped"):
            return
        delay = self.retry_delay * (2 ** (delivery.attempt - 1))
        retry = _Delivery(
            time.monotonic() + delay,
            next(self._order),
            delivery.channel_id,
            delivery.state,
            delivery.number,
            delivery.attempt + 1,
        )
        with self._cond:
            heapq.heappush(self._queue, retry)
            self._cond.notify()

    def _headers(self, channel: dict[str, Any], delivery: _Delivery) -> dict[str, str]:
        headers = {
            "X-Goog-Channel-ID": channel["id"],
            "X-Goog-Channel-Expiration": timeutil.http_date(int(channel["expiration"]) / 1000),
            "X-Goog-Resource-ID": channel["resourceId"],
            "X-Goog-Resource-URI": channel["resourceUri"],
            "X-Goog-Resource-State": delivery.state,
            "X-Goog-Message-Number": str(delivery.number),
            "Content-Length": "0",
            "User-Agent": "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)",
        }
        if "token" in channel:
            headers["X-Goog-Channel-Token"] = channel["token"]
        return headers

    def _post(self, channel: dict[str, Any], delivery: _Delivery) -> dict[str, Any]:
        outcome: dict[str, Any] = {
            "channel": channel["id"],
            "state": delivery.state,
            "number": delivery.number,
            "attempt": delivery.attempt,
            "at": timeutil.rfc3339_millis(timeutil.now()),
            "ok": False,
        }
        address = channel["address"]
        if not is_loopback_uri(address):
            return outcome | {
                "skipped": True,
                "error": "not a loopback address; the emulator only delivers locally",
            }
        parts = urllib.parse.urlsplit(address)
        try:
            status = self._send(parts, self._headers(channel, delivery))
        except (OSError, http.client.HTTPException) as exc:
            return outcome | {"error": f"{type(exc).__name__}: {exc}"}
        return outcome | {"status": status, "ok": 200 <= status < 300}

    def _send(self, parts: urllib.parse.SplitResult, headers: dict[str, str]) -> int:
        if parts.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                parts.hostname, parts.port, timeout=self.timeout, context=context
            )
        else:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=self.timeout)
        try:
            path = parts.path or "/"
            conn.request("POST", path + (f"?{parts.query}" if parts.query else ""), body=b"", headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()
