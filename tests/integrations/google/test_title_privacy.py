"""What staff members' Google calendars show of an appointment: "type only" keeps patient names out.

Through the real client libraries against the emulator: the event as Google holds it is checked
whole (summary, description, location, attendees, everything), not the body we meant to send.
"""

from __future__ import annotations

import json

import pytest

from calendars.models import AppointmentType
from copilot.accounts.models import Practice
from integrations.google import mapping
from patients.services import PatientDetails, patient_create
from tests.conftest import slot

from . import test_pull
from .test_pull import edit_in_google, events_of, link_of, when

# The pull tests' fixtures: bob connected, booking pushed on commit, pulling on demand.
booked, pull_now = test_pull.booked, test_pull.pull_now

pytestmark = pytest.mark.django_db

TYPE_ONLY = Practice.TitlePrivacy.TYPE


def test_new_practices_start_on_type_only():
    practice = Practice.objects.create(name="New", slug="new")
    assert practice.external_title_privacy == TYPE_ONLY
    labels = [value for value, _ in Practice.TitlePrivacy.choices]
    assert labels == ["full", "type", "busy"]  # between full titles and "Busy"


@pytest.fixture
def type_only(practice_a):
    practice_a.external_title_privacy = TYPE_ONLY
    practice_a.save()
    return practice_a


def test_type_only_writes_the_type_name_and_nothing_of_the_patient(google, bob, type_only, booked):
    checkup = AppointmentType.objects.create(practice=type_only, name="Check-up")
    lucia = patient_create(
        practice=type_only,
        details=PatientDetails(name="Lucia Romero", email="lucia@romero.test", phone="555 0101"),
    )
    appointment = booked(title="", patient=lucia, appointment_type=checkup, notes="Lucia is anxious")
    assert appointment.title == "Check-up: Lucia Romero"
    [event] = [e for e in events_of(google, bob) if mapping.our_tags(e)]
    assert event["summary"] == "Check-up"
    stored = json.dumps(event, ensure_ascii=False).lower()
    for secret in ("lucia", "romero", "anxious", "0101"):
        assert secret not in stored, secret


def test_type_only_without_a_type_says_appointment(google, bob, type_only, booked):
    booked(title="Filling: Tomás Ibarra")
    [event] = [e for e in events_of(google, bob) if mapping.our_tags(e)]
    assert event["summary"] == mapping.UNTYPED_TITLE
    assert "Ibarra" not in json.dumps(event, ensure_ascii=False)


def test_moving_a_type_only_event_in_google_keeps_title_and_notes(google, bob, type_only, booked, pull_now):
    checkup = AppointmentType.objects.create(practice=type_only, name="Check-up")
    appointment = booked(title="Check-up: Greta Holm", appointment_type=checkup, notes="Bring x-rays")
    new_start, new_end = slot(bob, 3, 14)
    edit_in_google(google, bob, link_of(appointment).event_id, start=when(new_start), end=when(new_end))

    pull_now()

    appointment.refresh_from_db()
    assert appointment.start == new_start
    assert (appointment.title, appointment.notes) == ("Check-up: Greta Holm", "Bring x-rays")


def test_changing_to_type_only_in_settings_rewrites_upcoming_events_without_the_patient(
    google, client, alice, bob, practice_a, booked, django_capture_on_commit_callbacks
):
    from django.urls import reverse

    from tests.conftest import login

    checkup = AppointmentType.objects.create(practice=practice_a, name="Check-up")
    lucia = patient_create(
        practice=practice_a,
        details=PatientDetails(name="Lucia Romero", email="lucia@romero.test", phone="555 0101"),
    )
    booked(title="", patient=lucia, appointment_type=checkup)
    [event] = [e for e in events_of(google, bob) if mapping.our_tags(e)]
    assert event["summary"] == "Check-up: Lucia Romero"  # full titles, as the practice had them
    login(client, alice)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:practice_calendar_privacy"), {"external_title_privacy": "type"}
        )

    assert response.status_code == 302
    practice_a.refresh_from_db()
    assert practice_a.external_title_privacy == TYPE_ONLY
    [event] = [e for e in events_of(google, bob) if mapping.our_tags(e)]
    assert event["summary"] == "Check-up"
    assert "romero" not in json.dumps(event, ensure_ascii=False).lower()
