"""freeBusy.query: merged busy intervals per calendar."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import errors, event_ops, events, timeutil
from .errors import ApiError
from .store import Store, role_at_least

MAX_CALENDARS = 50
MAX_RANGE = dt.timedelta(days=90)


def _parse_bounds(body: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    for name in ("timeMin", "timeMax"):
        if not body.get(name):
            raise errors.required(f"Missing {name} parameter.", location=name)
    try:
        time_min = timeutil.parse_rfc3339(body["timeMin"])
        time_max = timeutil.parse_rfc3339(body["timeMax"])
    except timeutil.TimeFormatError as exc:
        raise errors.bad_request("Bad Request", "badRequest") from exc
    if time_max <= time_min:
        raise ApiError(
            400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar", location="timeMax"
        )
    if time_max - time_min > MAX_RANGE:
        raise ApiError(
            400,
            "timeRangeTooLong",
            "The requested time range is too long.",
            domain="calendar",
            location="timeMax",
        )
    return time_min, time_max


def _busy_events(
    store: Store, calendar: dict[str, Any], lo: dt.datetime, hi: dt.datetime
) -> list[dict[str, Any]]:
    found = []
    for event in store.events(calendar["id"]).values():
        if event.get("recurringEventId"):
            continue  # exceptions arrive through their master's expansion
        if event.get("recurrence") and not events.is_cancelled(event):
            found.extend(event_ops.expand(store, calendar, event, lo, hi))
        else:
            found.append(event)
    return [e for e in found if _blocks_time(e, calendar)]


def _blocks_time(event: dict[str, Any], calendar: dict[str, Any]) -> bool:
    """Cancelled, transparent, working-location and self-declined events leave time free."""
    if events.is_cancelled(event) or event.get("transparency") == "transparent":
        return False
    if event.get("eventType") == "workingLocation":
        return False
    me = calendar["id"].lower()
    return not any(
        a.get("email", "").lower() == me and a.get("responseStatus") == "declined"
        for a in event.get("attendees", [])
    )


def busy_intervals(
    store: Store, calendar: dict[str, Any], lo: dt.datetime, hi: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Sorted, merged busy intervals of `calendar`, clipped to [lo, hi)."""
    spans = []
    for event in _busy_events(store, calendar, lo, hi):
        start, end = events.bounds(event, calendar)
        start, end = max(start, lo), min(end, hi)
        if start < end:
            spans.append((start, end))
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def query(store: Store, caller_email: str, body: dict[str, Any]) -> dict[str, Any]:
    """The FreeBusyResponse for `body`; calendars the caller cannot see report `notFound`."""
    time_min, time_max = _parse_bounds(body)
    items = body.get("items") or []
    if len(items) > MAX_CALENDARS:
        raise ApiError(400, "tooManyCalendarsRequested", "Too many calendars requested.", domain="calendar")
    zone_name = body.get("timeZone") or "UTC"
    if not timeutil.is_zone(zone_name):
        raise errors.bad_request("Invalid time zone.", location="timeZone")
    zone = timeutil.zone(zone_name)
    calendars: dict[str, Any] = {}
    for item in items:
        calendar_id = str((item or {}).get("id", ""))
        calendar = store.calendar(caller_email if calendar_id == "primary" else calendar_id)
        if not calendar or not role_at_least(store.role(calendar, caller_email), "freeBusyReader"):
            calendars[calendar_id] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
            continue
        busy = busy_intervals(store, calendar, time_min, time_max)
        calendars[calendar_id] = {"busy": [{"start": _fmt(s, zone), "end": _fmt(e, zone)} for s, e in busy]}
    return {
        "kind": "calendar#freeBusy",
        "timeMin": _fmt(time_min, zone),
        "timeMax": _fmt(time_max, zone),
        "calendars": calendars,
    }


def _fmt(moment: dt.datetime, zone: dt.tzinfo) -> str:
    return timeutil.rfc3339(moment.astimezone(zone))
