"""Buffers on both sides, enforced where the booking takes the staff lock.

The booking page's free times keep every type's buffers; the service checks them again under the
lock, since two patients may both see neighbouring times as free and confirm at once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from booking import services
from calendars import services as book_services
from calendars.models import Appointment, AppointmentChange
from patients.services import PatientDetails
from tests.conftest import local

pytestmark = pytest.mark.django_db

ONLINE = AppointmentChange.Source.ONLINE


def online(checkup, bob, start):
    return book_services.appointment_book(
        practice=bob.practice,
        staff=bob,
        start=start,
        end=start + timedelta(minutes=checkup.duration_minutes),
        created_by=None,
        appointment_type=checkup,
        new_patient=PatientDetails(name="Ada Lovelace", email="ada@example.test", phone=""),
        source=ONLINE,
    ).appointment


def test_an_online_booking_inside_a_neighbours_buffer_after_is_refused_under_the_lock(now, checkup, bob):
    online(checkup, bob, local(bob.practice, 2030, 3, 5, 9))  # 09:00–09:30, free until 09:45
    with pytest.raises(book_services.BookingError) as refused:
        online(checkup, bob, local(bob.practice, 2030, 3, 5, 9, 30))
    assert refused.value.code == "buffer"
    assert online(checkup, bob, local(bob.practice, 2030, 3, 5, 9, 45))


def test_an_online_booking_whose_own_buffer_reaches_a_neighbour_is_refused(now, checkup, bob, book):
    book(bob, local(bob.practice, 2030, 3, 5, 10), local(bob.practice, 2030, 3, 5, 11))
    with pytest.raises(book_services.BookingError):
        online(checkup, bob, local(bob.practice, 2030, 3, 5, 9, 30))  # its 15 minutes after hit 10:00
    assert Appointment.objects.count() == 1


def test_an_online_reschedule_keeps_the_buffers(now, checkup, bob):
    first = online(checkup, bob, local(bob.practice, 2030, 3, 5, 9))
    second = online(checkup, bob, local(bob.practice, 2030, 3, 5, 11))
    with pytest.raises(services.SlotTaken):
        services.online_booking_reschedule(
            appointment=second, start=local(bob.practice, 2030, 3, 5, 9, 30), manage_url="https://x.test/"
        )
    second.refresh_from_db()
    assert second.start == local(bob.practice, 2030, 3, 5, 11)
    assert first.start == local(bob.practice, 2030, 3, 5, 9)


def test_the_front_desk_may_still_book_inside_a_buffer(now, checkup, bob, book):
    online(checkup, bob, local(bob.practice, 2030, 3, 5, 9))
    assert book(bob, local(bob.practice, 2030, 3, 5, 9, 30), local(bob.practice, 2030, 3, 5, 10))
