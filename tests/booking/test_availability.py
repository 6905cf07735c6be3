"""Free times for the booking page: working hours minus appointments and busy time, with the type's
buffers, minimum notice and horizon."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from booking.availability import booking_window, offered_starts
from tests.conftest import local

pytestmark = pytest.mark.django_db


def starts_on(checkup, member, day):
    window = booking_window(checkup, timezone.now())
    starts = offered_starts(
        appointment_type=checkup, member=member, window=window, start_date=day, end_date=day
    )
    return [start.strftime("%H:%M") for start in starts]


def test_minimum_notice_and_working_hours_bound_the_first_day(now, checkup, bob):
    times = starts_on(checkup, bob, date(2030, 3, 4))
    assert times[0] == "09:00"  # 07:00 plus two hours' notice
    assert times[-1] == "17:15"  # 30 minutes plus a 15-minute buffer before 18:00


def test_an_appointment_and_the_buffer_after_keep_time_free(now, checkup, bob, book):
    book(bob, local(bob.practice, 2030, 3, 5, 10), local(bob.practice, 2030, 3, 5, 11))
    times = starts_on(checkup, bob, date(2030, 3, 5))
    assert "09:15" in times  # 09:15–09:45, buffer to 10:00
    assert "09:30" not in times and "10:00" not in times and "10:30" not in times
    assert "11:00" in times


def test_busy_time_from_other_calendars_is_never_offered(now, checkup, bob, busy_source):
    busy_source.add(bob, local(bob.practice, 2030, 3, 5, 13), local(bob.practice, 2030, 3, 5, 14))
    times = starts_on(checkup, bob, date(2030, 3, 5))
    assert not {"12:30", "13:00", "13:30"} & set(times)
    assert "12:15" in times and "14:00" in times


def test_nothing_is_offered_beyond_the_horizon(now, checkup, bob):
    assert starts_on(checkup, bob, date(2030, 3, 17))[-1] == "17:15"
    assert starts_on(checkup, bob, date(2030, 3, 18)) == []  # 14 days end at 07:00, before work starts
    window = booking_window(checkup, timezone.now())
    assert window.last_day == date(2030, 3, 4) + timedelta(days=14)


def checkup_at_ten(book, checkup, bob):
    """Bob's check-up on Tuesday 10:00–10:30, with the type's buffers."""
    return book(
        bob,
        local(bob.practice, 2030, 3, 5, 10),
        local(bob.practice, 2030, 3, 5, 10, 30),
        appointment_type=checkup,
    )


def test_an_existing_appointments_buffers_keep_time_free_too(now, checkup, bob, book):
    # A 10:00 check-up keeps its 15-minute buffer after: the next check-up starts 10:45 at the
    # earliest, and one before it must leave 10:00 free (its own buffer after ends at 10:00).
    checkup_at_ten(book, checkup, bob)
    times = starts_on(checkup, bob, date(2030, 3, 5))
    assert "09:15" in times and "09:30" not in times
    assert "10:30" not in times and "10:45" in times


def test_the_buffers_of_neighbours_add_up(now, checkup, bob, book):
    checkup.buffer_before_minutes = 10
    checkup.save()
    checkup_at_ten(book, checkup, bob)
    times = starts_on(checkup, bob, date(2030, 3, 5))
    # 10:30 + 15 after (the booked one) + 10 before (the new one) = 10:55 → the next quarter, 11:00.
    assert "10:45" not in times and "11:00" in times
    # Before it: the new one's end plus its 15 after must stay clear of 09:50 (10:00 less the booked
    # one's 10 before) → end by 09:35 → start 09:00 at the latest.
    assert "09:00" in times and "09:15" not in times


def test_the_portals_free_intervals_keep_an_appointments_buffers(now, checkup, bob, book):
    from calendars.selectors import free_intervals

    checkup_at_ten(book, checkup, bob)
    free = free_intervals(member=bob, start_date=date(2030, 3, 5), end_date=date(2030, 3, 5))
    assert (local(bob.practice, 2030, 3, 5, 10), local(bob.practice, 2030, 3, 5, 10, 45)) not in free
    assert any(start == local(bob.practice, 2030, 3, 5, 10, 45) for start, _ in free)
