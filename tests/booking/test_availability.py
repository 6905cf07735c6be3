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
