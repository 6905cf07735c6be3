"""Event state changes and recurring-event expansion, shared by the API and the HTML page.

Callers hold `store.lock` and have already checked access. Every write ends
in `Store.write_event`, so etags, sync sequence numbers and push notifications
behave the same whoever made the change; a write of an event with attendees also
updates their copies (`invitations`).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from . import errors, event_types, events, invitations, recurrence, timeutil
from .store import Store, random_id

HORIZON_PAST = dt.timedelta(days=365)
HORIZON_FUTURE = dt.timedelta(days=730)


def organizer_for(store: Store, calendar: dict[str, Any]) -> dict[str, Any]:
    """Who organizes events on `calendar`: the owner on a primary, the calendar itself otherwise."""
    if calendar["id"] == calendar["owner"]:
        account = store.account(calendar["owner"]) or {}
        return {"email": calendar["id"], "displayName": account.get("name", calendar["id"])}
    return {"email": calendar["id"], "displayName": calendar["summary"]}


def _is_finite(master: dict[str, Any]) -> bool:
    rules = [line.upper() for line in master["recurrence"] if line.upper().startswith("RRULE")]
    return all("COUNT=" in rule or "UNTIL=" in rule for rule in rules)


def default_window(master: dict[str, Any], calendar: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    """Where a series expands when a query gives no bounds.

    A finite series (COUNT/UNTIL) expands whole. An endless one expands from
    a year ago (or its start, if later) to two years past now or its start.
    """
    series_start = events.instant(master["start"], calendar)
    if _is_finite(master):
        return series_start, dt.datetime.max.replace(tzinfo=dt.UTC) - dt.timedelta(days=2)
    now = timeutil.now()
    return max(series_start, now - HORIZON_PAST), max(series_start, now) + HORIZON_FUTURE


# -- reading ---------------------------------------------------------------------------
def find(store: Store, calendar: dict[str, Any], event_id: str) -> dict[str, Any] | None:
    """A stored event, or an unmodified recurring instance synthesized from its master."""
    stored = store.events(calendar["id"]).get(event_id)
    if stored is not None:
        return stored
    parts = events.split_instance_id(event_id)
    if not parts:
        return None
    master = store.events(calendar["id"]).get(parts[0])
    if not master or not master.get("recurrence") or events.is_cancelled(master):
        return None
    try:
        original = events.original_from_stamp(parts[1], master, calendar)
    except ValueError:
        return None
    return _occurrence(master, original, calendar)


def _occurrence(
    master: dict[str, Any], original: dt.datetime, calendar: dict[str, Any]
) -> dict[str, Any] | None:
    start = events.series_start(master, calendar)
    window_end = original + dt.timedelta(seconds=1)
    for candidate in recurrence.occurrences(
        master["recurrence"], start, dt.timedelta(0), original, window_end, 1
    ):
        if candidate == original:
            return events.instance_of(master, original, calendar)
    return None


def expand(
    store: Store,
    calendar: dict[str, Any],
    master: dict[str, Any],
    window_start: dt.datetime | None,
    window_end: dt.datetime | None,
    limit: int = recurrence.MAX_INSTANCES,
) -> list[dict[str, Any]]:
    """Instances of `master` overlapping the window (default: the bounded horizon).

    Stored exceptions replace their instance; cancelled ones are included and
    left for the caller to filter.
    """
    default_start, default_end = default_window(master, calendar)
    window_start = window_start or default_start
    window_end = window_end or default_end
    start = events.series_start(master, calendar)
    master_start, master_end = events.bounds(master, calendar)
    lo, hi = _series_window(master, calendar, window_start, window_end)
    stored = store.events(calendar["id"])
    result = []
    for original in recurrence.occurrences(
        master["recurrence"], start, master_end - master_start, lo, hi, limit
    ):
        instance = events.instance_of(master, original, calendar)
        result.append(copy.deepcopy(stored.get(instance["id"], instance)))
    return result


def _series_window(
    master: dict[str, Any], calendar: dict[str, Any], window_start: dt.datetime, window_end: dt.datetime
) -> tuple[dt.datetime, dt.datetime]:
    """The window expressed in the series' own kind of datetime (naive local for all-day)."""
    if not events.is_all_day(master):
        return window_start, window_end
    zone = timeutil.zone(calendar["timeZone"])
    return (
        window_start.astimezone(zone).replace(tzinfo=None),
        window_end.astimezone(zone).replace(tzinfo=None),
    )


# -- writing ---------------------------------------------------------------------------
def _write(
    store: Store, calendar: dict[str, Any], event: dict[str, Any], previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Store an event and bring its guests' copies up to date (see `invitations`)."""
    written = store.write_event(calendar["id"], event)
    invitations.fan_out(store, calendar, written, previous)
    return written


def insert(store: Store, calendar: dict[str, Any], body: dict[str, Any], actor: str) -> dict[str, Any]:
    """Create an event; 400 for a bad id, 409 for an id that exists or ever existed here."""
    body = dict(body)
    if body.get("id") is None:
        body["id"] = random_id(26)
    events.validate_id(body["id"])
    if body["id"] in store.events(calendar["id"]):
        raise errors.duplicate()
    event = events.build(
        body, calendar=calendar, organizer=organizer_for(store, calendar), creator_email=actor
    )
    return _write(store, calendar, event)


def replace(
    store: Store, calendar: dict[str, Any], current: dict[str, Any], body: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Full update (PUT); a deleted event answers 410 `deleted`.

    On a guest's copy of an invitation: see `_guest_update`.
    """
    if events.is_cancelled(current) and current["id"] in store.events(calendar["id"]):
        raise errors.deleted()
    if body.get("id") not in (None, current["id"]):
        raise errors.bad_request("The event id in the body does not match the URL.")
    organizer = current.get("organizer") or organizer_for(store, calendar)
    event = events.build(body, calendar=calendar, organizer=organizer, creator_email=actor, previous=current)
    if invitations.is_copy(current):
        return _guest_update(store, calendar, current, event, actor)
    return _write(store, calendar, event, previous=current)


def patch(
    store: Store, calendar: dict[str, Any], current: dict[str, Any], body: dict[str, Any], actor: str
) -> dict[str, Any]:
    """Partial update: `body` merged over the current event, then validated like PUT."""
    return replace(store, calendar, current, events.merge_patch(_public(current), body), actor)


def _public(event: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")}


def _organizers_event(store: Store, copy_event: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The organizer's calendar and live event behind a guest's copy; 410 when it is gone."""
    calendar = store.calendar(copy_event["_copyOf"])
    original = find(store, calendar, copy_event["id"]) if calendar else None
    if calendar is None or original is None or events.is_cancelled(original):
        raise errors.deleted()
    return calendar, original


def _guest_update(
    store: Store, calendar: dict[str, Any], current: dict[str, Any], proposed: dict[str, Any], actor: str
) -> dict[str, Any]:
    """A guest changes their copy of an invitation, as Google allows it.

    Their own response and personal fields (reminders, colour, transparency, private
    extended properties) always; shared properties only with `guestsCanModify`, and then
    on the organizer's event for every guest; otherwise 403 `forbiddenForNonOrganizer`.
    """
    guest = calendar["id"].lower()
    organizer_calendar, original = _organizers_event(store, current)
    if invitations.shared_change(current, proposed, guest):
        if not current.get("guestsCanModify"):
            raise invitations.non_organizer()
        body = _public(original)
        for key in invitations.SHARED:
            if key in invitations.GUEST_PERMISSIONS:
                continue
            body.pop(key, None)
            if key in proposed:
                body[key] = copy.deepcopy(proposed[key])
        body["attendees"] = invitations.with_response(proposed, guest, {}).get("attendees", [])
        body = invitations.with_response(body, guest, invitations.own_response(original, guest) or {})
        replace(store, organizer_calendar, original, body, actor)
        organizer_calendar, original = _organizers_event(store, current)
    response = invitations.own_response(proposed, guest)
    if response is not None and response != invitations.own_response(original, guest):
        answered = invitations.with_response(_public(original), guest, response)
        replace(store, organizer_calendar, original, answered, actor)
    latest = store.events(calendar["id"]).get(current["id"]) or current
    updated = invitations.personal_part(latest, proposed)
    if latest is current or _public(updated) != _public(latest):
        return store.write_event(calendar["id"], updated)
    return latest


def delete(store: Store, calendar: dict[str, Any], current: dict[str, Any]) -> None:
    """Cancel an event (a tombstone stays for sync); 410 when already deleted.

    Deleting a recurring master cancels its stored exceptions too. A guest deleting their
    copy of an invitation removes it from their calendar only and declines it.
    """
    if events.is_cancelled(current):
        raise errors.deleted()
    if invitations.is_copy(current):
        _guest_delete(store, calendar, current)
        return
    _write(store, calendar, dict(copy.deepcopy(current), status="cancelled"), previous=current)
    if current.get("recurrence"):
        for other in list(store.events(calendar["id"]).values()):
            if other.get("recurringEventId") == current["id"] and not events.is_cancelled(other):
                _write(store, calendar, dict(copy.deepcopy(other), status="cancelled"), previous=other)


def _guest_delete(store: Store, calendar: dict[str, Any], current: dict[str, Any]) -> None:
    guest = calendar["id"].lower()
    store.write_event(calendar["id"], dict(copy.deepcopy(current), status="cancelled", _guestRemoved=True))
    try:
        organizer_calendar, original = _organizers_event(store, current)
    except errors.ApiError:
        return  # the organizer's event is gone already
    if invitations.own_response(original, guest) is not None:
        declined = invitations.with_response(_public(original), guest, {"responseStatus": "declined"})
        replace(store, organizer_calendar, original, declined, guest)


def move(
    store: Store, source: dict[str, Any], destination: dict[str, Any], current: dict[str, Any]
) -> dict[str, Any]:
    """Move an event to another calendar, leaving a tombstone in the source.

    Guests' copies follow (their `organizer` becomes the destination); a guest cannot move
    their copy (403 `forbiddenForNonOrganizer`).
    """
    if events.is_cancelled(current):
        raise errors.deleted()
    if invitations.is_copy(current):
        raise invitations.non_organizer()
    if current.get("recurringEventId"):
        raise errors.bad_request(
            "Cannot change the organizer of an instance.", "cannotChangeOrganizerOfInstance"
        )
    event_types.check_move(current)
    if current["id"] in store.events(destination["id"]):
        raise errors.duplicate()
    moved = copy.deepcopy(current)
    moved["organizer"] = organizer_for(store, destination)
    for attendee in moved.get("attendees", []):
        attendee.pop("organizer", None)
    store.write_event(source["id"], dict(copy.deepcopy(current), status="cancelled"))
    return _write(store, destination, moved, previous=current)
