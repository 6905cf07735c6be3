"""Changes from Google reach the practice's inbox; Keep and Undo; the deletion policy.

Google edits go through the real API client against the emulator, then a pull; Undo's push runs on
commit, and the emulator's stats count what it cost.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from calendars.inbox import inbox_unread_count
from calendars.models import Appointment, AppointmentChange, InboxItem
from calendars.services import UndoRefused, inbox_item_keep, inbox_item_undo
from copilot.accounts.models import Practice
from tests.conftest import slot

from . import test_pull
from .test_pull import delete_in_google, edit_in_google, events_of, link_of, when, writes

# The pull tests' fixtures: bob connected through the emulator, bookings pushed, pulls run inline.
booked = test_pull.booked
pull_now = test_pull.pull_now
portal_edit = test_pull.portal_edit

pytestmark = pytest.mark.django_db


@pytest.fixture
def undo(django_capture_on_commit_callbacks):
    """Undo as the front desk would, letting the push it triggers run on commit."""

    def _undo(item, actor):
        with django_capture_on_commit_callbacks(execute=True):
            return inbox_item_undo(item=item, actor=actor)

    return _undo


def google_copy(google, appointment) -> dict | None:
    event_id = link_of(appointment).event_id
    return next((e for e in events_of(google, appointment.staff) if e["id"] == event_id), None)


def only_item(appointment) -> InboxItem:
    (item,) = InboxItem.objects.filter(appointment=appointment)
    return item


def test_a_move_in_google_is_in_the_inbox_and_undo_moves_it_back_in_one_write(
    google, alice, bob, booked, pull_now, undo
):
    appointment = booked(days=2, hour=10)
    old_start, old_end = appointment.start, appointment.end
    new_start, new_end = slot(bob, 3, 14)
    edit_in_google(google, bob, link_of(appointment).event_id, start=when(new_start), end=when(new_end))
    pull_now()

    item = only_item(appointment)
    assert (item.kind, item.source, item.staff) == (InboxItem.Kind.MOVED, "google", bob)
    moved = (datetime.fromisoformat(item.before["start"]), datetime.fromisoformat(item.after["start"]))
    assert moved == (old_start, new_start)
    assert inbox_unread_count(practice=bob.practice) == 1

    google.reset_stats()
    undo(item, alice.user)

    assert google.api_requests() == 1, "one push, one update"
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == (old_start, old_end)
    event = google_copy(google, appointment)
    assert datetime.fromisoformat(event["start"]["dateTime"]) == old_start
    change = appointment.changes.first()
    assert change.source == AppointmentChange.Source.PORTAL and change.actor == alice.user
    assert change.summary.startswith("Undid a change made in Google: moved to ")
    item.refresh_from_db()
    assert item.undone and item.read_by == alice.user
    assert inbox_unread_count(practice=bob.practice) == 0


def test_a_retitle_in_google_is_in_the_inbox_and_undo_restores_the_title_there(
    google, alice, bob, booked, pull_now, undo
):
    appointment = booked(title="Crown fitting")
    edit_in_google(google, bob, link_of(appointment).event_id, summary="Lunch with Sam")
    pull_now()

    item = only_item(appointment)
    assert item.kind == InboxItem.Kind.RETITLED
    assert (item.before["title"], item.after["title"]) == ("Crown fitting", "Lunch with Sam")

    google.reset_stats()
    undo(item, alice.user)

    assert google.api_requests() == 1
    appointment.refresh_from_db()
    assert appointment.title == "Crown fitting"
    assert google_copy(google, appointment)["summary"] == "Crown fitting"


def test_a_relocation_in_google_is_in_the_inbox(google, bob, booked, pull_now):
    appointment = booked(location="Room 1")
    edit_in_google(google, bob, link_of(appointment).event_id, location="Room 9")
    pull_now()

    item = only_item(appointment)
    assert item.kind == InboxItem.Kind.RELOCATED
    assert (item.before["location"], item.after["location"]) == ("Room 1", "Room 9")


def test_a_move_onto_taken_time_is_a_conflict_in_the_inbox(google, bob, booked, pull_now):
    first = booked(days=2, hour=10)
    second = booked(days=2, hour=12)
    edit_in_google(google, bob, link_of(second).event_id, start=when(first.start), end=when(first.end))
    pull_now()

    assert only_item(second).kind == InboxItem.Kind.CONFLICT
    assert not InboxItem.objects.filter(appointment=first).exists()


def test_with_the_cancel_policy_a_deletion_cancels_and_undo_puts_the_event_back_in_one_insert(
    google, alice, bob, practice_a, booked, pull_now, undo
):
    practice_a.google_deletion = Practice.GoogleDeletion.CANCEL
    practice_a.save()
    appointment = booked()
    deleted_id = link_of(appointment).event_id
    delete_in_google(google, bob, deleted_id)
    pull_now()

    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED
    item = only_item(appointment)
    assert (item.kind, item.before["status"], item.after["status"]) == ("cancelled", "booked", "cancelled")

    google.reset_stats()
    undo(item, alice.user)

    assert google.api_requests() == 1, "one insert: no 409 round trip for the deleted id"
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    event = google_copy(google, appointment)
    assert event is not None and event["status"] == "confirmed"
    assert event["id"] != deleted_id, "Google refuses a deleted event's id: the copy takes a new one"
    assert appointment.changes.first().summary == "Undid a deletion made in Google: booked again"


def test_with_the_default_policy_a_deletion_is_put_back_and_the_front_desk_told(
    google, bob, practice_a, booked, pull_now
):
    assert Practice.objects.create(name="New", slug="new").google_deletion == Practice.GoogleDeletion.PUT_BACK
    assert practice_a.google_deletion == Practice.GoogleDeletion.PUT_BACK
    appointment = booked()
    deleted_id = link_of(appointment).event_id
    delete_in_google(google, bob, deleted_id)
    google.reset_stats()

    result = pull_now()

    assert result["put_back"] == 1
    assert writes(google) == 1, "the pull's push recreates the event with one insert"
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.BOOKED
    event = google_copy(google, appointment)
    assert event is not None and event["status"] == "confirmed" and event["id"] != deleted_id
    item = only_item(appointment)
    assert item.kind == InboxItem.Kind.PUT_BACK and not item.is_read
    change = appointment.changes.first()
    assert (change.source, change.action) == (AppointmentChange.Source.GOOGLE, "put_back")
    with pytest.raises(UndoRefused):
        inbox_item_undo(item=item, actor=None)


def test_undo_twice_changes_nothing_more(google, alice, bob, booked, pull_now, undo):
    appointment = booked(title="Crown fitting")
    edit_in_google(google, bob, link_of(appointment).event_id, summary="Lunch")
    pull_now()
    item = only_item(appointment)
    undo(item, alice.user)
    history = appointment.changes.count()
    google.reset_stats()

    undo(item, alice.user)

    assert appointment.changes.count() == history
    assert google.api_requests() == 0


def test_undo_refuses_when_the_appointment_changed_since(
    google, alice, bob, booked, pull_now, portal_edit, undo
):
    appointment = booked(title="Crown fitting")
    edit_in_google(google, bob, link_of(appointment).event_id, summary="Lunch")
    pull_now()
    item = only_item(appointment)
    portal_edit(appointment, title="Crown fitting, part 2")

    with pytest.raises(UndoRefused, match="changed again"):
        undo(item, alice.user)

    appointment.refresh_from_db()
    assert appointment.title == "Crown fitting, part 2"
    item.refresh_from_db()
    assert not item.undone and not item.is_read


def test_keep_acknowledges_once(google, alice, bob, booked, pull_now):
    appointment = booked(title="Crown fitting")
    edit_in_google(google, bob, link_of(appointment).event_id, summary="Lunch")
    pull_now()
    item = only_item(appointment)

    assert inbox_item_keep(item=item, actor=alice.user) is True
    assert inbox_item_keep(item=item, actor=alice.user) is False
    item.refresh_from_db()
    assert item.read_at <= timezone.now() and item.read_by == alice.user and not item.undone
    appointment.refresh_from_db()
    assert appointment.title == "Lunch"
    assert inbox_unread_count(practice=bob.practice) == 0


def test_our_own_portal_changes_never_reach_the_inbox(bob, booked, portal_edit):
    appointment = booked(title="Crown fitting")
    portal_edit(appointment, pushed=True, title="Crown fitting, part 2")
    assert not InboxItem.objects.exists()
