"""How an appointment looks as a Google event, and how to recognize our own events.

Push builds event bodies here; pull reads events back through the same functions, so a
fingerprint of what we pushed equals the fingerprint of the event Google returns for it
(that is how echoes of our own writes are recognized).
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime

from django.urls import reverse

from calendars.models import Appointment
from copilot.accounts.models import Membership, Practice

TAG_APP = "copilot"
TAG_PRACTICE = "copilotPractice"
TAG_APPOINTMENT = "copilotAppointment"
TAG_MEMBER = "copilotMember"

PRIVATE_TITLE = "Busy — appointment"
UNTYPED_TITLE = "Appointment"  # "type only" for an appointment without a type
LINK_PREFIX = "Open in Copilot Calendars: "
PARTICIPANTS_PREFIX = "Taking part: "
CANCELLED_PREFIX = "Cancelled: "
MAX_ID_GENERATIONS = 20


def tags_for(appointment: Appointment, member: Membership) -> dict[str, str]:
    return {
        TAG_APP: "1",
        TAG_PRACTICE: str(appointment.practice_id),
        TAG_APPOINTMENT: str(appointment.pk),
        TAG_MEMBER: str(member.pk),
    }


def our_tags(event: dict) -> dict[str, str] | None:
    """The event's Copilot tags, or None when the event is not one of ours."""
    private = (event.get("extendedProperties") or {}).get("private") or {}
    if private.get(TAG_APP) != "1" or not private.get(TAG_APPOINTMENT):
        return None
    return private


def event_id_for(*, appointment_id: int, member_id: int, calendar_id: str, generation: int = 0) -> str:
    """Our event id: base32hex (Google's alphabet a–v, 0–9), derived from what it stands for.

    The same appointment in the same calendar always gets the same id, so a retry after a
    crash finds the event Google already has (409) instead of writing a duplicate. A new
    generation is used only when an earlier event with that id was deleted in Google.
    """
    digest = hashlib.sha256(f"{appointment_id}:{member_id}:{calendar_id}:{generation}".encode()).digest()
    return "cc" + base64.b32hexencode(digest[:20]).decode().lower().rstrip("=")


def _participants_line(people: list[Membership]) -> str:
    """Who takes part, owner first: each participant's own copy names the others here, never as
    ``attendees`` (which Google turns into invitations: a second copy on each participant's calendar)."""
    if len(people) < 2:
        return ""
    return PARTICIPANTS_PREFIX + ", ".join(person.display_name for person in people)


def _description(appointment: Appointment, portal_url: str, private: bool, people: list[Membership]) -> str:
    link = f"{LINK_PREFIX}{portal_url}" if portal_url else ""
    notes = "" if private else appointment.notes.strip()
    return "\n\n".join(part for part in (notes, _participants_line(people), link) if part)


def notes_from_description(description: str) -> str:
    """The appointment notes in an event description (without the participants and portal link we add)."""
    text = description or ""
    index = text.rfind(LINK_PREFIX)
    if index != -1:
        text = text[:index]
    text = text.strip()
    index = text.rfind(PARTICIPANTS_PREFIX)
    if index != -1 and (index == 0 or text[:index].endswith("\n\n")) and "\n" not in text[index:]:
        text = text[:index]
    return text.strip()


def _when(value: datetime, practice: Practice) -> dict:
    return {"dateTime": value.astimezone(practice.zone).isoformat(), "timeZone": practice.time_zone}


def hides_titles(practice: Practice) -> bool:
    """Whether ``practice`` keeps its appointment titles (patient names) and notes out of Google."""
    return practice.external_title_privacy != Practice.TitlePrivacy.FULL


def external_title(appointment: Appointment) -> str:
    """The event summary the practice's privacy setting allows: the title, the type's name, or "Busy".

    "Type only" writes the appointment type's name and nothing of the patient ("Check-up").
    """
    privacy = appointment.practice.external_title_privacy
    if privacy == Practice.TitlePrivacy.FULL:
        return appointment.title
    if privacy == Practice.TitlePrivacy.TYPE:
        return appointment.appointment_type.name if appointment.appointment_type_id else UNTYPED_TITLE
    return PRIVATE_TITLE


def event_body(
    appointment: Appointment, member: Membership, *, portal_url: str, cancelled_marker: bool = False
) -> dict:
    """The Google event for ``appointment`` in ``member``'s calendar (without an id)."""
    practice = appointment.practice
    private = hides_titles(practice)
    summary = external_title(appointment)
    if cancelled_marker:
        summary = CANCELLED_PREFIX + summary
    people = [appointment.staff, *(p for p in appointment.assignees.all() if p.pk != appointment.staff_id)]
    body = {
        "summary": summary,
        "description": _description(appointment, portal_url, private, people),
        "location": appointment.location,
        "start": _when(appointment.start, practice),
        "end": _when(appointment.end, practice),
        "attendees": [],  # empty, not absent: a patch also clears the guests older versions invited
        "extendedProperties": {"private": tags_for(appointment, member)},
        "reminders": {"useDefault": True},
        "status": "confirmed",
        "transparency": "transparent" if cancelled_marker else "opaque",
    }
    return body


def _instant(value: dict | None) -> str:
    if not value:
        return ""
    if value.get("dateTime"):
        return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00")).timestamp().__repr__()
    return value.get("date", "")


def fingerprint(event: dict) -> str:
    """A hash of what people see of an event; equal for our body and Google's copy of it."""
    attendees = sorted((a.get("email") or "").lower() for a in event.get("attendees") or [])
    payload = {
        "summary": event.get("summary") or "",
        "description": event.get("description") or "",
        "location": event.get("location") or "",
        "start": _instant(event.get("start")),
        "end": _instant(event.get("end")),
        "status": event.get("status") or "confirmed",
        "transparency": event.get("transparency") or "opaque",
        "attendees": attendees,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def portal_url_for(appointment: Appointment, base_url: str) -> str:
    """The appointment's page in the portal, for the event description ("" without a base URL)."""
    if not base_url:
        return ""
    return base_url.rstrip("/") + reverse("calendars:appointment_detail", args=[appointment.pk])
