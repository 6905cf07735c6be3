"""Interleavings the chaos test found, replayed one step at a time (no threads, no faults).

Each test is the smallest deterministic sequence behind a disagreement the chaos test saw.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from integrations.google import conflicts, pull, push
from integrations.models import EventLink

from .conftest import connect_member, tagged_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(google, staff, book, django_capture_on_commit_callbacks):
    """One connected staff member with one appointment 2 days ahead, pushed to Google."""
    [member] = staff(1)
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect_member(google, member)
    start = datetime.now(member.practice.zone).replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(member, start, start + timedelta(hours=1), title="Crown")
    [[event]] = tagged_events(google, member.user.email).values()
    events = google.service(member.user.email).events()
    return member, connection, appointment, event, events


def test_a_google_edit_made_before_a_no_op_push_is_not_lost(booked, django_capture_on_commit_callbacks):
    """A push that writes nothing does not move ``last_pushed_at``, so the edit is not a stale read."""
    member, connection, appointment, event, events = booked
    email, start = member.user.email, appointment.start
    # 1. Someone moves the event in Google; the worker pulls it, the move reaches the appointment,
    #    and the push that change enqueues is still waiting for the worker.
    later = {
        "start": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "end": {"dateTime": (start + timedelta(hours=2)).isoformat()},
    }
    events.patch(calendarId=email, eventId=event["id"], body=later).execute()
    with django_capture_on_commit_callbacks(execute=False):
        assert pull.pull_account(connection.pk).get("applied") == 1
    # 2. They rename it in Google.
    events.patch(calendarId=email, eventId=event["id"], body={"summary": "Crown fitting"}).execute()
    # 3. The worker runs the waiting push: the appointment equals the moved event, nothing to write.
    assert push.push_due_links(connection.pk).get("unchanged") == 1
    assert EventLink.objects.get(appointment=appointment).needs_push is False
    # 4. The next pull must bring the rename over.
    with django_capture_on_commit_callbacks(execute=True):
        pull.pull_account(connection.pk)

    appointment.refresh_from_db()
    assert (appointment.title, appointment.start) == ("Crown fitting", start + timedelta(hours=1))


def test_without_the_race_a_rename_in_google_reaches_the_appointment(
    booked, django_capture_on_commit_callbacks
):
    """The control for the replay above: the same steps, with the push before the rename."""
    member, connection, appointment, event, events = booked
    email, start = member.user.email, appointment.start
    later = {
        "start": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "end": {"dateTime": (start + timedelta(hours=2)).isoformat()},
    }
    events.patch(calendarId=email, eventId=event["id"], body=later).execute()
    with django_capture_on_commit_callbacks(execute=True):
        assert pull.pull_account(connection.pk).get("applied") == 1
    events.patch(calendarId=email, eventId=event["id"], body={"summary": "Crown fitting"}).execute()
    with django_capture_on_commit_callbacks(execute=True):
        pull.pull_account(connection.pk)

    appointment.refresh_from_db()
    assert (appointment.title, appointment.start) == ("Crown fitting", start + timedelta(hours=1))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_booking_does_not_wait_for_a_google_change_being_applied(google, staff, book, monkeypatch):
    """Applying a Google change locks only the appointment and its link, never the practice row."""
    import threading

    from django.db import connection as db_connection
    from django.db import transaction

    alice, bob = staff(2)
    connect_member(google, alice)
    start = datetime.now(alice.practice.zone).replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=2)
    appointment = book(alice, start, start + timedelta(hours=1), title="Crown")  # pushed on commit
    [[event]] = tagged_events(google, alice.user.email).values()
    link = EventLink.objects.get(appointment=appointment)
    inside, release = threading.Event(), threading.Event()
    real_update = conflicts.appointment_update

    def slow_update(**kwargs):  # the Google change is being applied, inside apply_our_event's transaction
        inside.set()
        release.wait(timeout=30)
        return real_update(**kwargs)

    monkeypatch.setattr(conflicts, "appointment_update", slow_update)
    renamed = {**event, "summary": "Crown fitting", "updated": "2999-01-01T00:00:00.000Z", "etag": '"new"'}

    def apply() -> None:
        try:
            conflicts.apply_our_event(link=link, event=renamed)
        finally:
            db_connection.close()

    worker = threading.Thread(target=apply, daemon=True)
    worker.start()
    try:
        assert inside.wait(timeout=30)
        # Meanwhile someone books bob, another staff member of the practice, at another time.
        with transaction.atomic():
            with db_connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            book(bob, start + timedelta(days=1), start + timedelta(days=1, hours=1), title="Filling")
    finally:
        release.set()
        worker.join(timeout=30)
