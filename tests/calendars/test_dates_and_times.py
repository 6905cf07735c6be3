"""Dates and times people can trust: booking in the past asks first, years are said, times are 24 h."""

from __future__ import annotations

from datetime import datetime

import pytest
from freezegun import freeze_time

from calendars.forms import AppointmentForm
from calendars.models import Appointment
from calendars.timezones import format_local_range
from tests.conftest import local, login

NEW = "/calendars/appointments/new/"
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tz_now")]


@pytest.fixture
def tz_now():
    with freeze_time("2026-11-23 15:00:00"):  # Monday 10:00 in New York
        yield


def booking(staff, day: str, **extra) -> dict:
    return {
        "staff": staff.pk,
        "title": "Filling",
        "date": day,
        "start_time": "09:00",
        "end_time": "10:00",
        **extra,
    }


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}], ids=["page", "htmx"])
def test_booking_in_the_past_asks_first_and_books_on_a_second_yes(client, alice, bob, headers):
    login(client, alice)
    response = client.post(NEW, booking(bob, "2025-01-06"), **headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert "This is in the past: 6 January 2025. Book anyway?" in html
    assert 'name="confirm_past"' in html
    assert not Appointment.objects.exists()
    response = client.post(NEW, booking(bob, "2025-01-06", confirm_past="on"), **headers)
    assert Appointment.objects.get().title == "Filling"


def test_earlier_today_is_the_past_too_and_later_today_is_not(client, alice, bob):
    login(client, alice)
    response = client.post(NEW, booking(bob, "2026-11-23"))  # 09:00 New York, an hour ago
    assert "This is in the past: 23 November 2026" in response.content.decode()
    later = booking(bob, "2026-11-23", start_time="11:00", end_time="11:30")
    assert client.post(NEW, later).status_code == 302


def test_a_plain_form_does_not_show_the_past_question(client, alice):
    html = login(client, alice).get(NEW).content.decode()
    assert 'name="confirm_past"' not in html


def test_editing_a_past_appointment_without_moving_it_asks_nothing(client, alice, bob, book):
    with freeze_time("2026-11-02 12:00:00"):
        appointment = book(bob, local(bob.practice, 2026, 11, 9, 9), local(bob.practice, 2026, 11, 9, 10))
    data = booking(bob, "2026-11-09", title="Filling, done")
    response = login(client, alice).post(f"/calendars/appointments/{appointment.pk}/edit/", data)
    assert response.status_code == 302
    moved = booking(bob, "2026-11-10")
    response = client.post(f"/calendars/appointments/{appointment.pk}/edit/", moved)
    assert "This is in the past: 10 November 2026. Book anyway?" in response.content.decode()


def test_confirmations_say_the_year_when_it_is_not_this_one(client, alice, bob, practice_a):
    assert format_local_range(
        local(practice_a, 2026, 12, 1, 9), local(practice_a, 2026, 12, 1, 10), practice_a.zone
    ) == ("Tue 01 Dec 09:00–10:00")
    assert format_local_range(
        local(practice_a, 2027, 1, 4, 9), local(practice_a, 2027, 1, 4, 10), practice_a.zone
    ) == ("Mon 04 Jan 2027 09:00–10:00")
    login(client, alice)
    client.post(NEW, booking(bob, "2027-01-04"), follow=False)
    messages = [str(m) for m in client.get("/calendars/list/").context["messages"]]
    assert messages == ["Booked “Filling” for Bob, Mon 04 Jan 2027 09:00–10:00."]


def test_times_are_typed_and_shown_on_the_24_hour_clock(alice, bob):
    form = AppointmentForm(actor=alice, initial={"start_time": datetime(2026, 1, 1, 14, 30).time()})
    html = str(form["start_time"])
    assert 'type="text"' in html and 'value="14:30"' in html and 'placeholder="HH:MM"' in html
    form = AppointmentForm(booking(bob, "2026-12-01", start_time="14.30", end_time="2:30 PM"), actor=alice)
    assert not form.is_valid()
    assert form.errors["end_time"] == ["Enter a time on the 24-hour clock as HH:MM, for example 14:30."]
    assert form.cleaned_data["start_time"] == datetime(2026, 1, 1, 14, 30).time()
