"""Changes from Google, clicked through: a deletion made in Google reaches the front desk, who undoes it.

The practice chose "a deletion in Google cancels the appointment" (with the default policy the event
comes back by itself: tests/integrations/google/test_changes_inbox.py covers that path).
"""

from __future__ import annotations

import time as clock
from datetime import time

import pytest
from playwright.sync_api import expect

from copilot.accounts.models import Practice

from . import test_journeys
from .helpers import book, connect_google, delete_event_in_google, log_in, reload_until_visible, week_of
from .test_journeys import at, google_events

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

tomorrow = test_journeys.tomorrow
bob_in_google = test_journeys.bob_in_google


def wait_for(predicate, timeout: float = 20.0):
    deadline = clock.monotonic() + timeout
    while not (result := predicate()):
        assert clock.monotonic() < deadline, "gave up waiting"
        clock.sleep(0.2)
    return result


def test_a_deletion_in_google_is_undone_from_changes_from_google(
    tab, portal, emulator_url, google, practice_a, alice, bob, bob_in_google, tomorrow
):
    Practice.objects.filter(pk=practice_a.pk).update(google_deletion=Practice.GoogleDeletion.CANCEL)
    email = bob_in_google["email"]
    log_in(tab, portal, email)
    connect_google(tab, email=email)
    week_of(tab, portal, bob.pk, tomorrow)
    book(tab, title="Check-up", day=tomorrow, start=time(10), end=time(10, 30))
    around = at(practice_a, tomorrow, 10)
    assert "Check-up" in google_events(google, email, email, around)

    # Bob deletes the event in Google Calendar; Google's push notification makes the portal pull.
    delete_event_in_google(tab, emulator_url, calendar=email, title="Check-up")
    assert "Check-up" not in google_events(google, email, email, around)
    tab.goto(f"{portal}/calendars/week/")
    tab.get_by_role("button", name="Log out").click()

    # The receptionist (Alice, the practice's admin) sees it in Changes from Google and undoes it.
    log_in(tab, portal, alice.user.email)
    tab.goto(f"{portal}/calendars/changes/")
    line = tab.locator("li.change").filter(has_text="Check-up")
    reload_until_visible(tab, line.filter(has_text="Cancelled: deleted in Google"))
    expect(tab.locator("#inbox-count")).to_contain_text("(1)")
    line.get_by_role("button", name="Undo").click()
    expect(line).to_contain_text("Undone")

    # Back in Google, at the same time.
    event = wait_for(lambda: google_events(google, email, email, around).get("Check-up"))
    assert test_journeys.starts_at(event) == around
    tab.reload()
    expect(tab.locator("#inbox-count")).to_have_count(0)
