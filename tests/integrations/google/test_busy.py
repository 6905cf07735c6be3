"""The book's busy-time source for Google: stored blocks, read fast; a live check only when data is stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from calendars.busy import FreshnessWarning
from calendars.services import BookingError, appointment_update
from integrations.busy import GoogleBusySource
from integrations.google import pull
from integrations.models import BusyBlock, GoogleCalendar, GoogleConnection
from tests.conftest import slot
from tests.integrations.google.conftest import add_event

pytestmark = pytest.mark.django_db
FREEBUSY = "POST /calendar/v3/freeBusy"


def freebusy_requests(google) -> int:
    return sum(google.stats()["requests"].get(FREEBUSY, {}).values())


def make_connection(member, state=GoogleConnection.State.ACTIVE, **kw) -> GoogleConnection:
    return GoogleConnection.objects.create(
        user=member.user,
        google_uid=f"uid-{member.pk}-{state}",
        google_email=member.user.email,
        state=state,
        last_sync_at=timezone.now(),
        **kw,
    )


def make_calendar(connection, calendar_id, summary, **flags) -> GoogleCalendar:
    return GoogleCalendar.objects.create(
        connection=connection,
        user=connection.user,
        calendar_id=calendar_id,
        summary=summary,
        time_zone="America/New_York",
        access_role="owner",
        **flags,
    )


# --- intervals ---------------------------------------------------------------------------------------


def test_intervals_come_from_selected_calendars_of_live_connections(bob, dora, practice_b):
    connection = make_connection(bob)
    linked = make_calendar(connection, "bob@a.test", "Work", is_linked=True)
    personal = make_calendar(connection, "p", "Personal", is_conflict=True)
    ignored = make_calendar(connection, "h", "Holidays")
    old = make_connection(bob, GoogleConnection.State.UNLINKED)
    old_calendar = make_calendar(old, "old", "Old account", is_conflict=True)
    start, end = slot(bob, 2, 9)
    for calendar, summary in [
        (linked, "Lunch"),
        (personal, "School run"),
        (ignored, "Holiday"),
        (old_calendar, "Old"),
    ]:
        BusyBlock.objects.create(calendar=calendar, event_id=summary, start=start, end=end, summary=summary)
    BusyBlock.objects.create(
        calendar=personal, event_id="t", start=start, end=end, summary="x", is_private=True
    )
    BusyBlock.objects.create(
        calendar=linked,
        event_id="ours",
        start=start,
        end=end,
        summary="Check-up",
        practice_tag=str(bob.practice_id),
    )
    BusyBlock.objects.create(
        calendar=linked,
        event_id="theirs",
        start=start,
        end=end,
        summary="At B",
        practice_tag=str(practice_b.pk),
    )
    BusyBlock.objects.create(calendar=linked, event_id="later", start=end, end=end + timedelta(hours=1))

    found = GoogleBusySource().intervals(member=bob, start=start, end=end)

    assert sorted((i.source, i.label) for i in found) == [
        ("Personal", "Busy"),
        ("Personal", "School run"),
        ("Work", "Busy"),  # another practice's appointment: its title is that practice's patient
        ("Work", "Lunch"),
    ]
    assert GoogleBusySource().intervals(member=dora, start=start, end=end) == []


def test_busy_time_costs_two_queries_however_many_blocks(bob, django_assert_num_queries):
    connection = make_connection(bob)
    calendars = [
        make_calendar(connection, "bob@a.test", "Work", is_linked=True),
        make_calendar(connection, "p", "Personal", is_conflict=True),
    ]
    start = timezone.now().replace(microsecond=0)  # calendar times are whole seconds
    BusyBlock.objects.bulk_create(
        BusyBlock(
            calendar=calendars[i % 2],
            event_id=f"e{i}",
            start=start + timedelta(minutes=9 * i),
            end=start + timedelta(minutes=9 * i + 5),
            summary="Busy thing",
        )
        for i in range(5000)
    )
    source = GoogleBusySource()
    end = start + timedelta(days=30)
    with django_assert_num_queries(2):  # the selected calendars, then their blocks
        found = source.intervals(member=bob, start=start, end=end)
    assert len(found) == 4800  # 30 days of 9-minute steps
    # Issue 15: the cache's validity check reads the calendars' busy_version, never the blocks (it
    # was their count and top id). The default cache here is the database table, the shared one.
    with CaptureQueriesContext(db_connection) as miss:  # calendars, blocks, the cache's own
        spans = source.spans(member=bob, start=start, end=end)
    block_reads = [q["sql"] for q in miss.captured_queries if "integrations_busyblock" in q["sql"]]
    assert len(block_reads) == 1 and "COUNT" not in block_reads[0].upper(), "one read of the blocks"
    assert sorted(spans) == sorted((i.start.timestamp(), i.end.timestamp()) for i in found)
    with django_assert_num_queries(2) as hit:  # unchanged blocks: calendars, then the shared cache's row
        assert source.spans(member=bob, start=start, end=end) == spans
    assert "integrations_busyblock" not in hit.captured_queries[0]["sql"]
    assert "copilot_cache" in hit.captured_queries[1]["sql"], "the spans live in the shared cache"


def test_busy_spans_are_cached_in_the_shared_cache_keyed_on_versions(
    bob, settings, django_assert_num_queries
):
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "busy-test"},
    }
    connection = make_connection(bob)
    calendar = make_calendar(connection, "bob@a.test", "Work", is_linked=True)
    start = timezone.now().replace(microsecond=0)
    BusyBlock.objects.create(calendar=calendar, event_id="a", start=start, end=start + timedelta(hours=1))
    source = GoogleBusySource()
    end = start + timedelta(days=7)
    with django_assert_num_queries(2):  # the calendars with their versions, then the blocks
        assert len(source.spans(member=bob, start=start, end=end)) == 1
    with django_assert_num_queries(1):  # the calendars with their versions: the validity check
        assert len(source.spans(member=bob, start=start, end=end)) == 1
    BusyBlock.mark_changed(calendar.pk)
    with django_assert_num_queries(2):  # a new version: read again
        assert len(source.spans(member=bob, start=start, end=end)) == 1


def test_cached_busy_spans_follow_every_change_of_the_blocks(bob):
    """Every writer of busy blocks bumps the calendar's busy_version (before issue 15 the key was
    the blocks' count and top id, so writes by hand were seen too; now the writers are the pull,
    free/busy refreshes, the live check, calendar choice and unlink)."""
    connection = make_connection(bob)
    calendar = make_calendar(connection, "bob@a.test", "Work", is_linked=True)
    start = timezone.now().replace(microsecond=0)
    end = start + timedelta(days=1)
    source = GoogleBusySource()

    def event(minutes: int, event_id: str) -> dict:
        at = start + timedelta(minutes=minutes)
        return {
            "id": event_id,
            "status": "confirmed",
            "summary": "Errand",
            "start": {"dateTime": at.isoformat()},
            "end": {"dateTime": (at + timedelta(minutes=5)).isoformat()},
        }

    pull.process_page(calendar, [event(60, "a")])
    assert len(source.spans(member=bob, start=start, end=end)) == 1
    pull.process_page(calendar, [event(120, "b")])
    assert len(source.spans(member=bob, start=start, end=end)) == 2, "an insert is seen"
    pull.process_page(calendar, [{"id": "a", "status": "cancelled"}])
    assert len(source.spans(member=bob, start=start, end=end)) == 1, "a delete is seen"
    pull.process_page(calendar, [event(180, "b")])  # a moved event: delete, then insert
    [(moved_start, _)] = source.spans(member=bob, start=start, end=end)
    assert moved_start == (start + timedelta(minutes=180)).timestamp()
    pull._replace_free_busy(calendar, [(start + timedelta(minutes=300), start + timedelta(minutes=310))])
    [(refreshed_start, _)] = source.spans(member=bob, start=start, end=end)
    assert refreshed_start == (start + timedelta(minutes=300)).timestamp(), "a free/busy refresh is seen"
    calendar.is_linked = False
    calendar.save()
    assert source.spans(member=bob, start=start, end=end) == [], "a deselected calendar is seen"


def test_a_week_of_busy_time_reads_overlapping_blocks_of_any_length(bob):
    """The read is bounded below by SHORT_BLOCK_MAX for short blocks; long ones are read apart."""
    connection = make_connection(bob)
    calendar = make_calendar(connection, "bob@a.test", "Work", is_linked=True)
    start = timezone.now().replace(microsecond=0)
    end = start + timedelta(days=7)

    def block(event_id: str, begins: timedelta, lasts: timedelta) -> BusyBlock:
        return BusyBlock(
            calendar=calendar, event_id=event_id, start=start + begins, end=start + begins + lasts
        )

    BusyBlock.objects.bulk_create(
        [
            block("holiday", -timedelta(days=20), timedelta(days=21)),  # long, began weeks before
            block("night", -timedelta(hours=35), timedelta(hours=35, minutes=1)),  # short, ends inside
            block("ended", -timedelta(hours=35), timedelta(hours=35)),  # ends exactly at start
            block("inside", timedelta(days=2), timedelta(hours=1)),
            block("after", timedelta(days=7), timedelta(hours=1)),  # starts exactly at end
            block("far", -timedelta(days=90), timedelta(hours=1)),
        ]
    )
    BusyBlock.objects.create(
        calendar=calendar, event_id="trip", start=start + timedelta(days=6), end=start + timedelta(days=9)
    )
    assert set(BusyBlock.objects.filter(is_long=True).values_list("event_id", flat=True)) == {
        "holiday",
        "trip",
    }
    found = BusyBlock.overlapping([calendar.pk], start, end).values_list("event_id", flat=True)
    assert sorted(found) == ["holiday", "inside", "night", "trip"]
    assert len(GoogleBusySource().spans(member=bob, start=start, end=end)) == 4


# --- ensure_fresh --------------------------------------------------------------------------------------


def make_stale(connection) -> None:
    GoogleConnection.objects.filter(pk=connection.pk).update(
        last_sync_at=timezone.now() - timedelta(minutes=16)
    )


def test_with_fresh_data_booking_asks_google_nothing(google, bob, bob_connected, book):
    google.reset_stats()

    book(bob, *slot(bob, 2, 10))

    assert google.api_requests() == 0


def test_with_stale_data_booking_asks_freebusy_once_and_refuses_busy_time(google, bob, bob_connected, book):
    start, end = slot(bob, 2, 10)
    add_event(google, bob.user.email, bob.user.email, start, end)  # no notification reached us, no poll yet
    make_stale(bob_connected)
    google.reset_stats()

    with pytest.raises(BookingError) as refused:
        book(bob, start, end)

    assert refused.value.code == "busy"
    assert f"Busy in “{bob.user.email}”" in str(refused.value)
    assert freebusy_requests(google) == 1
    assert google.api_requests() == 1


def test_a_live_check_stores_new_busy_time_without_duplicates(
    google, bob, bob_connected, book, django_capture_on_commit_callbacks
):
    day_start, _ = slot(bob, 2, 8)
    day_end = day_start + timedelta(hours=10)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bob, *slot(bob, 2, 14))  # in Google too: free/busy shows it
    known_start, known_end = slot(bob, 2, 9)
    add_event(google, bob.user.email, bob.user.email, known_start, known_end)
    pull.pull_account(bob_connected.pk)  # the 9:00 errand is stored
    new_start, new_end = slot(bob, 2, 11)
    add_event(google, bob.user.email, bob.user.email, new_start, new_end)
    make_stale(bob_connected)
    source = GoogleBusySource()

    assert source.ensure_fresh(member=bob, start=day_start, end=day_end) is None
    assert source.ensure_fresh(member=bob, start=day_start, end=day_end) is None

    spans = sorted(BusyBlock.objects.values_list("start", "end", "event_id"))
    assert [(s, e) for s, e, _ in spans if not _] == [(new_start, new_end)]
    # The errand from the pull and the live one; our appointment (tagged, of her only practice) is
    # not busy time and has been stored no more since issue 15 (the book already has it).
    assert len(spans) == 2
    moved = appointment_update(
        appointment=appointment,
        actor=bob.user,
        start=appointment.start + timedelta(minutes=30),
        end=appointment.end,
    )
    assert moved.appointment.start == appointment.start + timedelta(minutes=30), "its own shadow is not busy"


def test_when_google_cannot_answer_the_booking_goes_ahead_with_a_warning(google, bob, bob_connected, book):
    make_stale(bob_connected)
    google.faults(rate=1.0, statuses=[503])

    result = GoogleBusySource().ensure_fresh(member=bob, start=slot(bob, 2, 10)[0], end=slot(bob, 2, 10)[1])

    assert result == FreshnessWarning(
        "Could not check bob@a.test's Google calendars just now; booked without that check."
    )
    appointment = book(bob, *slot(bob, 2, 10))
    assert appointment.pk


def test_a_connection_needing_reconnect_warns_without_asking_google(google, bob, bob_connected):
    make_stale(bob_connected)
    GoogleConnection.objects.filter(pk=bob_connected.pk).update(state=GoogleConnection.State.NEEDS_RECONNECT)
    google.reset_stats()

    result = GoogleBusySource().ensure_fresh(member=bob, start=slot(bob, 2, 10)[0], end=slot(bob, 2, 10)[1])

    assert isinstance(result, FreshnessWarning)
    assert google.api_requests() == 0


def test_no_connection_no_check(bob, dora):
    assert (
        GoogleBusySource().ensure_fresh(member=dora, start=slot(dora, 1, 9)[0], end=slot(dora, 1, 9)[1])
        is None
    )
