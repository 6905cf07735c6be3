"""The team views as data: one column (day) or one lane (week) per staff member, on one time span."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from copilot.accounts.member_status import MemberStatus

from .week import DEFAULT_SPAN, DayColumn, build_week, span_of


@dataclass
class TeamMember:
    """One person's part of the team view: their days, connection states and working hours."""

    member: Any  # Membership
    days: list[DayColumn]
    statuses: list[MemberStatus]
    can_book: bool
    hours: Mapping[int, Sequence[tuple[time, time]]]

    @property
    def day(self) -> DayColumn:
        return self.days[0]

    @property
    def needs_attention(self) -> bool:
        return any(status.needs_attention for status in self.statuses)

    @property
    def lanes(self) -> list[tuple[DayColumn, str]]:
        """The week lane's cells: each day with its working hours in words."""
        return [(column, self.hours_on(column.date)) for column in self.days]

    def hours_on(self, day: date) -> str:
        """Working hours of ``day`` in words, for the week lanes ("08:00–12:00, 13:00–17:00")."""
        if not self.hours:
            return "Any time"
        intervals = self.hours.get(day.weekday(), ())
        return ", ".join(f"{s:%H:%M}–{e:%H:%M}" for s, e in intervals) or "Not working"


@dataclass
class TeamGrid:
    start_date: date
    dates: list[date]
    first_hour: int
    last_hour: int
    zone: ZoneInfo
    people: list[TeamMember]

    @property
    def total_minutes(self) -> int:
        return (self.last_hour - self.first_hour) * 60

    @property
    def hours(self) -> list[tuple[int, str]]:
        return [((h - self.first_hour) * 60, f"{h:02d}:00") for h in range(self.first_hour, self.last_hour)]

    @property
    def end_date(self) -> date:
        return self.dates[-1]

    @property
    def day_columns(self) -> list[DayColumn]:
        """The first person's days: what every person's days share (dates, today, past, now line)."""
        return self.people[0].days if self.people else []


def build_team(
    *,
    members: Sequence[Any],
    appointments: Mapping[int, list],
    busy: Mapping[int, list],
    hours: Mapping[int, Mapping[int, Sequence[tuple[time, time]]]],
    statuses: Mapping[int, list[MemberStatus]],
    bookable: set[int],
    start_date: date,
    days: int,
    zone: ZoneInfo,
    now: datetime,
) -> TeamGrid:
    """Lay out ``members`` side by side over ``days`` local days, all on one span of hours.

    The span is the default widened to everyone's working hours and appointments, so every
    column lines up. Mappings are keyed by membership id; ``bookable`` are the ids whose free
    slots the viewer may click to book.
    """
    dates = [start_date + timedelta(days=offset) for offset in range(days)]
    span = DEFAULT_SPAN
    for member in members:
        span = span_of(appointments.get(member.pk, []), hours.get(member.pk, {}), dates, zone, span)
    today = now.astimezone(zone).date()
    people = []
    for member in members:
        grid = build_week(
            appointments=appointments.get(member.pk, []),
            busy=busy.get(member.pk, []),
            working_hours=hours.get(member.pk, {}),
            start_date=start_date,
            zone=zone,
            days=days,
            today=today,
            default_span=span,
            now=now,
        )
        people.append(
            TeamMember(
                member=member,
                days=grid.days,
                statuses=statuses.get(member.pk, []),
                can_book=member.pk in bookable,
                hours=hours.get(member.pk, {}),
            )
        )
    return TeamGrid(
        start_date=start_date, dates=dates, first_hour=span[0], last_hour=span[1], zone=zone, people=people
    )
