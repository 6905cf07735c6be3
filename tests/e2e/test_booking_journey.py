"""A patient books online, next to a staff member's Google busy time, gets the email with the .ics,
reschedules through its link, and the event moves in Google; also on a 390 px phone screen.

Bob offers check-ups online and keeps a "Personal" Google calendar as a conflict calendar; his
10:00–11:00 there tomorrow is never offered (nor the 15 minutes' buffer before it).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from icalendar import Calendar
from playwright.sync_api import expect

from calendars.models import AppointmentType
from copilot.accounts.models import Practice
from tests.helpers import wait_until

from .helpers import connect_google, day_column, log_in, reload_until_visible, screen, team_column, week_of

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def tomorrow(practice_a) -> date:
    return timezone.now().astimezone(practice_a.zone).date() + timedelta(days=1)


@pytest.fixture
def online_checkup(practice_a, bob):
    Practice.objects.filter(pk=practice_a.pk).update(
        online_booking_enabled=True, external_title_privacy=Practice.TitlePrivacy.TYPE
    )
    kind = AppointmentType.objects.create(
        practice=practice_a,
        name="Check-up",
        duration_minutes=30,
        buffer_after_minutes=15,
        bookable_online=True,
        min_notice_minutes=0,
        horizon_days=30,
    )
    kind.staff.set([bob])
    return kind


def at(practice, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=practice.zone)


def our_event(google, email: str) -> dict | None:
    items = google.service(email).events().list(calendarId=email, maxResults=50).execute().get("items", [])
    ours = [e for e in items if (e.get("extendedProperties") or {}).get("private", {}).get("copilot")]
    return ours[0] if ours else None


def choose_time(page, portal: str, day: date, hhmm: str) -> None:
    page.goto(f"{portal}/book/practice-a/")
    page.get_by_role("link", name=re.compile("Check-up")).click()
    page.locator(f'a.day[href*="day={day.isoformat()}"]').click()
    expect(page.locator("a.time", has_text=hhmm)).to_be_visible()


def give_details(page) -> None:
    page.get_by_label("Name").fill("Lucia Romero")
    page.get_by_label("Email").fill("lucia@example.test")
    page.get_by_label("Phone").fill("+1 212 555 0101")
    page.get_by_role("button", name="Confirm booking").click()
    expect(page.get_by_role("heading", name="You're booked")).to_be_visible()


def test_patient_books_next_to_google_busy_time_and_reschedules_by_the_emailed_link(
    chromium, tab, portal, google, practice_a, alice, bob, online_checkup, tomorrow
):
    email = bob.user.email
    google.user(email, "Bob")
    personal = google.calendar(email, "Personal")
    log_in(tab, portal, email)
    connect_google(tab, email=email, conflicts=("Personal",))
    google.service(email).events().insert(
        calendarId=personal,
        body={
            "summary": "School run",
            "start": {"dateTime": at(practice_a, tomorrow, 10).isoformat()},
            "end": {"dateTime": at(practice_a, tomorrow, 11).isoformat()},
        },
    ).execute()
    week_of(tab, portal, bob.pk, tomorrow)
    reload_until_visible(tab, day_column(tab, tomorrow).locator(".busy-block", has_text="Personal"))

    patient = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-US").new_page()
    choose_time(patient, portal, tomorrow, "09:15")
    times = patient.locator("ul.times")
    for taken in ("09:30", "09:45", "10:00", "10:30"):  # the busy hour and the buffer before it
        expect(times.get_by_role("link", name=taken, exact=True)).to_have_count(0)
    expect(times.get_by_role("link", name="11:00", exact=True)).to_be_visible()
    expect(patient.locator("body")).not_to_contain_text("School run")
    screen(patient, "booking-page")
    times.get_by_role("link", name="09:15", exact=True).click()
    give_details(patient)

    [message] = wait_until(lambda: list(mail.outbox))
    assert message.to == ["lucia@example.test"]
    [(name, ics, mimetype)] = message.attachments
    [vevent] = Calendar.from_ical(ics).walk("VEVENT")
    assert name == "appointment.ics" and vevent.decoded("dtstart") == at(practice_a, tomorrow, 9, 15)
    link = re.search(r"http://\S+/book/practice-a/appointment/\S+/", message.body).group(0)

    event = wait_until(lambda: our_event(google, email))
    assert event["summary"] == "Check-up"  # type only: no patient name in Bob's Google account
    assert datetime.fromisoformat(event["start"]["dateTime"]) == at(practice_a, tomorrow, 9, 15)

    later = tomorrow + timedelta(days=1)
    patient.goto(link)
    patient.locator(f'a.day[href*="day={later.isoformat()}"]').click()
    patient.get_by_label("14:00").check()
    patient.get_by_role("button", name="Move my appointment").click()
    expect(patient.get_by_role("status")).to_contain_text("has moved")

    moved = at(practice_a, later, 14)
    wait_until(lambda: datetime.fromisoformat(our_event(google, email)["start"]["dateTime"]) == moved)

    patient.context.close()
    desk = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="en-US").new_page()
    log_in(desk, portal, "alice@a.test")  # the front desk sees it, marked as an online booking
    week_of(desk, portal, bob.pk, later)
    block = day_column(desk, later).locator(".appt", has_text="Check-up")
    expect(block).to_contain_text("Online")
    desk.goto(f"{portal}/calendars/team/?date={later.isoformat()}")  # and on the team day
    expect(team_column(desk, bob).locator(".appt", has_text="Check-up")).to_contain_text("Online")
    desk.context.close()


def test_booking_on_a_phone_screen(chromium, portal, practice_a, bob, online_checkup, tomorrow):
    phone = chromium.new_context(viewport=PHONE, locale="en-US", is_mobile=True, has_touch=True)
    page = phone.new_page()
    choose_time(page, portal, tomorrow, "09:00")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("ul.times").get_by_role("link", name="09:00", exact=True).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screen(page, "booking-page-phone")
    give_details(page)
    expect(page.locator(".summary")).to_contain_text("09:00")
    phone.close()
