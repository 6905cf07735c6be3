"""Patients: search, matching (never across practices), the booking form's picker, the patient page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse

from calendars.models import Appointment, AppointmentType
from calendars.services import BookingError, appointment_book
from patients.models import Patient
from patients.selectors import patients_matching, patients_search
from patients.services import PatientDetails, patient_create, patient_match, patient_match_or_create
from tests.conftest import local, login

pytestmark = pytest.mark.django_db


def add(practice, name, email="", phone=""):
    return patient_create(practice=practice, details=PatientDetails(name=name, email=email, phone=phone))


@pytest.fixture
def lucia(practice_a):
    return add(practice_a, "Lucia Romero", "Lucia@Example.test", "+1 (212) 555-0101")


def test_search_finds_by_name_phone_and_email_in_one_query(practice_a, lucia, django_assert_num_queries):
    add(practice_a, "Tomás Ibarra", "tomas@example.test", "212 555 0199")
    with django_assert_num_queries(1):
        assert patients_search(practice=practice_a, query="romer") == [lucia]
    assert patients_search(practice=practice_a, query="555-0101") == [lucia]
    assert patients_search(practice=practice_a, query="lucia@exa") == [lucia]
    assert patients_search(practice=practice_a, query="l") == []  # too short to mean anyone


def test_search_and_matching_never_cross_practices(practice_a, practice_b, lucia):
    assert patients_search(practice=practice_b, query="Lucia") == []
    assert patient_match(practice=practice_b, email="lucia@example.test", phone="") is None
    other = patient_match_or_create(
        practice=practice_b, details=PatientDetails(name="Lucia R", email="lucia@example.test")
    )
    assert other.practice == practice_b and other.pk != lucia.pk


def test_matching_by_email_then_phone_keeps_the_stored_details(practice_a, lucia):
    by_email = patient_match_or_create(
        practice=practice_a, details=PatientDetails(name="Someone Else", email=" LUCIA@example.test ")
    )
    by_phone = patient_match_or_create(
        practice=practice_a, details=PatientDetails(name="X", phone="12125550101")
    )
    assert by_email == by_phone == lucia
    lucia.refresh_from_db()
    assert lucia.name == "Lucia Romero"
    assert Patient.objects.count() == 1


def test_a_fragment_of_a_phone_number_matches_nobody(practice_a, lucia):
    assert patient_match(practice=practice_a, email="", phone="0101") is None


def test_title_is_derived_from_type_and_patient(practice_a, alice, lucia):
    checkup = AppointmentType.objects.create(practice=practice_a, name="Check-up")
    start = local(practice_a, 2030, 3, 4, 9)
    appointment = appointment_book(
        practice=practice_a,
        staff=alice,
        start=start,
        end=start + timedelta(minutes=30),
        patient=lucia,
        appointment_type=checkup,
        created_by=None,
    ).appointment
    assert appointment.title == "Check-up: Lucia Romero"


def test_a_patient_or_type_of_another_practice_is_refused(practice_a, practice_b, alice):
    stranger = add(practice_b, "Greta Holm")
    foreign_type = AppointmentType.objects.create(practice=practice_b, name="Crown")
    start = local(practice_a, 2030, 3, 4, 9)
    for extra in ({"patient": stranger}, {"appointment_type": foreign_type}):
        with pytest.raises(BookingError):
            appointment_book(
                practice=practice_a,
                staff=alice,
                start=start,
                end=start + timedelta(minutes=30),
                created_by=None,
                **extra,
            )
    assert not Appointment.objects.exists()


def _form(alice, **extra):
    data = {"staff": alice.pk, "date": "2030-03-04", "start_time": "09:00", "end_time": ""}
    data.update(extra)
    return data


def test_booking_form_without_js_shows_matches_then_books_the_chosen_patient(client, alice, lucia):
    login(client, alice)
    url = reverse("calendars:appointment_new")
    response = client.post(url, _form(alice, patient_query="romero"))
    assert response.status_code == 200
    assert f'value="{lucia.pk}"'.encode() in response.content
    assert b"Choose the patient below" in response.content
    response = client.post(url, _form(alice, patient=lucia.pk))
    assert response.status_code == 302
    assert Appointment.objects.get().patient == lucia
    assert Appointment.objects.get().title == "Lucia Romero"


def test_booking_form_creates_a_new_patient_inline(client, alice, practice_a):
    checkup = AppointmentType.objects.create(practice=practice_a, name="Check-up", duration_minutes=45)
    login(client, alice)
    response = client.post(
        reverse("calendars:appointment_new"),
        _form(alice, appointment_type=checkup.pk, new_patient_name="Greta Holm", new_patient_phone="5551234"),
    )
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.title == "Check-up: Greta Holm"
    assert appointment.end - appointment.start == timedelta(minutes=45)  # the type's length
    assert appointment.patient.phone_digits == "5551234"


def test_booking_form_refuses_a_patient_of_another_practice(client, alice, practice_b):
    stranger = add(practice_b, "Greta Holm")
    login(client, alice)
    response = client.post(reverse("calendars:appointment_new"), _form(alice, patient=stranger.pk, title="X"))
    assert response.status_code == 200 and not Appointment.objects.exists()
    assert b"Greta" not in response.content


def test_picker_search_is_scoped_to_the_practice(client, alice, charlie, lucia):
    login(client, charlie)
    response = client.get(reverse("patients:search"), {"patient_query": "Lucia"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Lucia Romero" not in response.content
    login(client, alice)
    response = client.get(reverse("patients:search"), {"patient_query": "Lucia"}, HTTP_HX_REQUEST="true")
    assert b"Lucia Romero" in response.content


def test_patient_page_lists_upcoming_and_past_and_is_404_elsewhere(client, alice, charlie, lucia, book):
    from django.utils import timezone

    soon = timezone.now() + timedelta(days=1)
    before = timezone.now() - timedelta(days=30)
    half_hour = timedelta(minutes=30)
    upcoming = book(alice, soon, soon + half_hour, title="Soon", patient=lucia, overrides=_anytime())
    past = book(alice, before, before + half_hour, title="Before", patient=lucia, overrides=_anytime())
    login(client, alice)
    response = client.get(reverse("patients:patient_detail", args=[lucia.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("Upcoming") < body.index(f"/calendars/appointments/{upcoming.pk}/") < body.index("Past")
    assert body.index("Past") < body.index(f"/calendars/appointments/{past.pk}/")
    detail = client.get(reverse("calendars:appointment_detail", args=[upcoming.pk]))
    assert reverse("patients:patient_detail", args=[lucia.pk]).encode() in detail.content
    login(client, charlie)
    for name in ("patients:patient_detail", "patients:patient_edit"):
        assert client.get(reverse(name, args=[lucia.pk])).status_code == 404
        assert client.post(reverse(name, args=[lucia.pk]), {"name": "Hacked"}).status_code in {404, 405}
    assert b"Lucia Romero" not in client.get(reverse("patients:patient_list"), {"q": "Lucia"}).content
    lucia.refresh_from_db()
    assert lucia.name == "Lucia Romero"


def _anytime():
    from calendars.services import Overrides

    return Overrides(outside_hours=True, busy_time=True)


def test_new_and_edit_patient_pages(client, alice):
    login(client, alice)
    response = client.post(reverse("patients:patient_new"), {"name": "", "email": "not-an-email"})
    assert response.status_code == 200 and b"This field is required" in response.content
    new_url = reverse("patients:patient_new")
    response = client.post(new_url, {"name": "Ana Ruiz", "date_of_birth": "1980-05-06"})
    patient = Patient.objects.get()
    assert response["Location"] == reverse("patients:patient_detail", args=[patient.pk])
    client.post(reverse("patients:patient_edit", args=[patient.pk]), {"name": "Ana Ruiz", "phone": "+34 600"})
    patient.refresh_from_db()
    assert patient.phone_digits == "34600"


def test_patient_names_never_reach_logs(client, alice, caplog):
    login(client, alice)
    with caplog.at_level("DEBUG"):
        client.post(reverse("patients:patient_new"), {"name": "Secret Name"})
        client.post(reverse("calendars:appointment_new"), _form(alice, new_patient_name="Other Secret"))
    assert "Secret" not in caplog.text


@pytest.mark.postgres
def test_search_at_50000_patients_is_answered_by_the_trigram_indexes(practice_a, practice_b):
    """The planner's own choice (nothing disabled) at the issue's size: index scans, no table scan."""
    Patient.objects.bulk_create(
        Patient(
            practice=practice_a if n % 10 else practice_b,
            name=f"Person {n:05d} Smith",
            email=f"p{n}@example.test",
            phone_digits=f"555{n:05d}",
        )
        for n in range(50_000)
    )
    with connection.cursor() as cursor:
        for column in ("name", "email", "phone_digits"):  # what autovacuum does in production
            cursor.execute(f"SELECT gin_clean_pending_list('patient_{column}_trgm'::regclass)")
        cursor.execute("ANALYZE patients_patient")
    for query in ("romero", "son 0123", "555012"):
        plan = patients_matching(practice=practice_a, query=query)[:10].explain()
        assert "_trgm" in plan and "Seq Scan" not in plan, plan
    assert [p.name for p in patients_search(practice=practice_a, query="son 01231")] == ["Person 01231 Smith"]
