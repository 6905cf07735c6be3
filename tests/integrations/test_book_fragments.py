"""What the book's and the Team page's templates show of Google through the book's interfaces:
the connection banner, the sync badges on the grid and the list, the Team page's states."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from freezegun import freeze_time

from calendars.models import Appointment
from calendars.services import appointment_book
from integrations.models import EventLink, GoogleConnection
from integrations.words import BACKING_OFF, WORDS, ago, changes_waiting, connection_health
from tests.conftest import local, login, make_member
from tests.integrations.google.test_busy import make_connection

pytestmark = pytest.mark.django_db
State = GoogleConnection.State
NOW = "2026-11-23 15:00:00"  # Monday 10:00 in New York
WEEK = "/calendars/week/"
PAGES = ["/calendars/week/", "/calendars/week/?span=day", "/calendars/team/", "/calendars/list/"]


def retrying(member, *, for_minutes: int) -> GoogleConnection:
    """``member``'s active connection, retrying after failures, last synced ``for_minutes`` ago."""
    connection = make_connection(member, failure_count=6, last_error="Google answered 503")
    GoogleConnection.objects.filter(pk=connection.pk).update(
        retry_after=timezone.now() + timedelta(minutes=5),
        last_sync_at=timezone.now() - timedelta(minutes=for_minutes),
    )
    connection.refresh_from_db()
    return connection


def broken(member, state: str) -> GoogleConnection:
    """``member``'s connection in ``state``; "backing_off" is active, failing for an hour."""
    if state == BACKING_OFF:
        return retrying(member, for_minutes=60)
    return make_connection(member, state)


def banner(html: str) -> str:
    if 'id="connection-banner"' not in html:
        return ""
    return html.split('id="connection-banner"')[1].split("</div>")[0]


# --- the banner ---------------------------------------------------------------------------------------


@freeze_time(NOW)
@pytest.mark.parametrize("state", [State.MISSING_PERMISSIONS, State.NEEDS_RECONNECT, BACKING_OFF])
@pytest.mark.parametrize("page", PAGES)
def test_a_connection_that_needs_a_person_puts_the_banner_on_every_book_page(client, alice, bob, state, page):
    broken(bob, state)
    url = f"{page}{'&' if '?' in page else '?'}staff={bob.pk}"
    as_admin = banner(login(client, alice).get(url).content.decode())
    assert escape(WORDS[state].theirs.format(name="Bob")) in as_admin  # whom, and what they should do
    assert "<button" not in as_admin  # an admin cannot reconnect someone else's Google account
    as_bob = banner(login(client, bob).get(url).content.decode())
    assert escape(WORDS[state].yours) in as_bob
    if state == BACKING_OFF:
        assert 'href="/calendars/settings/connections/"' in as_bob
    else:
        assert ">Reconnect</button>" in as_bob and "process=connect" in as_bob


@freeze_time(NOW)
@pytest.mark.parametrize("page", PAGES)
def test_no_banner_while_connections_are_healthy_or_absent(client, alice, bob, dora, page):
    make_connection(bob)  # active
    make_connection(dora, State.SETUP)  # choosing calendars is not a breakage
    # alice has none; a short retry is not worth a banner
    retrying(make_member(alice.practice, "eve@a.test"), for_minutes=2)
    html = login(client, alice).get(page).content.decode()
    assert "connection-banner" not in html


@freeze_time(NOW)
def test_the_week_banner_names_only_the_staff_member_shown(client, alice, bob, dora):
    broken(dora, State.NEEDS_RECONNECT)
    login(client, alice)
    assert "connection-banner" not in client.get(WEEK, {"staff": bob.pk}).content.decode()
    assert "Dora should reconnect" in banner(client.get(WEEK, {"staff": dora.pk}).content.decode())


@freeze_time(NOW)
def test_the_team_banner_lists_everyone_shown_who_needs_a_person(client, alice, bob, dora):
    broken(bob, State.NEEDS_RECONNECT)
    broken(dora, State.MISSING_PERMISSIONS)
    html = banner(login(client, alice).get("/calendars/team/").content.decode())
    assert "Bob should reconnect Google Calendar: Google no longer accepts" in html
    assert "Dora should reconnect Google Calendar and allow access to calendars" in html


def test_the_backoff_alert_waits_for_the_setting(bob, settings):
    connection = retrying(bob, for_minutes=20)
    settings.GOOGLE_BACKOFF_ALERT_MINUTES = 30
    assert connection_health(connection) == "active"
    settings.GOOGLE_BACKOFF_ALERT_MINUTES = 15
    assert connection_health(connection) == BACKING_OFF
    connection.retry_after = None  # retried and synced
    assert connection_health(connection) == "active"


def test_the_week_view_heads_the_calendar_with_the_members_badge(client, alice, bob):
    broken(bob, State.NEEDS_RECONNECT)
    html = login(client, alice).get(WEEK, {"staff": bob.pk}).content.decode()
    assert (
        "status-badge state-needs_reconnect needs-attention" in html and "⚠ Google: Needs reconnect" in html
    )


# --- the Team page ------------------------------------------------------------------------------------


def team_page_queries(client) -> int:
    with CaptureQueriesContext(db) as queries:
        response = client.get("/team/")
    assert response.status_code == 200
    return len(queries)


def test_the_team_page_reads_everyones_connection_in_one_batch(client, alice, django_assert_num_queries):
    login(client, alice)
    practice = alice.practice
    for n in range(2):  # with alice: 3
        make_connection(make_member(practice, f"s{n}@a.test"), State.NEEDS_RECONNECT)
    three = team_page_queries(client)
    for n in range(2, 29):  # with alice: 30
        make_connection(make_member(practice, f"s{n}@a.test"))
    with django_assert_num_queries(three):
        html = client.get("/team/").content.decode()
    assert html.count("⚠ Google: Needs reconnect") == 2 and html.count("Google: Active") == 27
    assert "S0 should reconnect Google Calendar" in html


# --- sync badges on the grid and the list ------------------------------------------------------------


def book_many(member, count: int) -> list[Appointment]:
    day = timezone.now().astimezone(member.practice.zone).date() + timedelta(days=1)
    found = []
    for n in range(count):
        start = local(member.practice, day.year, day.month, day.day, 8) + timedelta(minutes=10 * n)
        found.append(
            appointment_book(
                practice=member.practice,
                staff=member,
                start=start,
                end=start + timedelta(minutes=10),
                title=f"Check-up: Patient {n}",
                created_by=member.user,
            ).appointment
        )
    return found


def week_queries(client, member) -> int:
    day = timezone.now().astimezone(member.practice.zone).date() + timedelta(days=1)
    with CaptureQueriesContext(db) as queries:
        response = client.get(WEEK, {"staff": member.pk, "date": day.isoformat()})
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["week", "list"])
def test_sync_badges_cost_the_same_queries_for_5_and_50_appointments(
    client, alice, bob, page, django_assert_num_queries
):
    make_connection(bob)
    login(client, alice)
    day = timezone.now().astimezone(bob.practice.zone).date() + timedelta(days=1)
    url, query = (
        (WEEK, {"staff": bob.pk, "date": day.isoformat()}) if page == "week" else ("/calendars/list/", {})
    )
    book_many(bob, 5)
    EventLink.objects.update(state=EventLink.State.SYNCED, needs_push=False)
    with CaptureQueriesContext(db) as five:
        client.get(url, query)
    Appointment.objects.all().delete()
    book_many(bob, 50)
    EventLink.objects.update(state=EventLink.State.SYNCED, needs_push=False)
    with django_assert_num_queries(len(five)):
        html = client.get(url, query).content.decode()
    assert html.count('sync-chip sync-synced"') >= 50


def test_each_badge_says_where_the_appointment_stands(client, alice, bob):
    make_connection(bob)
    synced, waiting, failed, conflict = book_many(bob, 4)
    EventLink.objects.filter(appointment=synced).update(state="synced", needs_push=False)
    EventLink.objects.filter(appointment=waiting).update(state="pending")
    EventLink.objects.filter(appointment=failed).update(state="failed", last_error="Google answered 400: bad")
    Appointment.objects.filter(pk=conflict.pk).update(has_conflict=True)
    EventLink.objects.filter(appointment=conflict).update(state="synced", needs_push=False)
    html = login(client, alice).get("/calendars/list/").content.decode()
    rows = {
        a.pk: html.split(f"/calendars/appointments/{a.pk}/")[1].split("</tr>")[0]
        for a in (synced, waiting, failed, conflict)
    }
    assert ">Synced<" in rows[synced.pk]
    assert ">Waiting<" in rows[waiting.pk]
    assert ">Sync failed<" in rows[failed.pk] and "Google answered 400: bad" in rows[failed.pk]
    assert "⚠ Conflict" in rows[conflict.pk] and "sync-chip" not in rows[conflict.pk]
    tile = login(client, alice).get(WEEK, {"staff": bob.pk, "date": synced.start.date().isoformat()})
    assert ", Sync failed" in tile.content.decode()


def test_an_appointment_without_google_has_no_badge_but_says_why_on_its_page(client, alice, bob):
    [appointment] = book_many(bob, 1)
    login(client, alice)
    assert "sync-chip" not in client.get("/calendars/list/").content.decode()
    detail = client.get(f"/calendars/appointments/{appointment.pk}/").content.decode()
    assert "Waiting for a connection: Bob has not connected Google Calendar" in detail


def test_waiting_for_a_reconnect_is_not_waiting_for_a_connection(client, alice, bob):
    broken(bob, State.NEEDS_RECONNECT)
    [appointment] = book_many(bob, 1)
    assert EventLink.objects.get(appointment=appointment).state == "waiting"
    detail = login(client, alice).get(f"/calendars/appointments/{appointment.pk}/").content.decode()
    assert "Google (Bob): Waiting for Bob to reconnect Google Calendar" in detail
    assert "has not connected" not in detail
    assert ">Waiting<" in client.get("/calendars/list/").content.decode()


# --- words --------------------------------------------------------------------------------------------


def test_how_long_ago_and_how_many_wait_read_as_people_say_them():
    now = timezone.now()
    assert ago(now - timedelta(seconds=20), now) == "just now"
    assert ago(now - timedelta(minutes=5), now) == "5\xa0minutes ago"
    assert ago(None, now) == "never"
    assert [changes_waiting(n) for n in (0, 1, 36)] == [
        "Nothing waiting",
        "1 change waiting",
        "36 changes waiting",
    ]


def test_every_state_has_its_words_and_only_broken_ones_call_for_a_person():
    from integrations.models import GoogleConnection

    assert set(GoogleConnection.State.values) <= set(WORDS)
    assert {state for state, words in WORDS.items() if words.needs_person} == {
        "missing_permissions",
        "needs_reconnect",
        BACKING_OFF,
    }
