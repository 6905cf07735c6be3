"""Participants' journeys: a booking for two people from the team day, and an assignee's own week.

Alice is Practice A's admin (the receptionist), Bob and Dora its staff. Each runs on a desktop and on
a phone, with every page audited (``conftest.AUDIT``).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from calendars.services import appointment_book

from .helpers import appointment_block, log_in, team_column

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_receptionist_books_for_two_people_from_the_team_day(tab, portal, alice, bob, dora, tomorrow):
    log_in(tab, portal, "alice@a.test")
    tab.goto(f"{portal}/calendars/team/?date={tomorrow.isoformat()}")
    expect(tab.locator("#team-region h2")).to_have_text(f"{tomorrow:%A} {tomorrow.day} {tomorrow:%B %Y}")

    team_column(tab, bob).get_by_role("link", name="Book Bob, ", exact=False).filter(has_text="11:00").click()
    modal = tab.locator("#modal")
    expect(modal.get_by_role("heading", name="New appointment")).to_be_visible()
    expect(modal.get_by_label("Staff", exact=True)).to_have_value(str(bob.pk))
    modal.get_by_label("Title", exact=True).fill("Implant: Ana Ruiz")
    modal.get_by_label("Dora", exact=True).check()
    modal.get_by_role("button", name="Book appointment").click()

    expect(tab.locator("#messages")).to_contain_text("Booked “Implant: Ana Ruiz” for Bob")
    expect(team_column(tab, bob).locator(".appt")).to_have_attribute(
        "title", "Implant: Ana Ruiz, 11:00–11:30"
    )
    doras = team_column(tab, dora).locator(".appt")
    expect(doras).to_have_attribute("title", "Implant: Ana Ruiz with Bob, 11:00–11:30")
    expect(doras.locator(".appt-with")).to_have_text("with Bob")


def test_an_assignee_sees_the_appointment_on_their_own_week(tab, portal, bob, dora, tomorrow):
    zone = bob.practice.zone
    start = datetime.combine(tomorrow, time(10), tzinfo=zone)
    appointment_book(
        practice=bob.practice,
        staff=bob,
        start=start,
        end=start + timedelta(minutes=30),
        title="Crown fitting",
        assignees=[dora],
        created_by=None,
    )
    log_in(tab, portal, "dora@a.test")
    tab.goto(f"{portal}/calendars/week/?staff={dora.pk}&date={tomorrow.isoformat()}")
    block = appointment_block(tab, tomorrow, "Crown fitting")
    expect(block).to_be_visible()
    expect(block.locator(".appt-with")).to_have_text("with Bob")
