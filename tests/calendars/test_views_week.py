"""The week view: a time grid of one staff member's appointments, working hours and busy time."""

from __future__ import annotations

import re

import pytest
from pytest_django.asserts import assertTemplateNotUsed, assertTemplateUsed

from calendars.models import Appointment
from tests.conftest import local, login

WEEK = "/calendars/week/"
BLOCK = re.compile(r'<a class="appt[^"]*"\s+style="--top: (\d+); --len: (\d+);')


def blocks(response) -> list[tuple[int, int]]:
    return [(int(top), int(length)) for top, length in BLOCK.findall(response.content.decode())]


def test_week_view_draws_the_staff_members_appointments_as_positioned_blocks(client, alice, bob, dora, book):
    p = alice.practice
    book(bob, local(p, 2026, 11, 24, 9), local(p, 2026, 11, 24, 10), title="Filling")
    book(dora, local(p, 2026, 11, 24, 11), local(p, 2026, 11, 24, 12), title="Root canal of Dora")
    response = login(client, alice).get(WEEK, {"staff": bob.pk, "date": "2026-11-25"})
    assert response.status_code == 200
    assertTemplateUsed(response, "calendars/week.html")
    html = response.content.decode()
    assert "Filling" in html and "09:00–10:00" in html
    assert "Root canal of Dora" not in html
    # The grid starts at 07:00, so 09:00 sits 120 minutes down and lasts 60.
    assert blocks(response) == [(120, 60)]
    assert 'class="work-band" style="--top: 60; --len: 600;"' in html  # 08:00–18:00


def test_week_view_for_htmx_returns_only_the_grid_partial(client, alice, bob):
    response = login(client, alice).get(WEEK, {"staff": bob.pk}, HTTP_HX_REQUEST="true")
    assertTemplateUsed(response, "calendars/partials/week_grid.html")
    assertTemplateNotUsed(response, "base.html")
    assert b"<html" not in response.content
    assert b'id="week-region"' in response.content


def test_week_view_defaults_to_the_users_own_calendar(client, bob, dora):
    response = login(client, bob).get("/calendars/")
    assert response.context["staff"] == bob
    assert f'<option value="{bob.pk}" selected>'.encode() in response.content


def test_staff_picker_offers_only_members_of_the_practice(client, alice, bob, charlie):
    html = login(client, alice).get(WEEK).content.decode()
    assert "Bob" in html and "Charlie" not in html


def test_cancelled_appointments_are_not_drawn_on_the_week(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 24, 9), local(p, 2026, 11, 24, 10), title="Filling")
    Appointment.objects.filter(pk=appointment.pk).update(status=Appointment.Status.CANCELLED)
    response = login(client, alice).get(WEEK, {"staff": bob.pk, "date": "2026-11-24"})
    assert blocks(response) == []
    assert b"Filling" not in response.content


def test_conflicting_appointment_carries_a_visible_conflict_marker(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 24, 9), local(p, 2026, 11, 24, 10), title="Moved in Google")
    Appointment.objects.filter(pk=appointment.pk).update(has_conflict=True)
    html = login(client, alice).get(WEEK, {"staff": bob.pk, "date": "2026-11-24"}).content.decode()
    assert 'class="appt has-conflict"' in html
    assert "⚠ Conflict" in html


def test_busy_time_is_shaded_with_the_source_calendars_name(client, alice, bob, busy_source):
    p = alice.practice
    busy_source.add(bob, local(p, 2026, 11, 24, 12), local(p, 2026, 11, 24, 13), "Personal", "Lunch")
    html = login(client, bob).get(WEEK, {"staff": bob.pk, "date": "2026-11-24"}).content.decode()
    assert 'class="busy-block" style="--top: 300; --len: 60;"' in html
    assert '<span class="busy-source">Personal</span>' in html
    assert "Lunch" in html, "the calendar's owner sees her own event's title"


@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}], ids=["page", "htmx"])
@pytest.mark.parametrize("span", ["week", "day"])
def test_busy_time_is_only_busy_to_anyone_but_the_calendars_owner(
    client, alice, bob, busy_source, span, headers
):
    p = alice.practice
    busy_source.add(bob, local(p, 2026, 11, 24, 12), local(p, 2026, 11, 24, 13), "Personal", "Lunch")
    query = {"staff": bob.pk, "date": "2026-11-24", "span": span}
    html = login(client, alice).get(WEEK, query, **headers).content.decode()
    assert '<span class="busy-source">Personal</span> · <span class="busy-label">Busy</span>' in html
    assert "Lunch" not in html


def test_busy_time_of_another_member_is_not_shown(client, alice, bob, dora, busy_source):
    p = alice.practice
    busy_source.add(dora, local(p, 2026, 11, 24, 12), local(p, 2026, 11, 24, 13), "Personal")
    html = login(client, alice).get(WEEK, {"staff": bob.pk, "date": "2026-11-24"}).content.decode()
    assert "busy-block" not in html


@pytest.mark.parametrize(
    "monday, days",
    [("2026-03-02", (7, 8)), ("2026-10-26", (31, 1))],
    ids=["spring-forward", "fall-back"],
)
def test_dst_week_draws_nine_oclock_at_nine_on_both_sides(client, alice, bob, book, monday, days):
    p = alice.practice  # America/New_York: clocks change on Sunday 8 March and Sunday 1 November 2026
    saturday, sunday = days
    month_sat = 3 if monday.startswith("2026-03") else 10
    month_sun = 3 if monday.startswith("2026-03") else 11
    book(bob, local(p, 2026, month_sat, saturday, 9), local(p, 2026, month_sat, saturday, 10), title="Before")
    book(bob, local(p, 2026, month_sun, sunday, 9), local(p, 2026, month_sun, sunday, 10), title="After")
    response = login(client, alice).get(WEEK, {"staff": bob.pk, "date": monday})
    assert blocks(response) == [(120, 60), (120, 60)]
    grid = response.context["grid"]
    assert [len(d.appointments) for d in grid.days] == [0, 0, 0, 0, 0, 1, 1]
    assert grid.days[6].clock_change


def test_day_view_shows_a_single_column(client, alice, bob, book):
    p = alice.practice
    book(bob, local(p, 2026, 11, 24, 9), local(p, 2026, 11, 24, 10), title="Filling")
    response = login(client, alice).get(WEEK, {"staff": bob.pk, "date": "2026-11-24", "span": "day"})
    assert [d.date.isoformat() for d in response.context["grid"].days] == ["2026-11-24"]
    assert blocks(response) == [(120, 60)]


def test_navigation_links_step_a_week_back_and_forward(client, alice, bob):
    response = login(client, alice).get(WEEK, {"staff": bob.pk, "date": "2026-11-25"})
    assert response.context["prev_url"] == f"{WEEK}?staff={bob.pk}&date=2026-11-16"
    assert response.context["next_url"] == f"{WEEK}?staff={bob.pk}&date=2026-11-30"


def test_empty_slots_open_the_new_appointment_form_at_their_time(client, alice, bob):
    html = login(client, alice).get(WEEK, {"staff": bob.pk, "date": "2026-11-24"}).content.decode()
    assert f"/calendars/appointments/new/?staff={bob.pk}&amp;date=2026-11-24&amp;start=09:30" in html


def test_staff_see_a_teammates_week_read_only(client, bob, dora, book):
    p = bob.practice
    appointment = book(dora, local(p, 2026, 11, 24, 9), local(p, 2026, 11, 24, 10), title="Patient of Dora")
    html = login(client, bob).get(WEEK, {"staff": dora.pk, "date": "2026-11-24"}).content.decode()
    assert "Patient of Dora" in html
    assert 'class="slot"' not in html  # no booking on someone else's calendar
    assert f"/calendars/appointments/{appointment.pk}/edit/" not in html
    assert f"/calendars/appointments/{appointment.pk}/" in html


def test_block_links_to_the_edit_modal_for_those_who_manage_it(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 24, 9), local(p, 2026, 11, 24, 10))
    html = login(client, alice).get(WEEK, {"staff": bob.pk, "date": "2026-11-24"}).content.decode()
    assert f'hx-get="/calendars/appointments/{appointment.pk}/edit/" hx-target="#modal-body"' in html


def test_week_of_an_unknown_staff_member_is_not_found(client, alice):
    login(client, alice)
    assert client.get(WEEK, {"staff": "999999"}).status_code == 404
    assert client.get(WEEK, {"staff": "not-a-number"}).status_code == 404


@pytest.mark.parametrize("count", [1, 25])
def test_the_week_costs_the_same_queries_however_full_it_is(
    client, alice, bob, book, count, django_assert_num_queries
):
    """Drawn: session, user, memberships, the page's fingerprint (with the top bar's counts), the
    practice's staff (the picker and whose week), appointments, their sync badges, Google calendars
    (their busy blocks would be one more), working hours, the member's connection status (two):
    eleven, at any size. Shown again unchanged (calendars/page_cache.py): session, user, fingerprint
    (whom the viewer was last seen as is checked by the fingerprint, not read again)."""
    for number in range(count):
        start = local(alice.practice, 2026, 11, 23 + number % 5, 9 + number // 5)
        book(bob, start, start.replace(minute=30), title=f"Patient {number}")
    login(client, alice)
    with django_assert_num_queries(11):
        answer = client.get(WEEK, {"staff": bob.pk, "date": "2026-11-25"})
    assert len(BLOCK.findall(answer.content.decode())) == count
    with django_assert_num_queries(3):
        again = client.get(WEEK, {"staff": bob.pk, "date": "2026-11-25"})
    assert len(BLOCK.findall(again.content.decode())) == count


def test_an_empty_week_costs_ten_queries_drawn_and_three_shown_again(
    client, alice, bob, django_assert_num_queries
):
    """Drawn: session, user, memberships, the fingerprint, the staff, appointments (none), Google
    calendars (none: no busy blocks to read), working hours, connection status (two). Shown again
    unchanged: session, user and the fingerprint."""
    login(client, alice)
    with django_assert_num_queries(10):
        drawn = client.get(WEEK, {"staff": bob.pk, "date": "2027-06-02"})
    with django_assert_num_queries(3):
        again = client.get(WEEK, {"staff": bob.pk, "date": "2027-06-02"})
    assert again.content == drawn.content.replace(
        drawn.content.split(b'"X-CSRFToken": "')[1][:64], again.content.split(b'"X-CSRFToken": "')[1][:64]
    )
