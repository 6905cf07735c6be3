"""Whatever Google (or anything posing as it) sends, the page processing never raises.

Random event payloads, well-formed and not, go through ``pull.process_page`` for a calendar
that holds a live link of ours, so the appointment path (``apply_our_event``) is fuzzed too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from calendars.models import Appointment
from integrations.google import mapping, pull
from integrations.models import EventLink, GoogleCalendar, GoogleConnection

pytestmark = pytest.mark.django_db

OUR_ID = "ccfuzz0000000000000000000000000"
APPOINTMENT = "<appointment>"
MEMBER = "<member>"
PRACTICE = "<practice>"

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["\x00", "\ud800", "", " "]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=4,
)
zones = st.sampled_from(
    [UTC, ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York"), ZoneInfo("Pacific/Kiritimati")]
)
near = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=zones).map(
    lambda d: d.isoformat()
)
moments = st.one_of(
    near,
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1)).map(lambda d: d.isoformat()),
    st.sampled_from(["2030-02-31T10:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "Z"]),
    st.text(max_size=30),
)
whens = st.one_of(
    scalars,
    st.fixed_dictionaries(
        {"dateTime": moments},
        optional={
            "timeZone": st.one_of(st.sampled_from(["UTC", "Asia/Tokyo", "Mars/Olympus", "", "../x"]), scalars)
        },
    ),
    st.fixed_dictionaries({"date": st.one_of(st.dates().map(str), st.text(max_size=12), scalars)}),
)
tags = st.fixed_dictionaries(
    {
        "private": st.fixed_dictionaries(
            {
                mapping.TAG_APP: st.sampled_from(["1", "0", ""]),
                mapping.TAG_APPOINTMENT: st.one_of(st.just(APPOINTMENT), st.text(max_size=8), scalars),
            },
            optional={
                mapping.TAG_PRACTICE: st.one_of(st.just(PRACTICE), st.text(max_size=5)),
                mapping.TAG_MEMBER: st.one_of(st.just(MEMBER), st.text(max_size=5)),
            },
        )
    }
)
attendees = st.lists(
    st.fixed_dictionaries(
        {"email": st.text(max_size=10)},
        optional={
            "self": st.one_of(st.booleans(), scalars),
            "responseStatus": st.sampled_from(["declined", "accepted", "needsAction", "?"]),
        },
    ),
    max_size=3,
)
events = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(
            st.just(OUR_ID), st.sampled_from(["abc", "abc_20300101T100000Z", "a" * 2000]), scalars
        ),
        "status": st.one_of(st.sampled_from(["confirmed", "tentative", "cancelled"]), scalars),
        "summary": st.one_of(st.text(max_size=40), st.just("S" * 5000), scalars),
        "description": st.one_of(st.text(max_size=40), st.just(mapping.LINK_PREFIX + "https://x"), scalars),
        "location": st.one_of(st.text(max_size=400), scalars),
        "start": whens,
        "end": whens,
        "transparency": st.one_of(st.sampled_from(["opaque", "transparent"]), scalars),
        "visibility": st.one_of(st.sampled_from(["default", "private", "confidential"]), scalars),
        "eventType": st.one_of(
            st.sampled_from(["default", "outOfOffice", "focusTime", "workingLocation"]), scalars
        ),
        "attendees": st.one_of(attendees, scalars),
        "extendedProperties": st.one_of(tags, json_values),
        "updated": moments,
        "etag": st.one_of(st.text(max_size=20), scalars),
        "recurringEventId": scalars,
    },
)
our_tags = st.fixed_dictionaries(
    {
        "private": st.fixed_dictionaries(
            {
                mapping.TAG_APP: st.just("1"),
                mapping.TAG_APPOINTMENT: st.just(APPOINTMENT),
                mapping.TAG_PRACTICE: st.just(PRACTICE),
                mapping.TAG_MEMBER: st.just(MEMBER),
            }
        )
    }
)
# Our own event, edited in random ways: drives the appointment through apply_our_event.
ours = st.builds(
    lambda base, start, end, **fields: {**base, "start": start, "end": end, **fields},
    base=events,
    start=st.one_of(st.fixed_dictionaries({"dateTime": near}), whens),
    end=st.one_of(st.fixed_dictionaries({"dateTime": near}), whens),
    id=st.just(OUR_ID),
    extendedProperties=our_tags,
    status=st.sampled_from(["confirmed", "confirmed", "tentative", "cancelled"]),
)
pages = st.lists(st.one_of(events, ours, json_values), max_size=4)


def _fill(value, appointment, member):
    if value == APPOINTMENT:
        return str(appointment.pk)
    if value == MEMBER:
        return str(member.pk)
    if value == PRACTICE:
        return str(appointment.practice_id)
    if isinstance(value, dict):
        return {k: _fill(v, appointment, member) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, appointment, member) for v in value]
    return value


@pytest.fixture
def target(bob, book):
    """A calendar of bob's with one live link of ours in it (event ``OUR_ID``)."""
    connection = GoogleConnection.objects.create(
        user=bob.user, google_uid="fuzz", google_email=bob.user.email, state=GoogleConnection.State.ACTIVE
    )
    calendar = GoogleCalendar.objects.create(
        connection=connection,
        user=bob.user,
        calendar_id=bob.user.email,
        summary="Work",
        time_zone="Asia/Tokyo",
        access_role="owner",
        is_linked=True,
    )
    start = timezone.now().astimezone(bob.practice.zone).replace(hour=10, minute=0, second=0, microsecond=0)
    appointment = book(bob, start + timedelta(days=2), start + timedelta(days=2, hours=1))
    original = {f: getattr(appointment, f) for f in ("start", "end", "title", "location", "notes", "status")}

    def reset() -> None:
        """Each example starts from a booked appointment whose link is synced."""
        Appointment.objects.filter(pk=appointment.pk).update(has_conflict=False, **original)
        EventLink.objects.update_or_create(
            appointment=appointment,
            member=bob,
            defaults={
                "calendar": calendar,
                "event_id": OUR_ID,
                "etag": "",
                "pushed_hash": "x",
                "needs_push": False,
                "last_pushed_at": None,
            },
        )

    return calendar, appointment, bob, reset


@settings(
    max_examples=200,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported at once
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(page=pages)
def test_random_event_payloads_never_break_the_page(target, page):
    calendar, appointment, member, reset = target
    reset()
    page = _fill(page, appointment, member)

    counts = pull.process_page(calendar, page)

    assert counts.get("failed", 0) == 0, "apply_our_event raised on this page"


@pytest.mark.parametrize(
    "start, end",
    [
        (None, {"date": "2458-04-04"}),  # the fuzz test's find: an all-day end far beyond the book
        ({"dateTime": "1999-12-31T09:00:00Z"}, None),  # a start before the book's first day
    ],
)
def test_a_time_outside_the_books_dates_is_ignored_and_the_rest_applies(target, start, end, caplog):
    """The book refuses dates outside 2000–2100 (calendars/limits.py): such a time from Google is
    ignored like an unreadable one (a warning, no title), and the rest of the change still applies."""
    calendar, appointment, member, reset = target
    reset()
    before = (appointment.start, appointment.end)
    event = {
        "id": OUR_ID,
        "status": "confirmed",
        "summary": "Crown fitting",
        "location": "Room 2",
        "start": start or {"dateTime": appointment.start.isoformat()},
        "end": end or {"dateTime": appointment.end.isoformat()},
        "updated": "2030-01-01T00:00:00Z",
        "extendedProperties": {
            "private": {
                mapping.TAG_APP: "1",
                mapping.TAG_APPOINTMENT: str(appointment.pk),
                mapping.TAG_PRACTICE: str(appointment.practice_id),
                mapping.TAG_MEMBER: str(member.pk),
            }
        },
    }

    with caplog.at_level(logging.WARNING):
        counts = pull.process_page(calendar, [event])

    assert counts.get("failed", 0) == 0 and counts.get("applied") == 1
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end) == before
    assert (appointment.title, appointment.location) == ("Crown fitting", "Room 2")
    [warning] = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.levelno == logging.WARNING
    assert (
        warning.getMessage()
        == f"Ignoring the time of Google event {OUR_ID!r}: outside the dates the book accepts"
    )
    assert "Crown fitting" not in caplog.text and "Check-up" not in caplog.text
