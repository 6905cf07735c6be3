"""A save made from the week swaps only the days it changed, in a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date

import pytest

from calendars.week_changes import Before, ShownWeek, changed_days, shown_week
from tests.calendars.test_views_appointments import (
    _before_the_booked_week,  # noqa: F401  (autouse)
    cancel_url,
    edit_url,
    form_data,
)
from tests.conftest import local, login

NEW = "/calendars/appointments/new/"
WEEK = "/calendars/week/"


def from_week(staff, day="2026-11-23", span=None) -> dict:
    """htmx headers of a request made from ``staff``'s week page showing ``day``."""
    url = f"http://testserver{WEEK}?staff={staff.pk}&date={day}" + (f"&span={span}" if span else "")
    return {"HTTP_HX_REQUEST": "true", "HTTP_HX_CURRENT_URL": url}


def top_level_ids(html: str) -> list[str]:
    return re.findall(r'^<(?:div|li) class="[^"]*" data-date="[^"]+" id="([^"]+)"', html, re.M)


def test_booking_from_the_week_swaps_only_that_days_column_and_agenda_day(
    client, alice, bob, book, django_assert_num_queries
):
    """27 queries: the booking and its Google outbox (22), then the week's appointments, their sync
    badges and the day's busy time; the working hours are the ones the booking rules read."""
    p = alice.practice
    book(bob, local(p, 2026, 11, 24, 9), local(p, 2026, 11, 24, 10), title="Crown")
    login(client, alice)
    client.get(WEEK)  # the session and its messages exist, as on a page the booking came from
    with django_assert_num_queries(28):  # +1: the booking writes its participant rows
        response = client.post(NEW, form_data(bob), **from_week(bob))
    html = response.content.decode()
    assert response["HX-Retarget"] == "#week-day-2026-11-23"
    assert response["HX-Reswap"] == "outerHTML"
    assert "modal-close" in response["HX-Trigger-After-Settle"]
    assert "HX-Push-Url" not in response  # the page stays where it was
    assert top_level_ids(html) == ["week-day-2026-11-23", "agenda-day-2026-11-23"]
    assert 'id="agenda-day-2026-11-23" hx-swap-oob="true"' in html
    assert 'id="week-day-2026-11-23" hx-swap-oob' not in html  # the main swap: its own column
    assert "Filling" in html and "Crown" not in html  # Tuesday is untouched
    assert 'id="messages" class="messages" role="status" hx-swap-oob="true"' in html
    assert "Booked “Filling”" in html
    assert 'id="week-region"' not in html


def test_the_swapped_column_is_the_one_the_whole_week_would_draw(client, alice, bob):
    login(client, alice)
    client.post(NEW, form_data(bob), **from_week(bob))
    week = client.get(WEEK, {"staff": bob.pk, "date": "2026-11-23"}).content.decode()
    column = re.search(r'<div class="week-day[^"]*" data-date="2026-11-23".*?\n</div>', week, re.S)[0]
    client.post(NEW, form_data(bob, title="Other", start_time="11:00", end_time="11:30"), **from_week(bob))
    swapped = client.post(
        NEW, form_data(bob, title="Third", start_time="13:00", end_time="13:30"), **from_week(bob)
    ).content.decode()
    redrawn = client.get(WEEK, {"staff": bob.pk, "date": "2026-11-23"}).content.decode()
    expected = re.search(r'<div class="week-day[^"]*" data-date="2026-11-23".*?\n</div>', redrawn, re.S)[0]
    assert expected != column
    assert expected in swapped


def test_moving_an_appointment_within_the_week_swaps_both_days(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    response = login(client, alice).post(
        edit_url(appointment), form_data(bob, date="2026-11-25"), **from_week(bob)
    )
    html = response.content.decode()
    assert response["HX-Retarget"] == "#week-day-2026-11-23"
    assert top_level_ids(html) == [
        "week-day-2026-11-23",
        "week-day-2026-11-25",
        "agenda-day-2026-11-23",
        "agenda-day-2026-11-25",
    ]
    monday = html.split('id="week-day-2026-11-25"')[0]
    assert "Filling" not in monday and "Filling" in html.split('id="week-day-2026-11-25"')[1]


def test_cancelling_from_the_day_view_swaps_the_column_without_an_agenda(client, alice, bob, book):
    p = alice.practice
    appointment = book(bob, local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10), title="Filling")
    response = login(client, alice).post(cancel_url(appointment), **from_week(bob, span="day"))
    html = response.content.decode()
    assert top_level_ids(html) == ["week-day-2026-11-23"]
    assert "Filling" not in html.split('id="messages"')[0]


@pytest.mark.parametrize(
    "why, change",
    [
        ("another week", {"date": "2026-12-01"}),
        ("outside the hours drawn", {"start_time": "21:00", "end_time": "22:00"}),
    ],
)
def test_a_change_the_days_on_screen_cannot_show_redraws_the_whole_week(client, alice, bob, why, change):
    response = login(client, alice).post(NEW, form_data(bob, **change), **from_week(bob), follow=False)
    if why == "outside the hours drawn":  # bookable by an admin with the override
        response = client.post(NEW, form_data(bob, outside_hours="on", **change), **from_week(bob))
    assert response["HX-Retarget"] == "#week-region"
    assert 'id="week-region"' in response.content.decode()


def test_booking_for_someone_else_than_the_week_shown_shows_their_week(client, alice, bob, dora):
    response = login(client, alice).post(NEW, form_data(dora), **from_week(bob))
    assert response["HX-Retarget"] == "#week-region"
    assert response["HX-Push-Url"] == f"/calendars/week/?staff={dora.pk}&date=2026-11-23"


# --- reading what the page shows ------------------------------------------------------------------


def test_the_shown_week_is_read_from_the_pages_url_with_the_views_defaults():
    today = date(2026, 11, 18)
    assert shown_week(None, week_path=WEEK, actor_id=1, today=today) is None
    assert (
        shown_week("http://x/calendars/team/?date=2026-11-23", week_path=WEEK, actor_id=1, today=today)
        is None
    )
    mine = shown_week("http://x/calendars/week/", week_path=WEEK, actor_id=7, today=today)
    assert mine.staff_id == 7 and mine.dates[0] == date(2026, 11, 16) and len(mine.dates) == 7
    day = shown_week(f"{WEEK}?staff=3&date=2026-11-25&span=day", week_path=WEEK, actor_id=7, today=today)
    assert day == ShownWeek(3, (date(2026, 11, 25),), "day")
    for hostile in ("?staff=x", "?date=99999-01-01", "?staff=1e400", "?date=2026-13-01"):
        assert shown_week(f"{WEEK}{hostile}", week_path=WEEK, actor_id=7, today=today) is None


def test_changed_days_are_the_days_on_screen_the_change_touched():
    shown = ShownWeek(3, tuple(date(2026, 11, 23 + n) for n in range(7)), "week")
    monday, friday = date(2026, 11, 23), date(2026, 11, 27)
    before = Before(3, None, None)
    assert changed_days(shown, staff_id=3, day=friday, before=None, before_day=None) == [friday]
    assert changed_days(shown, staff_id=3, day=friday, before=before, before_day=monday) == [monday, friday]
    assert changed_days(shown, staff_id=4, day=friday, before=before, before_day=monday) is None
    assert changed_days(shown, staff_id=3, day=date(2026, 12, 1), before=None, before_day=None) is None
    moved_in = Before(4, None, None)  # from someone else's calendar: only the new day is on screen
    assert changed_days(shown, staff_id=3, day=friday, before=moved_in, before_day=monday) == [friday]
