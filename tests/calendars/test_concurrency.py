"""Two receptionists, one slot: PostgreSQL keeps a staff member's book free of overlaps.

These run only on PostgreSQL (SQLite serializes every writer, so there is no race to lose).
"""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from django.db import IntegrityError, connection, transaction

from calendars import services
from calendars.models import Appointment, Participant
from calendars.services import BookingError, appointment_book
from tests.conftest import local

pytestmark = pytest.mark.postgres

THREADS = 8


def book_in_thread(member, start: datetime, end: datetime, title: str, barrier: threading.Barrier, results):
    """Book from a thread with its own connection, all threads released at once."""
    try:
        barrier.wait(timeout=30)
        result = appointment_book(
            practice=member.practice, staff=member, start=start, end=end, title=title, created_by=None
        )
        results.append(("booked", result.appointment.pk))
    except BookingError as exc:
        results.append(("refused", exc))
    except Exception as exc:  # anything else is a failure the test reports
        results.append(("error", exc))
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_bookings_of_one_slot_give_one_appointment(bob):
    start, end = local(bob.practice, 2026, 11, 23, 9), local(bob.practice, 2026, 11, 23, 10)
    barrier = threading.Barrier(THREADS)
    results: list = []
    threads = [
        threading.Thread(
            target=book_in_thread, args=(bob, start, end, f"Patient {n}", barrier, results), daemon=True
        )
        for n in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"

    outcomes = [kind for kind, _ in results]
    assert outcomes.count("booked") == 1, results
    assert outcomes.count("refused") == THREADS - 1, results
    winner = Appointment.objects.get()
    assert winner.pk == next(value for kind, value in results if kind == "booked")
    expected = f"Bob already has “{winner.title}” Mon 23 Nov 09:00–10:00."
    for kind, exc in results:
        if kind == "refused":
            assert exc.code == "overlap"
            assert exc.messages == [expected]


@pytest.mark.django_db(transaction=True)
def test_a_race_lost_at_the_database_reads_like_any_other_conflict(bob, monkeypatch):
    """When the rule check misses a booking that commits first, the exclusion constraint refuses
    the save and the service turns that into the usual message."""
    p = bob.practice
    start, end = local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10)
    appointment_book(practice=p, staff=bob, start=start, end=end, title="Crown", created_by=None)
    real = services.overlapping_appointments
    calls = []

    def blind_first_check(**kwargs):  # the check ran before the other booking was visible
        calls.append(kwargs)
        qs = real(**kwargs)
        return qs.none() if len(calls) == 1 else qs

    monkeypatch.setattr(services, "overlapping_appointments", blind_first_check)
    with pytest.raises(BookingError) as info:
        appointment_book(practice=p, staff=bob, start=start, end=end, title="Filling", created_by=None)
    assert info.value.code == "overlap"
    assert info.value.messages == ["Bob already has “Crown” Mon 23 Nov 09:00–10:00."]
    assert list(Appointment.objects.values_list("title", flat=True)) == ["Crown"]


def _appointment_with_rows(practice, staff, title, start, end, *, assignees=(), **fields) -> Appointment:
    """An appointment and its participant rows written directly, bypassing the services' rules."""
    appointment = Appointment.objects.create(
        practice=practice, staff=staff, title=title, start=start, end=end, **fields
    )
    active = appointment.is_active and not appointment.has_conflict
    for member in (staff, *assignees):
        Participant.objects.create(
            appointment=appointment,
            member=member,
            is_owner=member == staff,
            start=start,
            end=end,
            active=active,
        )
    return appointment


def test_the_exclusion_constraint_refuses_an_overlap_that_bypasses_the_service(bob):
    """The rule lives on the participant table (it was on ``Appointment`` before participants)."""
    p = bob.practice
    _appointment_with_rows(p, bob, "First", local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10))
    with pytest.raises(IntegrityError, match="participant_no_overlap_per_member"), transaction.atomic():
        _appointment_with_rows(
            p, bob, "Second", local(p, 2026, 11, 23, 9, 30), local(p, 2026, 11, 23, 10, 30)
        )
    assert Appointment.objects.count() == 1


def test_the_exclusion_constraint_refuses_an_assignee_in_two_appointments(bob, dora, alice):
    p = bob.practice
    nine, ten = local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10)
    _appointment_with_rows(p, bob, "First", nine, ten, assignees=[alice])
    with pytest.raises(IntegrityError, match="participant_no_overlap_per_member"), transaction.atomic():
        _appointment_with_rows(p, dora, "Second", nine, ten, assignees=[alice])
    assert Appointment.objects.count() == 1


def test_the_exclusion_constraint_allows_what_the_rules_allow(bob, dora):
    p = bob.practice
    nine, ten, eleven = (local(p, 2026, 11, 23, h) for h in (9, 10, 11))
    _appointment_with_rows(p, bob, "A", nine, ten)
    _appointment_with_rows(p, bob, "Back to back", ten, eleven)
    _appointment_with_rows(p, dora, "Colleague", nine, ten)
    _appointment_with_rows(p, bob, "Cancelled", nine, ten, status=Appointment.Status.CANCELLED)
    _appointment_with_rows(p, bob, "Moved in Google", nine, ten, has_conflict=True)
    assert Appointment.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_making_one_person_a_participant_twice_give_one_appointment(bob, dora, alice):
    """Bob's and Dora's receptionists both add Alice to a 9:00 appointment at once: exactly one wins,
    and the loser is told Alice is taken (by the rule under the lock, or by the constraint)."""
    p = bob.practice
    start, end = local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10)
    barrier = threading.Barrier(THREADS)
    results: list = []

    def book(number: int) -> None:
        owner = (bob, dora)[number % 2]
        try:
            barrier.wait(timeout=30)
            result = appointment_book(
                practice=p,
                staff=owner,
                start=start,
                end=end,
                title=f"Patient {number}",
                assignees=[alice],
                created_by=None,
            )
            results.append(("booked", result.appointment.pk))
        except BookingError as exc:
            results.append(("refused", exc))
        except Exception as exc:  # anything else is a failure the test reports
            results.append(("error", exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(n,), daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a booking thread hung"
    outcomes = [kind for kind, _ in results]
    assert outcomes.count("booked") == 1, results
    assert outcomes.count("refused") == THREADS - 1, results
    winner = Appointment.objects.get()
    assert Participant.objects.filter(member=alice, active=True).count() == 1
    for kind, exc in results:
        if kind == "refused":
            assert exc.code == "overlap"
            assert f"“{winner.title}” Mon 23 Nov 09:00–10:00." in exc.messages[0]
