"""The portal's main journeys, clicked through in Chromium against the live server and Google's emulator.

Alice is Practice A's admin, Bob its staff member with a Google account of the same address
(and a "Personal" calendar of his own in Google). Appointments go on tomorrow's working hours,
on the practice's wall clock (America/New_York, like Bob's Google calendars).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .helpers import (
    appointment_block,
    book,
    choose_calendars,
    connect_google,
    connection_section,
    consent,
    day_column,
    fill_appointment,
    log_in,
    move_event_in_google,
    open_connections,
    open_new_appointment,
    reload_until_visible,
    screen,
    week_of,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def tomorrow(practice_a) -> date:
    return timezone.now().astimezone(practice_a.zone).date() + timedelta(days=1)


@pytest.fixture
def bob_in_google(google, bob) -> dict:
    """Bob's Google account, with a "Personal" calendar beside his primary one."""
    email = bob.user.email
    google.user(email, "Bob")
    return {"email": email, "personal": google.calendar(email, "Personal")}


def at(practice, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=practice.zone)


def google_events(google, email: str, calendar_id: str, around: datetime) -> dict[str, dict]:
    """The calendar's events near ``around`` as Google lists them (Calendar API as ``email``), by title."""
    answer = (
        google.service(email)
        .events()
        .list(
            calendarId=calendar_id,
            timeMin=(around - timedelta(days=1)).isoformat(),
            timeMax=(around + timedelta(days=1)).isoformat(),
            singleEvents=True,
        )
        .execute()
    )
    return {event.get("summary", ""): event for event in answer.get("items", [])}


def starts_at(event: dict) -> datetime:
    return datetime.fromisoformat(event["start"]["dateTime"])


# --- 1. booking -------------------------------------------------------------------------------------


def test_admin_books_for_staff_and_sees_it_on_the_week(tab, portal, alice, bob, tomorrow):
    log_in(tab, portal, "alice@a.test")
    tab.locator("nav.mainnav").get_by_role("link", name="Calendars").click()

    book(tab, staff="Bob", title="Check-up", day=tomorrow, start=time(10), end=time(10, 30))

    expect(tab.locator("#staff-select")).to_have_value(str(bob.pk))
    block = appointment_block(tab, tomorrow, "Check-up")
    expect(block).to_contain_text("10:00–10:30")
    expect(tab.locator("#messages")).to_contain_text("Booked “Check-up” for Bob")


# --- 2. connecting Google ---------------------------------------------------------------------------


def test_staff_connects_google_picks_calendars_and_sync_is_active(tab, portal, bob, bob_in_google):
    email = bob_in_google["email"]
    log_in(tab, portal, email)

    connect_google(tab, email=email, conflicts=("Personal",), screen_name="calendar-picker")

    section = connection_section(tab, email)
    expect(section.locator(".connection-state")).to_have_text("Active")
    expect(section.locator(".linked-calendar")).to_have_text(email)
    expect(section.locator(".conflict-calendars")).to_have_text("Personal")
    expect(tab.locator("#polling-notice")).to_have_count(0)  # push notifications are on
    screen(tab, "connections-active")


# --- 3. two-way sync --------------------------------------------------------------------------------


def test_appointment_reaches_google_and_a_move_in_google_comes_back(
    tab, portal, emulator_url, google, practice_a, bob, bob_in_google, tomorrow
):
    email = bob_in_google["email"]
    log_in(tab, portal, email)
    connect_google(tab, email=email)
    week_of(tab, portal, bob.pk, tomorrow)
    book(tab, title="Check-up", day=tomorrow, start=time(10), end=time(10, 30))

    in_google = google_events(google, email, email, at(practice_a, tomorrow, 10))
    assert "Check-up" in in_google, f"not in Google: {sorted(in_google)}"
    assert starts_at(in_google["Check-up"]) == at(practice_a, tomorrow, 10)

    # Bob moves it in Google Calendar; Google's push notification makes the portal pull.
    move_event_in_google(
        tab,
        emulator_url,
        calendar=email,
        title="Check-up",
        start=at(practice_a, tomorrow, 15),
        end=at(practice_a, tomorrow, 15, 30),
    )
    week_of(tab, portal, bob.pk, tomorrow)
    reload_until_visible(tab, appointment_block(tab, tomorrow, "Check-up").filter(has_text="15:00–15:30"))
    block = appointment_block(tab, tomorrow, "Check-up")
    expect(block).to_have_count(1)
    block.click()  # its history says where the change came from
    history = tab.locator("#modal #appointment-history")
    expect(history).to_contain_text("Changed in Google")


# --- 4. busy time from a conflict calendar ----------------------------------------------------------


def test_busy_time_in_a_conflict_calendar_shades_the_week_and_blocks_booking(
    tab, portal, google, practice_a, bob, bob_in_google, tomorrow
):
    email, personal = bob_in_google["email"], bob_in_google["personal"]
    log_in(tab, portal, email)
    connect_google(tab, email=email, conflicts=("Personal",))
    week_of(tab, portal, bob.pk, tomorrow)
    book(tab, title="Check-up", day=tomorrow, start=time(10), end=time(10, 30))

    google.service(email).events().insert(
        calendarId=personal,
        body={
            "summary": "Dentist",
            "start": {"dateTime": at(practice_a, tomorrow, 12).isoformat()},
            "end": {"dateTime": at(practice_a, tomorrow, 13).isoformat()},
        },
    ).execute()

    busy = day_column(tab, tomorrow).locator(".busy-block", has_text="Personal")
    reload_until_visible(tab, busy)
    expect(busy).to_have_attribute("title", "Busy in Personal: Dentist, 12:00–13:00")
    screen(tab, "week-view")

    modal = open_new_appointment(tab)
    fill_appointment(modal, title="Cleaning", day=tomorrow, start=time(12, 15), end=time(12, 45))
    modal.get_by_role("button", name="Book appointment").click()
    expect(modal.locator(".errorlist")).to_contain_text("Busy in “Personal”")
    expect(appointment_block(tab, tomorrow, "Cleaning")).to_have_count(0)


# --- 5. missing permission ----------------------------------------------------------------------------


def test_consent_without_calendar_permission_warns_until_reconnected(tab, portal, bob, bob_in_google):
    email = bob_in_google["email"]
    log_in(tab, portal, email)
    connect_google(tab, email=email, grant_calendar=False)

    tab.locator("nav.mainnav").get_by_role("link", name="Settings").click()
    card = tab.locator("#google-calendar-card")
    warning = card.locator(".connection-warning")
    expect(warning).to_contain_text("Missing permissions")
    expect(warning).to_contain_text("See and change the events in your Google calendars")
    screen(tab, "missing-permission")

    warning.get_by_role("button", name="Reconnect").click()
    consent(tab, email=email)  # everything ticked this time
    choose_calendars(tab, linked=email)

    tab.locator("nav.mainnav").get_by_role("link", name="Settings").click()
    expect(card.locator(".google-status")).to_contain_text("Google Calendar: active")
    expect(card.locator(".connection-warning")).to_have_count(0)


# --- 6. revoked in Google -----------------------------------------------------------------------------


def test_revoked_access_warns_and_reconnecting_delivers_what_waited(
    tab, portal, google, practice_a, bob, bob_in_google, tomorrow
):
    email = bob_in_google["email"]
    log_in(tab, portal, email)
    connect_google(tab, email=email)
    google.revoke(email)

    week_of(tab, portal, bob.pk, tomorrow)
    book(tab, title="Follow-up", day=tomorrow, start=time(11), end=time(11, 30))
    assert "Follow-up" not in google_events(google, email, email, at(practice_a, tomorrow, 11))

    open_connections(tab)
    section = connection_section(tab, email)
    expect(section.locator(".connection-warning")).to_contain_text("Google no longer accepts this connection")
    expect(section.locator(".connection-state")).not_to_have_text("Active")

    section.locator(".connection-warning").get_by_role("button", name="Reconnect").click()
    consent(tab, email=email)
    open_connections(tab)
    expect(section.locator(".connection-state")).to_have_text("Active")
    expect(section.locator(".connection-warning")).to_have_count(0)
    in_google = google_events(google, email, email, at(practice_a, tomorrow, 11))
    assert "Follow-up" in in_google, f"not in Google after reconnecting: {sorted(in_google)}"


def test_a_revoked_connection_puts_the_banner_on_the_week_until_reconnected(
    tab, portal, google, practice_a, bob, bob_in_google, tomorrow
):
    email = bob_in_google["email"]
    log_in(tab, portal, email)
    connect_google(tab, email=email)
    week_of(tab, portal, bob.pk, tomorrow)
    expect(tab.locator("#connection-banner")).to_have_count(0)
    google.revoke(email)  # Bob removes the app's access in his Google account
    book(tab, title="Follow-up", day=tomorrow, start=time(11), end=time(11, 30))  # the push finds out

    week_of(tab, portal, bob.pk, tomorrow)
    banner = tab.locator("#connection-banner")
    expect(banner).to_contain_text("Google no longer accepts this connection")
    expect(tab.locator(".member-status .needs-attention")).to_contain_text("Needs reconnect")
    screen(tab, "connection-banner")
    banner.get_by_role("button", name="Reconnect").click()
    consent(tab, email=email)
    week_of(tab, portal, bob.pk, tomorrow)
    expect(tab.locator("#connection-banner")).to_have_count(0)
    in_google = google_events(google, email, email, at(practice_a, tomorrow, 11))
    assert "Follow-up" in in_google, f"not in Google after reconnecting: {sorted(in_google)}"


# --- 7. unlink -------------------------------------------------------------------------------------


def test_unlink_stops_sync_and_leaves_the_events_in_google(
    tab, portal, google, practice_a, bob, bob_in_google, tomorrow
):
    email = bob_in_google["email"]
    log_in(tab, portal, email)
    connect_google(tab, email=email)
    week_of(tab, portal, bob.pk, tomorrow)
    book(tab, title="Check-up", day=tomorrow, start=time(10), end=time(10, 30))
    assert "Check-up" in google_events(google, email, email, at(practice_a, tomorrow, 10))

    open_connections(tab)
    asked: list[str] = []

    def accept(dialog) -> None:  # "Stop syncing with …?" (portal.js, data-confirm: CSP allows no inline JS)
        asked.append(dialog.message)
        dialog.accept()

    tab.once("dialog", accept)
    connection_section(tab, email).get_by_role("button", name="Unlink").click()

    expect(tab.locator("#messages")).to_contain_text(f"Sync with {email} has stopped")
    expect(tab.locator("#connections")).to_contain_text("No calendar is connected yet")
    assert asked == [f"Stop syncing with {email}? Appointments stay here and Google keeps its events."]
    event = google_events(google, email, email, at(practice_a, tomorrow, 10)).get("Check-up")
    assert event is not None and event["status"] == "confirmed"

    # Appointments booked from now on stay in the portal.
    week_of(tab, portal, bob.pk, tomorrow)
    book(tab, title="Follow-up", day=tomorrow, start=time(14), end=time(14, 30))
    assert "Follow-up" not in google_events(google, email, email, at(practice_a, tomorrow, 14))


# --- found by the journeys ----------------------------------------------------------------------------


def test_the_reconnect_warning_says_what_happened_once(tab, portal, google, bob, bob_in_google):
    email = bob_in_google["email"]
    log_in(tab, portal, email)
    connect_google(tab, email=email)
    google.revoke(email)

    connection_section(tab, email).get_by_role("button", name="Sync now").click()

    warning = connection_section(tab, email).locator(".connection-warning")
    expect(warning).to_contain_text("Reconnect")
    assert warning.inner_text().count("Google no longer accepts this connection") == 1, warning.inner_text()
