"""Appointment types: admins manage them in Settings; the grid colours appointments by type."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from calendars.models import AppointmentType
from tests.conftest import local, login

pytestmark = pytest.mark.django_db


def _post(alice, bob, **extra):
    data = {
        "name": "Check-up",
        "duration_minutes": 45,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 10,
        "colour": "green",
        "staff": [alice.pk, bob.pk],
        "bookable_online": "on",
        "min_notice_minutes": 120,
        "horizon_days": 60,
        "location": "Room 2",
        "is_active": "on",
    }
    data.update(extra)
    return data


def test_admin_adds_and_changes_a_type(client, alice, bob):
    login(client, alice)
    response = client.post(reverse("calendars:type_new"), _post(alice, bob))
    assert response.status_code == 302
    checkup = AppointmentType.objects.get()
    assert (checkup.duration_minutes, checkup.buffer_after_minutes, checkup.colour) == (45, 10, "green")
    assert set(checkup.staff.all()) == {alice, bob}
    client.post(
        reverse("calendars:type_edit", args=[checkup.pk]), _post(alice, bob, staff=[bob.pk], horizon_days=30)
    )
    checkup.refresh_from_db()
    assert checkup.horizon_days == 30 and list(checkup.staff.all()) == [bob]
    assert b"Check-up" in client.get(reverse("calendars:type_list")).content


def test_bad_values_are_field_errors(client, alice, bob):
    login(client, alice)
    AppointmentType.objects.create(practice=alice.practice, name="Check-up")
    response = client.post(
        reverse("calendars:type_new"), _post(alice, bob, duration_minutes=0, horizon_days=9999)
    )
    assert response.status_code == 200
    assert AppointmentType.objects.count() == 1
    response = client.post(reverse("calendars:type_new"), _post(alice, bob))
    assert response.status_code == 200 and b"already exists" in response.content


def test_staff_of_another_practice_cannot_be_offered(client, alice, bob, charlie):
    login(client, alice)
    response = client.post(reverse("calendars:type_new"), _post(alice, bob, staff=[charlie.pk]))
    assert response.status_code == 200 and not AppointmentType.objects.exists()


def test_only_admins_of_the_practice_reach_the_types(client, alice, bob, charlie):
    checkup = AppointmentType.objects.create(practice=alice.practice, name="Check-up")
    login(client, bob)
    assert client.get(reverse("calendars:type_list")).status_code == 404
    assert client.post(reverse("calendars:type_new"), _post(alice, bob)).status_code == 404
    login(client, charlie)
    assert client.get(reverse("calendars:type_edit", args=[checkup.pk])).status_code == 404
    assert (
        client.post(reverse("calendars:type_edit", args=[checkup.pk]), _post(alice, bob)).status_code == 404
    )
    checkup.refresh_from_db()
    assert checkup.duration_minutes == 30


def test_the_grid_colours_appointments_by_type(client, alice, book):
    filling = AppointmentType.objects.create(practice=alice.practice, name="Filling", colour="purple")
    start = local(alice.practice, 2030, 3, 4, 9)
    book(alice, start, start + timedelta(minutes=30), title="", appointment_type=filling)
    login(client, alice)
    response = client.get(reverse("calendars:week"), {"date": "2030-03-04"})
    assert b'class="appt type-purple' in response.content
    assert b">Filling<" in response.content
