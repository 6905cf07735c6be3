"""Google's rules for special event types (`eventType`), checked on every insert and update.

* `birthday`: an all-day event of exactly one day, `visibility: private`,
  `transparency: transparent`, a yearly `RRULE`; `birthdayProperties.type` may only be
  `birthday` when created through the API (the default); `contact` and `customTypeName`
  are read-only.
* `focusTime`, `outOfOffice`, `workingLocation`: primary calendars only. Focus time and
  out of office are timed (never all-day) and opaque.
* The type (and a birthday's properties) cannot change after the event is created, and
  birthdays and status events cannot be moved to another calendar.

Every refusal is `400 eventTypeRestriction` (domain `calendar`), the reason Google gives
for event-type restrictions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .errors import ApiError

STATUS_TYPES = ("focusTime", "outOfOffice", "workingLocation")


def restriction(message: str) -> ApiError:
    return ApiError(400, "eventTypeRestriction", message, domain="calendar")


def is_primary(calendar: dict[str, Any]) -> bool:
    return calendar["id"] == calendar["owner"]


def apply(
    event: dict[str, Any], *, calendar: dict[str, Any], previous: dict[str, Any] | None
) -> dict[str, Any]:
    """Check `event` (about to be stored on `calendar`) against its type's rules; fill defaults.

    Raises ApiError 400 `eventTypeRestriction` for anything Google refuses.
    """
    if previous is not None:
        _keep_type(event, previous)
    kind = event.get("eventType", "default")
    if kind == "birthday":
        _check_birthday(event, previous)
    else:
        event.pop("birthdayProperties", None)
    if kind in STATUS_TYPES:
        _check_status(event, calendar, kind)
    return event


def check_move(event: dict[str, Any]) -> None:
    """Birthdays and status events stay on the calendar they were made on."""
    kind = event.get("eventType", "default")
    if kind == "birthday" or kind in STATUS_TYPES:
        raise restriction(f"Events of type '{kind}' cannot be moved to another calendar.")


def _keep_type(event: dict[str, Any], previous: dict[str, Any]) -> None:
    before = previous.get("eventType", "default")
    if event.setdefault("eventType", before) != before:
        raise restriction("The event type cannot be changed after the event is created.")
    if before == "birthday":
        given = event.get("birthdayProperties")
        if given is not None and given.get("type", "birthday") != previous["birthdayProperties"]["type"]:
            raise restriction("The birthday properties of an event cannot be changed.")
        event["birthdayProperties"] = dict(previous["birthdayProperties"])


def _check_birthday(event: dict[str, Any], previous: dict[str, Any] | None) -> None:
    if "date" not in event["start"] or _days(event) != 1:
        raise restriction("A birthday event must be an all-day event that spans exactly one day.")
    if event.get("visibility") != "private":
        raise restriction("A birthday event must have visibility 'private'.")
    if event.get("transparency") != "transparent":
        raise restriction("A birthday event must have transparency 'transparent'.")
    if previous is not None and previous.get("recurringEventId"):
        return  # one instance of the series: the rule lives on the series
    rules = [line.upper().replace(" ", "") for line in event.get("recurrence") or []]
    if not rules or not all(r.startswith("RRULE:") and "FREQ=YEARLY" in r for r in rules):
        raise restriction("A birthday event must repeat yearly (RRULE:FREQ=YEARLY).")
    if previous is None:
        given = event.get("birthdayProperties") or {}
        if not isinstance(given, dict) or given.get("type", "birthday") != "birthday":
            raise restriction("Only birthday events of type 'birthday' can be created.")
        event["birthdayProperties"] = {"type": "birthday"}  # contact, customTypeName: read-only


def _days(event: dict[str, Any]) -> int:
    start, end = (dt.date.fromisoformat(event[k]["date"]) for k in ("start", "end"))
    return (end - start).days


def _check_status(event: dict[str, Any], calendar: dict[str, Any], kind: str) -> None:
    if not is_primary(calendar):
        raise restriction(f"Events of type '{kind}' can only be created on primary calendars.")
    if kind == "workingLocation":
        return
    if "date" in event["start"]:
        raise restriction(f"Events of type '{kind}' cannot be all-day events.")
    if event.get("transparency", "opaque") != "opaque":
        raise restriction(f"Events of type '{kind}' must have transparency 'opaque'.")
