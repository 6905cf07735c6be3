"""Participants in real Google: each participant's calendar holds the appointment once, and none of
our appointments becomes busy time, with the emulator placing invitations as Google does."""

from __future__ import annotations

import pytest

from calendars.busy import busy_intervals
from integrations.google import mapping, pull
from integrations.models import BusyBlock
from tests.integrations.google.test_push import events_in, slot

pytestmark = pytest.mark.django_db


@pytest.fixture
def both_connected(bob, dora, connect, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return connect(bob), connect(dora)


def _book_and_push(bob, dora, book, django_capture_on_commit_callbacks, **kw):
    start, end = slot(bob, 1, 10)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bob, start, end, title="Crown", assignees=[dora], **kw)
    return appointment, start, end


def _busy_after_pull(connections, members, start, end):
    for connection in connections:
        pull.pull_account(connection.pk, full=True)
    return {member.display_name: busy_intervals(member=member, start=start, end=end) for member in members}


def test_each_participant_has_the_appointment_exactly_once_and_no_busy_time_from_it(
    google, bob, dora, both_connected, book, django_capture_on_commit_callbacks
):
    appointment, start, end = _book_and_push(bob, dora, book, django_capture_on_commit_callbacks)
    for member in (bob, dora):
        events = [e for e in events_in(google, member.user.email) if e.get("status") != "cancelled"]
        assert len(events) == 1, events
        [event] = events
        assert mapping.our_tags(event)["copilotMember"] == str(member.pk)
        assert not event.get("attendees")
        assert "Taking part: Bob, Dora" in event["description"]
    busy = _busy_after_pull(both_connected, (bob, dora), start, end)
    assert busy == {"Bob": [], "Dora": []}
    assert not BusyBlock.objects.filter(practice_tag="").exists()


def test_notes_read_back_from_google_leave_out_the_participants_line(bob, dora):
    description = "Bring X-rays\n\nTaking part: Bob, Dora\n\nOpen in Copilot Calendars: https://x/1"
    assert mapping.notes_from_description(description) == "Bring X-rays"
    assert mapping.notes_from_description("Taking part: Bob, Dora") == ""
    assert mapping.notes_from_description("Taking part: lunch\nthen more") == "Taking part: lunch\nthen more"


def test_an_invitation_left_by_an_older_version_never_becomes_busy_time(
    google, bob, dora, both_connected, book, django_capture_on_commit_callbacks, monkeypatch
):
    """Older versions listed participants as attendees: Google put an invitation (the organizer's
    event id, none of our private tags) on each participant's calendar besides their own copy."""
    real = mapping.event_body

    def with_attendees(appointment, member, **kw):
        body = real(appointment, member, **kw)
        others = [m for m in (appointment.staff, *appointment.assignees.all()) if m.pk != member.pk]
        body["attendees"] = [{"email": m.user.email} for m in others]
        return body

    monkeypatch.setattr(mapping, "event_body", with_attendees)
    appointment, start, end = _book_and_push(bob, dora, book, django_capture_on_commit_callbacks)
    doras = [e for e in events_in(google, dora.user.email) if e.get("status") != "cancelled"]
    assert len(doras) == 2  # her own copy and Bob's invitation: the emulator invites as Google does
    assert sum(1 for e in doras if mapping.our_tags(e) is None) == 1
    busy = _busy_after_pull(both_connected, (bob, dora), start, end)
    assert busy == {"Bob": [], "Dora": []}
    assert not BusyBlock.objects.filter(practice_tag="").exists()
