"""The week and team views' stored pages (calendars/page_cache.py): served only while they are, to the
byte, what a fresh render would draw.

Every kind of change these pages show is made here, most of them behind the services' back
(``queryset.update()``, rows written directly), and the page served afterwards is compared with one
rendered with the cache off. CSRF tokens differ per response by design and are normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time, timedelta
from types import SimpleNamespace

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from calendars.models import Appointment, AppointmentType, InboxItem, Participant
from calendars.page_cache import PAGES
from calendars.services import appointment_cancel, working_hours_set
from copilot.accounts.models import Invitation, Membership, Practice, User
from integrations.models import BusyBlock, EventLink, GoogleCalendar, GoogleConnection
from tests.conftest import local, login, make_member

pytestmark = pytest.mark.django_db

WEEK, TEAM = "/calendars/week/", "/calendars/team/"
TOKEN = re.compile(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[A-Za-z0-9]+')
NOW = "2026-11-25 15:00:00"  # Wednesday 10:00 in New York: the week of 23 November, today on it


@pytest.fixture
def world(alice, bob, dora, charlie, book):
    """Bob's week, seen by Alice (an admin): an appointment with a type and a synced Google copy, a
    Google connection with a busy block, Dora's appointment in the same week; Charlie elsewhere."""
    with freeze_time(NOW) as frozen:
        practice = alice.practice
        kind = AppointmentType.objects.create(practice=practice, name="Filling", colour="blue")
        appointment = book(
            bob, local(practice, 2026, 11, 24, 9), local(practice, 2026, 11, 24, 10), appointment_type=kind
        )
        theirs = book(
            dora, local(practice, 2026, 11, 26, 14), local(practice, 2026, 11, 26, 15), title="Dora's"
        )
        connection = GoogleConnection.objects.create(
            user=bob.user,
            google_uid="uid-bob",
            google_email="bob@gmail.test",
            state=GoogleConnection.State.ACTIVE,
            last_sync_at=timezone.now(),
        )
        linked, conflict = (
            GoogleCalendar.objects.create(
                connection=connection,
                user=bob.user,
                calendar_id=name,
                summary=name.title(),
                time_zone=practice.time_zone,
                access_role="owner",
                is_linked=name == "work",
                is_conflict=name == "personal",
            )
            for name in ("work", "personal")
        )
        block = local(practice, 2026, 11, 25, 12)
        BusyBlock.objects.create(
            calendar=conflict, event_id="gym", start=block, end=block + timedelta(hours=1), summary="Gym"
        )
        BusyBlock.mark_changed(conflict.pk)
        link = EventLink.objects.get(appointment=appointment, member=bob)  # the booking made it
        EventLink.objects.filter(pk=link.pk).update(calendar=linked, state=EventLink.State.SYNCED)
        yield SimpleNamespace(**locals())


@dataclass(frozen=True)
class Page:
    name: str
    url: str
    params: dict
    headers: dict

    def get(self, client, world) -> str:
        params = {key: value(world) if callable(value) else value for key, value in self.params.items()}
        response = client.get(self.url, params, **self.headers)
        assert response.status_code == 200
        return TOKEN.sub(r"\1TOKEN", response.content.decode())


SHOWN = [
    Page("week", WEEK, {"staff": lambda w: w.bob.pk, "date": "2026-11-25"}, {}),
    Page("week-htmx", WEEK, {"staff": lambda w: w.bob.pk, "date": "2026-11-25"}, {"HTTP_HX_REQUEST": "true"}),
    Page("team-day", TEAM, {"date": "2026-11-25"}, {}),
    Page("team-week", TEAM, {"date": "2026-11-25", "span": "week"}, {}),
]


def fresh(client, page: Page, world) -> str:
    with override_settings(PAGE_CACHE_BYTES=0):
        return page.get(client, world)


def book_another(w):
    w.book(w.bob, local(w.practice, 2026, 11, 25, 16), local(w.practice, 2026, 11, 25, 17), title="Crown")


def move(w):  # behind the services' back: no signal, no version bump
    Appointment.objects.filter(pk=w.appointment.pk).update(
        start=w.appointment.start + timedelta(hours=2), end=w.appointment.end + timedelta(hours=2)
    )


def retitle(w):
    Appointment.objects.filter(pk=w.appointment.pk).update(title="Root canal")


def cancel(w):
    appointment_cancel(appointment=w.appointment, actor=w.alice.user)


def add_participant(w):  # Bob joins Dora's appointment ("with Dora" on his week)
    Participant.objects.create(
        appointment=w.theirs, member=w.bob, is_owner=False, start=w.theirs.start, end=w.theirs.end
    )


def busy_added(w):
    start = local(w.practice, 2026, 11, 26, 8)
    BusyBlock.objects.create(calendar=w.conflict, event_id="run", start=start, end=start + timedelta(hours=1))
    BusyBlock.mark_changed(w.conflict.pk)


def busy_removed(w):
    BusyBlock.objects.filter(calendar=w.conflict).delete()
    BusyBlock.mark_changed(w.conflict.pk)


def calendar_renamed(w):  # the busy blocks' source name, without touching a block
    GoogleCalendar.objects.filter(pk=w.conflict.pk).update(summary="Family")


def working_hours(w):
    working_hours_set(member=w.bob, intervals=[(day, time(6), time(12)) for day in range(7)])


def sync_failed(w):
    EventLink.objects.filter(pk=w.link.pk).update(state=EventLink.State.FAILED, last_error="Quota exceeded")


def lost_permission(w):  # the banner and the status badge
    GoogleConnection.objects.filter(pk=w.connection.pk).update(
        state=GoogleConnection.State.MISSING_PERMISSIONS
    )


def privacy(w):  # what Google is told: shown on none of these pages
    Practice.objects.filter(pk=w.practice.pk).update(external_title_privacy=Practice.TitlePrivacy.TYPE)


def inbox_item(w):
    InboxItem.objects.create(
        practice=w.practice,
        appointment=w.appointment,
        staff=w.bob,
        kind=InboxItem.Kind.MOVED,
        version_after=1,
    )


def invitation(w):
    Invitation.objects.create(practice=w.charlie.practice, email=w.alice.user.email)


def new_member(w):
    make_member(w.practice, "erin@a.test", first_name="Erin")


def renamed(w):
    User.objects.filter(pk=w.bob.user_id).update(first_name="Robert")


def type_colour(w):
    AppointmentType.objects.filter(pk=w.kind.pk).update(colour="green")


def demoted(w):  # Alice may no longer book for Bob
    Membership.objects.filter(pk=w.alice.pk).update(role=Membership.Role.STAFF)


def deactivated(w):  # Alice leaves the practice: no page of it any more
    Membership.objects.filter(pk=w.alice.pk).update(is_active=False)


def zone_changed(w):
    Practice.objects.filter(pk=w.practice.pk).update(time_zone="Europe/Lisbon")


def practice_renamed(w):
    Practice.objects.filter(pk=w.practice.pk).update(name="Practice Alpha")


def next_minute(w):  # the "now" line and the dimmed past
    w.frozen.tick(timedelta(minutes=1))


def next_day(w):
    w.frozen.move_to("2026-11-26 05:30:00")  # 00:30 on Thursday in New York


CHANGES = {  # change → the pages it does not show on (elsewhere the page must differ from before)
    book_another: set(),
    move: {"team-day"},  # the appointment is on Tuesday, the team day Wednesday
    retitle: {"team-day"},
    cancel: {"team-day"},
    add_participant: {"team-day"},  # Dora's appointment was on the team day already
    busy_added: {"team-day"},  # Thursday: not on Wednesday's team day
    busy_removed: set(),
    calendar_renamed: set(),
    working_hours: set(),
    sync_failed: {"team-day"},  # the team day is Wednesday; the appointment Tuesday
    lost_permission: set(),
    privacy: {"week", "week-htmx", "team-day", "team-week"},
    inbox_item: {"week-htmx"},  # the top bar's count
    invitation: {"week-htmx"},
    new_member: set(),
    renamed: set(),
    type_colour: {"team-day", "team-week"},  # the week's lanes list appointments uncoloured
    demoted: set(),
    practice_renamed: {"week-htmx"},
    deactivated: set(),
    zone_changed: set(),
    next_minute: {"team-week"},  # the lanes have no "now" line
    next_day: set(),
}


@pytest.mark.parametrize("shown", SHOWN, ids=lambda shown: shown.name)
@pytest.mark.parametrize("change", CHANGES, ids=lambda change: change.__name__)
def test_after_any_change_the_page_served_is_the_page_a_fresh_render_draws(client, world, shown, change):
    login(client, world.alice)
    before = shown.get(client, world)
    hits = PAGES.hits
    assert shown.get(client, world) == before and PAGES.hits == hits + 1  # unchanged: the stored shown
    change(world)
    after = shown.get(client, world)
    assert after == fresh(client, shown, world)
    if shown.name not in CHANGES[change]:
        assert after != before  # the change shows: the stored page was not served
    assert shown.get(client, world) == after  # and the new page is stored in its turn


@pytest.mark.parametrize("shown", SHOWN, ids=lambda shown: shown.name)
def test_another_practices_changes_do_not_matter(client, world, shown, book):
    login(client, world.alice)
    before = shown.get(client, world)
    charlie = world.charlie
    book(charlie, local(charlie.practice, 2026, 11, 25, 9), local(charlie.practice, 2026, 11, 25, 10))
    make_member(charlie.practice, "frank@b.test")
    InboxItem.objects.create(
        practice=charlie.practice,
        appointment=Appointment.objects.get(staff=charlie),
        staff=charlie,
        kind=InboxItem.Kind.MOVED,
        version_after=1,
    )
    hits = PAGES.hits
    assert shown.get(client, world) == before == fresh(client, shown, world)
    assert PAGES.hits == hits + 1


def test_a_connection_that_starts_backing_off_shows_when_its_alert_time_passes(client, world, settings):
    """Its health turns on the clock alone (``integrations.words.connection_health``): no row changes."""
    login(client, world.alice)
    GoogleConnection.objects.filter(pk=world.connection.pk).update(
        retry_after=timezone.now() + timedelta(hours=2),
        last_sync_at=timezone.now() - timedelta(minutes=settings.GOOGLE_BACKOFF_ALERT_MINUTES - 1),
    )
    next_week = Page("next-week", WEEK, {"staff": world.bob.pk, "date": "2026-12-02"}, {})
    before = next_week.get(client, world)
    assert "Retrying" not in before
    world.frozen.tick(timedelta(minutes=2))  # that week has no "now" line: only the health moved
    after = next_week.get(client, world)
    assert "Retrying" in after and after == fresh(client, next_week, world)


def test_messages_are_shown_once_and_never_stored(client, world):
    login(client, world.alice)
    week = SHOWN[0]
    before = week.get(client, world)
    client.post(reverse("calendars:team_filter"), {"show": ["not-a-member"], "date": "2026-11-25"})
    with_message = week.get(client, world)
    assert "outside this practice" in with_message
    assert week.get(client, world) == before  # shown once; the stored page never held it


def test_a_busy_source_that_cannot_say_what_it_shows_turns_the_cache_off(client, world, busy_source):
    login(client, world.alice)
    week = SHOWN[0]
    week.get(client, world)
    busy_source.add(
        world.bob, local(world.practice, 2026, 11, 25, 16), local(world.practice, 2026, 11, 25, 17)
    )
    assert "Busy in Personal" in week.get(client, world)
    assert len(PAGES) == 0


@pytest.mark.parametrize("shown", SHOWN, ids=lambda shown: shown.name)
def test_the_stored_page_has_a_fresh_csrf_token_for_every_response(client, world, shown):
    login(client, world.alice)
    params = {"staff": world.bob.pk, "date": "2026-11-25"} if shown.url == WEEK else {"date": "2026-11-25"}
    first = client.get(shown.url, params, **shown.headers).content.decode()
    second = client.get(shown.url, params, **shown.headers).content.decode()
    tokens = re.compile(r'(?:csrfmiddlewaretoken" value="|"X-CSRFToken": ")([A-Za-z0-9]+)')
    if shown.name == "week-htmx":
        return  # the region holds no form (no banner): nothing to compare
    assert tokens.findall(first) and tokens.findall(second)
    assert set(tokens.findall(first)).isdisjoint(tokens.findall(second))  # masked anew, as Django does
    assert client.cookies["csrftoken"].value


def test_switching_practice_never_serves_the_other_practices_page(client, world, practice_b):
    """Alice also works at Practice B: the switcher's choice is part of what a stored page is for."""
    Membership.objects.create(user=world.alice.user, practice=practice_b, role=Membership.Role.ADMIN)
    login(client, world.alice)
    team = SHOWN[2]
    in_a = team.get(client, world)
    client.post(reverse("accounts:practice_switch"), {"practice": practice_b.pk})
    assert "You are now working in Practice B" in team.get(client, world)  # the message, once
    in_b = team.get(client, world)
    assert "Charlie" in in_b and "Charlie" not in in_a
    assert in_b == fresh(client, team, world)
    client.post(reverse("accounts:practice_switch"), {"practice": world.practice.pk})
    team.get(client, world)  # the message
    assert team.get(client, world) == in_a == fresh(client, team, world)


@pytest.mark.postgres
def test_the_fingerprint_is_one_statement_prepared_once_per_connection(client, world):
    """Planning it cost more than running it: every week page asks the same statement again."""
    from django.db import connection

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COUNT(*) FROM pg_prepared_statements WHERE statement LIKE '%%hash_record_extended%%'"
            )
            return cursor.fetchone()[0]

    login(client, world.alice)
    client.get(WEEK, {"staff": world.bob.pk, "date": "2026-11-25"})
    once = prepared()
    for day in ("2026-12-02", "2027-01-06", "2027-03-31"):
        client.get(WEEK, {"staff": world.dora.pk, "date": day})
    assert once >= 1 and prepared() == once
