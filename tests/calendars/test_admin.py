"""Django admin of the book (issue 10, point 7): no admin edit bypasses the booking rules.

Appointments are read-only in the admin; the Cancel action goes through the cancel service
(history, version, the listeners that feed Google's outbox). Only superusers see the book there.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from calendars import hooks
from calendars.models import Appointment, AppointmentChange
from copilot.accounts.models import User
from tests.conftest import local

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/calendars/appointment/"


@pytest.fixture
def root(client):
    client.force_login(User.objects.create_superuser(email="root@copilot.test", password="x"))
    return client


@pytest.fixture
def heard():
    """What the book told its listeners (the integrations app's listener marks the Google outbox)."""
    calls: list[tuple[int, str]] = []

    def listener(appointment):  # where the change came from: the history line written before the call
        calls.append((appointment.pk, appointment.changes.order_by("-pk").first().source))

    hooks.register_appointment_listener(listener)
    yield calls
    hooks._listeners.remove(listener)


@pytest.fixture
def two(alice, bob, book):
    p = alice.practice
    first = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling: Lucia Romero")
    second = book(bob, local(p, 2026, 11, 23, 11), local(p, 2026, 11, 23, 12), title="Crown: Jonas Weber")
    return first, second


def admin_form(appointment: Appointment, **changes) -> dict:
    """The change form as a browser posts it."""
    zone = appointment.practice.zone
    start, end = appointment.start.astimezone(zone), appointment.end.astimezone(zone)
    data = {
        "practice": appointment.practice_id,
        "staff": appointment.staff_id,
        "title": appointment.title,
        "start_0": start.strftime("%Y-%m-%d"),
        "start_1": start.strftime("%H:%M:%S"),
        "end_0": end.strftime("%Y-%m-%d"),
        "end_1": end.strftime("%H:%M:%S"),
        "location": appointment.location,
        "notes": appointment.notes,
        "status": appointment.status,
        "created_by": appointment.created_by_id or "",
        "changes-TOTAL_FORMS": "0",
        "changes-INITIAL_FORMS": "0",
        "changes-MIN_NUM_FORMS": "0",
        "changes-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    data.update(changes)
    return data


def url_of(appointment: Appointment, action: str = "change") -> str:
    return f"{CHANGELIST}{appointment.pk}/{action}/"


@pytest.mark.parametrize(
    "changes",
    [
        {"start_1": "11:30:00", "end_1": "12:30:00"},  # onto the other appointment: was a 500 on PostgreSQL
        {"start_0": "9999-12-31", "end_0": "9999-12-31"},
        {"title": "Changed in admin", "status": "cancelled"},
    ],
    ids=["overlap", "year-9999", "title-and-status"],
)
def test_an_admin_edit_cannot_write_around_the_services(root, two, heard, changes):
    first, _ = two
    page = root.get(url_of(first))
    assert page.status_code == 200 and "Filling: Lucia Romero" in page.content.decode()
    response = root.post(url_of(first), admin_form(first, **changes))
    assert response.status_code == 403
    saved = Appointment.objects.get(pk=first.pk)
    assert (saved.start, saved.end, saved.title, saved.status, saved.version) == (
        first.start,
        first.end,
        first.title,
        first.status,
        1,
    )
    assert heard == []


def test_the_admin_neither_adds_nor_deletes_appointments(root, two):
    first, _ = two
    assert root.get(f"{CHANGELIST}add/").status_code == 403
    assert root.post(url_of(first, "delete"), {"post": "yes"}).status_code == 403
    root.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [first.pk], "post": "yes"})
    assert Appointment.objects.filter(pk=first.pk).exists()


def test_cancel_action_goes_through_the_cancel_service(root, two, heard):
    first, second = two
    response = root.post(CHANGELIST, {"action": "cancel_appointments", "_selected_action": [first.pk]})
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == Appointment.Status.CANCELLED and first.version == 2
    assert second.is_active and second.version == 1
    change = AppointmentChange.objects.filter(appointment=first).first()
    assert (change.action, change.source, change.actor.email) == ("cancelled", "admin", "root@copilot.test")
    assert heard == [(first.pk, "admin")], "the outbox listener heard of it, so Google is updated"
    again = root.post(CHANGELIST, {"action": "cancel_appointments", "_selected_action": [first.pk]})
    assert again.status_code == 302
    first.refresh_from_db()
    assert first.version == 2 and heard == [(first.pk, "admin")]


def test_a_staff_account_with_permissions_sees_no_appointments(client, two):
    clerk = User.objects.create_user(email="clerk@copilot.test", password="x", is_staff=True)
    clerk.user_permissions.set(Permission.objects.filter(content_type__app_label="calendars"))
    client.force_login(clerk)
    first, _ = two
    for url in (CHANGELIST, url_of(first), "/admin/calendars/workinghours/", "/admin/"):
        response = client.get(url)
        assert response.status_code in (200, 302, 403), url
        assert b"Lucia Romero" not in response.content and b"Appointments" not in response.content, url
