"""Appointments → Google, through the real client libraries against the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from calendars.models import Appointment
from calendars.services import appointment_cancel, appointment_update
from copilot.accounts.models import Practice
from integrations.google import mapping, push
from integrations.models import EventLink, GoogleConnection
from integrations.services import connection_from_oauth
from tests.conftest import slot

pytestmark = pytest.mark.django_db


def events_in(google, email: str, calendar_id: str | None = None, **params) -> list[dict]:
    service = google.service(email)
    answer = service.events().list(calendarId=calendar_id or email, maxResults=2500, **params).execute()
    return answer.get("items", [])


def ours(events: list[dict]) -> list[dict]:
    return [e for e in events if mapping.our_tags(e)]


@pytest.fixture
def booked(bob_connected, bob, book, django_capture_on_commit_callbacks):
    """Book for bob and let the push run (as the worker would, on commit)."""

    def _booked(days=1, hour=10, **kw):
        start, end = slot(bob, days, hour)
        with django_capture_on_commit_callbacks(execute=True):
            return book(bob, start, end, **kw)

    return _booked


def test_booking_appears_in_the_linked_calendar_with_one_request(google, bob, booked):
    google.reset_stats()
    appointment = booked(title="Filling", location="Room 2")
    assert google.api_requests() == 1
    [event] = ours(events_in(google, bob.user.email))
    assert event["summary"] == "Filling"
    assert event["location"] == "Room 2"
    assert mapping.our_tags(event)[mapping.TAG_APPOINTMENT] == str(appointment.pk)
    assert event["start"]["timeZone"] == "America/New_York"
    assert datetime.fromisoformat(event["start"]["dateTime"]) == appointment.start
    link = EventLink.objects.get(appointment=appointment)
    assert (link.state, link.needs_push, link.event_id) == (EventLink.State.SYNCED, False, event["id"])


def test_moving_an_appointment_updates_its_event_with_one_request(
    google, bob, booked, django_capture_on_commit_callbacks
):
    appointment = booked()
    google.reset_stats()
    new_start, new_end = slot(bob, 2, 14)
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=None, start=new_start, end=new_end, title="Crown")
    assert google.api_requests() == 1
    [event] = ours(events_in(google, bob.user.email))
    assert (event["summary"], datetime.fromisoformat(event["start"]["dateTime"])) == ("Crown", new_start)


def test_cancelling_deletes_the_event(google, bob, booked, django_capture_on_commit_callbacks):
    appointment = booked()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, actor=None)
    assert ours(events_in(google, bob.user.email)) == []


def test_cancelling_marks_the_event_when_the_practice_keeps_cancelled_events(
    google, bob, booked, django_capture_on_commit_callbacks
):
    Practice.objects.filter(pk=bob.practice_id).update(external_cancel_behaviour="mark")
    appointment = booked(title="Cleaning")
    with django_capture_on_commit_callbacks(execute=True):
        appointment_cancel(appointment=appointment, actor=None)
    [event] = ours(events_in(google, bob.user.email))
    assert event["summary"] == "Cancelled: Cleaning"
    assert event["transparency"] == "transparent"


def test_several_edits_before_the_push_collapse_into_one_write(
    google, bob, bob_connected, book, django_capture_on_commit_callbacks
):
    start, end = slot(bob, 1, 9)
    with django_capture_on_commit_callbacks(execute=False):
        appointment = book(bob, start, end, title="Draft")
        for title in ("Second", "Third", "Final"):
            appointment_update(appointment=appointment, actor=None, title=title)
    google.reset_stats()
    push.push_due_links(bob_connected.pk)
    assert google.api_requests() == 1
    assert [e["summary"] for e in ours(events_in(google, bob.user.email))] == ["Final"]


def test_a_create_cancelled_before_the_push_writes_nothing(
    google, bob, bob_connected, book, django_capture_on_commit_callbacks
):
    start, end = slot(bob, 1, 9)
    with django_capture_on_commit_callbacks(execute=False):
        appointment = book(bob, start, end)
        appointment_cancel(appointment=appointment, actor=None)
    google.reset_stats()
    push.push_due_links(bob_connected.pk)
    assert google.api_requests() == 0
    assert not EventLink.objects.filter(needs_push=True).exists()


def test_a_crash_after_google_accepted_the_insert_does_not_duplicate(
    google, bob, bob_connected, book, django_capture_on_commit_callbacks
):
    start, end = slot(bob, 1, 11)
    with django_capture_on_commit_callbacks(execute=False):
        appointment = book(bob, start, end, title="Implant")
    link = EventLink.objects.get(appointment=appointment)
    # The worker inserted the event, then died before recording it.
    event_id = mapping.event_id_for(
        appointment_id=appointment.pk, member_id=bob.pk, calendar_id=bob.user.email, generation=0
    )
    body = mapping.event_body(appointment, bob, portal_url="")
    google.service(bob.user.email).events().insert(
        calendarId=bob.user.email, body={**body, "id": event_id}
    ).execute()
    assert link.event_id == ""
    push.push_due_links(bob_connected.pk)
    events = ours(events_in(google, bob.user.email))
    assert [e["id"] for e in events] == [event_id]
    link.refresh_from_db()
    assert (link.event_id, link.state) == (event_id, EventLink.State.SYNCED)


def test_an_event_deleted_in_google_is_recreated_when_the_appointment_changes(
    google, bob, booked, django_capture_on_commit_callbacks
):
    appointment = booked(title="Exam")
    link = EventLink.objects.get(appointment=appointment)
    google.service(bob.user.email).events().delete(calendarId=bob.user.email, eventId=link.event_id).execute()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=None, title="Exam and X-ray")
    [event] = ours(events_in(google, bob.user.email))
    assert event["summary"] == "Exam and X-ray" and event["id"] != link.event_id


def test_events_not_created_by_us_are_never_touched(
    google, bob, bob_connected, booked, django_capture_on_commit_callbacks
):
    service = google.service(bob.user.email)
    start, end = slot(bob, 3, 7)
    foreign = (
        service.events()
        .insert(
            calendarId=bob.user.email,
            body={
                "summary": "Dentist (mine)",
                "start": {"dateTime": start.isoformat()},
                "end": {"dateTime": end.isoformat()},
            },
        )
        .execute()
    )
    appointment = booked()
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=appointment, actor=None, title="Changed")
        appointment_cancel(appointment=appointment, actor=None)
    again = service.events().get(calendarId=bob.user.email, eventId=foreign["id"]).execute()
    assert again["etag"] == foreign["etag"]
    assert again["status"] == "confirmed"


def test_practices_can_keep_patient_titles_out_of_google(google, bob, booked):
    Practice.objects.filter(pk=bob.practice_id).update(external_title_privacy="busy")
    booked(title="Root canal — Mrs Smith", notes="Allergic to latex")
    [event] = ours(events_in(google, bob.user.email))
    assert event["summary"] == mapping.PRIVATE_TITLE
    assert "Smith" not in event.get("description", "") and "latex" not in event.get("description", "")


def test_assignees_with_a_linked_calendar_get_the_event_too(
    google, bob, dora, connect, booked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        connect(dora)
    appointment = booked(assignees=[dora])
    [bobs] = ours(events_in(google, bob.user.email))
    [doras] = ours(events_in(google, dora.user.email))
    assert bobs["summary"] == doras["summary"] == appointment.title
    # Participants are named in the description, not invited (an invitation would be a second copy
    # on Dora's calendar): changed deliberately with participants (docs/SYNC.md).
    assert not bobs.get("attendees") and not doras.get("attendees")
    for event in (bobs, doras):
        assert "Taking part: Bob, Dora" in event["description"]
    assert EventLink.objects.filter(appointment=appointment, state=EventLink.State.SYNCED).count() == 2


def test_a_bad_request_is_recorded_on_the_link_and_not_retried(
    google, bob, bob_connected, book, monkeypatch, django_capture_on_commit_callbacks
):
    real_body = mapping.event_body

    def body_without_end(*args, **kwargs):
        body = real_body(*args, **kwargs)
        body.pop("end")
        return body

    monkeypatch.setattr(mapping, "event_body", body_without_end)
    start, end = slot(bob, 1, 10)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bob, start, end)
    link = EventLink.objects.get(appointment=appointment)
    assert link.state == EventLink.State.FAILED
    assert "400" in link.last_error
    assert link.needs_push is False, "a refused write is not retried forever"
    google.reset_stats()
    push.push_due_links(bob_connected.pk)
    assert google.api_requests() == 0


def test_changes_made_while_the_token_is_revoked_wait_and_arrive_after_reconnect(
    google, bob, bob_connected, book, django_capture_on_commit_callbacks, mailoutbox
):
    google.revoke(bob.user.email)
    titles = [f"Visit {n}" for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        for n, title in enumerate(titles):
            start, end = slot(bob, 1, 8 + n)
            book(bob, start, end, title=title)
    connection = GoogleConnection.objects.get(pk=bob_connected.pk)
    assert connection.state == GoogleConnection.State.NEEDS_RECONNECT
    assert EventLink.objects.filter(needs_push=True).count() == 5
    assert len(mailoutbox) == 1, "one email per dead-token episode, not one per failure"
    # Reconnect: the same Google account consents again.
    answer = google.tokens(bob.user.email)
    with django_capture_on_commit_callbacks(execute=True):
        connection_from_oauth(user=bob.user, social_account=connection.social_account, token_response=answer)
    assert sorted(e["summary"] for e in ours(events_in(google, bob.user.email))) == titles
    assert not EventLink.objects.filter(needs_push=True).exists()


def test_switching_the_linked_calendar_moves_upcoming_events_only(
    google, bob, bob_connected, book, django_capture_on_commit_callbacks
):
    from integrations.services import connection_choose_calendars, connection_refresh_calendars

    email = bob.user.email
    past_start = timezone.now() - timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        past = book(bob, past_start, past_start + timedelta(hours=1), title="Past", overrides=_override())
        start, end = slot(bob, 2, 10)
        upcoming = book(bob, start, end, title="Upcoming")
    new_calendar = google.calendar(email, "Clinic")
    connection_refresh_calendars(connection=bob_connected)
    with django_capture_on_commit_callbacks(execute=True):
        connection_choose_calendars(
            connection=bob_connected, linked_calendar_id=new_calendar, conflict_calendar_ids=[]
        )
    assert [e["summary"] for e in ours(events_in(google, email, new_calendar))] == ["Upcoming"]
    assert [e["summary"] for e in ours(events_in(google, email))] == ["Past"]
    # Later edits still reach both events where they now live.
    with django_capture_on_commit_callbacks(execute=True):
        appointment_update(appointment=upcoming, actor=None, title="Upcoming, moved")
        appointment_update(appointment=past, actor=None, notes="Follow-up done")
    assert [e["summary"] for e in ours(events_in(google, email, new_calendar))] == ["Upcoming, moved"]
    assert "Follow-up done" in ours(events_in(google, email))[0]["description"]


def _override():
    from calendars.services import Overrides

    return Overrides(outside_hours=True)


def test_reconnecting_adopts_our_existing_events_instead_of_duplicating(
    google, bob, bob_connected, booked, connect, django_capture_on_commit_callbacks
):
    from integrations.services import connection_unlink

    for n in range(3):
        booked(days=1, hour=9 + n, title=f"Visit {n}")
    connection_unlink(connection=bob_connected)
    assert len(ours(events_in(google, bob.user.email))) == 3, "unlink leaves Google's events in place"
    with django_capture_on_commit_callbacks(execute=True):
        connect(bob, create_google_user=False)
    assert len(ours(events_in(google, bob.user.email))) == 3
    assert EventLink.objects.filter(state=EventLink.State.SYNCED).count() == 3


@override_settings(GOOGLE_BACKOFF_BASE_SECONDS=0)
def test_everything_converges_under_thirty_percent_injected_faults(
    google, bob, bob_connected, book, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        appointments = []
        for n in range(24):
            start, end = slot(bob, 1 + n // 8, 8 + n % 8)
            appointments.append(book(bob, start, end, title=f"Visit {n}"))
        for appointment in appointments[::3]:
            appointment_update(appointment=appointment, actor=None, title=appointment.title + " (moved)")
        for appointment in appointments[1::4]:
            appointment_cancel(appointment=appointment, actor=None)
    google.faults(rate=0.3, statuses=[500, 503, 429, 403], seed=7)
    for _ in range(60):
        GoogleConnection.objects.filter(pk=bob_connected.pk).update(retry_after=None)
        push.push_due_links(bob_connected.pk)
        if not EventLink.objects.filter(needs_push=True).exists():
            break
    google.clear_faults()
    assert not EventLink.objects.filter(needs_push=True).exists()
    expected = sorted(a.title for a in Appointment.objects.filter(status=Appointment.Status.BOOKED))
    events = ours(events_in(google, bob.user.email))
    assert sorted(e["summary"] for e in events) == expected
    assert len({mapping.our_tags(e)[mapping.TAG_APPOINTMENT] for e in events}) == len(events), "no duplicates"


def test_a_concurrent_edit_in_google_is_detected_and_the_newer_change_wins(
    google, bob, booked, bob_connected, django_capture_on_commit_callbacks
):
    from calendars.models import AppointmentChange

    appointment = booked(title="Exam")
    link = EventLink.objects.get(appointment=appointment)
    events = google.service(bob.user.email).events()
    # The portal changes the title (not pushed yet) ...
    with django_capture_on_commit_callbacks(execute=False):
        appointment_update(appointment=appointment, actor=None, title="Exam (portal)")
    # ... then someone renames the event in Google: newer than the portal's change.
    events.patch(
        calendarId=bob.user.email, eventId=link.event_id, body={"summary": "Exam (Google)"}
    ).execute()
    google.reset_stats()
    counts = push.push_due_links(bob_connected.pk)
    assert counts.get("conflict_applied") == 1, counts
    appointment.refresh_from_db()
    assert appointment.title == "Exam (Google)", (
        "the If-Match write failed with 412 and Google's newer edit won"
    )
    assert [e["summary"] for e in ours(events_in(google, bob.user.email))] == ["Exam (Google)"]
    assert AppointmentChange.objects.filter(appointment=appointment, action="conflict").exists()


def test_a_stale_google_copy_loses_to_a_newer_portal_change(
    google, bob, booked, bob_connected, django_capture_on_commit_callbacks
):
    appointment = booked(title="Exam")
    link = EventLink.objects.get(appointment=appointment)
    events = google.service(bob.user.email).events()
    events.patch(
        calendarId=bob.user.email, eventId=link.event_id, body={"summary": "Exam (Google)"}
    ).execute()
    with django_capture_on_commit_callbacks(execute=False):
        appointment_update(appointment=appointment, actor=None, title="Exam (portal, later)")
    push.push_due_links(bob_connected.pk)
    appointment.refresh_from_db()
    assert appointment.title == "Exam (portal, later)"
    assert [e["summary"] for e in ours(events_in(google, bob.user.email))] == ["Exam (portal, later)"]
    assert not EventLink.objects.filter(needs_push=True).exists()


def test_the_drain_spreads_its_pushes_over_the_minute(google, bob, dora, alice, connect, book, monkeypatch):
    """Issue 15: the every-minute drain sends the retries it finds evenly over 45 s, not at once
    (after a Google incident that is every connection that booked meanwhile)."""
    from freezegun import freeze_time

    from integrations import queue
    from integrations.google import outbox

    members = [bob, dora, alice]
    monkeypatch.setattr(outbox, "DRAIN_PACE_AT_LEAST", 3)  # (a drain paces 10 or more)
    for member in members:
        connect(member)  # its resync ran on commit
        start, end = slot(member, 2, 10)
        book(member, start, end)  # its push is not run: the link waits in the outbox
    sent = []
    began = timezone.now()
    with freeze_time(began) as clock:
        monkeypatch.setattr(
            queue, "send_push", lambda pk: sent.append(((timezone.now() - began).total_seconds(), pk))
        )
        assert outbox.drain_outboxes(pace=True, sleep=lambda seconds: clock.tick(seconds)) == 3

    assert [at for at, _ in sent] == [0, 15, 30]
    assert sorted(pk for _, pk in sent) == sorted(
        GoogleConnection.objects.filter(user__memberships__in=members).values_list("pk", flat=True)
    )
