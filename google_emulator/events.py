"""The Event resource: validating what clients send, and rendering what Google returns.

Stored events are Google-shaped dicts plus private `_`-prefixed keys
(`_seq` for sync); `render` strips those and fills the fields Google computes
per calendar (`organizer.self`, attendee `self`, `htmlLink`).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import re
from typing import Any

from . import errors, event_types, recurrence, timeutil
from .errors import ApiError, bad_request

ID_PATTERN = re.compile(r"^[a-v0-9]{5,1024}$")
INSTANCE_ID = re.compile(r"^(?P<base>[a-v0-9]+)_(?P<stamp>\d{8}(T\d{6}Z)?)$")
WRITABLE = (
    "summary",
    "description",
    "location",
    "colorId",
    "status",
    "transparency",
    "visibility",
    "eventType",
    "start",
    "end",
    "endTimeUnspecified",
    "attendees",
    "extendedProperties",
    "recurrence",
    "reminders",
    "sequence",
    "source",
    "guestsCanModify",
    "guestsCanInviteOthers",
    "guestsCanSeeOtherGuests",
    "anyoneCanAddSelf",
    "locked",
    "attachments",
    "outOfOfficeProperties",
    "focusTimeProperties",
    "workingLocationProperties",
    "birthdayProperties",
)
ENUMS = {
    "status": ("confirmed", "tentative", "cancelled"),
    "transparency": ("opaque", "transparent"),
    "visibility": ("default", "public", "private", "confidential"),
    "eventType": ("default", "birthday", "outOfOffice", "focusTime", "workingLocation"),
}
RESPONSES = ("needsAction", "declined", "tentative", "accepted")


# -- times -----------------------------------------------------------------------
def is_all_day(event: dict[str, Any]) -> bool:
    return "date" in event.get("start", {})


def event_zone(event: dict[str, Any], calendar: dict[str, Any]) -> dt.tzinfo:
    """The zone an event's wall-clock times (and recurrences) live in."""
    return timeutil.zone(event.get("start", {}).get("timeZone") or calendar["timeZone"])


def instant(when: dict[str, Any], calendar: dict[str, Any]) -> dt.datetime:
    """An EventDateTime as an aware instant; all-day dates start at midnight in the calendar's zone."""
    if "date" in when:
        return timeutil.midnight(dt.date.fromisoformat(when["date"]), timeutil.zone(calendar["timeZone"]))
    return timeutil.parse_rfc3339(when["dateTime"])


def bounds(event: dict[str, Any], calendar: dict[str, Any]) -> tuple[dt.datetime, dt.datetime]:
    return instant(event["start"], calendar), instant(event["end"], calendar)


def _normalize_when(value: Any, which: str, calendar: dict[str, Any], recurring: bool) -> dict[str, Any]:
    if not isinstance(value, dict) or not (value.get("date") or value.get("dateTime")):
        raise errors.required(f"Missing {which} time.")
    zone_name = value.get("timeZone")
    if zone_name is not None and not timeutil.is_zone(zone_name):
        raise bad_request(f"Invalid time zone definition for {which} time.")
    if value.get("date") and value.get("dateTime"):
        raise bad_request(f"Invalid {which} time.")
    if value.get("date"):
        try:
            day = timeutil.parse_date(value["date"])
        except timeutil.TimeFormatError as exc:
            raise bad_request(f"Invalid {which} time.") from exc
        return {"date": day.isoformat()}
    return {
        "dateTime": _normalize_datetime(value["dateTime"], zone_name, which, calendar, recurring),
        **({"timeZone": zone_name} if zone_name else {}),
    }


def _normalize_datetime(
    text: Any, zone_name: str | None, which: str, calendar: dict[str, Any], recurring: bool
) -> str:
    if recurring and not zone_name:
        raise errors.required(f"Missing time zone definition for {which} time.")
    try:
        moment = timeutil.parse_local(str(text))
    except timeutil.TimeFormatError as exc:
        raise bad_request(f"Invalid {which} time.") from exc
    if moment.tzinfo is None:
        if not zone_name:
            raise errors.required(f"Missing time zone definition for {which} time.")
        moment = moment.replace(tzinfo=timeutil.zone(zone_name))
    return timeutil.rfc3339(moment.astimezone(timeutil.zone(zone_name or calendar["timeZone"])))


def _check_times(event: dict[str, Any], calendar: dict[str, Any]) -> None:
    if ("date" in event["start"]) != ("date" in event["end"]):
        raise bad_request("Start and end times must either both be date or both be dateTime.")
    start, end = bounds(event, calendar)
    if end < start or (end == start and is_all_day(event)):
        raise ApiError(
            400,
            "timeRangeEmpty",
            "The specified time range is empty.",
            domain="calendar",
            location="end.dateTime",
        )


def series_start(event: dict[str, Any], calendar: dict[str, Any]) -> dt.datetime:
    """DTSTART for expansion: aware in the event's zone, or a naive midnight for all-day."""
    if is_all_day(event):
        return dt.datetime.combine(dt.date.fromisoformat(event["start"]["date"]), dt.time())
    return timeutil.parse_rfc3339(event["start"]["dateTime"]).astimezone(event_zone(event, calendar))


# -- validation -------------------------------------------------------------------
def _check_enums(event: dict[str, Any]) -> None:
    for name, allowed in ENUMS.items():
        if name in event and event[name] not in allowed:
            raise bad_request(f"Invalid value for: {name}", location=name)


def _normalize_attendees(value: Any, organizer_email: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise bad_request("Invalid value for: attendees")
    attendees = []
    for raw in value:
        if not isinstance(raw, dict) or not raw.get("email"):
            raise errors.required("Missing attendee email.")
        attendee = {k: v for k, v in raw.items() if k != "self"}
        attendee.setdefault("responseStatus", "needsAction")
        if attendee["responseStatus"] not in RESPONSES:
            raise bad_request("Invalid attendee response status.")
        if attendee["email"].lower() == organizer_email.lower():
            attendee["organizer"] = True
        attendees.append(attendee)
    return attendees


def _check_extended(value: Any) -> None:
    ok = isinstance(value, dict) and all(
        k in ("private", "shared") and isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
        for k, v in value.items()
    )
    if not ok:
        raise bad_request("Invalid value for: extendedProperties")


def _check_recurrence(event: dict[str, Any], calendar: dict[str, Any]) -> None:
    lines = event.get("recurrence")
    if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
        raise bad_request("Invalid recurrence rule.")
    try:
        recurrence.build(lines, series_start(event, calendar))
    except recurrence.RecurrenceError as exc:
        raise bad_request("Invalid recurrence rule.") from exc


def validate_id(event_id: Any) -> str:
    """A client-chosen event id: base32hex, 5 to 1024 characters; 400 otherwise."""
    if not isinstance(event_id, str) or not ID_PATTERN.match(event_id):
        raise bad_request("Invalid resource id value.")
    return event_id


def build(
    body: dict[str, Any],
    *,
    calendar: dict[str, Any],
    organizer: dict[str, Any],
    creator_email: str,
    previous: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A stored event from client input (insert, or full replace of `previous`).

    Raises ApiError with Google's reasons for anything Google refuses.
    """
    event: dict[str, Any] = {k: copy.deepcopy(body[k]) for k in WRITABLE if body.get(k) is not None}
    is_instance = bool(previous and previous.get("recurringEventId"))
    if is_instance:
        event.pop("recurrence", None)
    recurring = bool(event.get("recurrence"))
    event["start"] = _normalize_when(event.get("start"), "start", calendar, recurring)
    if "end" not in event:
        raise errors.required("Missing end time.")
    event["end"] = _normalize_when(event.get("end"), "end", calendar, recurring)
    _check_times(event, calendar)
    _check_enums(event)
    if "attendees" in event:
        event["attendees"] = _normalize_attendees(event["attendees"], organizer["email"])
    if "extendedProperties" in event:
        _check_extended(event["extendedProperties"])
    if recurring:
        _check_recurrence(event, calendar)
    event_types.apply(event, calendar=calendar, previous=previous)
    event.setdefault("status", "confirmed")
    event.setdefault("eventType", "default")
    event.setdefault("reminders", {"useDefault": True})
    return _stamp_identity(event, body, organizer, creator_email, previous)


def _stamp_identity(
    event: dict[str, Any],
    body: dict[str, Any],
    organizer: dict[str, Any],
    creator_email: str,
    previous: dict[str, Any] | None,
) -> dict[str, Any]:
    if previous is None:
        event["id"] = body["id"]
        event["iCalUID"] = body.get("iCalUID") or f"{body['id']}@google.com"
        event["created"] = timeutil.rfc3339_millis(timeutil.now())
        event["creator"] = {"email": creator_email}
        event["sequence"] = int(body.get("sequence") or 0)
        event["organizer"] = organizer
        return event
    for key in (
        "id",
        "iCalUID",
        "created",
        "creator",
        "organizer",
        "recurringEventId",
        "originalStartTime",
        "_seq",
    ):
        if key in previous:
            event[key] = copy.deepcopy(previous[key])
    event["sequence"] = _next_sequence(event, body, previous)
    return event


def _next_sequence(event: dict[str, Any], body: dict[str, Any], previous: dict[str, Any]) -> int:
    current = int(previous.get("sequence", 0))
    given = body.get("sequence")
    if given is not None and int(given) < current:
        raise bad_request(
            "Invalid sequence value. The specified sequence number is below the current sequence "
            "number of the resource."
        )
    moved = any(event.get(k) != previous.get(k) for k in ("start", "end", "recurrence"))
    return max(int(given or current), current + (1 if moved else 0))


def merge_patch(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Patch semantics: objects merge key by key, arrays and scalars replace, null removes.

    `start`/`end` replace whole, so switching between `date` and `dateTime` works.
    """
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict) and key not in ("start", "end"):
            merged[key] = merge_patch(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# -- rendering ----------------------------------------------------------------------
def is_cancelled(event: dict[str, Any]) -> bool:
    return event.get("status") == "cancelled"


def html_link(base_url: str, event_id: str, calendar_id: str) -> str:
    eid = base64.urlsafe_b64encode(f"{event_id} {calendar_id}".encode()).decode().rstrip("=")
    return f"{base_url}/event?eid={eid}"


def render(event: dict[str, Any], calendar: dict[str, Any], base_url: str) -> dict[str, Any]:
    """The Event resource as Google returns it from `calendar`'s point of view."""
    public = {k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")}
    public["kind"] = "calendar#event"
    public["htmlLink"] = html_link(base_url, event["id"], calendar["id"])
    here = calendar["id"].lower()
    for role in ("creator", "organizer"):
        if role in public:
            public[role].pop("self", None)
            if public[role].get("email", "").lower() == here:
                public[role]["self"] = True
    for attendee in public.get("attendees", []):
        attendee.pop("self", None)
        if attendee.get("email", "").lower() == here:
            attendee["self"] = True
    return _ordered(public)


def tombstone(event: dict[str, Any]) -> dict[str, Any]:
    """What list and sync show of a deleted event: little more than its id."""
    result = {"kind": "calendar#event", "etag": event["etag"], "id": event["id"], "status": "cancelled"}
    for key in ("updated", "recurringEventId", "originalStartTime"):
        if key in event:
            result[key] = copy.deepcopy(event[key])
    return result


_ORDER = (
    "kind",
    "etag",
    "id",
    "status",
    "htmlLink",
    "created",
    "updated",
    "summary",
    "description",
    "location",
)


def _ordered(event: dict[str, Any]) -> dict[str, Any]:
    head = {k: event[k] for k in _ORDER if k in event}
    return head | {k: v for k, v in event.items() if k not in head}


# -- recurring instances ------------------------------------------------------------
def split_instance_id(event_id: str) -> tuple[str, str] | None:
    """(`base id`, `stamp`) when `event_id` names an instance of a recurring event."""
    match = INSTANCE_ID.match(event_id)
    return (match.group("base"), match.group("stamp")) if match else None


def when_at(original: dt.datetime, template: dict[str, Any], zone: dt.tzinfo) -> dict[str, Any]:
    """An EventDateTime for an occurrence start, shaped like `template`."""
    if "date" in template:
        return {"date": original.date().isoformat()}
    when = {"dateTime": timeutil.rfc3339(original.astimezone(zone))}
    if template.get("timeZone"):
        when["timeZone"] = template["timeZone"]
    return when


def instance_of(master: dict[str, Any], original: dt.datetime, calendar: dict[str, Any]) -> dict[str, Any]:
    """The unmodified instance of `master` that starts at `original` (series-kind datetime)."""
    zone = event_zone(master, calendar)
    start = series_start(master, calendar)
    duration = bounds(master, calendar)[1] - bounds(master, calendar)[0]
    if is_all_day(master):
        end_value: dict[str, Any] = {
            "date": (original + (dt.datetime.fromisoformat(master["end"]["date"]) - start)).date().isoformat()
        }
    else:
        end_value = when_at(original + duration, master["end"], zone)
    instance = {k: copy.deepcopy(v) for k, v in master.items() if k not in ("recurrence", "id")}
    instance["id"] = (
        f"{master['id']}_{recurrence.instance_suffix(original.date() if is_all_day(master) else original)}"
    )
    instance["recurringEventId"] = master["id"]
    instance["start"] = when_at(original, master["start"], zone)
    instance["end"] = end_value
    instance["originalStartTime"] = when_at(original, master["start"], zone)
    return instance


def original_from_stamp(stamp: str, master: dict[str, Any], calendar: dict[str, Any]) -> dt.datetime:
    """The series-kind start datetime an instance-id stamp denotes."""
    if is_all_day(master):
        return dt.datetime.strptime(stamp[:8], "%Y%m%d")
    moment = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timeutil.UTC)
    return moment.astimezone(event_zone(master, calendar))
