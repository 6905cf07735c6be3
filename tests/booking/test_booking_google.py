"""The booking page and Google: rendering never asks Google; confirming runs the freshness rule
(a live freeBusy only when stored busy time is stale) before the booking; Google busy time is never
offered. Real client libraries against the emulator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import GoogleConnection
from tests.conftest import local

pytestmark = pytest.mark.django_db


def add_google_event(google, member, start, end, summary="Dentist for my son"):
    email = member.user.email
    google.service(email).events().insert(
        calendarId=email,
        body={
            "summary": summary,
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": end.isoformat()},
        },
    ).execute()


@pytest.fixture
def bob_google(now, checkup, bob, connect, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return connect(bob)


def test_rendering_every_step_makes_no_google_request_even_when_stale(
    client, google, bob_google, checkup, bob
):
    GoogleConnection.objects.filter(pk=bob_google.pk).update(last_sync_at=timezone.now() - timedelta(days=1))
    google.reset_stats()
    for query in (
        {},
        {"type": checkup.pk},
        {"type": checkup.pk, "staff": bob.pk},
        {"type": checkup.pk, "staff": bob.pk, "day": "2030-03-05"},
        {"type": checkup.pk, "staff": bob.pk, "day": "2030-03-05", "time": "09:00"},
    ):
        assert client.get("/book/practice-a/", query).status_code == 200
    assert google.api_requests() == 0


def test_confirming_checks_stale_busy_time_live_and_refuses_a_time_taken_in_google(
    client,
    google,
    bob_google,
    checkup,
    bob,
    django_capture_on_commit_callbacks,
):
    start = local(bob.practice, 2030, 3, 5, 9)
    add_google_event(google, bob, start, start + timedelta(hours=1))  # not yet pulled: unknown here
    GoogleConnection.objects.filter(pk=bob_google.pk).update(last_sync_at=timezone.now() - timedelta(days=1))
    page = client.get("/book/practice-a/", {"type": checkup.pk, "staff": bob.pk, "day": "2030-03-05"})
    assert b"time=09:00" in page.content  # stored busy time does not know the event yet
    google.reset_stats()
    data = {
        "type": checkup.pk,
        "staff": bob.pk,
        "start": start.isoformat(),
        "name": "Lucia Romero",
        "email": "lucia@example.test",
        "phone": "212 555 0101",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("booking:confirm", args=["practice-a"]), data)
    assert google.stats()["requests"].get("POST /calendar/v3/freeBusy"), google.stats()["requests"]
    assert response.status_code == 409 and b"That time was just taken" in response.content
    assert b"Dentist" not in response.content
