"""Changes from Google, as the front desk sees it: the inbox page, Keep, Undo, the count and the policy."""

from __future__ import annotations

import re

import pytest

from calendars.models import Appointment, AppointmentChange, InboxItem
from calendars.services import appointment_cancel, appointment_update
from copilot.accounts.models import Practice
from tests.conftest import local, login

pytestmark = pytest.mark.django_db
GOOGLE = AppointmentChange.Source.GOOGLE


@pytest.fixture
def appointment(bob, book):
    p = bob.practice
    return book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Crown: Tomás Ibarra")


@pytest.fixture
def moved(appointment, bob) -> InboxItem:
    """Bob moved the appointment an hour later in his Google Calendar (the pull applied it)."""
    p = bob.practice
    appointment_update(
        appointment=appointment,
        actor=None,
        source=GOOGLE,
        start=local(p, 2026, 11, 23, 10),
        end=local(p, 2026, 11, 23, 11),
    )
    return InboxItem.objects.get(appointment=appointment)


def test_the_inbox_lists_a_google_change_with_before_and_after(client, alice, moved):
    login(client, alice)
    response = client.get("/calendars/changes/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Crown: Tomás Ibarra" in page and "Moved" in page
    assert "09:00" in page and "11:00" in page
    assert f"/calendars/appointments/{moved.appointment_id}/" in page
    assert "Changes from Google (1)" in page


def test_the_inbox_filters_by_staff_member(client, alice, bob, dora, moved):
    login(client, alice)
    assert "Crown: Tomás Ibarra" in client.get("/calendars/changes/", {"staff": bob.pk}).content.decode()
    assert "Crown: Tomás Ibarra" not in client.get("/calendars/changes/", {"staff": dora.pk}).content.decode()
    assert client.get("/calendars/changes/", {"staff": "nonsense"}).status_code == 200


def test_keep_marks_it_read_and_hides_it_from_unread(client, alice, moved):
    login(client, alice)
    response = client.post(f"/calendars/changes/{moved.pk}/keep/")
    assert response.status_code == 302
    moved.refresh_from_db()
    assert moved.is_read and moved.read_by == alice.user and not moved.undone
    assert "Crown: Tomás Ibarra" not in client.get("/calendars/changes/").content.decode()
    assert "Crown: Tomás Ibarra" in client.get("/calendars/changes/", {"show": "all"}).content.decode()


def test_undo_by_htmx_swaps_the_line_and_moves_the_appointment_back(client, alice, bob, moved):
    login(client, alice)
    response = client.post(f"/calendars/changes/{moved.pk}/undo/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert f'id="change-{moved.pk}"' in response.content.decode()
    assert "Undone" in response.content.decode()
    appointment = Appointment.objects.get(pk=moved.appointment_id)
    assert appointment.start == local(bob.practice, 2026, 11, 23, 9)
    # A second click changes nothing and says nothing went wrong.
    again = client.post(f"/calendars/changes/{moved.pk}/undo/", HTTP_HX_REQUEST="true")
    assert again.status_code == 200 and "Not undone" not in again.content.decode()
    assert appointment.changes.filter(summary__startswith="Undid").count() == 1


def test_undo_after_a_newer_change_says_so_and_changes_nothing(client, alice, bob, moved):
    appointment_update(appointment=moved.appointment, actor=alice.user, title="Crown, part 2")
    login(client, alice)
    response = client.post(f"/calendars/changes/{moved.pk}/undo/", HTTP_HX_REQUEST="true")
    assert "Not undone: This appointment changed again" in response.content.decode()
    appointment = Appointment.objects.get(pk=moved.appointment_id)
    assert appointment.start == local(bob.practice, 2026, 11, 23, 10)


def test_undo_of_a_deletion_refused_when_the_time_was_taken_since(client, alice, bob, book, appointment):
    appointment_cancel(appointment=appointment, actor=None, source=GOOGLE, reason="deleted in Google")
    item = InboxItem.objects.get(appointment=appointment, kind=InboxItem.Kind.CANCELLED)
    book(bob, appointment.start, appointment.end, title="Someone else")
    login(client, alice)
    client.post(f"/calendars/changes/{item.pk}/undo/")
    response = client.get("/calendars/changes/")
    assert "Not undone" in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).status == Appointment.Status.CANCELLED


def test_staff_may_not_act_on_a_colleagues_change(client, dora, moved):
    login(client, dora)
    assert client.post(f"/calendars/changes/{moved.pk}/keep/").status_code == 404
    assert client.post(f"/calendars/changes/{moved.pk}/undo/").status_code == 404
    assert "Crown: Tomás Ibarra" in client.get("/calendars/changes/").content.decode()  # she may read


def test_another_practice_sees_nothing_of_the_inbox(client, charlie, moved):
    login(client, charlie)
    page = client.get("/calendars/changes/", {"show": "all"}).content.decode()
    assert "Crown: Tomás Ibarra" not in page and "Changes from Google (" not in page
    assert client.post(f"/calendars/changes/{moved.pk}/keep/").status_code == 404
    assert client.post(f"/calendars/changes/{moved.pk}/undo/").status_code == 404
    assert not InboxItem.objects.get(pk=moved.pk).is_read


def test_the_unread_count_costs_one_query(rf, alice, moved, django_assert_num_queries):
    from calendars.context_processors import inbox_unread

    request = rf.get("/")
    request.user = alice.user
    request.get_membership = lambda: alice
    count = inbox_unread(request)["inbox_unread_count"]
    with django_assert_num_queries(1):
        assert count() == 1


def test_portal_and_admin_changes_are_not_in_the_inbox(alice, appointment):
    appointment_update(appointment=appointment, actor=alice.user, title="Crown, part 2")
    appointment_cancel(appointment=appointment, actor=alice.user)
    assert not InboxItem.objects.exists()


def test_admins_choose_the_deletion_policy(client, alice, bob):
    login(client, alice)
    page = client.get("/calendars/settings/google-deletions/").content.decode()
    assert re.search(r'<input[^>]*value="put_back"[^>]*checked', page), "new practices put back"
    response = client.post("/calendars/settings/google-deletions/", {"policy": "cancel"})
    assert response.status_code == 302
    alice.practice.refresh_from_db()
    assert alice.practice.google_deletion == Practice.GoogleDeletion.CANCEL
    bad = client.post("/calendars/settings/google-deletions/", {"policy": "shred"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    alice.practice.refresh_from_db()
    assert alice.practice.google_deletion == Practice.GoogleDeletion.CANCEL
    login(client, bob)
    assert client.get("/calendars/settings/google-deletions/").status_code == 404
    assert client.post("/calendars/settings/google-deletions/", {"policy": "put_back"}).status_code == 404
