"""The booking page's steps, read from the query string: type → person → day → time → details.

Every choice is a plain link or GET form (the page works without JavaScript); anything that does
not name one of the practice's online types, people, days or free times is simply not chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.http import QueryDict
from django.utils import timezone

from calendars.models import AppointmentType
from copilot.accounts.models import Membership, Practice

from .availability import booking_window, offers_by_day
from .selectors import online_types, type_staff

ANY = "any"


@dataclass
class Flow:
    practice: Practice
    fixed_staff: Membership | None
    types: list[AppointmentType]
    appointment_type: AppointmentType | None = None
    people: list[Membership] = field(default_factory=list)
    staff_choice: str = ""  # a membership id, or "any" for first available
    candidates: list[Membership] = field(default_factory=list)
    offers: dict[date, dict[datetime, list[Membership]]] = field(default_factory=dict)
    day: date | None = None
    start: datetime | None = None

    @property
    def times(self) -> list[datetime]:
        return list(self.offers.get(self.day, {})) if self.day else []


def _pick(items, value, key=lambda item: str(item.pk)):
    return next((item for item in items if key(item) == value), None)


def read_flow(practice: Practice, params: QueryDict, fixed_staff: Membership | None = None) -> Flow:
    types = list(online_types(practice=practice))
    if fixed_staff is not None:
        types = [t for t in types if fixed_staff.pk in {m.pk for m in type_staff(appointment_type=t)}]
    flow = Flow(practice=practice, fixed_staff=fixed_staff, types=types)
    flow.appointment_type = _pick(types, params.get("type", ""))
    if flow.appointment_type is None:
        return flow
    flow.people = type_staff(appointment_type=flow.appointment_type)
    if fixed_staff is not None:
        flow.staff_choice, flow.candidates = str(fixed_staff.pk), [fixed_staff]
    elif params.get("staff") == ANY or len(flow.people) == 1:
        flow.candidates = flow.people
        flow.staff_choice = ANY if len(flow.people) > 1 else str(flow.people[0].pk)
    else:
        chosen = _pick(flow.people, params.get("staff", ""))
        if chosen is None:
            return flow
        flow.staff_choice, flow.candidates = str(chosen.pk), [chosen]
    window = booking_window(flow.appointment_type, timezone.now())
    flow.offers = offers_by_day(
        appointment_type=flow.appointment_type, members=flow.candidates, window=window
    )
    flow.day = _pick(list(flow.offers), params.get("day", ""), key=lambda d: d.isoformat())
    return flow


def nearest_times(flow: Flow, start: datetime, count: int = 6) -> list[datetime]:
    """The offered starts closest to ``start`` (after a race was lost), in time order."""
    every = [moment for starts in flow.offers.values() for moment in starts]
    return sorted(sorted(every, key=lambda moment: abs((moment - start).total_seconds()))[:count])
