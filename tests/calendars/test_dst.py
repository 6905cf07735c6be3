"""Daylight saving time in America/New_York: clocks go forward on 2026-03-08 and back on 2026-11-01.

The book stores instants (UTC) and speaks the practice's wall clock. Whatever "now" is, on either
side of a change, a 09:00 appointment is 09:00 local and working hours mean local hours.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from freezegun import freeze_time

from calendars.models import Appointment
from calendars.selectors import free_slots, within_working_hours
from calendars.services import appointment_update, working_hours_set
from calendars.timezones import day_bounds, format_local_range, local_to_aware
from tests.conftest import local

SPRING_FORWARD = date(2026, 3, 8)  # 02:00 EST becomes 03:00 EDT
FALL_BACK = date(2026, 11, 1)  # 02:00 EDT becomes 01:00 EST
# "Now" one week before and one week after each change.
NOW_BEFORE_AND_AFTER = [
    "2026-03-01 15:00:00",
    "2026-03-15 15:00:00",
    "2026-10-25 15:00:00",
    "2026-11-08 15:00:00",
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def length(slot) -> timedelta:
    """A slot's real length (subtracting two times of one zone gives the wall-clock difference)."""
    return slot.end.astimezone(UTC) - slot.start.astimezone(UTC)


def local_clock(value: datetime, practice) -> str:
    return f"{value.astimezone(practice.zone):%Y-%m-%d %H:%M %Z}"


@pytest.mark.parametrize("now", NOW_BEFORE_AND_AFTER)
@pytest.mark.parametrize(
    "day,expected_utc_hour",
    [
        (date(2026, 3, 6), 14),  # Friday before spring forward: EST, UTC-5
        (date(2026, 3, 9), 13),  # Monday after: EDT, UTC-4
        (date(2026, 10, 30), 13),  # Friday before fall back: EDT
        (date(2026, 11, 2), 14),  # Monday after: EST
    ],
)
def test_a_nine_oclock_appointment_stays_at_nine_local(bob, book, now, day, expected_utc_hour):
    p = bob.practice
    with freeze_time(now):
        start = local_to_aware(datetime.combine(day, time(9)), p.zone)
        appointment = book(bob, start, start + timedelta(minutes=30))
    with freeze_time(NOW_BEFORE_AND_AFTER[(NOW_BEFORE_AND_AFTER.index(now) + 1) % 4]):
        stored = Appointment.objects.get(pk=appointment.pk)
        assert stored.start == utc(day.year, day.month, day.day, expected_utc_hour)
        assert f"{stored.start.astimezone(p.zone):%H:%M}" == "09:00"
        assert format_local_range(stored.start, stored.end, p.zone).endswith("09:00–09:30")


@pytest.mark.parametrize("now", NOW_BEFORE_AND_AFTER)
def test_moving_across_a_change_keeps_the_wall_clock_time_asked_for(bob, book, now):
    p = bob.practice
    with freeze_time(now):
        appointment = book(bob, local(p, 2026, 3, 6, 9), local(p, 2026, 3, 6, 10))
        appointment_update(
            appointment=appointment, actor=None, start=local(p, 2026, 3, 9, 9), end=local(p, 2026, 3, 9, 10)
        )
    appointment.refresh_from_db()
    assert local_clock(appointment.start, p) == "2026-03-09 09:00 EDT"
    assert appointment.end - appointment.start == timedelta(hours=1)


@pytest.mark.parametrize("now", NOW_BEFORE_AND_AFTER)
@pytest.mark.parametrize("day,offset_hours", [(SPRING_FORWARD, 4), (FALL_BACK, 5)])
def test_weekly_working_hours_give_slots_at_local_times_on_the_change_day(bob, now, day, offset_hours):
    p = bob.practice  # bob works 08:00–18:00 every day
    with freeze_time(now):
        slots = free_slots(member=bob, start_date=day, end_date=day, minutes=60)
    assert [f"{s.start.astimezone(p.zone):%H:%M}" for s in slots] == [f"{h:02d}:00" for h in range(8, 18)]
    assert slots[0].start == utc(day.year, day.month, day.day, 8 + offset_hours)
    assert all(length(s) == timedelta(hours=1) for s in slots)


def test_the_days_around_spring_forward_keep_their_local_hours(bob):
    p = bob.practice
    slots = free_slots(member=bob, start_date=date(2026, 3, 7), end_date=date(2026, 3, 9), minutes=600)
    assert [local_clock(s.start, p) for s in slots] == [
        "2026-03-07 08:00 EST",
        "2026-03-08 08:00 EDT",
        "2026-03-09 08:00 EDT",
    ]


def test_night_hours_across_spring_forward_give_only_the_hours_that_exist(bob):
    p = bob.practice
    working_hours_set(member=bob, intervals=[(6, time(0), time(4))])  # Sundays, midnight to 04:00
    slots = free_slots(member=bob, start_date=SPRING_FORWARD, end_date=SPRING_FORWARD, minutes=60)
    assert [local_clock(s.start, p) for s in slots] == [
        "2026-03-08 00:00 EST",
        "2026-03-08 01:00 EST",
        "2026-03-08 03:00 EDT",
    ]
    assert all(length(s) == timedelta(hours=1) for s in slots)


def test_night_hours_across_fall_back_include_the_repeated_hour(bob):
    p = bob.practice
    working_hours_set(member=bob, intervals=[(6, time(0), time(4))])
    slots = free_slots(member=bob, start_date=FALL_BACK, end_date=FALL_BACK, minutes=60)
    assert [local_clock(s.start, p) for s in slots] == [
        "2026-11-01 00:00 EDT",
        "2026-11-01 01:00 EDT",
        "2026-11-01 01:00 EST",
        "2026-11-01 02:00 EST",
        "2026-11-01 03:00 EST",
    ]
    # Compared in UTC: Python compares two times of one zone by the wall clock, ignoring fold.
    starts = [s.start.astimezone(UTC) for s in slots]
    assert starts == [utc(2026, 11, 1, h) for h in range(4, 9)]
    assert all(length(s) == timedelta(hours=1) for s in slots)


def test_booking_on_the_change_day_respects_local_working_hours(bob, book):
    p = bob.practice
    appointment = book(bob, local(p, 2026, 3, 8, 8), local(p, 2026, 3, 8, 9))
    assert appointment.start == utc(2026, 3, 8, 12)
    # 07:30 EDT is outside 08:00–18:00 even though it is 08:30 by the previous day's offset.
    assert not within_working_hours(member=bob, start=utc(2026, 3, 8, 11, 30), end=utc(2026, 3, 8, 12, 30))


def test_local_to_aware_refuses_a_time_skipped_by_spring_forward(practice_a):
    with pytest.raises(ValidationError, match="does not exist in America/New_York"):
        local_to_aware(datetime(2026, 3, 8, 2, 30), practice_a.zone)


def test_local_to_aware_takes_the_first_of_a_repeated_time(practice_a):
    aware = local_to_aware(datetime(2026, 11, 1, 1, 30), practice_a.zone)
    assert aware.astimezone(UTC) == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, not 01:30 EST


def test_local_to_aware_around_the_gap(practice_a):
    assert local_to_aware(datetime(2026, 3, 8, 1, 59), practice_a.zone).astimezone(UTC) == utc(
        2026, 3, 8, 6, 59
    )
    assert local_to_aware(datetime(2026, 3, 8, 3, 0), practice_a.zone).astimezone(UTC) == utc(
        2026, 3, 8, 7, 0
    )


def test_change_days_are_23_and_25_hours_long(practice_a):
    for day, hours in [(SPRING_FORWARD, 23), (FALL_BACK, 25), (date(2026, 3, 9), 24)]:
        start, end = day_bounds(day, practice_a.zone)
        assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=hours)
