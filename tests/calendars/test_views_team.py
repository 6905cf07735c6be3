"""The team views: everyone side by side, with busy time, connection states and a remembered filter."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from calendars.models import TeamViewPreference
from calendars.services import appointment_book
from integrations.models import BusyBlock, GoogleCalendar, GoogleConnection
from tests.conftest import give_office_hours, local, login, make_member

TEAM = "/calendars/team/"
pytestmark = pytest.mark.django_db


def google_busy(member, start, end, summary: str, state=GoogleConnection.State.ACTIVE) -> GoogleConnection:
    connection = GoogleConnection.objects.create(
        user=member.user,
        google_uid=f"uid-{member.pk}",
        google_email=member.user.email,
        state=state,
        last_sync_at=timezone.now(),
        last_error="Google no longer accepts this connection." if state != "active" else "",
    )
    calendar = GoogleCalendar.objects.create(
        connection=connection,
        user=member.user,
        calendar_id=f"personal-{member.pk}",
        summary="Personal",
        time_zone="America/New_York",
        access_role="owner",
        is_conflict=True,
    )
    BusyBlock.objects.create(calendar=calendar, event_id=summary, start=start, end=end, summary=summary)
    return connection


@freeze_time("2026-11-23 12:00:00")  # Monday 07:00 in New York
def test_the_team_day_shows_a_column_per_person_with_appointments(client, alice, bob, dora, book):
    book(bob, local(bob.practice, 2026, 11, 23, 9), local(bob.practice, 2026, 11, 23, 10), title="Root canal")
    book(
        dora, local(dora.practice, 2026, 11, 23, 11), local(dora.practice, 2026, 11, 23, 12), title="Cleaning"
    )
    html = login(client, alice).get(TEAM, {"date": "2026-11-23"}).content.decode()
    for member in (alice, bob, dora):
        assert f'data-member="{member.pk}"' in html
    bob_column = html.split(f'data-member="{bob.pk}"')[1].split('data-member="')[0]
    assert "Root canal" in bob_column and "Cleaning" not in bob_column
    assert "Monday 23 November 2026" in html


@freeze_time("2026-11-23 12:00:00")
def test_busy_titles_show_only_in_their_owners_column(client, alice, bob, practice_a):
    start = local(practice_a, 2026, 11, 23, 13)
    google_busy(bob, start, start + timedelta(hours=1), "Dentist for Bob's son")
    as_alice = login(client, alice).get(TEAM, {"date": "2026-11-23"}).content.decode()
    assert "Dentist for Bob" not in as_alice
    assert "Busy in Personal: Busy" in as_alice
    as_bob = login(client, bob).get(TEAM, {"date": "2026-11-23"}).content.decode()
    assert "Dentist for Bob&#x27;s son" in as_bob


@freeze_time("2026-11-23 12:00:00")
def test_a_broken_google_connection_heads_the_column_and_links_to_connections(client, alice, bob, practice_a):
    start = local(practice_a, 2026, 11, 24, 13)
    google_busy(bob, start, start + timedelta(hours=1), "x", state=GoogleConnection.State.NEEDS_RECONNECT)
    html = login(client, alice).get(TEAM, {"date": "2026-11-23"}).content.decode()
    head = html.split('class="week-dayhead team-head needs-attention"')[1].split("</div>")[0]
    assert bob.display_name in head
    assert "⚠ Google: Needs reconnect" in head
    assert 'href="/calendars/settings/connections/"' in head
    assert "No Google" in html  # alice has no connection


def add_staff(practice, first: int, last: int) -> None:
    """Staff number ``first`` to ``last - 1``, each with an appointment and Google busy time that day."""
    for index in range(first, last):
        member = make_member(practice, f"staff{index}@a.test")
        give_office_hours(member)
        start = local(practice, 2026, 11, 23, 9) + timedelta(minutes=30 * (index % 8))
        appointment_book(
            practice=practice,
            staff=member,
            start=start,
            end=start + timedelta(minutes=30),
            title=f"Check-up: Patient {index}",
            created_by=member.user,
        )
        google_busy(member, start + timedelta(hours=3), start + timedelta(hours=4), "Gym")


def team_queries(client, span: str, total: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(TEAM, {"date": "2026-11-23", "span": span})
    assert response.status_code == 200
    assert response.content.decode().count("data-member=") == total
    return len(queries)


@freeze_time("2026-11-23 12:00:00")
@pytest.mark.parametrize("span", ["day", "week"])
def test_the_team_view_costs_the_same_queries_for_5_and_50_staff(
    client, alice, practice_a, django_assert_num_queries, span
):
    login(client, alice)
    add_staff(practice_a, 0, 4)  # with alice: 5
    five = team_queries(client, span, 5)
    shown_again = team_queries(client, span, 5)  # unchanged: the stored page (calendars/page_cache.py)
    add_staff(practice_a, 4, 49)  # with alice: 50
    with django_assert_num_queries(five):
        response = client.get(TEAM, {"date": "2026-11-23", "span": span})
    html = response.content.decode()
    assert "Check-up: Patient 48" in html or "Patient 48 · Check-up" in html
    assert team_queries(client, span, 50) == shown_again == 3  # session, user, fingerprint


def test_the_team_day_costs_the_same_queries_for_1_and_50_staff(client, alice, practice_a):
    """Drawn: 13 (session, user, memberships, fingerprint, the filter, members, appointments, badges,
    calendars, busy blocks, working hours, connection states: two), for one person or fifty; shown
    again: 3."""
    start = local(practice_a, 2026, 11, 23, 8)
    appointment_book(
        practice=practice_a,
        staff=alice,
        start=start,
        end=start + timedelta(minutes=30),
        title="Check-up: Ana",
        created_by=alice.user,
    )
    google_busy(alice, start + timedelta(hours=4), start + timedelta(hours=5), "Gym")
    login(client, alice)
    alone = team_queries(client, "day", 1)
    assert team_queries(client, "day", 1) == 3
    add_staff(practice_a, 0, 49)
    assert team_queries(client, "day", 50) == alone == 13
    assert team_queries(client, "day", 50) == 3


@freeze_time("2026-11-23 12:00:00")
def test_the_filter_is_remembered_per_person_and_keeps_to_the_practice(client, alice, bob, dora, charlie):
    login(client, alice)
    response = client.post(
        "/calendars/team/filter/",
        {"show": [str(bob.pk), str(charlie.pk)], "date": "2026-11-23", "span": "week"},
    )
    assert response.status_code == 302 and "span=week" in response["Location"]
    # charlie is not in Practice A: not a choice, so the form refuses and nothing changes
    assert not TeamViewPreference.objects.filter(membership=alice).exists()
    assert "nothing changed" in client.get(response["Location"]).content.decode()
    client.post("/calendars/team/filter/", {"show": [str(bob.pk)], "date": "2026-11-23"})
    assert TeamViewPreference.objects.get(membership=alice).shown_member_ids == [bob.pk]
    html = client.get(TEAM, {"date": "2026-11-23"}).content.decode()
    assert f'data-member="{bob.pk}"' in html and f'data-member="{dora.pk}"' not in html
    assert "Show: 1 of 3" in html
    other = login(client, dora).get(TEAM, {"date": "2026-11-23"}).content.decode()
    assert f'data-member="{alice.pk}"' in other  # dora's view is her own


@freeze_time("2026-11-23 12:00:00")
def test_free_slots_book_for_that_person_and_staff_only_book_their_own(client, alice, bob, dora):
    html = login(client, alice).get(TEAM, {"date": "2026-11-24"}).content.decode()
    assert f"/calendars/appointments/new/?staff={bob.pk}&amp;date=2026-11-24&amp;start=10:00" in html
    form = client.get(
        "/calendars/appointments/new/", {"staff": bob.pk, "date": "2026-11-24", "start": "10:00"}
    )
    body = form.content.decode()
    assert f'<option value="{bob.pk}" selected>' in body
    assert 'value="10:00"' in body and 'value="10:30"' in body
    as_bob = login(client, bob).get(TEAM, {"date": "2026-11-24"}).content.decode()
    assert f"?staff={bob.pk}&amp;date=2026-11-24&amp;start=10:00" in as_bob
    assert f"?staff={dora.pk}&amp;date=2026-11-24&amp;start=" not in as_bob


@freeze_time("2026-11-23 12:00:00")
def test_booking_from_the_team_view_with_htmx_refreshes_the_team_view(client, alice, bob):
    login(client, alice)
    response = client.post(
        "/calendars/appointments/new/",
        {
            "staff": bob.pk,
            "title": "Check-up",
            "date": "2026-11-24",
            "start_time": "10:00",
            "end_time": "10:30",
        },
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/calendars/team/?date=2026-11-24",
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#team-region"
    assert 'id="team-region"' in response.content.decode()


@freeze_time("2026-11-25 17:00:00")  # Wednesday 12:00 in New York
def test_past_time_is_dimmed_and_now_is_marked(client, alice):
    html = login(client, alice).get(TEAM, {"date": "2026-11-25", "span": "week"}).content.decode()
    assert html.count("team-cell is-past") == 2  # Monday and Tuesday
    day = client.get(TEAM, {"date": "2026-11-25"}).content.decode()
    assert 'class="now-line" style="--top: 300;"' in day  # 12:00 is 5 hours below 07:00
    assert 'class="past-shade" style="--top: 0; --len: 300;"' in day


def test_the_team_view_shows_nothing_of_another_practice(client, alice, bob, charlie):
    html = login(client, charlie).get(TEAM).content.decode()
    assert "Bob" not in html and "Alice" not in html
    assert f'data-member="{charlie.pk}"' in html


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "garbage", "2026-02-30"])
def test_hostile_dates_never_fail_the_team_view(client, alice, value):
    login(client, alice)
    for span in ("day", "week"):
        assert client.get(TEAM, {"date": value, "span": span}).status_code == 200


def test_the_team_view_needs_a_login(client):
    assert client.get(TEAM).status_code == 302


def test_the_week_tile_carries_the_whole_title_and_puts_the_patient_first_when_short(client, alice, book):
    day = timezone.now().astimezone(alice.practice.zone).date() + timedelta(days=1)
    start = datetime.combine(day, time(9), tzinfo=alice.practice.zone)
    book(alice, start, start + timedelta(minutes=30), title="Treatment plan consultation: Ana Ruiz")
    html = login(client, alice).get("/calendars/week/", {"date": day.isoformat()}).content.decode()
    assert 'title="Treatment plan consultation: Ana Ruiz, 09:00–09:30"' in html
    assert 'aria-label="Treatment plan consultation: Ana Ruiz, 09:00–09:30, Booked"' in html
    assert ">Ana Ruiz · Treatment plan consultation</span>" in html


@freeze_time("2026-11-25 17:00:00")
def test_the_week_page_carries_an_agenda_for_narrow_screens(client, alice, bob, book, practice_a):
    book(bob, local(practice_a, 2026, 11, 26, 9), local(practice_a, 2026, 11, 26, 10), title="Root canal")
    html = (
        login(client, alice).get("/calendars/week/", {"staff": bob.pk, "date": "2026-11-26"}).content.decode()
    )
    agenda = html.split('<ol class="agenda"')[1].split("</ol>")[0]
    thursday = agenda.split('data-date="2026-11-26"')[1].split("</li>\n    \n")[0]
    assert "09:00–10:00" in thursday and "Root canal" in thursday
    assert 'class="agenda-day is-past" data-date="2026-11-24"' in agenda
    assert f"/calendars/appointments/new/?staff={bob.pk}&amp;date=2026-11-26" in thursday
    day = client.get(
        "/calendars/week/", {"staff": bob.pk, "date": "2026-11-26", "span": "day"}
    ).content.decode()
    assert '<ol class="agenda"' not in day  # one column reads well on a phone
