"""The public booking page: the steps without JavaScript, confirmation, email with .ics, races,
abuse, and headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from icalendar import Calendar

from calendars.models import Appointment, AppointmentChange
from patients.models import Patient
from patients.services import PatientDetails, patient_create
from tests.conftest import local, login

pytestmark = pytest.mark.django_db

PAGE = "/book/practice-a/"


def details(**extra):
    data = {"type": "", "staff": "", "start": "", "name": "Lucia Romero", "email": "lucia@example.test"}
    data.update(phone="+1 212 555 0101", website="")
    data.update(extra)
    return data


def test_the_steps_work_as_plain_links(client, now, checkup, alice, bob):
    page = client.get(PAGE)
    assert page.status_code == 200 and b"Check-up" in page.content
    people = client.get(PAGE, {"type": checkup.pk}).content.decode()
    assert "First available" in people and "Alice" in people and "Bob" in people
    days = client.get(PAGE, {"type": checkup.pk, "staff": bob.pk}).content.decode()
    assert "day=2030-03-05" in days
    times = client.get(PAGE, {"type": checkup.pk, "staff": bob.pk, "day": "2030-03-05"}).content.decode()
    assert "time=09:00" in times
    form = client.get(PAGE, {"type": checkup.pk, "staff": bob.pk, "day": "2030-03-05", "time": "09:00"})
    assert b"Confirm booking" in form.content and b'name="website"' in form.content


def test_htmx_gets_only_the_flow_region(client, now, checkup):
    response = client.get(PAGE, {"type": checkup.pk}, HTTP_HX_REQUEST="true")
    assert response.content.lstrip().startswith(b"{#") is False
    assert b'id="booking-flow"' in response.content and b"<html" not in response.content


def test_a_practice_without_online_booking_is_404(client, practice_a, practice_b):
    assert client.get(PAGE).status_code == 404
    assert client.get("/book/no-such-practice/").status_code == 404


def confirm(client, checkup, staff, start, **extra):
    data = details(type=checkup.pk, staff=staff, start=start.isoformat(), **extra)
    return client.post(reverse("booking:confirm", args=["practice-a"]), data)


def test_confirming_books_online_matches_the_patient_and_emails_an_ics(
    client, now, checkup, bob, django_capture_on_commit_callbacks
):
    lucia = patient_create(
        practice=bob.practice, details=PatientDetails(name="Lucia R.", email="lucia@example.test")
    )
    start = local(bob.practice, 2030, 3, 5, 9)
    with django_capture_on_commit_callbacks(execute=True):
        response = confirm(client, checkup, bob.pk, start)
    assert response.status_code == 302
    appointment = Appointment.objects.get()
    assert appointment.booked_online and appointment.patient == lucia and appointment.staff == bob
    assert (appointment.start, appointment.end) == (start, start + timedelta(minutes=30))
    assert appointment.title == "Check-up: Lucia R."  # the patient's stored name, not what was typed
    assert appointment.changes.get().source == AppointmentChange.Source.ONLINE
    page = client.get(response["Location"])
    assert page.status_code == 200 and b"booked" in page.content
    [email] = mail.outbox
    assert email.to == ["lucia@example.test"]
    [(name, content, mimetype)] = email.attachments
    assert (name, mimetype) == ("appointment.ics", "text/calendar")
    [event] = Calendar.from_ical(content).walk("VEVENT")
    assert event.decoded("dtstart") == start
    assert str(event["location"]) == "Room 2"
    manage_url = response["Location"].split("?")[0]
    assert manage_url in email.body and manage_url in str(event["url"])
    login(client, bob)  # the front desk sees where it came from
    detail = client.get(reverse("calendars:appointment_detail", args=[appointment.pk])).content.decode()
    assert detail.count("Online booking") == 2  # the badge and the history line


def test_a_new_patient_is_created_in_this_practice_only(client, now, checkup, bob, practice_b):
    patient_create(practice=practice_b, details=PatientDetails(name="Lucia B", email="lucia@example.test"))
    confirm(client, checkup, bob.pk, local(bob.practice, 2030, 3, 5, 9))
    patient = Appointment.objects.get().patient
    assert patient.practice == bob.practice and patient.name == "Lucia Romero"
    assert Patient.objects.filter(practice=practice_b).count() == 1


def test_a_taken_time_says_so_offers_the_nearest_and_keeps_what_was_typed(
    client, now, checkup, bob, book, busy_source
):
    start = local(bob.practice, 2030, 3, 5, 9)
    book(bob, start, start + timedelta(minutes=30), title="Filling: Tomás Ibarra")
    busy_source.add(
        bob, local(bob.practice, 2030, 3, 5, 10), local(bob.practice, 2030, 3, 5, 11), source="Personal"
    )
    response = confirm(client, checkup, bob.pk, start)
    body = response.content.decode()
    assert response.status_code == 409
    assert "That time was just taken" in body
    assert 'value="Lucia Romero"' in body and 'value="lucia@example.test"' in body
    assert "2030-03-05T11:00:00-05:00" in body  # the nearest free time after the taken one and the busy hour
    for secret in ("Tomás", "Ibarra", "Personal", "Busy"):
        assert secret not in body  # never why a time is busy
    assert Appointment.objects.count() == 1


def test_first_available_spreads_bookings_to_the_least_booked(client, now, checkup, alice, bob, book):
    book(alice, local(alice.practice, 2030, 3, 5, 15), local(alice.practice, 2030, 3, 5, 16))
    confirm(client, checkup, "any", local(bob.practice, 2030, 3, 5, 9))
    confirm(
        client,
        checkup,
        "any",
        local(bob.practice, 2030, 3, 5, 11),
        email="other@example.test",
        phone="5550199",
    )
    online = Appointment.objects.filter(booked_online=True).order_by("start")
    assert [a.staff for a in online] == [bob, alice]  # bob had none; then one each, alice by id


def test_first_available_counts_the_appointments_a_person_assists_in(
    client, now, checkup, alice, bob, dora, book
):
    """Bob owns nothing but assists in two of dora's appointments; alice owns one: alice is freer."""
    book(alice, local(alice.practice, 2030, 3, 5, 15), local(alice.practice, 2030, 3, 5, 16))
    for hour in (13, 14):
        start = local(dora.practice, 2030, 3, 5, hour)
        book(dora, start, start + timedelta(minutes=30), assignees=[bob])
    confirm(client, checkup, "any", local(bob.practice, 2030, 3, 5, 9))
    [online] = Appointment.objects.filter(booked_online=True)
    assert online.staff == alice


def test_a_time_that_was_never_offered_is_refused(client, now, checkup, bob):
    too_soon = local(bob.practice, 2030, 3, 4, 8)  # inside the two hours' notice
    odd = local(bob.practice, 2030, 3, 5, 9, 7)  # not on the quarter hour
    for start in (too_soon, odd):
        assert confirm(client, checkup, bob.pk, start).status_code == 409
    assert not Appointment.objects.exists()


def test_bad_input_is_field_errors_never_a_500(client, now, checkup, bob):
    for data in (
        {"start": "not-a-date", "name": "", "email": "x", "phone": "12"},
        {"start": "2030-03-05T09:00:00", "type": "999999", "staff": "abc"},
        {},
    ):
        response = client.post(reverse("booking:confirm", args=["practice-a"]), data)
        assert response.status_code in {200, 302}
    assert not Appointment.objects.exists()


def test_the_honeypot_books_nothing(client, now, checkup, bob):
    response = confirm(client, checkup, bob.pk, local(bob.practice, 2030, 3, 5, 9), website="http://spam")
    assert response.status_code == 200 and not Appointment.objects.exists()


@pytest.mark.parametrize(
    "per_address, per_practice, addresses, expected",
    [
        ("2/h", "100/h", ["10.0.0.1"] * 3 + ["10.0.0.2"], [200, 200, 429, 200]),  # one address
        ("100/h", "3/h", ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"], [200, 200, 200, 429]),  # everyone
    ],
)
def test_posts_are_rate_limited_per_address_and_per_practice(
    client, now, checkup, bob, settings, per_address, per_practice, addresses, expected
):
    settings.BOOKING_RATE_PER_ADDRESS, settings.BOOKING_RATE_PER_PRACTICE = per_address, per_practice
    bad = {"type": checkup.pk, "staff": bob.pk, "start": "x"}
    url = reverse("booking:confirm", args=["practice-a"])
    assert [client.post(url, bad, REMOTE_ADDR=address).status_code for address in addresses] == expected


def test_booking_pages_may_be_framed_the_portal_may_not(client, now, checkup, alice):
    page = client.get(PAGE)
    assert "X-Frame-Options" not in page.headers
    if "Content-Security-Policy" in page.headers:  # django-csp installed (settings)
        assert "frame-ancestors *" in page.headers["Content-Security-Policy"]
    login(client, alice)
    assert client.get(reverse("calendars:week")).headers["X-Frame-Options"] == "DENY"


def test_admins_get_the_link_and_snippet_and_switch_booking_off(client, now, checkup, alice, bob):
    login(client, bob)
    assert client.get("/settings/online-booking/").status_code == 404
    assert client.post("/settings/online-booking/", {}).status_code == 404
    login(client, alice)
    page = client.get("/settings/online-booking/").content.decode()
    assert "http://testserver/book/practice-a/" in page and "&lt;iframe src=" in page
    assert "/book/practice-a/bob-" in page  # bob's own page
    client.post("/settings/online-booking/", {})
    assert client.get(PAGE).status_code == 404
    client.post("/settings/online-booking/", {"enabled": "on"})
    client.logout()
    assert client.get(PAGE).status_code == 200
    assert client.get(f"/book/practice-a/bob-{bob.pk}/").status_code == 200
    assert client.get(f"/book/practice-a/alice-{bob.pk}/").status_code == 404


@pytest.mark.parametrize(
    ("proxy_count", "expected"),
    [
        (1, [200, 200, 429]),  # behind the proxy: the client is the hop it appended
        (0, [200, 429, 429]),  # no proxy: X-Forwarded-For is anyone's to send, REMOTE_ADDR counts
    ],
)
def test_the_address_limit_counts_the_client_behind_the_proxy_as_the_login_limits_do(
    client, now, checkup, bob, settings, proxy_count, expected
):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = proxy_count
    settings.BOOKING_RATE_PER_ADDRESS, settings.BOOKING_RATE_PER_PRACTICE = "1/h", "100/h"
    bad = {"type": checkup.pk, "staff": bob.pk, "start": "x"}
    url = reverse("booking:confirm", args=["practice-a"])
    # Every request reaches us from the proxy (10.0.0.9); two patients, the second one twice.
    patients = ["203.0.113.1", "203.0.113.2", "203.0.113.2"]
    codes = [
        client.post(url, bad, REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=f"198.51.100.7, {ip}").status_code
        for ip in patients
    ]
    assert codes == expected


def test_the_booking_limits_and_the_login_limits_read_one_client_address(rf, settings):
    from allauth.account.adapter import get_adapter

    from copilot.accounts.client_ip import client_ip

    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    request = rf.post("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.1")
    assert client_ip(request) == get_adapter(request).get_client_ip(request) == "203.0.113.1"
