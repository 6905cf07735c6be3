"""What a person does in the portal and in Google, as small steps the journeys compose.

Every step waits through Playwright's ``expect`` (auto-retrying assertions), never a sleep.
"""

from __future__ import annotations

import os
import re
import time
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.conftest import PASSWORD

CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar"
REPO = Path(__file__).resolve().parents[2]


# --- the portal ---------------------------------------------------------------------------------


def log_in(page: Page, portal: str, email: str) -> None:
    page.goto(f"{portal}/accounts/login/")
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def week_of(page: Page, portal: str, staff_pk: int, day: date) -> None:
    """Open a staff member's week containing ``day`` (what the date arrows lead to)."""
    page.goto(f"{portal}/calendars/week/?staff={staff_pk}&date={day.isoformat()}")
    expect(page.locator("#week-region")).to_be_visible()


def day_column(page: Page, day: date) -> Locator:
    """The day in the week's grid (desktop) or in its agenda (phone): whichever is shown."""
    iso = day.isoformat()
    return page.locator(f'.week-day[data-date="{iso}"], .agenda-day[data-date="{iso}"]').filter(visible=True)


def team_column(page: Page, member) -> Locator:
    """A person's column on the team day."""
    return page.locator(f'.team-column[data-member="{member.pk}"]')


def appointment_block(page: Page, day: date, title: str) -> Locator:
    return day_column(page, day).locator(".appt", has_text=title)


def open_new_appointment(page: Page) -> Locator:
    """Click "+ New appointment"; returns the modal once it shows the form."""
    page.get_by_role("link", name="+ New appointment").click()
    modal = page.locator("#modal")
    expect(modal.get_by_role("heading", name="New appointment")).to_be_visible()
    return modal


def fill_appointment(
    modal: Locator, *, title: str, day: date, start: clock, end: clock, staff: str | None = None
) -> None:
    if staff is not None:
        modal.get_by_label("Staff", exact=True).select_option(label=staff)
    modal.get_by_label("Title", exact=True).fill(title)
    modal.get_by_label("Date", exact=True).fill(day.isoformat())
    modal.get_by_label("Start", exact=True).fill(start.strftime("%H:%M"))
    modal.get_by_label("End", exact=True).fill(end.strftime("%H:%M"))


def book(page: Page, *, title: str, day: date, start: clock, end: clock, staff: str | None = None) -> None:
    """Book through the new-appointment modal and wait for the week grid to show it."""
    modal = open_new_appointment(page)
    fill_appointment(modal, title=title, day=day, start=start, end=end, staff=staff)
    modal.get_by_role("button", name="Book appointment").click()
    expect(page.locator("#messages")).to_contain_text(f"Booked “{title}”")
    expect(appointment_block(page, day, title)).to_be_visible()


def open_connections(page: Page) -> None:
    """Calendars → Calendar Settings (the Connections tab)."""
    page.locator("nav.mainnav").get_by_role("link", name="Calendars").click()
    page.locator("nav.subnav").get_by_role("link", name="Calendar Settings").click()
    expect(page.get_by_role("heading", name="Connections")).to_be_visible()


def connection_section(page: Page, email: str) -> Locator:
    return page.locator("section.connection", has_text=email)


def choose_calendars(
    page: Page, *, linked: str, conflicts: tuple[str, ...] = (), screen_name: str = ""
) -> None:
    """On the calendar picker: the linked calendar's radio, conflict checkboxes, Save."""
    expect(page.get_by_role("heading", name=re.compile("^Choose calendars for"))).to_be_visible()
    # The calendar list was loaded when Google was connected: the first visit shows it at once.
    load = page.locator("#refresh-calendars").get_by_role("button", name="Load calendars from Google")
    expect(load).to_have_count(0)
    page.locator(f'input[name=linked][value="{linked}"]').check()
    for calendar_name in conflicts:
        page.get_by_label(f"Block busy time from {calendar_name}").check()
    if screen_name:
        screen(page, screen_name)
    page.locator("#choose-calendars").get_by_role("button", name="Save").click()
    expect(page.locator("#messages")).to_contain_text("Synchronization is active")


def connect_google(
    page: Page,
    *,
    email: str,
    conflicts: tuple[str, ...] = (),
    grant_calendar: bool = True,
    screen_name: str = "",
) -> None:
    """Calendars → Calendar Settings → + Add New → Connect, consent, pick calendars, Save."""
    open_connections(page)
    page.get_by_role("link", name="+ Add New").click()
    page.locator("#connect-google").click()
    consent(page, email=email, grant_calendar=grant_calendar)
    if grant_calendar:
        choose_calendars(page, linked=email, conflicts=conflicts, screen_name=screen_name)


# --- Google (the emulator's pages) ------------------------------------------------------------------


def consent(page: Page, *, email: str, grant_calendar: bool = True) -> None:
    """On Google's consent page: pick the account, leave the calendar permission ticked or not, Allow."""
    expect(page.get_by_role("heading", name="Sign in with Google")).to_be_visible()
    page.locator(f'input[type=radio][name=email][value="{email}"]').check()
    calendar = page.locator(f'input[type=checkbox][name=scope][value="{CALENDAR_SCOPE}"]')
    calendar.set_checked(grant_calendar)
    page.locator("#allow").click()
    expect(page).not_to_have_url(re.compile(r"/o/oauth2/"))


def move_event_in_google(
    page: Page, emulator: str, *, calendar: str, title: str, start: datetime, end: datetime
) -> None:
    """Open Google's page, the calendar, the event; change its start and end; Save."""
    page.goto(f"{emulator}/")
    page.get_by_role("link", name=calendar, exact=True).first.click()
    page.locator("#events").get_by_role("link", name=title).click()
    page.locator("#start").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#end").fill(end.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#events")).to_contain_text(f"{start:%H:%M}–{end:%H:%M}")


def delete_event_in_google(page: Page, emulator: str, *, calendar: str, title: str) -> None:
    """Open Google's page, the calendar, the event; Delete."""
    page.goto(f"{emulator}/")
    page.get_by_role("link", name=calendar, exact=True).first.click()
    page.locator("#events").get_by_role("link", name=title).click()
    page.locator("#delete").click()
    expect(page.locator("#events")).not_to_contain_text(title)


# --- waiting for the other side and pictures ---------------------------------------------------------


def reload_until_visible(page: Page, locator: Locator, timeout: float = 20.0) -> None:
    """Reload the page until ``locator`` shows: what a person does while Google's change arrives."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            expect(locator).to_be_visible(timeout=1_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def screen(page: Page, name: str) -> None:
    """With ``E2E_SCREENS=docs/screens`` set, save this page (as a desktop shows it) for the README
    as ``<name>.png``."""
    folder = os.environ.get("E2E_SCREENS")
    if not folder or getattr(page, "viewport_name", "desktop") != "desktop":
        return
    path = Path(folder) if Path(folder).is_absolute() else REPO / folder
    path.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path / f"{name}.png"))
