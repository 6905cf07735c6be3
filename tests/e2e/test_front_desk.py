"""The front desk's journeys: the team on one screen, a date in the past, and booking by keyboard.

Alice is Practice A's admin (the receptionist), Bob and Dora its staff. Like every journey, each runs
on a desktop and on a phone, with every page audited (``conftest.AUDIT``).
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .helpers import appointment_block, fill_appointment, log_in, screen, team_column, week_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_receptionist_books_for_a_person_from_the_team_day(tab, portal, alice, bob, dora, tomorrow):
    log_in(tab, portal, "alice@a.test")
    tab.locator("nav.mainnav").get_by_role("link", name="Calendars").click()
    tab.locator("nav.subnav").get_by_role("link", name="Team", exact=True).click()
    tab.get_by_role("link", name="Next day").click()
    expect(tab.locator("#team-region h2")).to_have_text(f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B %Y}")

    team_column(tab, bob).get_by_role("link", name="Book Bob, ", exact=False).filter(has_text="11:00").click()
    modal = tab.locator("#modal")
    expect(modal.get_by_role("heading", name="New appointment")).to_be_visible()
    expect(modal.get_by_label("Staff", exact=True)).to_have_value(str(bob.pk))
    expect(modal.get_by_label("Date", exact=True)).to_have_value(tomorrow.isoformat())
    expect(modal.get_by_label("Start", exact=True)).to_have_value("11:00")
    expect(modal.get_by_label("End", exact=True)).to_have_value("11:30")
    modal.get_by_label("Title", exact=True).fill("Treatment plan consultation: Ana Ruiz")
    modal.get_by_role("button", name="Book appointment").click()

    expect(tab.locator("#messages")).to_contain_text("Booked “Treatment plan consultation: Ana Ruiz” for Bob")
    tile = team_column(tab, bob).locator(".appt")
    expect(tile).to_have_attribute("title", "Treatment plan consultation: Ana Ruiz, 11:00–11:30")
    expect(tile).to_contain_text("Ana Ruiz · Treatment plan consultation")
    expect(team_column(tab, dora).locator(".appt")).to_have_count(0)
    expect(tab).to_have_url(f"{portal}/calendars/team/?date={tomorrow.isoformat()}")
    screen(tab, "team-day")


def test_booking_in_the_past_asks_for_a_second_yes(tab, portal, alice, bob, practice_a):
    log_in(tab, portal, "alice@a.test")
    last_year = timezone.now().astimezone(practice_a.zone).date().replace(month=1, day=4) - timedelta(
        days=365
    )
    last_year = last_year.replace(day=4)
    week_of(tab, portal, bob.pk, last_year)
    tab.get_by_role("link", name="+ New appointment").click()
    modal = tab.locator("#modal")
    fill_appointment(modal, title="Check-up", day=last_year, start=time(10), end=time(10, 30), staff="Bob")
    modal.get_by_role("button", name="Book appointment").click()
    expect(modal.locator(".form-errors")).to_contain_text(
        f"This is in the past: {last_year.day} {last_year:%B %Y}. Book anyway?"
    )
    modal.get_by_label("Yes, book it in the past").check()
    modal.get_by_role("button", name="Book appointment").click()
    expect(tab.locator("#messages")).to_contain_text(
        f"Booked “Check-up” for Bob, {last_year:%a %d %b %Y} 10:00–10:30"
    )
    expect(appointment_block(tab, last_year, "Check-up")).to_be_visible()


def test_a_booking_is_made_with_the_keyboard_alone(tab, portal, alice, tomorrow):
    log_in(tab, portal, "alice@a.test")
    week_of(tab, portal, alice.pk, tomorrow)
    opener = tab.get_by_role("link", name="+ New appointment")
    opener.focus()
    tab.keyboard.press("Enter")
    modal = tab.locator("#modal")
    expect(modal.get_by_role("heading", name="New appointment")).to_be_visible()
    staff = modal.get_by_label("Staff", exact=True)
    expect(staff).to_be_focused()

    # Focus stays inside the modal: backwards from the first field lands on its last control.
    tab.keyboard.press("Shift+Tab")
    expect(modal.locator(":focus")).to_have_count(1)
    tab.keyboard.press("Tab")
    expect(staff).to_be_focused()

    # Escape closes it and gives focus back to what opened it.
    tab.keyboard.press("Escape")
    expect(modal).not_to_be_visible()
    expect(opener).to_be_focused()

    tab.keyboard.press("Enter")
    expect(staff).to_be_focused()
    tab.keyboard.press("Tab")
    expect(modal.get_by_label("Title", exact=True)).to_be_focused()
    tab.keyboard.type("Keyboard check-up")
    start = modal.get_by_label("Start", exact=True)
    for _ in range(8):  # past the date (prefilled from the week): month, day and year take a Tab each
        tab.keyboard.press("Tab")
        if start.evaluate("el => el === document.activeElement"):
            break
    expect(start).to_be_focused()
    tab.keyboard.type("14:00")
    tab.keyboard.press("Tab")
    tab.keyboard.type("14:30")
    expect(modal.get_by_label("Date", exact=True)).to_have_value(tomorrow.isoformat())
    expect(modal.get_by_label("Start", exact=True)).to_have_value("14:00")
    expect(modal.get_by_label("End", exact=True)).to_have_value("14:30")
    tab.keyboard.press("Enter")
    expect(tab.locator("#messages")).to_contain_text("Booked “Keyboard check-up” for Alice")
    expect(appointment_block(tab, tomorrow, "Keyboard check-up")).to_contain_text("14:00–14:30")
