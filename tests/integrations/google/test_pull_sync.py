"""The pull's bookkeeping: sync tokens, polling, failures, malformed input and push channels."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.utils import timezone

from calendars.models import Appointment
from integrations.google import channels, pull
from integrations.models import BusyBlock, EventLink, GoogleCalendar, GoogleConnection, WatchChannel
from integrations.services import connection_choose_calendars
from tests.conftest import slot
from tests.integrations.google.conftest import add_event

pytestmark = pytest.mark.django_db


def list_requests(google) -> int:
    return sum(google.stats()["requests"].get("GET /calendar/v3/calendars/{calendarId}/events", {}).values())


@pytest.fixture
def personal(google, bob) -> str:
    google.user(bob.user.email, "Bob")
    return google.calendar(bob.user.email, "Personal")


@pytest.fixture
def connected(bob, personal, connect, django_capture_on_commit_callbacks) -> GoogleConnection:
    """Bob connected with a conflict calendar; the first push and full pull have run."""
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect(bob, conflicts=(personal,))
    assert all(c.sync_token for c in connection.calendars.filter(is_linked=True))
    return connection


def test_an_expired_sync_token_means_a_full_resync_with_nothing_duplicated(
    google, bob, connected, book, django_capture_on_commit_callbacks
):
    email = bob.user.email
    start, end = slot(bob, 2, 10)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bob, start, end)
    add_event(google, email, email, *slot(bob, 3, 9))
    leaving = add_event(google, email, email, *slot(bob, 3, 12))
    pull.pull_account(connected.pk)
    # Two errands; our appointment (of bob's only practice) is not busy time: not stored (issue 15).
    assert BusyBlock.objects.count() == 2
    history, version = appointment.changes.count(), Appointment.objects.get(pk=appointment.pk).version

    google.expire_sync_tokens()
    google.service(email).events().delete(calendarId=email, eventId=leaving["id"]).execute()
    add_event(google, email, email, *slot(bob, 4, 9))
    result = pull.pull_account(connected.pk)

    assert result["full_resync"] == 2  # both calendars
    ids = list(BusyBlock.objects.values_list("event_id", flat=True))
    assert len(ids) == len(set(ids)) == 2  # the 9:00 errands of days 3 and 4
    assert leaving["id"] not in ids
    assert appointment.changes.count() == history
    assert Appointment.objects.get(pk=appointment.pk).version == version
    assert all(c.sync_token for c in GoogleCalendar.objects.filter(connection=connected))


def test_an_idle_poll_costs_one_request_per_calendar(google, connected):
    google.reset_stats()

    assert pull.poll_all() == 1

    assert google.api_requests() == 2 == list_requests(google)
    connected.refresh_from_db()
    assert connected.last_sync_at is not None


def test_an_idle_poll_costs_three_queries_per_connection(google, connected, django_assert_num_queries):
    """Issue 15 (was 8 for one calendar): the connection with its calendars, their new tokens in one
    statement, the connection's success. No busy block is read, locked or swept."""
    BusyBlock.objects.bulk_create(
        BusyBlock(
            calendar=connected.calendars.get(is_linked=True),
            event_id=f"e{i}",
            start=timezone.now() + timedelta(hours=i),
            end=timezone.now() + timedelta(hours=i, minutes=30),
        )
        for i in range(200)
    )
    tokens = dict(GoogleCalendar.objects.values_list("pk", "sync_token"))
    google.reset_stats()

    with django_assert_num_queries(3) as queries:
        result = pull.pull_account(connected.pk)

    assert result["pages"] == 2 and google.api_requests() == 2
    assert not [q for q in queries.captured_queries if "integrations_busyblock" in q["sql"]]
    assert all(c.sync_token for c in GoogleCalendar.objects.filter(pk__in=tokens))
    connected.refresh_from_db()
    assert connected.last_sync_at is not None


def test_the_poll_sweeps_only_free_busy_snapshots_and_only_when_there_are_some(
    google, connected, django_assert_num_queries
):
    linked = connected.calendars.get(is_linked=True)
    at = timezone.now() + timedelta(days=1)
    BusyBlock.objects.create(calendar=linked, event_id="kept", start=at, end=at + timedelta(hours=1))
    BusyBlock.objects.create(calendar=linked, event_id="", start=at, end=at + timedelta(hours=2))
    BusyBlock.mark_changed(linked.pk, has_busy_snapshots=True)  # what a live free/busy check does
    version = GoogleCalendar.objects.get(pk=linked.pk).busy_version

    result = pull.pull_account(connected.pk)

    assert result["swept"] == 1
    assert list(BusyBlock.objects.values_list("event_id", flat=True)) == ["kept"]
    linked.refresh_from_db()
    assert not linked.has_busy_snapshots and linked.busy_version == version + 1
    with django_assert_num_queries(3):  # nothing left to sweep: back to the idle cost
        pull.pull_account(connected.pk)


def test_a_notification_heard_while_the_poll_reads_keeps_its_flag(google, connected):
    linked = connected.calendars.get(is_linked=True)
    GoogleCalendar.objects.filter(pk=linked.pk).update(pull_queued_at=timezone.now() - timedelta(minutes=1))
    other = connected.calendars.get(is_linked=False)
    later = timezone.now() + timedelta(minutes=1)  # set while the pull reads (after it started)
    GoogleCalendar.objects.filter(pk=other.pk).update(pull_queued_at=later)

    pull.pull_account(connected.pk)

    assert GoogleCalendar.objects.get(pk=linked.pk).pull_queued_at is None
    assert GoogleCalendar.objects.get(pk=other.pk).pull_queued_at == later


def test_polls_are_spread_over_the_interval_each_connection_once(settings):
    """Issue 15: no thundering herd. 10,000 connections, polled every 5 minutes: each falls in
    exactly one minute's slice, and the polls per second stay within 1.5× of the mean."""

    interval = 5 * 60
    slots = Counter(pull.poll_slot(pk, interval) for pk in range(1, 10_001))
    mean = 10_000 / interval
    assert len(slots) == interval, "every second of the interval has polls"
    assert max(slots.values()) <= 1.5 * mean and min(slots.values()) >= mean / 1.5
    per_minute = Counter(slot // 60 for slot in slots.elements())
    assert sorted(per_minute) == [0, 1, 2, 3, 4] and max(per_minute.values()) <= 1.5 * 2_000


def test_each_connection_is_polled_once_per_interval(google, connected, settings):
    settings.GOOGLE_POLL_MINUTES = 5
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a multiple of the interval
    google.reset_stats()

    enqueued = [pull.poll_due(now=start + timedelta(minutes=m, seconds=30)) for m in range(10)]

    assert sum(enqueued[:5]) == 1 and sum(enqueued[5:]) == 1, enqueued
    assert enqueued[:5] == enqueued[5:], "at the same offset every interval"
    assert google.api_requests() == 2 * 2  # two idle polls of its two calendars


def many_connections(count: int) -> list[int]:
    from copilot.accounts.models import User

    users = User.objects.bulk_create(User(email=f"p{n}@poll.test") for n in range(count))
    made = GoogleConnection.objects.bulk_create(
        GoogleConnection(user=u, google_uid=f"uid{n}", state=GoogleConnection.State.ACTIVE)
        for n, u in enumerate(users)
    )
    return [c.pk for c in made]


def paced_run(monkeypatch, planned: datetime, started: datetime) -> list[tuple[float, int]]:
    """Run the paced poll of the minute planned at ``planned``, starting at ``started``: (when each
    pull was enqueued, in seconds after ``planned``, and its connection)."""
    from freezegun import freeze_time

    from integrations import queue

    sent: list[tuple[float, int]] = []
    with freeze_time(started) as clock:
        monkeypatch.setattr(
            queue, "send_pull", lambda pk, **kw: sent.append(((timezone.now() - planned).total_seconds(), pk))
        )
        pull.poll_due(now=planned, pace=True, sleep=lambda seconds: clock.tick(seconds))
    return sent


def test_a_minute_of_polls_is_enqueued_one_pull_at_a_time_not_at_once(settings, monkeypatch):
    """Issue 15: a minute's slice arriving in one burst idles the workers for the rest of the minute
    and queues every push behind it. Paced, each pull leaves at its own moment: 30 s (the
    scheduler's lateness) after the planned minute plus its slot's offset, every second carrying
    its share."""

    settings.GOOGLE_POLL_MINUTES = 1  # every connection falls in every minute
    ids = many_connections(600)
    planned = datetime(2026, 1, 5, 9, 0, 17, tzinfo=UTC)

    sent = paced_run(monkeypatch, planned, started=planned + timedelta(seconds=12))

    assert sorted(pk for _, pk in sent) == sorted(ids), "each connection once"
    assert all(30 <= at < 90 for at, _ in sent)
    per_second = Counter(int(at) for at, _ in sent)
    assert len(per_second) == 60 and max(per_second.values()) <= 1.5 * 600 / 60
    for pk in ids:  # each at its own slot's second, every run alike
        assert int(dict((p, at) for at, p in sent)[pk]) == 30 + pull.poll_slot(pk, 60)


def test_a_small_slice_goes_at_once_without_keeping_a_worker_asleep(settings, monkeypatch):
    settings.GOOGLE_POLL_MINUTES = 1
    ids = many_connections(59)  # under queue.PACE_AT_LEAST: cleared by the workers in a moment
    planned = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)

    sent = paced_run(monkeypatch, planned, started=planned)

    assert sorted(pk for _, pk in sent) == sorted(ids) and {at for at, _ in sent} == {0}


def test_a_run_that_starts_late_sends_the_overdue_pulls_and_paces_the_rest(settings, monkeypatch):
    settings.GOOGLE_POLL_MINUTES = 1
    ids = many_connections(600)
    planned = datetime(2026, 1, 5, 9, 0, 0, tzinfo=UTC)

    sent = paced_run(monkeypatch, planned, started=planned + timedelta(seconds=50))

    assert sorted(pk for _, pk in sent) == sorted(ids)
    overdue = [at for at, pk in sent if 30 + pull.poll_slot(pk, 60) < 50]
    assert overdue and all(at == 50 for at in overdue)
    assert all(at == 30 + pull.poll_slot(pk, 60) + (at % 1) for at, pk in sent if at > 50)


def test_the_daily_full_pull_is_spread_over_the_day_once_per_connection():
    """Issue 15: the daily reconcile enqueued a full pull of every connection at once (10,000 full
    pulls in one burst). Now each connection's poll is full in its own interval of the day."""

    interval = 5 * 60
    day = range(0, pull.DAY_SECONDS, interval)
    fulls = Counter()
    for pk in range(1, 10_001):
        turns = [tick for tick in day if pull.daily_full_pull(pk, tick, interval)]
        assert len(turns) == 1, "exactly one full pull a day"
        fulls[turns[0]] += 1
    mean = 10_000 / len(day)
    assert len(fulls) == len(day) and max(fulls.values()) <= 1.5 * mean


def test_a_connection_s_poll_is_full_once_a_day(settings, monkeypatch):
    from integrations import queue

    settings.GOOGLE_POLL_MINUTES = 60  # 24 polls a day: few runs to drive
    ids = many_connections(40)
    sent = []
    monkeypatch.setattr(queue, "send_pull", lambda pk, full=False: sent.append((pk, full)))
    start = datetime(2026, 1, 5, tzinfo=UTC)

    for minute in range(24 * 60):
        pull.poll_due(now=start + timedelta(minutes=minute))

    assert Counter(pk for pk, _ in sent) == {pk: 24 for pk in ids}
    assert Counter(pk for pk, full in sent if full) == {pk: 1 for pk in ids}


def test_channels_opened_together_expire_spread_over_hours(settings):
    """Issue 15: channels opened together (a mass connect) do not come up for renewal together."""
    settings.GOOGLE_CHANNEL_TTL_SECONDS = 7 * 24 * 3600
    ttls = [channels.channel_ttl_seconds() for _ in range(1000)]

    assert all(7 * 24 * 3600 * 7 / 8 <= ttl <= 7 * 24 * 3600 for ttl in ttls)
    assert len({ttl // 3600 for ttl in ttls}) >= 20, "expiring over about 21 hours"


def test_a_lost_notification_is_caught_by_polling(
    google, bob, connected, book, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bob, *slot(bob, 2, 10))
    event_id = EventLink.objects.get(appointment=appointment).event_id
    email = bob.user.email
    google.service(email).events().patch(
        calendarId=email, eventId=event_id, body={"location": "Room 9"}
    ).execute()

    pull.poll_all()

    appointment.refresh_from_db()
    assert appointment.location == "Room 9"


def test_connections_that_cannot_call_google_or_back_off_are_skipped(google, connected):
    google.reset_stats()
    GoogleConnection.objects.filter(pk=connected.pk).update(state=GoogleConnection.State.NEEDS_RECONNECT)
    assert pull.pull_account(connected.pk) == {"skipped": "needs_reconnect"}
    assert pull.poll_all() == 0
    GoogleConnection.objects.filter(pk=connected.pk).update(
        state=GoogleConnection.State.ACTIVE, retry_after=timezone.now() + timedelta(minutes=5)
    )
    assert pull.pull_account(connected.pk) == {"skipped": "backing_off"}
    assert pull.poll_all() == 0
    assert google.api_requests() == 0


def test_google_being_down_is_recorded_and_backs_off(google, connected):
    google.faults(rate=1.0, statuses=[503])

    result = pull.pull_account(connected.pk)

    assert result["failed"] == 1
    connected.refresh_from_db()
    assert connected.failure_count == 1
    assert connected.retry_after > timezone.now()
    assert "503" in connected.last_error
    assert connected.state == GoogleConnection.State.ACTIVE


def test_a_revoked_grant_asks_the_person_to_reconnect(google, bob, connected):
    google.revoke(bob.user.email)

    pull.pull_account(connected.pk)

    connected.refresh_from_db()
    assert connected.state == GoogleConnection.State.NEEDS_RECONNECT


def test_malformed_events_are_logged_and_skipped_while_the_rest_of_the_page_syncs(bob, connected, caplog):
    calendar = connected.calendars.get(is_linked=True)
    start, end = slot(bob, 2, 10)

    def event(event_id, **fields):
        return {
            "id": event_id,
            "status": "confirmed",
            "summary": "Fine",
            "start": {"dateTime": start.isoformat()},
            "end": {"dateTime": end.isoformat()},
            **fields,
        }

    page = [
        event("good1"),
        event("nostart", start=None),
        {"id": "nostart2", "end": {"dateTime": end.isoformat()}},
        event("badzone", start={"dateTime": "2030-01-01T10:00:00", "timeZone": "Mars/Olympus_Mons"}),
        event("baddate", start={"dateTime": "2030-02-31T10:00:00Z"}),
        event("backwards", start={"dateTime": end.isoformat()}, end={"dateTime": start.isoformat()}),
        event("x" * 5000),
        event("huge", summary="S" * 1_000_000, description="D" * 1_000_000),
        "not an event",
        {"status": "confirmed"},
        event("good2", attendees="nobody", extendedProperties=["nope"]),
    ]
    with caplog.at_level(logging.WARNING, logger="integrations.google.pull"):
        counts = pull.process_page(calendar, page)

    assert counts["malformed"] == 8
    assert counts["busy"] == 3
    blocks = dict(BusyBlock.objects.values_list("event_id", "summary"))
    assert set(blocks) == {"good1", "good2", "huge"}
    assert blocks["huge"] == "S" * 300
    assert sum("malformed" in r.message for r in caplog.records) == 8
    assert not any("S" * 50 in r.message for r in caplog.records), "event content stays out of logs"


# --- Channels ---------------------------------------------------------------------------------------


def emulator_channels(google) -> dict[str, dict]:
    items = requests.get(f"{google.url}/_emulator/channels", timeout=10).json()["items"]
    return {c["id"]: c for c in items}


@pytest.fixture
def public_url(settings):
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # loopback: the emulator accepts plain HTTP there
    return settings.PUBLIC_BASE_URL


def test_watching_opens_one_channel_per_readable_selected_calendar(google, connected, public_url):
    result = pull.pull_account(connected.pk, ensure_channels=True)

    assert result["channels_opened"] == 2
    channels = list(WatchChannel.objects.all())
    at_google = emulator_channels(google)
    assert len({c.channel_id for c in channels}) == 2 and len({c.token for c in channels}) == 2
    for channel in channels:
        assert at_google[channel.channel_id]["address"] == public_url + "/integrations/google/notifications/"
        assert at_google[channel.channel_id]["token"] == channel.token
        assert channel.resource_id == at_google[channel.channel_id]["resourceId"]
        assert channel.expiration > timezone.now() + timedelta(days=6)
    assert pull.pull_account(connected.pk, ensure_channels=True).get("channels_opened") == 0


def test_a_calendar_no_longer_selected_loses_its_channel(google, bob, connected, personal, public_url):
    pull.pull_account(connected.pk, ensure_channels=True)
    watched = WatchChannel.objects.get(calendar__calendar_id=personal)
    connection_choose_calendars(
        connection=connected, linked_calendar_id=bob.user.email, conflict_calendar_ids=[]
    )

    pull.pull_account(connected.pk)

    watched.refresh_from_db()
    assert watched.stopped_at is not None
    assert emulator_channels(google)[watched.channel_id]["stopped"] is True
    assert WatchChannel.objects.filter(stopped_at__isnull=True).count() == 1


def test_channels_expiring_within_a_day_are_replaced(google, connected, public_url):
    pull.pull_account(connected.pk, ensure_channels=True)
    old = WatchChannel.objects.first()
    WatchChannel.objects.filter(pk=old.pk).update(expiration=timezone.now() + timedelta(hours=3))

    assert channels.renew_expiring_channels() == 1

    old.refresh_from_db()
    assert old.stopped_at is not None
    fresh = WatchChannel.objects.filter(calendar=old.calendar, stopped_at__isnull=True).get()
    assert fresh.channel_id != old.channel_id and fresh.token != old.token
    assert fresh.expiration > timezone.now() + timedelta(days=6)
    assert emulator_channels(google)[old.channel_id]["stopped"] is True


def test_a_poll_renews_its_channel_a_day_ahead_and_the_hourly_job_leaves_it_to_the_poll(
    google, connected, public_url, django_assert_num_queries
):
    """Issue 15: renewals ride on the polls (spread over the interval), not on one hourly burst."""
    pull.pull_account(connected.pk, ensure_channels=True)
    old = WatchChannel.objects.first()
    WatchChannel.objects.filter(pk=old.pk).update(expiration=timezone.now() + timedelta(hours=20))

    assert channels.renew_expiring_channels() == 0, "the hourly job only takes what no poll renewed"
    result = pull.pull_account(connected.pk)

    assert result["channels_renewed"] == 1
    old.refresh_from_db()
    assert old.stopped_at is not None and emulator_channels(google)[old.channel_id]["stopped"] is True
    fresh = WatchChannel.objects.filter(calendar=old.calendar, stopped_at__isnull=True).get()
    assert fresh.expiration > timezone.now() + timedelta(days=6)
    assert WatchChannel.objects.filter(stopped_at__isnull=True).count() == 2  # one per calendar
    with django_assert_num_queries(3):  # lasting channels: the idle poll's cost, nothing renewed
        assert "channels_renewed" not in pull.pull_account(connected.pk)


def test_without_a_public_address_there_are_no_channels_and_the_tab_says_so(google, connected, settings):
    settings.PUBLIC_BASE_URL = ""
    settings.GOOGLE_POLL_MINUTES = 5

    pull.pull_account(connected.pk, ensure_channels=True)

    assert not WatchChannel.objects.exists()
    assert channels.push_notifications_note() == (
        "Push notifications are off: no public HTTPS address is configured; "
        "changes from Google arrive by polling every 5 minutes."
    )
    settings.PUBLIC_BASE_URL = "https://copilot.example"
    assert channels.push_notifications_note() is None


# --- Django admin --------------------------------------------------------------------------------------


@pytest.fixture
def admin_client_logged_in(client):
    from copilot.accounts.models import User

    client.force_login(User.objects.create_superuser(email="root@copilot.test", password="x"))
    return client


def test_admin_lists_busy_blocks_and_forces_a_full_resync(
    google, bob, connected, admin_client_logged_in, django_capture_on_commit_callbacks
):
    email = bob.user.email
    add_event(google, email, email, *slot(bob, 2, 10))
    pull.pull_account(connected.pk)
    block = BusyBlock.objects.get()
    assert admin_client_logged_in.get("/admin/integrations/busyblock/").status_code == 200
    assert admin_client_logged_in.get(f"/admin/integrations/busyblock/{block.pk}/change/").status_code == 200
    google.reset_stats()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_logged_in.post(
            "/admin/integrations/busyblock/",
            {"action": "force_full_resync", "_selected_action": [block.pk], "index": 0},
        )

    assert response.status_code == 302
    assert list_requests(google) == 1, "one full pull of that calendar"
    assert BusyBlock.objects.get().event_id == block.event_id


def test_admin_renews_a_channel(google, connected, public_url, admin_client_logged_in):
    pull.pull_account(connected.pk, ensure_channels=True)
    old = WatchChannel.objects.first()
    assert admin_client_logged_in.get("/admin/integrations/watchchannel/").status_code == 200
    page = admin_client_logged_in.get(f"/admin/integrations/watchchannel/{old.pk}/change/")
    assert old.token not in page.content.decode(), "the channel's secret stays out of the admin"

    admin_client_logged_in.post(
        "/admin/integrations/watchchannel/",
        {"action": "renew_channel", "_selected_action": [old.pk], "index": 0},
    )

    old.refresh_from_db()
    assert old.stopped_at is not None
    assert WatchChannel.objects.filter(calendar=old.calendar, stopped_at__isnull=True).count() == 1
