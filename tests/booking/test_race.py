"""Twenty patients confirm the same time at once: exactly one booking, nineteen told it was taken.

PostgreSQL only (SQLite serializes every writer, so there is no race to lose).
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from booking import services
from calendars.models import Appointment
from patients.models import Patient
from patients.services import PatientDetails
from tests.conftest import local

pytestmark = pytest.mark.postgres

PATIENTS = 20


def confirm_in_thread(checkup, bob, start, n: int, barrier: threading.Barrier, results: list) -> None:
    try:
        barrier.wait(timeout=30)
        services.online_booking_confirm(
            practice=bob.practice,
            appointment_type=checkup,
            candidates=[bob],
            start=start,
            details=PatientDetails(name=f"Patient {n}", email=f"p{n}@example.test", phone=f"555 01{n:02d}"),
            manage_url_for=lambda appointment: "https://example.test/manage",
        )
        results.append("booked")
    except services.SlotTaken:
        results.append("taken")
    except Exception as exc:  # anything else is a failure the test reports
        results.append(exc)
    finally:
        connection.close()


def race(checkup, bob, starts) -> list:
    """``PATIENTS`` confirmations at once, patient n asking for ``starts[n % len(starts)]``."""
    barrier = threading.Barrier(PATIENTS)
    results: list = []
    threads = [
        threading.Thread(
            target=confirm_in_thread,
            args=(checkup, bob, starts[n % len(starts)], n, barrier, results),
            daemon=True,
        )
        for n in range(PATIENTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a confirmation hung"
    return results


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_confirmations_of_one_time_give_one_booking(now, checkup, bob):
    start = local(bob.practice, 2030, 3, 5, 9)
    results = race(checkup, bob, [start])
    assert results.count("booked") == 1, results
    assert results.count("taken") == PATIENTS - 1, results
    winner = Appointment.objects.get()
    assert winner.start == start and winner.booked_online
    assert Patient.objects.count() == 1  # the losers' patients were rolled back with their booking


@pytest.mark.django_db(transaction=True)
def test_patients_racing_for_neighbouring_times_never_end_up_inside_each_others_buffers(now, checkup, bob):
    # 09:00 and 09:30 are both offered (a 30-minute check-up keeps 15 minutes after it), but not
    # together: 09:30 sits inside 09:00's buffer. Half the patients ask for each.
    results = race(checkup, bob, [local(bob.practice, 2030, 3, 5, 9), local(bob.practice, 2030, 3, 5, 9, 30)])
    assert results.count("booked") == 1, results
    assert results.count("taken") == PATIENTS - 1, results
