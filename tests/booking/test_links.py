"""The signed link in the patient's email: reschedule and cancel through the book's services; a
tampered, expired or foreign link opens nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail, signing
from django.urls import reverse

from booking import links
from calendars.models import Appointment, AppointmentChange
from tests.conftest import local

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(client, now, checkup, bob):
    """Lucia booked bob's 09:00 on Tuesday online; returns (appointment, manage path)."""
    data = {
        "type": checkup.pk,
        "staff": bob.pk,
        "start": local(bob.practice, 2030, 3, 5, 9).isoformat(),
        "name": "Lucia Romero",
        "email": "lucia@example.test",
        "phone": "212 555 0101",
    }
    response = client.post(reverse("booking:confirm", args=["practice-a"]), data)
    return Appointment.objects.get(), response["Location"].split("?")[0]


def test_the_link_reschedules_with_the_same_person(client, booked, bob, django_capture_on_commit_callbacks):
    appointment, path = booked
    page = client.get(path, {"day": "2030-03-06"})
    new_start = local(bob.practice, 2030, 3, 6, 14)
    assert new_start.isoformat().encode() in page.content
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"action": "reschedule", "start": new_start.isoformat()})
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.start == new_start and appointment.end == new_start + timedelta(minutes=30)
    assert appointment.changes.first().source == AppointmentChange.Source.ONLINE
    assert mail.outbox[-1].subject.startswith("Your appointment has moved")


def test_the_link_cannot_move_to_a_time_that_is_not_free(client, booked, bob, book):
    appointment, path = booked
    taken = local(bob.practice, 2030, 3, 6, 14)
    book(bob, taken, taken + timedelta(minutes=30), title="Filling: Tomás Ibarra")
    response = client.post(path, {"action": "reschedule", "start": taken.isoformat()})
    assert response.status_code == 409 and b"Ibarra" not in response.content
    appointment.refresh_from_db()
    assert appointment.start == local(bob.practice, 2030, 3, 5, 9)


def test_the_link_cancels(client, booked):
    appointment, path = booked
    client.post(path, {"action": "cancel"})
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert appointment.changes.first().source == AppointmentChange.Source.ONLINE


def test_a_tampered_link_opens_nothing(client, booked):
    appointment, path = booked
    token = path.rstrip("/").rsplit("/", 1)[-1]
    forged = signing.dumps(
        {"a": appointment.pk + 1, "p": appointment.patient_id}, salt="other-salt", compress=True
    )
    for bad in (token[:-2] + "xx", forged, "nonsense"):
        response = client.post(reverse("booking:manage", args=["practice-a", bad]), {"action": "cancel"})
        assert response.status_code == 404
    appointment.refresh_from_db()
    assert appointment.is_active


def test_a_link_opens_only_its_own_appointment_in_its_own_practice(client, booked, book, bob, practice_b):
    appointment, path = booked
    other = book(bob, local(bob.practice, 2030, 3, 7, 9), local(bob.practice, 2030, 3, 7, 10), title="Other")
    assert other.pk != appointment.pk
    with pytest.raises(links.LinkError):  # not booked online, no patient: no link can name it
        links.appointment_from_token(
            signing.dumps({"a": other.pk, "p": None}, salt=links.SALT), practice_id=bob.practice_id
        )
    token = path.rstrip("/").rsplit("/", 1)[-1]
    practice_b.online_booking_enabled = True
    practice_b.save()
    assert client.get(reverse("booking:manage", args=["practice-b", token])).status_code == 404


def test_an_expired_link_says_so(client, booked, now, settings):
    appointment, path = booked
    now.tick(timedelta(days=settings.BOOKING_LINK_MAX_AGE_DAYS, seconds=1))
    response = client.post(path, {"action": "cancel"})
    assert response.status_code == 410 and b"expired" in response.content
    appointment.refresh_from_db()
    assert appointment.is_active
