"""The calendar file attached to a booking's email (``icalendar``, never hand-written text)."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vText

from calendars.models import Appointment

PRODID = "-//Copilot Calendars//Online booking//EN"


def appointment_ics(appointment: Appointment, *, manage_url: str, now: datetime) -> bytes:
    """One VEVENT for the patient's own calendar: what, when, where, with whom, and the manage link.

    The UID stays the same for the appointment, so a rescheduled file replaces the first one.
    """
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@copilot-calendars")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", appointment.start.astimezone(UTC))
    event.add("dtend", appointment.end.astimezone(UTC))
    event.add("sequence", appointment.version)
    kind = appointment.appointment_type.name if appointment.appointment_type_id else "Appointment"
    event.add("summary", f"{kind} at {appointment.practice.name}")
    event.add("description", f"With {appointment.staff.display_name}.\nReschedule or cancel: {manage_url}")
    if appointment.location:
        event["location"] = vText(appointment.location)
    event.add("url", manage_url)
    event.add("status", "CANCELLED" if not appointment.is_active else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
