"""Invitations: an event's attendees who are accounts here get a copy on their primary calendar.

As in Google, the copy has the organizer's event id and iCalUID, `organizer` is the
organizer's calendar, and the shared attendee list carries each guest's own
`responseStatus`. Shared properties (times, title, attendees, ...) follow the organizer's
event on every write; each copy keeps its personal ones (`reminders`, `colorId`,
`transparency`, private extended properties). A copy remembers where it came from in the
private key `_copyOf`; the organizer's event lists its copies in `_guests`.

This module builds and writes copies and judges a guest's change; `event_ops` decides what
happens (a guest's allowed change is applied to the organizer's event, then fanned out).
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import ApiError
from .store import Store

PERSONAL = ("reminders", "colorId", "transparency")
GUEST_PERMISSIONS = ("guestsCanModify", "guestsCanInviteOthers", "guestsCanSeeOtherGuests")
SHARED = (
    "summary",
    "description",
    "location",
    "start",
    "end",
    "recurrence",
    "status",
    "visibility",
    "eventType",
    "anyoneCanAddSelf",
    "attachments",
    "source",
    *GUEST_PERMISSIONS,
)
RESPONSE_KEYS = ("responseStatus", "comment", "additionalGuests")


def non_organizer() -> ApiError:
    return ApiError(
        403,
        "forbiddenForNonOrganizer",
        "Shared properties can only be changed by the organizer of the event.",
        domain="calendar",
    )


def is_copy(event: dict[str, Any]) -> bool:
    """Whether `event` is a guest's copy of someone else's event."""
    return bool(event.get("_copyOf"))


# -- the organizer's side: fan out ----------------------------------------------------------
def fan_out(
    store: Store, calendar: dict[str, Any], event: dict[str, Any], previous: dict[str, Any] | None
) -> None:
    """Bring every guest's copy of `event` (just written on `calendar`) up to date.

    Guests dropped from the attendee list (or from a calendar the event moved away from) see
    their copy cancelled; guests who deleted their copy themselves keep it deleted.
    """
    if is_copy(event):
        return
    guests = _guest_accounts(store, calendar, event)
    for email in sorted(set((previous or {}).get("_guests", [])) - set(guests)):
        _cancel_copy(store, email, event["id"])
    event["_guests"] = guests  # bookkeeping only: not part of the resource, no new etag
    for email in guests:
        _write_copy(store, calendar, event, email)


def _guest_accounts(store: Store, calendar: dict[str, Any], event: dict[str, Any]) -> list[str]:
    emails = {str(a.get("email", "")).lower() for a in event.get("attendees", [])}
    emails.discard(calendar["id"].lower())
    return sorted(e for e in emails if store.account(e) and store.calendar(e))


def _write_copy(store: Store, calendar: dict[str, Any], event: dict[str, Any], email: str) -> None:
    existing = store.events(email).get(event["id"])
    if existing is not None and (not is_copy(existing) or existing.get("_guestRemoved")):
        return  # an unrelated event with this id, or a copy the guest deleted
    fresh = copy_for(calendar, event, existing)
    if existing is not None and _public(existing) == _public(fresh):
        return
    store.write_event(email, fresh)


def copy_for(
    calendar: dict[str, Any], event: dict[str, Any], existing: dict[str, Any] | None
) -> dict[str, Any]:
    """A guest's copy of the organizer's `event`, keeping the guest's personal fields."""
    fresh = {k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")}
    for key in ("etag", "updated", "colorId"):
        fresh.pop(key, None)
    fresh["reminders"] = {"useDefault": True}
    shared = (event.get("extendedProperties") or {}).get("shared")
    fresh.pop("extendedProperties", None)
    if shared:
        fresh["extendedProperties"] = {"shared": copy.deepcopy(shared)}
    if existing is not None:
        for key in PERSONAL:
            if key in existing:
                fresh[key] = copy.deepcopy(existing[key])
        private = (existing.get("extendedProperties") or {}).get("private")
        if private:
            fresh.setdefault("extendedProperties", {})["private"] = copy.deepcopy(private)
    fresh["_copyOf"] = calendar["id"]
    return fresh


def _cancel_copy(store: Store, email: str, event_id: str) -> None:
    existing = store.events(email).get(event_id)
    if existing is not None and is_copy(existing) and existing.get("status") != "cancelled":
        store.write_event(email, dict(copy.deepcopy(existing), status="cancelled"))


def _public(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ("etag", "updated") and not k.startswith("_")}


# -- the guest's side -------------------------------------------------------------------------
def shared_change(current: dict[str, Any], proposed: dict[str, Any], guest: str) -> bool:
    """Whether `proposed` changes anything of `current` beyond `guest`'s own response.

    Raises 403 `forbiddenForNonOrganizer` when it touches the guest permissions, which only
    the organizer may set.
    """
    if any(current.get(k) != proposed.get(k) for k in GUEST_PERMISSIONS):
        raise non_organizer()
    if any(current.get(k) != proposed.get(k) for k in SHARED if k not in GUEST_PERMISSIONS):
        return True
    shared_props = [(e.get("extendedProperties") or {}).get("shared") for e in (current, proposed)]
    if shared_props[0] != shared_props[1]:
        return True
    return _attendees_without(current, guest) != _attendees_without(proposed, guest)


def own_response(event: dict[str, Any], guest: str) -> dict[str, Any] | None:
    """The guest's own attendee entry's response keys in `event`, or None when not invited."""
    for attendee in event.get("attendees", []):
        if str(attendee.get("email", "")).lower() == guest:
            return {k: attendee[k] for k in RESPONSE_KEYS if k in attendee}
    return None


def with_response(event: dict[str, Any], guest: str, response: dict[str, Any]) -> dict[str, Any]:
    """`event` with `guest`'s attendee entry answering `response`."""
    changed = copy.deepcopy(event)
    for attendee in changed.get("attendees", []):
        if str(attendee.get("email", "")).lower() == guest:
            for key in RESPONSE_KEYS:
                attendee.pop(key, None)
            attendee.update(response)
    return changed


def personal_part(copy_event: dict[str, Any], proposed: dict[str, Any]) -> dict[str, Any]:
    """`copy_event` with the personal fields the guest set in `proposed`."""
    updated = copy.deepcopy(copy_event)
    for key in PERSONAL:
        if key in proposed:
            updated[key] = copy.deepcopy(proposed[key])
        else:
            updated.pop(key, None)
    updated.setdefault("reminders", {"useDefault": True})
    private = (proposed.get("extendedProperties") or {}).get("private")
    props = updated.setdefault("extendedProperties", {})
    props.pop("private", None)
    if private:
        props["private"] = copy.deepcopy(private)
    if not props:
        updated.pop("extendedProperties")
    return updated


def _attendees_without(event: dict[str, Any], guest: str) -> list[dict[str, Any]]:
    result = []
    for attendee in event.get("attendees", []):
        entry = {k: v for k, v in attendee.items() if k not in ("self", "organizer")}
        if str(attendee.get("email", "")).lower() == guest:
            entry = {k: v for k, v in entry.items() if k not in RESPONSE_KEYS}
        result.append(entry)
    return sorted(result, key=lambda a: str(a.get("email", "")).lower())
