"""The general guard (issue 10, point 2): no page a practice-B user can reach shows a practice-A title.

Erin works at both practices and has connected her Google calendar. Practice A's appointments of
hers are pushed there and pulled back as busy time; her own private event is busy time too. Every
URL pattern of the portal (walked from the URLconf, so new pages are covered without anyone
adding them) is rendered for Charlie (B's admin) and for Erin working in B, with B's own ids and
with query strings that point at Erin's week, as pages and as htmx partials. No response may
contain the title of a practice-A appointment; only Erin, on her own week, sees her own event's title.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from itertools import product

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.html import escape

from calendars.models import Appointment
from copilot.accounts.middleware import SESSION_KEY
from copilot.accounts.models import Membership
from integrations.google import pull
from integrations.models import BusyBlock, GoogleCalendar
from tests.conftest import give_office_hours, make_member, slot

pytestmark = pytest.mark.django_db

A_TITLES = ("Filling: Lucia Romero", "Root canal: Marta Ibáñez", "Crown: Jonas Weber")
PRIVATE_EVENT = "Erin's own dentist visit"
CONVERTER = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


def walk(patterns, prefix: str = ""):
    """Every route of the URLconf as a ``path()``-style string (regex routes are listed as found)."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def concrete_urls(ids: list[int]) -> list[str]:
    """The portal's routes with every ``<int:…>`` filled by each of ``ids`` and other parts by "x"."""
    urls = set()
    for route in walk(get_resolver().url_patterns):
        if route.startswith("admin/") or any(c in route for c in "^$(["):
            continue  # Django admin (superusers only, its own test) and allauth's regex routes
        slots = CONVERTER.findall(route)
        choices = [ids if conv == "int" else ["x"] for conv, _ in slots]
        for values in product(*choices):
            url = CONVERTER.sub(lambda _match, given=iter(values): str(next(given)), route)
            urls.add("/" + url)
    return sorted(urls)


@pytest.fixture
def erin(practice_a, practice_b):
    """Staff at both practices; works in B in these tests."""
    at_a = make_member(practice_a, "erin@both.test", first_name="Erin")
    at_b = Membership.objects.create(user=at_a.user, practice=practice_b, role=Membership.Role.STAFF)
    give_office_hours(at_a, time(0), time(23, 59))
    give_office_hours(at_b, time(0), time(23, 59))
    return at_a, at_b


@pytest.fixture
def world(google, connect, erin, alice, bob, charlie, book, django_capture_on_commit_callbacks):
    erin_a, erin_b = erin
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect(erin_a)
    day_start, _ = slot(erin_a, 2, 9)
    with django_capture_on_commit_callbacks(execute=True):  # pushed to Erin's Google calendar
        for hour, title in zip((9, 11, 13), A_TITLES, strict=True):
            book(erin_a, *slot(erin_a, 2, hour), title=title)
        book(bob, *slot(bob, 2, 9), title="Extraction: Paul Martin")
        b_appointment = book(erin_b, *slot(erin_b, 3, 10), title="Practice B check-up")
    start, end = slot(erin_a, 2, 15)
    google.service(erin_a.user.email).events().insert(
        calendarId=erin_a.user.email,
        body={
            "summary": PRIVATE_EVENT,
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": end.isoformat()},
        },
    ).execute()
    with django_capture_on_commit_callbacks(execute=True):
        pull.pull_account(connection.pk)
    # A row as the pull stored it before this fix (title kept): the read side must hide it too.
    calendar = GoogleCalendar.objects.get(connection=connection, is_linked=True)
    legacy_start, legacy_end = slot(erin_a, 2, 17)
    BusyBlock.objects.create(
        calendar=calendar,
        event_id="legacy",
        start=legacy_start,
        end=legacy_end,
        summary="Implant: Ana Legacy",
        practice_tag=str(erin_a.practice_id),
    )
    ids = sorted({b_appointment.pk, erin_b.pk, charlie.pk, connection.pk, calendar.pk})
    return {"erin_b": erin_b, "day": day_start.date(), "ids": ids}


def titles_of_a() -> list[str]:
    return list(Appointment.objects.filter(practice__name="Practice A").values_list("title", flat=True)) + [
        "Implant: Ana Legacy"
    ]


@pytest.mark.parametrize("viewer", ["charlie", "erin"])
def test_no_page_of_practice_b_shows_a_practice_a_title(client, world, charlie, practice_b, viewer):
    erin_b, day = world["erin_b"], world["day"]
    person = charlie if viewer == "charlie" else erin_b
    client.force_login(person.user)
    session = client.session
    session[SESSION_KEY] = practice_b.pk
    session.save()
    titles = titles_of_a()
    assert len(titles) == 5
    forbidden = {form.encode() for title in titles for form in (title, escape(title))}
    queries = [
        {},
        {"staff": erin_b.pk, "date": day.isoformat()},
        {"staff": erin_b.pk, "date": day.isoformat(), "span": "day"},
        {"staff": erin_b.pk, "date_from": day.isoformat(), "date_to": (day + timedelta(days=7)).isoformat()},
    ]
    urls = concrete_urls(world["ids"])
    assert "/calendars/week/" in urls and f"/calendars/appointments/{world['ids'][0]}/" in urls
    busy_shown = own_title_shown = 0
    for url, query, headers in product(urls, queries, ({}, {"HTTP_HX_REQUEST": "true"})):
        response = client.get(url, query, **headers)
        # The readiness probe answers 503 by design here (no worker heartbeat in this test).
        assert response.status_code < 500 or (url == "/readyz" and response.status_code == 503), (url, query)
        content = response.content
        leaked = [title for title in forbidden if title in content]
        assert not leaked, (viewer, url, query, headers, leaked)
        busy_shown += content.count(b'class="busy-label">Busy<')
        own_title_shown += escape(PRIVATE_EVENT).encode() in content
    assert busy_shown, "the walk reached Erin's week with A's appointments as busy time"
    if viewer == "charlie":
        assert own_title_shown == 0, "only the calendar's owner sees her own event's title"
    else:
        assert own_title_shown, "Erin, on her own week, still sees her own event's title"
