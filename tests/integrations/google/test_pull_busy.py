"""Google → busy time: events that are not ours block the book, read through the emulator."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from calendars.busy import busy_intervals
from calendars.services import BookingError
from integrations.google import events, pull
from integrations.models import BusyBlock, GoogleCalendar
from tests.conftest import slot

pytestmark = pytest.mark.django_db


def when(moment: datetime, zone_name: str = "") -> dict:
    return {"dateTime": moment.isoformat(), **({"timeZone": zone_name} if zone_name else {})}


def add_event(
    google, owner: str, calendar_id: str, start: datetime, end: datetime, zone_name: str = "", **body
) -> dict:
    body = {"summary": "Dentist (mine)", "start": when(start, zone_name), "end": when(end, zone_name), **body}
    return google.service(owner).events().insert(calendarId=calendar_id, body=body).execute()


def refused(book, member, start, end) -> str:
    with pytest.raises(BookingError) as error:
        book(member, start, end)
    assert error.value.code == "busy"
    return str(error.value)


@pytest.fixture
def bob_email(google, bob) -> str:
    google.user(bob.user.email, "Bob")
    return bob.user.email


@pytest.fixture
def personal(google, bob_email) -> str:
    """A second calendar of bob's, chosen as a conflict calendar."""
    return google.calendar(bob_email, "Personal")


@pytest.fixture
def connected(bob, personal, connect):
    return connect(bob, conflicts=(personal,))


def test_an_event_on_the_linked_calendar_blocks_booking_naming_the_calendar(
    google, bob, bob_email, connected, book
):
    start, end = slot(bob, 2, 10)
    add_event(google, bob_email, bob_email, start, end)

    pull.pull_account(connected.pk)

    message = refused(book, bob, start + timedelta(minutes=30), end + timedelta(minutes=30))
    assert f"Busy in “{bob_email}”" in message
    book(bob, end, end + timedelta(minutes=30))  # right after it is free


def test_an_event_on_a_conflict_calendar_blocks_booking(google, bob, bob_email, personal, connected, book):
    start, end = slot(bob, 3, 14)
    add_event(google, bob_email, personal, start, end, summary="School run")

    pull.pull_account(connected.pk)

    assert "Busy in “Personal”" in refused(book, bob, start, end)
    [interval] = busy_intervals(member=bob, start=start - timedelta(hours=1), end=end, show_titles=True)
    assert (interval.source, interval.label) == ("Personal", "School run")
    [hidden] = busy_intervals(member=bob, start=start - timedelta(hours=1), end=end)
    assert (hidden.source, hidden.label) == ("Personal", "Busy"), "titles only when the owner looks"


def test_free_declined_cancelled_and_working_location_events_block_nothing(
    google, bob, bob_email, connected, book
):
    start, end = slot(bob, 2, 9)
    add_event(google, bob_email, bob_email, start, end, transparency="transparent")
    add_event(
        google,
        bob_email,
        bob_email,
        start,
        end,
        attendees=[{"email": bob_email, "responseStatus": "declined"}, {"email": "ana@x.test"}],
    )
    add_event(
        google,
        bob_email,
        bob_email,
        start,
        end,
        eventType="workingLocation",
        workingLocationProperties={"type": "officeLocation"},
    )
    gone = add_event(google, bob_email, bob_email, start, end)
    pull.pull_account(connected.pk)
    assert BusyBlock.objects.count() == 1
    google.service(bob_email).events().delete(calendarId=bob_email, eventId=gone["id"]).execute()

    pull.pull_account(connected.pk)

    assert not BusyBlock.objects.exists()
    book(bob, start, end)


def test_a_birthday_leaves_the_day_free(google, bob, bob_email, connected, book):
    start, end = slot(bob, 2, 9)
    day = start.date()
    google.service(bob_email).events().insert(
        calendarId=bob_email,
        body={
            "summary": "Pat's birthday",
            "eventType": "birthday",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(days=1)).isoformat()},
            "visibility": "private",
            "transparency": "transparent",
            "recurrence": ["RRULE:FREQ=YEARLY"],
        },
    ).execute()

    pull.pull_account(connected.pk)

    assert not BusyBlock.objects.exists()
    book(bob, start, end)


def test_a_birthday_never_blocks_time_even_when_google_marks_it_opaque():
    # Birthdays synced from Google Contacts can come back opaque; they are still not busy time.
    event = {"eventType": "birthday", "transparency": "opaque", "start": {"date": "2030-05-14"}}

    assert events.blocks_time(event) is False
    assert events.blocks_time(event | {"eventType": "default"}) is True


def test_out_of_office_and_focus_time_count_as_busy(google, bob, bob_email, connected, book):
    first, _ = slot(bob, 2, 9)
    add_event(google, bob_email, bob_email, first, first + timedelta(hours=1), eventType="outOfOffice")
    add_event(
        google,
        bob_email,
        bob_email,
        first + timedelta(hours=2),
        first + timedelta(hours=3),
        eventType="focusTime",
    )

    pull.pull_account(connected.pk)

    refused(book, bob, first, first + timedelta(minutes=30))
    refused(book, bob, first + timedelta(hours=2), first + timedelta(hours=2, minutes=30))


def test_private_events_keep_their_time_but_not_their_title(google, bob, bob_email, connected):
    start, end = slot(bob, 2, 12)
    add_event(google, bob_email, bob_email, start, end, summary="Therapy", visibility="private")

    pull.pull_account(connected.pk)

    block = BusyBlock.objects.get()
    assert (block.summary, block.is_private) == ("", True)
    [interval] = busy_intervals(member=bob, start=start, end=end)
    assert interval.label == "Busy"


def test_an_all_day_event_blocks_the_local_day_of_its_calendar(google, bob, bob_email, connect, book):
    """Tokyo's day D is 10:00 the day before to 10:00 on D in New York (the practice's zone)."""
    tokyo = google.calendar(bob_email, "Tokyo trip", time_zone="Asia/Tokyo")
    connection = connect(bob, conflicts=(tokyo,))
    assert GoogleCalendar.objects.get(calendar_id=tokyo).time_zone == "Asia/Tokyo"
    day = timezone.now().astimezone(bob.practice.zone).date() + timedelta(days=5)
    google.service(bob_email).events().insert(
        calendarId=tokyo,
        body={
            "summary": "Flight",
            "start": {"date": day.isoformat()},
            "end": {"date": (day + timedelta(1)).isoformat()},
        },
    ).execute()

    pull.pull_account(connection.pk)

    block = BusyBlock.objects.get()
    zone = bob.practice.zone
    assert block.start == datetime.combine(day - timedelta(1), time(10), tzinfo=zone)
    assert block.end == datetime.combine(day, time(10), tzinfo=zone)
    on = lambda d, h, m=0: datetime.combine(d, time(h, m), tzinfo=zone)  # noqa: E731
    refused(book, bob, on(day, 9), on(day, 9, 30))
    refused(book, bob, on(day - timedelta(1), 10), on(day - timedelta(1), 10, 30))
    book(bob, on(day, 10), on(day, 10, 30))
    book(bob, on(day - timedelta(1), 9), on(day - timedelta(1), 9, 30))


def test_a_daily_recurring_event_is_busy_every_day_until_the_horizon_and_not_beyond(
    google, bob, bob_email, connected, settings
):
    settings.GOOGLE_SYNC_HORIZON_DAYS = 30
    pull.pull_account(connected.pk)  # the first, full sync: from now on we hold a sync token
    assert GoogleCalendar.objects.get(calendar_id=bob_email).sync_token
    start, end = slot(bob, 1, 7)
    add_event(
        google,
        bob_email,
        bob_email,
        start,
        end,
        zone_name=bob.practice.time_zone,
        summary="Gym",
        recurrence=["RRULE:FREQ=DAILY"],
    )

    pull.pull_account(connected.pk)  # incremental: Google expands the series far beyond the horizon

    horizon = timezone.now() + timedelta(days=30)
    starts = list(BusyBlock.objects.order_by("start").values_list("start", flat=True))
    assert len(starts) in (29, 30)
    assert all(b - a == timedelta(days=1) for a, b in zip(starts, starts[1:], strict=False))
    assert starts[0] == start and starts[-1] < horizon <= starts[-1] + timedelta(days=1)
    pull.pull_account(connected.pk, full=True)  # a full sync is bounded by the same horizon
    assert list(BusyBlock.objects.order_by("start").values_list("start", flat=True)) == starts


def test_a_free_busy_only_conflict_calendar_blocks_through_freebusy(google, bob, bob_email, connect, book):
    google.user("sam@family.test", "Sam")
    family = google.calendar(
        "sam@family.test", "Family", acl=[{"email": bob_email, "role": "freeBusyReader"}]
    )
    start, end = slot(bob, 4, 11)
    add_event(google, "sam@family.test", family, start, end, summary="Sam's surgery")
    connection = connect(bob, conflicts=(family,))
    assert GoogleCalendar.objects.get(calendar_id=family).access_role == "freeBusyReader"

    pull.pull_account(connection.pk)

    block = BusyBlock.objects.get()
    assert (block.start, block.end, block.event_id, block.summary) == (start, end, "", "")
    assert "Busy in “Family”" in refused(book, bob, start, end)
    assert GoogleCalendar.objects.get(calendar_id=family).busy_refreshed_at is not None


def test_an_all_day_date_is_read_in_the_calendars_zone_not_utc():
    calendar = GoogleCalendar(time_zone="Asia/Tokyo")
    start, end = events.event_bounds(
        {"start": {"date": "2030-01-10"}, "end": {"date": "2030-01-11"}}, events.calendar_zone(calendar)
    )
    assert start.isoformat() == "2030-01-09T15:00:00+00:00"
    assert end - start == timedelta(days=1)
    assert date(2030, 1, 10) == start.astimezone(events.calendar_zone(calendar)).date()
