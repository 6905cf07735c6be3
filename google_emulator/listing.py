"""events.list and events.instances: filters, key-based paging and sync tokens.

Each calendar has a change sequence; every write stamps the event with the
next number. A sync token records (calendar, sequence, epoch): an
incremental list returns events stamped after it. Paging is by sort key, so
a write between pages never makes a page skip an item; the sequence seen at
the first page becomes `nextSyncToken` on the last one, so anything written
meanwhile comes back in the next incremental sync.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

from . import errors, event_ops, events, timeutil
from .listing_cache import ListingCache, SortedListing
from .store import Store
from .wire import Request

DEFAULT_PAGE = 250
MAX_PAGE = 2500
SYNC_FORBIDDEN = (
    "timeMin",
    "timeMax",
    "orderBy",
    "q",
    "updatedMin",
    "iCalUID",
    "privateExtendedProperty",
    "sharedExtendedProperty",
)
PAGING_PARAMS = ("pageToken", "maxResults", "alt", "prettyPrint", "fields", "key")


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str) -> dict[str, Any]:
    try:
        value = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _fingerprint(req: Request) -> str:
    pairs = sorted((k, v) for k, vs in req.query.items() if k not in PAGING_PARAMS for v in vs)
    return hashlib.sha1(repr(pairs).encode()).hexdigest()[:12]


def _time_arg(req: Request, name: str) -> dt.datetime | None:
    text = req.arg(name)
    if not text:
        return None
    try:
        return timeutil.parse_rfc3339(text)
    except timeutil.TimeFormatError as exc:
        raise errors.bad_request("Bad Request", "badRequest", location=name) from exc


def _max_results(req: Request) -> int:
    try:
        value = int(req.arg("maxResults") or DEFAULT_PAGE)
    except ValueError as exc:
        raise errors.bad_request("Invalid value for: maxResults", location="maxResults") from exc
    if value < 1:
        raise errors.bad_request("Invalid value for: maxResults", location="maxResults")
    return min(value, MAX_PAGE)


class Query:
    """The parsed parameters of one events.list page."""

    def __init__(self, store: Store, calendar: dict[str, Any], req: Request) -> None:
        self.calendar = calendar
        self.single = req.flag("singleEvents")
        self.show_deleted = req.flag("showDeleted")
        self.order_by = req.arg("orderBy")
        self.time_min = _time_arg(req, "timeMin")
        self.time_max = _time_arg(req, "timeMax")
        self.updated_min = _time_arg(req, "updatedMin")
        self.text = (req.arg("q") or "").lower()
        self.ical_uid = req.arg("iCalUID")
        self.private = _property_filters(req, "privateExtendedProperty")
        self.shared = _property_filters(req, "sharedExtendedProperty")
        self.page_size = _max_results(req)
        self.fingerprint = _fingerprint(req)
        self.since: int | None = None
        self.snapshot = calendar["seq"]
        self.after: list[Any] | None = None
        self._check(req)
        self._read_tokens(store, req)

    def _check(self, req: Request) -> None:
        if self.order_by not in (None, "startTime", "updated"):
            raise errors.bad_request("Invalid value for: orderBy", location="orderBy")
        if self.order_by == "startTime" and not self.single:
            raise errors.bad_request(
                "The requested ordering is not available for the particular query.", "badRequest"
            )
        if req.arg("syncToken"):
            for name in SYNC_FORBIDDEN:
                if req.arg(name) is not None:
                    raise errors.bad_request(
                        f"Sync token cannot be used with the parameter: {name}", location=name
                    )
        if self.time_min and self.time_max and self.time_max <= self.time_min:
            raise errors.ApiError(
                400,
                "timeRangeEmpty",
                "The specified time range is empty.",
                domain="calendar",
                location="timeMax",
            )

    def _read_tokens(self, store: Store, req: Request) -> None:
        sync = req.arg("syncToken")
        if sync:
            state = _decode(sync)
            if state.get("c") != self.calendar["id"] or state.get("e") != store.data["sync_epoch"]:
                raise errors.full_sync_required()
            self.since = int(state.get("s", 0))
        page = req.arg("pageToken")
        if page:
            state = _decode(page)
            if state.get("f") != self.fingerprint or "k" not in state:
                raise errors.bad_request("Invalid page token value.", location="pageToken")
            self.after, self.snapshot = state["k"], int(state["s"])

    # -- selection --------------------------------------------------------------------
    def overlaps(self, event: dict[str, Any]) -> bool:
        start, end = events.bounds(event, self.calendar)
        if self.time_min and not (end > self.time_min or (start == end and start >= self.time_min)):
            return False
        return not (self.time_max and start >= self.time_max)

    def matches(self, event: dict[str, Any]) -> bool:
        """Filters other than time (those differ for series and instances)."""
        if self.ical_uid and event.get("iCalUID") != self.ical_uid:
            return False
        if self.updated_min and timeutil.parse_rfc3339(event["updated"]) < self.updated_min:
            return False
        props = event.get("extendedProperties", {})
        for scope, wanted in (("private", self.private), ("shared", self.shared)):
            have = props.get(scope, {})
            if any(have.get(k) != v for k, v in wanted):
                return False
        return not self.text or self.text in _searchable(event)

    def visible(self, event: dict[str, Any]) -> bool:
        if not events.is_cancelled(event):
            return True
        return self.show_deleted or self.updated_min is not None or self.since is not None

    def sort_key(self, event: dict[str, Any]) -> list[Any]:
        if self.order_by == "updated":
            return [event["updated"], event.get("_seq", 0), event["id"]]
        return [events.instant(event["start"], self.calendar).timestamp(), event["id"]]


def _property_filters(req: Request, name: str) -> list[tuple[str, str]]:
    result = []
    for value in req.args(name):
        key, sep, wanted = value.partition("=")
        if not sep:
            raise errors.bad_request(f"Invalid value for: {name}", location=name)
        result.append((key, wanted))
    return result


def _searchable(event: dict[str, Any]) -> str:
    parts = [event.get(k, "") for k in ("summary", "description", "location")]
    for attendee in event.get("attendees", []):
        parts += [attendee.get("email", ""), attendee.get("displayName", "")]
    return " ".join(parts).lower()


# -- candidates ---------------------------------------------------------------------
def _candidates(store: Store, query: Query) -> Iterator[dict[str, Any]]:
    stored = store.events(query.calendar["id"]).values()
    if query.since is not None:
        yield from _changes(store, query, [e for e in stored if e["_seq"] > query.since])
        return
    for event in stored:
        if query.single and event.get("recurrence"):
            if not events.is_cancelled(event):
                yield from (i for i in _instances(store, query, event) if query.visible(i))
            elif query.visible(event):
                yield event
        elif query.single and event.get("recurringEventId"):
            continue  # exceptions come through their master's expansion
        elif query.visible(event) and _in_window(store, query, event):
            yield event


def _instances(store: Store, query: Query, master: dict[str, Any]) -> list[dict[str, Any]]:
    window_start = query.time_min
    return event_ops.expand(store, query.calendar, master, window_start, query.time_max)


def _in_window(store: Store, query: Query, event: dict[str, Any]) -> bool:
    if not (query.time_min or query.time_max):
        return True
    if event.get("recurrence") and not events.is_cancelled(event):
        return bool(event_ops.expand(store, query.calendar, event, query.time_min, query.time_max, limit=1))
    return query.overlaps(event)


def _changes(store: Store, query: Query, changed: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Incremental sync: everything stamped after the token, tombstones included."""
    for event in changed:
        if query.single and event.get("recurrence") and not events.is_cancelled(event):
            yield from event_ops.expand(store, query.calendar, event, None, None)
        else:
            yield event


# -- the page -------------------------------------------------------------------------
def list_page(
    store: Store, calendar: dict[str, Any], role: str, req: Request, base_url: str, cache: ListingCache
) -> dict[str, Any]:
    """One page of events.list as Google returns it (sync token only on the last page)."""
    query = Query(store, calendar, req)
    listing = cache.get(
        _cache_key(store, query, "list"),
        lambda: [(query.sort_key(e), e) for e in _candidates(store, query) if query.matches(e)],
    )
    return _page(query, listing, calendar, role, base_url, sync=True, store=store)


def instances_page(
    store: Store,
    calendar: dict[str, Any],
    role: str,
    master: dict[str, Any],
    req: Request,
    base_url: str,
    cache: ListingCache,
) -> dict[str, Any]:
    """events.instances: the expansion of one recurring event."""
    query = Query(store, calendar, req)
    listing = cache.get(
        _cache_key(store, query, master["id"]),
        lambda: [
            (query.sort_key(i), i)
            for i in event_ops.expand(store, calendar, master, query.time_min, query.time_max)
            if query.visible(i)
        ],
    )
    return _page(query, listing, calendar, role, base_url, sync=False, store=store)


def _cache_key(store: Store, query: Query, what: str) -> tuple[Any, ...]:
    """Same calendar, same query, no write since, same sync epoch: the same sorted result."""
    calendar = query.calendar
    return (calendar["id"], what, query.fingerprint, calendar["seq"], store.data["sync_epoch"])


def _page(
    query: Query,
    listing: SortedListing,
    calendar: dict[str, Any],
    role: str,
    base_url: str,
    *,
    sync: bool,
    store: Store,
) -> dict[str, Any]:
    page, more = listing.page_after(query.after, query.page_size)
    body = _envelope(calendar, role)
    body["items"] = [_item(e, calendar, base_url) for _, e in page]
    if more:
        body["nextPageToken"] = _encode({"k": page[-1][0], "s": query.snapshot, "f": query.fingerprint})
    elif sync:
        body["nextSyncToken"] = sync_token(store, calendar, query.snapshot)
    return body


def sync_token(store: Store, calendar: dict[str, Any], seq: int | None = None) -> str:
    """The sync token of `calendar` as of change `seq` (default: now): what the last page of a
    full list read at that moment carries as `nextSyncToken`."""
    return _encode(
        {"c": calendar["id"], "s": calendar["seq"] if seq is None else seq, "e": store.data["sync_epoch"]}
    )


def _item(event: dict[str, Any], calendar: dict[str, Any], base_url: str) -> dict[str, Any]:
    if events.is_cancelled(event):
        return events.tombstone(event)
    return events.render(event, calendar, base_url)


def _envelope(calendar: dict[str, Any], role: str) -> dict[str, Any]:
    return {
        "kind": "calendar#events",
        "etag": f'"p{calendar["seq"]:012d}"',
        "summary": calendar["summary"],
        "description": calendar.get("description", ""),
        "updated": calendar.get("updated") or timeutil.rfc3339_millis(timeutil.now()),
        "timeZone": calendar["timeZone"],
        "accessRole": role,
        "defaultReminders": [],
    }
