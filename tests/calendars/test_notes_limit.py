"""Notes have one limit (issue 10, point 12): a field error past it, never a silent cut."""

from __future__ import annotations

import pytest

from calendars.limits import NOTES_MAX_LENGTH
from calendars.models import Appointment
from calendars.services import BookingError, appointment_book, appointment_update
from tests.conftest import local, login

pytestmark = pytest.mark.django_db

NEW = "/calendars/appointments/new/"


def booking(staff, notes: str) -> dict:
    return {
        "staff": staff.pk,
        "title": "Filling",
        "date": "2026-11-23",
        "start_time": "09:00",
        "end_time": "10:00",
        "notes": notes,
        "confirm_past": "on",  # a fixed date, in the past once the calendar passes it
    }


@pytest.mark.parametrize("length", [NOTES_MAX_LENGTH + 1, 1_000_000])
@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}], ids=["page", "htmx"])
def test_booking_with_notes_over_the_limit_is_a_field_error(client, alice, bob, length, headers):
    response = login(client, alice).post(NEW, booking(bob, "n" * length), **headers)
    assert response.status_code == 200
    error = response.context["form"].errors["notes"][0]
    assert f"at most {NOTES_MAX_LENGTH:,} characters" in error
    assert not Appointment.objects.exists()


def test_notes_up_to_the_limit_are_kept_whole(client, alice, bob):
    notes = "Allergic to latex. " * (NOTES_MAX_LENGTH // 19) + "x" * (NOTES_MAX_LENGTH % 19)
    assert len(notes) == NOTES_MAX_LENGTH
    response = login(client, alice).post(NEW, booking(bob, notes))
    assert response.status_code == 302
    assert Appointment.objects.get().notes == notes.strip()


def test_editing_notes_over_the_limit_is_a_field_error(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), notes="Kept")
    url = f"/calendars/appointments/{appointment.pk}/edit/"
    response = login(client, alice).post(url, booking(bob, "n" * (NOTES_MAX_LENGTH + 1)))
    assert response.context["form"].errors["notes"]
    appointment.refresh_from_db()
    assert (appointment.notes, appointment.version) == ("Kept", 1)


def test_the_service_refuses_notes_over_the_limit_from_any_source(alice, bob, book):
    p = alice.practice
    start, end = local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10)
    too_long = "n" * (NOTES_MAX_LENGTH + 1)
    with pytest.raises(BookingError) as refused:
        appointment_book(
            practice=p, staff=bob, start=start, end=end, title="x", notes=too_long, created_by=None
        )
    assert refused.value.code == "notes_length"
    appointment = book(bob, start, end, notes="Kept")
    for source in ("portal", "google", "admin"):
        with pytest.raises(BookingError):
            appointment_update(appointment=appointment, actor=None, source=source, notes=too_long)
    appointment.refresh_from_db()
    assert appointment.notes == "Kept"
