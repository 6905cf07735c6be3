"""Google → appointments: edits of our events in Google, through the real client against the emulator."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from calendars.limits import NOTES_MAX_LENGTH
from calendars.models import Appointment, AppointmentChange
from calendars.services import BookingError, appointment_update
from copilot.accounts.models import Membership, Practice
from integrations.google import mapping, pull, push
from integrations.models import BusyBlock, EventLink
from tests.conftest import give_office_hours, slot

pytestmark = pytest.mark.django_db


def when(moment: datetime) -> dict:
    return {"dateTime": moment.isoformat()}


def edit_in_google(google, member, event_id: str, **body) -> dict:
    """``member`` edits the event in their own Google calendar."""
    email = member.user.email
    return google.service(email).events().patch(calendarId=email, eventId=event_id, body=body).execute()


def delete_in_google(google, member, event_id: str) -> None:
    email = member.user.email
    google.service(email).events().delete(calendarId=email, eventId=event_id).execute()


def events_of(google, member) -> list[dict]:
    email = member.user.email
    return google.service(email).events().list(calendarId=email, maxResults=2500).execute()["items"]


def writes(google) -> int:
    """Event writes (insert, update, patch, delete) that reached the emulator, batch parts included."""
    stats = google.stats()
    total = 0
    for table in (stats["requests"], stats["batch_parts"]):
        for route, statuses in table.items():
            if route.split()[0] in {"POST", "PUT", "PATCH", "DELETE"} and "/events" in route:
                total += sum(statuses.values())
    return total


@pytest.fixture
def booked(bob_connected, bob, book, django_capture_on_commit_callbacks):
    """Book for bob and let the push write it to his linked calendar, as the worker would."""

    def _booked(days=2, hour=10, member=None, **kw):
        member = member or bob
        start, end = slot(member, days, hour)
        with django_capture_on_commit_callbacks(execute=True):
            return book(member, start, end, **kw)

    return _booked


@pytest.fixture
def pull_now(bob_connected, django_capture_on_commit_callbacks):
    """Pull bob's connection and let whatever it triggers (the push) run on commit."""

    def _pull(connection=None):
        with django_capture_on_commit_callbacks(execute=True):
            return pull.pull_account((connection or bob_connected).pk)

    return _pull


@pytest.fixture
def portal_edit(django_capture_on_commit_callbacks):
    """A portal change; ``pushed=True`` lets its push run, else it waits in the outbox."""

    def _edit(appointment, pushed=False, **changes):
        if not pushed:
            return appointment_update(appointment=appointment, actor=None, **changes).appointment
        with django_capture_on_commit_callbacks(execute=True):
            return appointment_update(appointment=appointment, actor=None, **changes).appointment

    return _edit


def link_of(appointment, member=None) -> EventLink:
    return EventLink.objects.get(appointment=appointment, member=member or appointment.staff)


def test_moving_our_event_in_google_moves_the_appointment(google, bob, booked, pull_now):
    appointment = booked(days=2, hour=10)
    new_start, new_end = slot(bob, 3, 14, minutes=45)
    edit_in_google(google, bob, link_of(appointment).event_id, start=when(new_start), end=when(new_end))
    google.reset_stats()

    result = pull_now()

    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (new_start, new_end)
    assert result["applied"] == 1
    change = appointment.changes.first()
    assert change.get_source_display() == "Changed in Google"
    assert change.summary.startswith("Moved to ")
    assert change.actor is None
    assert writes(google) == 0, "the push the change triggered must find nothing to write back"
    link = link_of(appointment)
    assert (link.needs_push, link.state) == (False, EventLink.State.SYNCED)


def test_title_location_and_description_edits_in_google_update_the_appointment(google, bob, booked, pull_now):
    appointment = booked(title="Check-up", notes="Bring x-rays")
    edit_in_google(
        google,
        bob,
        link_of(appointment).event_id,
        summary="Root canal",
        location="Room 4",
        description="Allergic to latex",
    )

    pull_now()

    appointment.refresh_from_db()
    assert (appointment.title, appointment.location, appointment.notes) == (
        "Root canal",
        "Room 4",
        "Allergic to latex",
    )
    change = appointment.changes.first()
    assert (change.source, change.summary) == (
        AppointmentChange.Source.GOOGLE,
        "Title changed, location changed, notes changed",
    )


def test_titles_and_notes_stay_in_the_portal_when_the_practice_hides_them(
    google, bob, practice_a, booked, pull_now
):
    practice_a.external_title_privacy = Practice.TitlePrivacy.BUSY
    practice_a.save()
    appointment = booked(title="Implant consult", notes="Anxious patient")
    new_start, new_end = slot(bob, 2, 15)
    edit_in_google(
        google,
        bob,
        link_of(appointment).event_id,
        summary="Lunch?",
        description="",
        start=when(new_start),
        end=when(new_end),
    )

    pull_now()

    appointment.refresh_from_db()
    assert (appointment.title, appointment.notes) == ("Implant consult", "Anxious patient")
    assert appointment.start == new_start


def test_deleting_our_event_in_google_cancels_the_appointment(google, bob, practice_a, booked, pull_now):
    # Since the deletion policy exists, cancelling is one of two choices (new practices put back).
    practice_a.google_deletion = Practice.GoogleDeletion.CANCEL
    practice_a.save()
    appointment = booked()
    delete_in_google(google, bob, link_of(appointment).event_id)
    google.reset_stats()

    result = pull_now()

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    assert result["cancelled"] == 1
    change = appointment.changes.first()
    assert (change.source, change.action) == (AppointmentChange.Source.GOOGLE, "cancelled")
    assert link_of(appointment).event_id == ""
    assert writes(google) == 0, "the push must not delete an event Google already deleted"
    assert not BusyBlock.objects.exists()


def test_an_echo_of_our_own_write_changes_nothing(google, bob, booked, portal_edit, pull_now):
    appointment = booked()
    new_start, new_end = slot(bob, 2, 13)
    portal_edit(appointment, pushed=True, start=new_start, end=new_end, title="Crown fitting")
    before = Appointment.objects.get(pk=appointment.pk)
    history = appointment.changes.count()

    result = pull_now()

    assert result["echo"] == 1
    assert "applied" not in result
    after = Appointment.objects.get(pk=appointment.pk)
    assert (after.version, after.updated, after.title) == (before.version, before.updated, "Crown fitting")
    assert appointment.changes.count() == history


def test_simultaneous_edits_the_newer_google_change_wins(google, bob, booked, portal_edit, pull_now):
    appointment = booked(title="Check-up")
    portal_edit(appointment, title="Portal title")  # its push has not run yet
    Appointment.objects.filter(pk=appointment.pk).update(updated=timezone.now() - timedelta(minutes=5))
    edit_in_google(google, bob, link_of(appointment).event_id, summary="Google title")

    result = pull_now()

    appointment.refresh_from_db()
    assert result["applied"] == 1
    assert appointment.title == "Google title"
    conflict, change = appointment.changes.filter(source=AppointmentChange.Source.GOOGLE).order_by("pk")
    assert conflict.summary == "A newer change in Google replaced a change made in the portal"
    assert change.summary == "Title changed"
    [event] = [e for e in events_of(google, bob) if mapping.our_tags(e)]
    assert event["summary"] == "Google title"


def test_simultaneous_edits_the_newer_portal_change_wins_and_the_google_one_is_recorded(
    google, bob, bob_connected, booked, portal_edit, pull_now, django_capture_on_commit_callbacks
):
    appointment = booked(title="Check-up")
    edit_in_google(google, bob, link_of(appointment).event_id, summary="Google title")
    portal_edit(appointment, title="Portal title")  # its push has not run yet
    Appointment.objects.filter(pk=appointment.pk).update(updated=timezone.now() + timedelta(minutes=1))

    result = pull_now()

    appointment.refresh_from_db()
    assert result["google_lost"] == 1
    assert appointment.title == "Portal title"
    line = appointment.changes.first()
    assert (line.source, line.action, line.summary) == (
        AppointmentChange.Source.GOOGLE,
        "conflict",
        "A change in Google was overridden by a newer change in the portal",
    )
    with django_capture_on_commit_callbacks(execute=True):
        push.push_due_links(bob_connected.pk)
    [event] = [e for e in events_of(google, bob) if mapping.our_tags(e)]
    assert event["summary"] == "Portal title"
    assert not link_of(appointment).needs_push


def test_a_move_in_google_onto_taken_time_is_accepted_and_flagged(google, bob, booked, pull_now):
    first = booked(days=2, hour=9, title="First")
    second = booked(days=2, hour=11, title="Second")
    edit_in_google(google, bob, link_of(second).event_id, start=when(first.start), end=when(first.end))

    pull_now()

    second.refresh_from_db()
    assert (second.start, second.has_conflict) == (first.start, True)


def test_an_assignee_copy_edited_in_google_is_put_back_by_the_push(
    google, bob, dora, connect, booked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dora_connection = connect(dora)
    appointment = booked(title="Surgery", assignees=[dora])
    dora_link = link_of(appointment, dora)
    edit_in_google(google, dora, dora_link.event_id, summary="Dora's own title")

    with django_capture_on_commit_callbacks(execute=True):
        result = pull.pull_account(dora_connection.pk)
    assert result["restore_assignee_copy"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        push.push_due_links(dora_connection.pk)

    appointment.refresh_from_db()
    assert appointment.title == "Surgery"
    [event] = [e for e in events_of(google, dora) if mapping.our_tags(e)]
    assert event["summary"] == "Surgery"


def test_an_assignee_deleting_their_copy_leaves_the_appointment_alone(
    google, bob, dora, connect, booked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        dora_connection = connect(dora)
    appointment = booked(assignees=[dora])
    delete_in_google(google, dora, link_of(appointment, dora).event_id)

    pull.pull_account(dora_connection.pk)

    appointment.refresh_from_db()
    assert appointment.is_active
    assert link_of(appointment, dora).event_id == ""


def test_another_practices_appointment_is_busy_time_here_but_not_there(
    google, bob, practice_b, bob_connected, book, pull_now, django_capture_on_commit_callbacks
):
    bob_at_b = Membership.objects.create(user=bob.user, practice=practice_b, role=Membership.Role.STAFF)
    give_office_hours(bob_at_b, time(0), time(23, 59))
    start, end = slot(bob, 2, 10)
    with django_capture_on_commit_callbacks(execute=True):
        elsewhere = book(bob_at_b, start, end, title="At practice B")

    pull_now()

    block = BusyBlock.objects.get()
    assert block.practice_tag == str(practice_b.pk)
    assert block.summary == "", "another practice's appointment title is never stored as busy time"
    assert link_of(elsewhere).event_id == block.event_id
    with pytest.raises(BookingError) as refused:
        book(bob, start, end)
    assert "Busy in “" in str(refused.value)
    with pytest.raises(BookingError) as refused_at_b:
        book(bob_at_b, start, end)
    assert refused_at_b.value.code == "overlap", "practice B sees its own appointment, not busy time"


def test_our_own_events_of_her_only_practice_are_never_busy_blocks(
    google, bob, bob_connected, book, pull_now, django_capture_on_commit_callbacks
):
    """Issue 15: the book already has them (1,200 of 6,200 stored blocks were ours before)."""
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bob, *slot(bob, 2, 10))
    assert link_of(appointment).event_id, "the event is in Google"

    result = pull_now()

    assert not BusyBlock.objects.exists()
    assert result["own_appointment"] == 1


def test_an_event_of_an_appointment_that_no_longer_exists_is_ignored(google, bob, bob_connected, pull_now):
    start, end = slot(bob, 2, 10)
    email = bob.user.email
    google.service(email).events().insert(
        calendarId=email,
        body={
            "summary": "Ghost",
            "start": when(start),
            "end": when(end),
            "extendedProperties": {
                "private": {
                    mapping.TAG_APP: "1",
                    mapping.TAG_PRACTICE: str(bob.practice_id),
                    mapping.TAG_APPOINTMENT: "987654",
                    mapping.TAG_MEMBER: str(bob.pk),
                }
            },
        },
    ).execute()

    result = pull_now()

    assert result["gone_appointment"] == 1
    assert not BusyBlock.objects.exists()


def test_notes_at_the_limit_survive_a_round_trip_through_google_whole(google, bob, booked, pull_now):
    notes = ("Allergic to latex; " * 500)[:NOTES_MAX_LENGTH].strip()
    appointment = booked(notes=notes)
    assert notes in events_of(google, bob)[0]["description"]
    edit_in_google(google, bob, link_of(appointment).event_id, summary="Root canal")

    pull_now()

    appointment.refresh_from_db()
    assert (appointment.title, appointment.notes) == ("Root canal", notes)


def test_an_over_long_description_from_google_is_not_cut_into_the_notes(
    google, bob, booked, pull_now, caplog
):
    appointment = booked(notes="Bring x-rays")
    secret = (
        "Patient history " * 1_600
    )  # 25,600 characters: more than the notes limit (and the old 20,000 cut)
    edit_in_google(google, bob, link_of(appointment).event_id, location="Room 4", description=secret)

    with caplog.at_level("WARNING", logger="integrations.google.pull"):
        pull_now()

    appointment.refresh_from_db()
    assert (appointment.location, appointment.notes) == ("Room 4", "Bring x-rays")
    assert "Not applying the description" in caplog.text and "Patient history" not in caplog.text
    description = events_of(google, bob)[0]["description"]
    assert description.startswith("Bring x-rays"), "the push the location change caused wrote our notes back"
