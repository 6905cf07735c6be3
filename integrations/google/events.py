"""Reading what Google sends: event times, ids, tags and text, checked and cleaned (pure functions).

Anything unreadable raises ``MalformedEvent``; callers log and skip it.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from ..models import GoogleCalendar
from . import client, mapping

MAX_EVENT_ID = 1024


class MalformedEvent(ValueError):
    """An event we cannot make sense of; it is logged and skipped."""


def number_from_digits(value: object, *, max_digits: int) -> int | None:
    """A string of at most ``max_digits`` decimal digits as an int; None for anything else."""
    if isinstance(value, str) and value.isdigit() and len(value) <= max_digits:
        return int(value)
    return None


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError, TypeError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise MalformedEvent(f"unknown time zone {name[:64]!r}") from exc


def calendar_zone(calendar: GoogleCalendar) -> ZoneInfo:
    """The zone all-day events of ``calendar`` live in (UTC when Google did not say)."""
    try:
        return _zone(calendar.time_zone or "UTC")
    except MalformedEvent:
        return ZoneInfo("UTC")


def _moment(value: object, zone: ZoneInfo, which: str) -> datetime:
    if not isinstance(value, dict):
        raise MalformedEvent(f"missing {which}")
    zone_name = value.get("timeZone")
    if zone_name is not None:
        if not isinstance(zone_name, str):
            raise MalformedEvent(f"bad {which} time zone")
        _zone(zone_name)  # an unknown zone makes the whole event suspect
    try:
        if isinstance(value.get("dateTime"), str):
            moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
            if moment.tzinfo is None:
                if not zone_name:
                    raise MalformedEvent(f"{which} has no offset and no time zone")
                moment = moment.replace(tzinfo=_zone(zone_name))
            return moment.astimezone(UTC)
        if isinstance(value.get("date"), str):
            day = date.fromisoformat(value["date"])
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except (ValueError, TypeError, OverflowError) as exc:
        raise MalformedEvent(f"bad {which} time") from exc
    raise MalformedEvent(f"missing {which}")


def event_bounds(event: dict, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of ``event`` as aware UTC datetimes; all-day dates start at midnight in ``zone``.

    Raises ``MalformedEvent`` for missing or unreadable times and empty ranges.
    """
    start = _moment(event.get("start"), zone, "start")
    end = _moment(event.get("end"), zone, "end")
    if end <= start:
        raise MalformedEvent("end is not after start")
    return start, end


def _declined_by_owner(event: dict) -> bool:
    attendees = event.get("attendees")
    if not isinstance(attendees, list):
        return False
    return any(
        isinstance(a, dict) and a.get("self") is True and a.get("responseStatus") == "declined"
        for a in attendees
    )


def blocks_time(event: dict) -> bool:
    """Whether a live event makes its owner busy.

    Free, self-declined, working-location and birthday events do not (birthdays synced from
    Google Contacts are not always transparent).
    """
    if event.get("transparency") == "transparent":
        return False
    if event.get("eventType") in ("workingLocation", "birthday"):
        return False
    return not _declined_by_owner(event)


def tags_of(event: dict) -> dict | None:
    """Our tags on ``event`` (None when it is not ours, or its properties are not what we wrote)."""
    try:
        tags = mapping.our_tags(event)
    except (AttributeError, TypeError):
        return None
    return tags if isinstance(tags, dict) else None


def appointment_id_of(tags: dict) -> int | None:
    """The appointment id our tags name, when it is a plausible one."""
    return number_from_digits(tags.get(mapping.TAG_APPOINTMENT), max_digits=17)


def event_id_of(event: object) -> str:
    """The event's id. Raises ``MalformedEvent`` for a missing, oversized or unprintable one."""
    if not isinstance(event, dict):
        raise MalformedEvent("not an object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_EVENT_ID:
        raise MalformedEvent("missing or oversized id")
    if not (event_id.isascii() and event_id.isprintable()):
        raise MalformedEvent("unusable id")
    return event_id


def clean_text(value: object, limit: int) -> str:
    """Text from Google as the database takes it: a string, no NUL, valid UTF-8, at most ``limit``."""
    if not isinstance(value, str):
        return ""
    text = value.replace("\x00", "").strip()[:limit]
    return text.encode("utf-8", "replace").decode("utf-8")


def visible_summary(event: dict) -> tuple[str, bool]:
    """(title, is private): private and confidential events keep no title."""
    private = event.get("visibility") in ("private", "confidential")
    return ("" if private else clean_text(event.get("summary"), 300)), private


def safe_fingerprint(event: dict) -> str:
    """``mapping.fingerprint``, or "" for an event too broken to fingerprint (never an echo then)."""
    try:
        return mapping.fingerprint(event)
    except (AttributeError, TypeError, ValueError, KeyError, OverflowError):
        return ""


def updated_at(event: dict) -> datetime | None:
    """Google's ``updated`` stamp, or None when it is missing or unreadable."""
    try:
        updated = client.parse_datetime(event["updated"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return updated if updated.tzinfo is not None else None
