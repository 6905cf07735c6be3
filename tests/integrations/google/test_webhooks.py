"""Google push notifications: only a valid ``exists`` on a live channel of ours starts a pull."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from calendars.models import Appointment
from integrations import services
from integrations.google import channels
from integrations.models import BusyBlock, EventLink, GoogleCalendar, WatchChannel
from tests.conftest import slot
from tests.helpers import wait_until
from tests.integrations.google.conftest import add_event

URL = "/integrations/google/notifications/"


def list_requests(google) -> int:
    return sum(google.stats()["requests"].get("GET /calendar/v3/calendars/{calendarId}/events", {}).values())


def headers(channel: WatchChannel, state: str = "exists", number: int = 2, **overrides) -> dict:
    result = {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": state,
        "X-Goog-Message-Number": str(number),
    }
    result.update(overrides)
    return {k: v for k, v in result.items() if v is not None}


@pytest.fixture
def channel(bob, connect) -> WatchChannel:
    """A live channel on bob's linked calendar, as ``channels.open_channel`` stores it."""
    connection = connect(bob)
    calendar = connection.calendars.get(is_linked=True)
    return WatchChannel.objects.create(
        calendar=calendar,
        channel_id="chan-1",
        token="s3cret-token",
        resource_id="res-1",
        expiration=timezone.now() + timedelta(days=7),
    )


@pytest.fixture
def notify(client, django_capture_on_commit_callbacks):
    """Post notifications; whatever they enqueue runs when the burst is over (as a worker would)."""

    def _notify(*header_sets: dict) -> list[int]:
        with django_capture_on_commit_callbacks(execute=True):
            return [client.post(URL, headers=h).status_code for h in header_sets]

    return _notify


@pytest.mark.django_db
def test_the_webhook_route_is_the_named_one():
    assert reverse("google_webhook") == URL


@pytest.mark.django_db
def test_a_burst_of_notifications_runs_one_pull(google, bob, channel, notify):
    add_event(google, bob.user.email, bob.user.email, *slot(bob, 2, 10))
    google.reset_stats()

    statuses = notify(*(headers(channel, number=n) for n in range(2, 8)))

    assert statuses == [200] * 6
    assert list_requests(google) == 1
    assert BusyBlock.objects.count() == 1
    calendar = GoogleCalendar.objects.get(pk=channel.calendar_id)
    assert calendar.pull_queued_at is None, "the pull clears the flag when it starts"
    assert calendar.sync_token


@pytest.mark.django_db
def test_a_notification_after_the_pull_started_gets_a_pull_of_its_own(google, bob, channel, notify):
    notify(headers(channel, number=2))
    google.reset_stats()

    notify(headers(channel, number=3))

    assert list_requests(google) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "forged",
    [
        {"X-Goog-Channel-Token": None},
        {"X-Goog-Channel-Token": ""},
        {"X-Goog-Channel-Token": "s3cret-tokeN"},
        {"X-Goog-Channel-ID": "chan-2"},
        {"X-Goog-Channel-ID": None},
        {"X-Goog-Resource-ID": "someone-elses"},
    ],
    ids=["missing-token", "empty-token", "wrong-token", "unknown-channel", "no-channel", "other-resource"],
)
def test_forged_notifications_change_nothing(google, bob, channel, notify, forged):
    add_event(google, bob.user.email, bob.user.email, *slot(bob, 2, 10))
    google.reset_stats()

    assert notify(headers(channel, **forged)) == [200]

    assert google.api_requests() == 0
    assert GoogleCalendar.objects.get(pk=channel.calendar_id).pull_queued_at is None
    assert WatchChannel.objects.get(pk=channel.pk).last_message_number == 0
    assert not BusyBlock.objects.exists()


@pytest.mark.django_db
def test_sync_messages_are_acknowledged_and_ignored(google, channel, notify):
    google.reset_stats()

    assert notify(headers(channel, state="sync", number=1)) == [200]

    assert google.api_requests() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("how", ["stopped", "expired"])
def test_stopped_and_expired_channels_are_ignored(google, channel, notify, how):
    if how == "stopped":
        WatchChannel.objects.filter(pk=channel.pk).update(stopped_at=timezone.now())
    else:
        WatchChannel.objects.filter(pk=channel.pk).update(expiration=timezone.now() - timedelta(minutes=1))
    google.reset_stats()

    assert notify(headers(channel)) == [200]

    assert google.api_requests() == 0


@pytest.mark.django_db
def test_a_replayed_message_number_only_runs_the_debounced_pull(google, channel, notify):
    """Replays used to be dropped by message number; now they are heard, and debounced like any burst."""
    notify(headers(channel, number=5))
    google.reset_stats()

    notify(headers(channel, number=5), headers(channel, number=4))

    assert list_requests(google) == 1


@pytest.mark.django_db
def test_a_huge_message_number_does_not_switch_the_channel_off(google, bob, channel, notify):
    """Issue 10, point 10: one forged notification with the right token and a huge number used to
    make every real later notification count as a replay until the channel was renewed."""
    notify(headers(channel, number=99999999999999999))
    add_event(google, bob.user.email, bob.user.email, *slot(bob, 2, 10))
    google.reset_stats()

    assert notify(headers(channel, number=3)) == [200]

    assert list_requests(google) == 1, "the real notification was heard and pulled"
    assert BusyBlock.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("number", ["99999999999999999999999", "-1", "1e9", "", "١٢"])
def test_hostile_message_numbers_are_harmless(google, channel, notify, number):
    google.reset_stats()

    assert notify(headers(channel, number=None, **{"X-Goog-Message-Number": number})) == [200]

    assert list_requests(google) == 1


@pytest.mark.django_db
def test_a_stale_queued_flag_does_not_block_pulls_forever(google, channel, notify):
    GoogleCalendar.objects.filter(pk=channel.calendar_id).update(
        pull_queued_at=timezone.now() - timedelta(minutes=30)
    )
    google.reset_stats()

    notify(headers(channel))

    assert list_requests(google) == 1


@pytest.mark.django_db
def test_only_post_is_accepted(client):
    assert client.get(URL).status_code == 405


# --- Rate limit per channel (issue 10, point 10) ---------------------------------------------

FLOOD = 2000
# What one count costs at most in the database cache (add, then incr: a get and a set, with savepoints).
SHARED_CACHE_QUERIES = 12


@pytest.mark.django_db
def test_a_flood_on_one_channel_costs_bounded_queries_and_later_notifications_still_work(
    google,
    bob,
    channel,
    settings,
    django_assert_max_num_queries,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    """The budget's messages cost a channel lookup and the shared cache's own bookkeeping each; the
    one that finds the budget spent costs a shared-cache check; the rest of the flood costs nothing.

    (The shared cache is the database cache here, as in production without ``REDIS_URL``.)
    """
    settings.GOOGLE_WEBHOOK_RATE = "60/m"
    forged = headers(channel, **{"X-Goog-Channel-Token": "forged"})
    client = Client()
    google.reset_stats()
    with freeze_time(timezone.now()) as clock:
        budget = 60 + 1  # the budget, and the message that finds it spent
        with (
            django_assert_max_num_queries(budget * (1 + SHARED_CACHE_QUERIES)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            statuses = [client.post(URL, headers=forged).status_code for _ in range(budget)]
        with django_assert_num_queries(0), django_capture_on_commit_callbacks(execute=True):
            statuses += [client.post(URL, headers=forged).status_code for _ in range(FLOOD - budget)]
        assert statuses == [200] * FLOOD
        assert google.api_requests() == 0
        assert GoogleCalendar.objects.get(pk=channel.calendar_id).pull_queued_at is None

        clock.tick(timedelta(minutes=2))  # the next window
        add_event(google, bob.user.email, bob.user.email, *slot(bob, 2, 10))
        google.reset_stats()
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(URL, headers=headers(channel, number=3)).status_code == 200
    assert list_requests(google) == 1, "a real notification after the window starts a pull"


@pytest.mark.django_db
def test_a_flood_with_the_right_token_runs_a_bounded_number_of_pulls(
    google, channel, settings, django_capture_on_commit_callbacks
):
    settings.GOOGLE_WEBHOOK_RATE = "10/m"
    client = Client()
    google.reset_stats()
    with freeze_time(timezone.now()), django_capture_on_commit_callbacks(execute=True) as callbacks:
        statuses = [client.post(URL, headers=headers(channel, number=n)).status_code for n in range(500)]
    assert statuses == [200] * 500
    assert len(callbacks) <= 1, "the debounce holds the burst to one queued pull"
    assert list_requests(google) <= 1


@pytest.mark.django_db
def test_the_budget_is_per_channel(google, bob, channel, settings, django_capture_on_commit_callbacks):
    settings.GOOGLE_WEBHOOK_RATE = "5/m"
    client = Client()
    other = headers(channel, **{"X-Goog-Channel-ID": "someone-elses-channel"})
    with freeze_time(timezone.now()):
        for _ in range(50):
            client.post(URL, headers=other)
        google.reset_stats()
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(URL, headers=headers(channel)).status_code == 200
    assert list_requests(google) == 1


@pytest.fixture
def quiet_afterwards(google):
    """The live server outlives the test: forget every channel so no late notification reaches it."""
    yield
    google.reset()


def delivered(google, state: str) -> bool:
    """Whether the emulator has delivered a ``state`` message and our server answered 2xx (no DB access)."""
    deliveries = requests.get(f"{google.url}/_emulator/channels", timeout=10).json()["deliveries"]
    return any(d["state"] == state and d["ok"] for d in deliveries)


@pytest.mark.django_db(transaction=True)
def test_a_real_notification_from_google_moves_the_appointment(
    live_server, google, bob, connect, book, settings, quiet_afterwards
):
    """Google (the emulator) posts to the running server, which pulls inline (Q_SYNC).

    The live server's request threads share the test's SQLite connection, so this thread stays
    away from the database while a notification is being handled: each step waits on the
    emulator's delivery log instead.
    """
    connection = connect(bob)  # on commit, here: the first push and pull (no public address yet)
    settings.PUBLIC_BASE_URL = live_server.url  # from now on our events carry the portal link
    start, end = slot(bob, 2, 10)
    appointment = book(bob, start, end)  # pushed on commit
    event_id = EventLink.objects.get(appointment=appointment).event_id
    calendar = connection.calendars.get(is_linked=True)
    channel = WatchChannel.objects.create(
        calendar=calendar,
        channel_id="live-1",
        token="live-token",
        expiration=timezone.now() + timedelta(days=1),
    )
    answer = services.open_session(connection).watch(
        calendar.calendar_id,
        channel_id=channel.channel_id,
        token=channel.token,
        address=channels.webhook_address(),
        ttl_seconds=3600,
    )
    assert answer["resourceId"]
    wait_until(lambda: delivered(google, "sync"))
    new_start, new_end = slot(bob, 2, 15)
    email = bob.user.email

    google.service(email).events().patch(
        calendarId=email,
        eventId=event_id,
        body={"start": {"dateTime": new_start.isoformat()}, "end": {"dateTime": new_end.isoformat()}},
    ).execute()

    wait_until(lambda: delivered(google, "exists"))
    moved = Appointment.objects.get(pk=appointment.pk)
    assert (moved.start, moved.end) == (new_start, new_end)
    assert moved.changes.first().get_source_display() == "Changed in Google"
    assert WatchChannel.objects.get(pk=channel.pk).last_message_number == 2  # nothing was written back
