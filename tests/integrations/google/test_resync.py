"""The resync (issue 15): the sync horizon, everything in one run in bounded rounds, a short renewed lease."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from calendars.models import Appointment
from integrations.google import mapping, push, resync
from integrations.models import EventLink, GoogleConnection
from tests.helpers import wait_until

pytestmark = pytest.mark.django_db


def upcoming(member, days: list[int]) -> list[Appointment]:
    """One-hour appointments on the given days from today, ten a day, without the booking hook."""
    zone = member.practice.zone
    today = timezone.now().astimezone(zone).date()
    appointments = []
    for number, offset in enumerate(days):
        day = today + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, 8 + number % 10, tzinfo=zone)
        appointments.append(
            Appointment(
                practice=member.practice,
                staff=member,
                title=f"Patient {number}",
                start=start,
                end=start + timedelta(hours=1),
            )
        )
    return Appointment.objects.bulk_create(appointments)


def tagged_in_google(google, email: str) -> list[dict]:
    answer = google.service(email).events().list(calendarId=email, maxResults=2500).execute()
    return [e for e in answer.get("items", []) if mapping.our_tags(e)]


def test_a_resync_pushes_everything_in_one_run_however_many_rounds(google, bob, connect, monkeypatch):
    """Before issue 15 it stopped after 12 rounds (6,000 links); here 12 rounds of 4 would leave 12."""
    monkeypatch.setattr(push, "ROUND_SIZE", 4)  # at most 4 links in memory per round
    connection = connect(bob)  # the resync it enqueues on commit does not run in this test
    upcoming(bob, [1 + n // 10 for n in range(60)])

    counts = resync.resync_linked_calendar(connection.pk)

    assert counts["inserted"] == 60 and counts["rounds"] >= 14
    assert not EventLink.objects.filter(member=bob, needs_push=True).exists()
    assert len(tagged_in_google(google, bob.user.email)) == 60
    assert GoogleConnection.objects.get(pk=connection.pk).push_lease_until is None, "released"


def test_a_resync_honours_the_sync_horizon(google, bob, connect, settings):
    settings.GOOGLE_SYNC_HORIZON_DAYS = 10
    connection = connect(bob)
    near, far = upcoming(bob, [2, 20])

    resync.resync_linked_calendar(connection.pk)

    assert [e["summary"] for e in tagged_in_google(google, bob.user.email)] == [near.title]
    assert not EventLink.objects.filter(appointment=far, needs_push=True).exists()


def test_the_push_lease_is_short(bob, connect):
    connection = connect(bob)
    before = timezone.now()

    claimed = push.claim(connection.pk)

    assert claimed.push_lease_until <= before + timedelta(seconds=30) + timedelta(seconds=1)
    assert push.claim(connection.pk) is None, "held: nobody else pushes for this connection"


@pytest.mark.django_db(transaction=True)
def test_the_lease_is_renewed_while_the_push_runs_and_released_after(bob, connect, monkeypatch):
    monkeypatch.setattr(push, "LEASE", timedelta(seconds=0.6))  # renewed every 0.2 s
    connection = connect(bob)
    claimed = push.claim(connection.pk)
    first = claimed.push_lease_until

    with push.LeaseKeeper(claimed):
        wait_until(
            lambda: (
                GoogleConnection.objects.get(pk=connection.pk).push_lease_until
                > first + timedelta(seconds=0.1)
            ),
            timeout=30,
        )
        assert push.claim(connection.pk) is None

    assert GoogleConnection.objects.get(pk=connection.pk).push_lease_until is None


def test_a_worker_that_lost_its_lease_neither_renews_nor_releases_the_new_holders(bob, connect):
    connection = connect(bob)
    keeper = push.LeaseKeeper(push.claim(connection.pk))
    theirs = timezone.now() + timedelta(seconds=25)
    GoogleConnection.objects.filter(pk=connection.pk).update(push_lease_until=theirs)  # another worker

    assert keeper.renew() is False
    push.release(connection.pk, until=keeper.until)

    assert GoogleConnection.objects.get(pk=connection.pk).push_lease_until == theirs
