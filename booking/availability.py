"""The free times the booking page offers: the portal's availability, cut for one appointment type.

Reads only the database (working hours, appointments, stored Google busy time through the book's
busy-time interface): rendering the page never asks Google. A start is offered when the type's
length plus its buffers before and after fits in free time, no sooner than the minimum notice and
no later than the horizon.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from calendars.models import AppointmentType
from calendars.selectors import free_spans
from copilot.accounts.models import Membership

STEP_SECONDS = 15 * 60  # starts fall on the quarter hour


@dataclass(frozen=True)
class Window:
    """What may be offered: [earliest, latest] for starts/ends, over local days [first_day, last_day]."""

    earliest: float
    latest: float
    first_day: date
    last_day: date


def booking_window(appointment_type: AppointmentType, now: datetime) -> Window:
    zone = appointment_type.practice.zone
    earliest = now + timedelta(minutes=appointment_type.min_notice_minutes)
    latest = now + timedelta(days=appointment_type.horizon_days)
    return Window(
        earliest=earliest.timestamp(),
        latest=latest.timestamp(),
        first_day=earliest.astimezone(zone).date(),
        last_day=latest.astimezone(zone).date(),
    )


def offered_starts(
    *,
    appointment_type: AppointmentType,
    member: Membership,
    window: Window,
    start_date: date | None = None,
    end_date: date | None = None,
) -> list[datetime]:
    """Starts of ``appointment_type`` that ``member`` can take, on local days [start_date, end_date]
    (default: the whole window), in the practice's zone, in order."""
    first = max(start_date or window.first_day, window.first_day)
    last = min(end_date or window.last_day, window.last_day)
    if last < first:
        return []
    length = appointment_type.duration_minutes * 60
    before = appointment_type.buffer_before_minutes * 60
    after = appointment_type.buffer_after_minutes * 60
    zone = member.practice.zone
    starts = []
    for span_start, span_end in free_spans(member=member, start_date=first, end_date=last):
        cursor = max(span_start + before, window.earliest)
        cursor = math.ceil(cursor / STEP_SECONDS) * STEP_SECONDS
        while cursor + length + after <= span_end and cursor + length <= window.latest:
            starts.append(datetime.fromtimestamp(cursor, zone))
            cursor += STEP_SECONDS
    return starts


def offers_by_day(
    *, appointment_type: AppointmentType, members: list[Membership], window: Window
) -> dict[date, dict[datetime, list[Membership]]]:
    """Every offered start in the window: local day → start → who can take it (one read per person)."""
    days: dict[date, dict[datetime, list[Membership]]] = {}
    for member in members:
        for start in offered_starts(appointment_type=appointment_type, member=member, window=window):
            days.setdefault(start.date(), {}).setdefault(start, []).append(member)
    return {day: dict(sorted(starts.items())) for day, starts in sorted(days.items())}
