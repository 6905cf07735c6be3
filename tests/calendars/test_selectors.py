"""Reads of the book: availability (working hours minus appointments minus busy time) and scoping."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from calendars.models import Appointment
from calendars.selectors import (
    appointment_for_member,
    appointments_in_range,
    free_intervals,
    free_slots,
    overlapping_appointments,
    subtract,
    within_working_hours,
)
from calendars.services import appointment_cancel, working_hours_set
from tests.conftest import local, make_member

MONDAY = date(2026, 11, 23)
TUESDAY = date(2026, 11, 24)


def at(practice, hour: int, minute: int = 0, day: date = MONDAY):
    return local(practice, day.year, day.month, day.day, hour, minute)


def local_times(intervals, practice) -> list[tuple[str, str]]:
    zone = practice.zone
    return [(f"{s.astimezone(zone):%a %H:%M}", f"{e.astimezone(zone):%H:%M}") for s, e in intervals]


@pytest.fixture
def split_shift(practice_a):
    """Staff who work Monday and Tuesday 08:00–12:00 and 13:00–17:00."""
    member = make_member(practice_a, "split@a.test", first_name="Sam")
    working_hours_set(
        member=member,
        intervals=[(d, s, e) for d in (0, 1) for s, e in ((time(8), time(12)), (time(13), time(17)))],
    )
    return member


def test_free_intervals_are_the_working_hours_when_nothing_is_booked(split_shift):
    found = free_intervals(member=split_shift, start_date=MONDAY, end_date=MONDAY)
    assert local_times(found, split_shift.practice) == [("Mon 08:00", "12:00"), ("Mon 13:00", "17:00")]


def test_free_intervals_leave_out_appointments(split_shift, book):
    p = split_shift.practice
    book(split_shift, at(p, 9), at(p, 10))
    book(split_shift, at(p, 13), at(p, 14))
    book(split_shift, at(p, 16, 30), at(p, 17))
    found = free_intervals(member=split_shift, start_date=MONDAY, end_date=MONDAY)
    assert local_times(found, p) == [
        ("Mon 08:00", "09:00"),
        ("Mon 10:00", "12:00"),
        ("Mon 14:00", "16:30"),
    ]


def test_free_intervals_leave_out_busy_time_from_other_calendars(split_shift, busy_source):
    p = split_shift.practice
    busy_source.add(split_shift, at(p, 11), at(p, 14), source="Personal")  # spans lunch
    found = free_intervals(member=split_shift, start_date=MONDAY, end_date=MONDAY)
    assert local_times(found, p) == [("Mon 08:00", "11:00"), ("Mon 14:00", "17:00")]


def test_free_intervals_leave_out_appointments_and_busy_time_together(split_shift, book, busy_source):
    p = split_shift.practice
    book(split_shift, at(p, 8), at(p, 9))
    busy_source.add(split_shift, at(p, 8, 30), at(p, 9, 30))  # overlaps the appointment
    busy_source.add(split_shift, at(p, 15), at(p, 18))  # runs past the end of the day
    found = free_intervals(member=split_shift, start_date=MONDAY, end_date=MONDAY)
    assert local_times(found, p) == [("Mon 09:30", "12:00"), ("Mon 13:00", "15:00")]


def test_busy_time_of_a_colleague_leaves_availability_alone(split_shift, bob, busy_source):
    p = split_shift.practice
    busy_source.add(bob, at(p, 8), at(p, 17))
    found = free_intervals(member=split_shift, start_date=MONDAY, end_date=MONDAY)
    assert len(found) == 2


def test_cancelled_appointments_do_not_take_time(split_shift, book):
    p = split_shift.practice
    appointment = book(split_shift, at(p, 9), at(p, 10))
    appointment_cancel(appointment=appointment, actor=None)
    found = free_intervals(member=split_shift, start_date=MONDAY, end_date=MONDAY)
    assert local_times(found, p) == [("Mon 08:00", "12:00"), ("Mon 13:00", "17:00")]


def test_free_intervals_span_several_days_and_skip_days_off(split_shift, book):
    p = split_shift.practice
    book(split_shift, at(p, 8, day=TUESDAY), at(p, 12, day=TUESDAY))
    found = free_intervals(member=split_shift, start_date=date(2026, 11, 22), end_date=date(2026, 11, 25))
    assert local_times(found, p) == [
        ("Mon 08:00", "12:00"),
        ("Mon 13:00", "17:00"),
        ("Tue 13:00", "17:00"),
    ]


def test_no_working_hours_means_no_free_slots(practice_a):
    member = make_member(practice_a, "nohours@a.test")
    assert free_intervals(member=member, start_date=MONDAY, end_date=TUESDAY) == []
    assert free_slots(member=member, start_date=MONDAY, end_date=TUESDAY) == []


def test_free_slots_use_the_practice_appointment_length(split_shift):
    p = split_shift.practice
    p.default_appointment_minutes = 60
    p.save()
    split_shift.practice.refresh_from_db()
    slots = free_slots(member=split_shift, start_date=MONDAY, end_date=MONDAY)
    assert [f"{s.start.astimezone(p.zone):%H:%M}" for s in slots] == [
        "08:00",
        "09:00",
        "10:00",
        "11:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]
    assert all((s.end - s.start).total_seconds() == 3600 for s in slots)


def test_free_slots_fit_inside_the_gaps_and_never_straddle_a_break(split_shift, book):
    p = split_shift.practice
    book(split_shift, at(p, 8, 20), at(p, 11, 20))
    slots = free_slots(member=split_shift, start_date=MONDAY, end_date=MONDAY, minutes=45)
    starts = [f"{s.start.astimezone(p.zone):%H:%M}" for s in slots]
    # 08:00–08:20 is too short; 11:20–12:00 is too short; the afternoon holds five 45-minute slots.
    assert starts == ["13:00", "13:45", "14:30", "15:15", "16:00"]


def test_free_slots_can_be_booked(split_shift, book):
    p = split_shift.practice
    book(split_shift, at(p, 8), at(p, 12))
    slot = free_slots(member=split_shift, start_date=MONDAY, end_date=MONDAY)[0]
    assert slot.start == at(p, 13)
    assert book(split_shift, slot.start, slot.end).pk


def test_within_working_hours_needs_the_whole_appointment_inside_one_interval(split_shift):
    p = split_shift.practice
    assert within_working_hours(member=split_shift, start=at(p, 8), end=at(p, 12))
    assert not within_working_hours(member=split_shift, start=at(p, 11, 30), end=at(p, 13, 30))
    assert not within_working_hours(member=split_shift, start=at(p, 7, 30), end=at(p, 8, 30))
    assert not within_working_hours(
        member=split_shift, start=at(p, 9, day=date(2026, 11, 25)), end=at(p, 10, day=date(2026, 11, 25))
    )


def test_staff_without_working_hours_are_not_restricted(practice_a):
    member = make_member(practice_a, "nohours@a.test")
    assert within_working_hours(member=member, start=at(practice_a, 3), end=at(practice_a, 4))


def test_overlapping_appointments_are_the_active_ones_touching_the_range(bob, book):
    p = bob.practice
    first = book(bob, at(p, 9), at(p, 10))
    second = book(bob, at(p, 10), at(p, 11))
    cancelled = book(bob, at(p, 11), at(p, 12))
    appointment_cancel(appointment=cancelled, actor=None)
    assert list(overlapping_appointments(staff=bob, start=at(p, 9, 30), end=at(p, 12))) == [first, second]
    assert list(overlapping_appointments(staff=bob, start=at(p, 10), end=at(p, 12))) == [second]
    assert list(overlapping_appointments(staff=bob, start=at(p, 9), end=at(p, 11), exclude_id=first.pk)) == [
        second
    ]


def test_appointments_in_range_stay_inside_the_practice(bob, dora, charlie, book):
    p = bob.practice
    ours = book(bob, at(p, 9), at(p, 10))
    colleague = book(dora, at(p, 9), at(p, 10))
    q = charlie.practice
    book(charlie, local(q, 2026, 11, 23, 9), local(q, 2026, 11, 23, 10))
    found = appointments_in_range(practice=p, start=at(p, 0), end=at(p, 23))
    assert set(found) == {ours, colleague}
    assert list(appointments_in_range(practice=p, start=at(p, 0), end=at(p, 23), staff=dora)) == [colleague]


def test_appointments_in_range_include_cancelled_only_when_asked(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    appointment_cancel(appointment=appointment, actor=None)
    assert not appointments_in_range(practice=p, start=at(p, 0), end=at(p, 23)).exists()
    assert list(appointments_in_range(practice=p, start=at(p, 0), end=at(p, 23), include_cancelled=True)) == [
        appointment
    ]


def test_a_member_cannot_reach_another_practices_appointment(bob, charlie, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    assert appointment_for_member(membership=bob, pk=appointment.pk) == appointment
    with pytest.raises(Appointment.DoesNotExist):
        appointment_for_member(membership=charlie, pk=appointment.pk)


def test_subtract_leaves_the_uncovered_parts():
    t = [datetime(2030, 1, 1, h, tzinfo=UTC) for h in range(24)]
    assert subtract([(t[1], t[9])], [(t[2], t[3]), (t[5], t[6]), (t[8], t[10])]) == [
        (t[1], t[2]),
        (t[3], t[5]),
        (t[6], t[8]),
    ]
    assert subtract([(t[1], t[2])], [(t[0], t[3])]) == []
