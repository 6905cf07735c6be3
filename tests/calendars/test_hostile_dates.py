"""Hostile dates (issue 10, point 9): every view that takes a date answers 200 or a field error, never 500.

Navigation dates clamp to the book's range; booking dates outside it are field errors; the
services refuse out-of-range times whatever the source (Google sync would push them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calendars.limits import EARLIEST_DATE, LATEST_DATE
from calendars.models import Appointment
from calendars.services import BookingError, appointment_book, appointment_update
from tests.conftest import local, login

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
HOSTILE_DATES = [
    "9999-12-31",
    "0001-01-01",
    "1999-12-31",
    "2101-01-01",
    "10000-01-01",
    "2026-02-30",
    "garbage",
    "2026-11-23T09:00",
    "-1",
    "٢٠٢٦-١١-٢٣",
    "",
]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize("span", ["week", "day"])
@pytest.mark.parametrize("value", HOSTILE_DATES)
def test_week_navigation_clamps_any_date(client, alice, bob, value, span, headers):
    response = login(client, alice).get(
        "/calendars/week/", {"staff": bob.pk, "date": value, "span": span}, **headers
    )
    assert response.status_code == 200
    day = response.context["day"]
    assert EARLIEST_DATE <= day <= LATEST_DATE
    for name in ("prev_url", "next_url", "today_url"):  # links the page offers stay openable
        assert client.get(response.context[name]).status_code == 200


def test_week_at_the_far_bound_shows_that_week(client, alice):
    response = login(client, alice).get("/calendars/week/", {"date": "9999-12-31"})
    assert response.context["day"] == LATEST_DATE


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize("field", ["date_from", "date_to"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "2101-01-01", "1999-12-31"])
def test_list_refuses_out_of_range_dates_with_a_field_error(client, alice, field, value, headers):
    response = login(client, alice).get("/calendars/list/", {field: value}, **headers)
    assert response.status_code == 200
    assert "between 1 Jan 2000 and 31 Dec 2100" in response.context["form"].errors[field][0]
    assert response.context["page"] is None


@pytest.mark.parametrize("value", ["garbage", "2026-02-30", "٢٠٢٦-١١-٢٣"])
def test_list_shows_unreadable_dates_as_field_errors(client, alice, value):
    response = login(client, alice).get("/calendars/list/", {"date_to": value})
    assert response.status_code == 200
    assert response.context["form"].errors["date_to"]


@pytest.mark.parametrize("value", HOSTILE_DATES)
def test_booking_form_prefill_survives_any_date(client, alice, bob, value):
    response = login(client, alice).get(
        "/calendars/appointments/new/", {"staff": bob.pk, "date": value, "start": "23:50"}
    )
    assert response.status_code == 200


BOOKINGS = [
    ("9999-12-31", "23:50", ""),
    ("9999-12-31", "23:50", "23:55"),
    ("0001-01-01", "00:00", ""),
    ("0001-01-01", "00:10", "00:40"),
    ("2101-01-01", "09:00", "10:00"),
    ("1999-12-31", "09:00", "10:00"),
]


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["page", "htmx"])
@pytest.mark.parametrize(("day", "start", "end"), BOOKINGS)
def test_booking_outside_the_range_is_a_field_error(client, alice, bob, day, start, end, headers):
    data = {"staff": bob.pk, "title": "Filling", "date": day, "start_time": start, "end_time": end}
    response = login(client, alice).post("/calendars/appointments/new/", data, **headers)
    assert response.status_code == 200
    assert "between 1 Jan 2000 and 31 Dec 2100" in response.context["form"].errors["date"][0]
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(("day", "start", "end"), BOOKINGS)
def test_moving_outside_the_range_is_a_field_error(client, alice, bob, book, day, start, end):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10))
    data = {"staff": bob.pk, "title": "Filling", "date": day, "start_time": start, "end_time": end}
    response = login(client, alice).post(f"/calendars/appointments/{appointment.pk}/edit/", data)
    assert response.status_code == 200
    assert response.context["form"].errors["date"]
    appointment.refresh_from_db()
    assert appointment.start == local(p, 2026, 11, 23, 9) and appointment.version == 1


@pytest.mark.parametrize(
    "start",
    [
        datetime(9999, 12, 31, 23, 0),
        datetime(1, 1, 1, 9, 0),
        datetime(2101, 1, 1, 9, 0),
        datetime(1999, 12, 31, 9, 0),
    ],
)
def test_the_service_refuses_out_of_range_times_from_any_source(alice, bob, book, start):
    p = alice.practice
    start = start.replace(tzinfo=p.zone)
    end = start + timedelta(minutes=30)
    with pytest.raises(BookingError) as refused:
        appointment_book(practice=p, staff=bob, start=start, end=end, title="x", created_by=None)
    assert refused.value.code == "date_range"
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10))
    for source in ("portal", "google", "admin"):
        with pytest.raises(BookingError):
            appointment_update(appointment=appointment, actor=None, source=source, start=start, end=end)
    appointment.refresh_from_db()
    assert appointment.version == 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(st.dates().map(str), st.text(max_size=12)),
    span=st.sampled_from(["week", "day", ""]),
    htmx=st.booleans(),
)
def test_no_date_string_breaks_the_week_or_the_list(client, alice, value, span, htmx):
    login(client, alice)
    headers = HTMX if htmx else {}
    week = client.get("/calendars/week/", {"date": value, "span": span}, **headers)
    assert week.status_code == 200
    listing = client.get("/calendars/list/", {"date_from": value, "date_to": value}, **headers)
    assert listing.status_code == 200
