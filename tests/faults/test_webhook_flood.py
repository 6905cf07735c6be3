"""A flood of forged and replayed Google notifications over HTTP: no pull, no task, pages still answer.

Wrong tokens on a real channel (with fresh message numbers, so only the token check stops them),
the right token naming another resource, and unknown channel ids, from several threads against the
live server, while a logged-in person keeps loading the week view. (Replays of a message number
with the right token are no longer refused: they run the debounced pull, see test_webhooks.py.)
"""

from __future__ import annotations

import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.core.cache import caches
from django.test import Client
from django.utils import timezone
from django_q.models import OrmQ, Task

from integrations import queue
from integrations.models import WatchChannel

from .conftest import connect_member, on_sqlite, scale

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

URL = "/integrations/google/notifications/"
FLOOD = 500
SENDERS = 6
LIST_ROUTE = "GET /calendar/v3/calendars/{calendarId}/events"


def _list_requests(google) -> int:
    return sum(google.stats()["requests"].get(LIST_ROUTE, {}).values())


def _forgeries(channel: WatchChannel, count: int) -> list[dict]:
    """Wrong tokens, the right token for another resource, and unknown channels, interleaved."""
    messages = []
    for number in range(count):
        headers = {
            "X-Goog-Channel-ID": channel.channel_id,
            "X-Goog-Channel-Token": channel.token,
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": str(channel.last_message_number + 1 + number),
        }
        kind = number % 3
        if kind == 0:
            headers["X-Goog-Channel-Token"] = secrets.token_urlsafe(32)
        elif kind == 1:
            headers["X-Goog-Resource-ID"] = secrets.token_urlsafe(16)
        else:
            headers["X-Goog-Channel-ID"] = secrets.token_urlsafe(24)
        messages.append(headers)
    return messages


def test_a_flood_of_forged_notifications_starts_no_sync(live_server, google, staff, monkeypatch):
    [member] = staff(1)
    connection = connect_member(google, member)
    channel = WatchChannel.objects.create(
        calendar=connection.calendars.get(is_linked=True),
        channel_id="flood-channel",
        token=secrets.token_urlsafe(32),
        resource_id="flood-resource",
        expiration=timezone.now() + timedelta(days=7),
        last_message_number=10,
    )
    pulls: Counter = Counter()
    real_enqueue = queue.enqueue_pull

    def counting_enqueue(calendar_pk: int) -> None:
        pulls[calendar_pk] += 1
        real_enqueue(calendar_pk)

    monkeypatch.setattr(queue, "enqueue_pull", counting_enqueue)
    browser = Client()
    browser.force_login(member.user)
    person = requests.Session()
    person.cookies.set("sessionid", browser.cookies["sessionid"].value)
    week = live_server.url + "/calendars/week/"
    assert person.get(week, timeout=30).status_code == 200
    tasks_before = Task.objects.count() + OrmQ.objects.count()
    google.reset_stats()

    messages = _forgeries(channel, max(int(FLOOD * scale()), 30))
    flooding = threading.Event()
    flooding.set()
    pages: list[int] = []

    def browse() -> None:
        while flooding.is_set():
            pages.append(person.get(week, timeout=60).status_code)

    def send(batch: list[dict]) -> list[int]:
        with requests.Session() as session:
            return [session.post(live_server.url + URL, headers=h, timeout=60).status_code for h in batch]

    if on_sqlite():
        # The in-memory SQLite test database takes one writer at a time (see conftest.db_turn):
        # one sender, and the page loaded between bursts.
        statuses = []
        for offset in range(0, len(messages), 25):
            statuses += send(messages[offset : offset + 25])
            pages.append(person.get(week, timeout=60).status_code)
    else:
        with ThreadPoolExecutor(SENDERS + 1) as pool:
            browsing = pool.submit(browse)
            sent = [pool.submit(send, messages[n::SENDERS]) for n in range(SENDERS)]
            statuses = [status for future in sent for status in future.result(timeout=300)]
            flooding.clear()
            browsing.result(timeout=120)

    assert statuses == [200] * len(messages), Counter(statuses)
    assert pages and set(pages) == {200}, f"the week view answered {Counter(pages)} during the flood"
    assert person.get(week, timeout=30).status_code == 200
    assert not pulls, f"forged notifications enqueued pulls: {dict(pulls)}"
    assert _list_requests(google) == 0, "forged notifications made us read Google"
    assert Task.objects.count() + OrmQ.objects.count() == tasks_before
    assert WatchChannel.objects.get(pk=channel.pk).last_message_number == 10

    # The control: one genuine notification after the flood is heard, and starts one pull. The
    # flood spent this channel's webhook budget for the window; the next window starts afresh.
    # (The live server runs in this process, so its memory of the spent budget is cleared too.)
    caches["default"].clear()
    caches["local"].clear()
    genuine = {
        "X-Goog-Channel-ID": channel.channel_id,
        "X-Goog-Channel-Token": channel.token,
        "X-Goog-Resource-ID": channel.resource_id,
        "X-Goog-Resource-State": "exists",
        "X-Goog-Message-Number": "11",
    }
    assert requests.post(live_server.url + URL, headers=genuine, timeout=30).status_code == 200
    assert sum(pulls.values()) == 1
    assert _list_requests(google) == 1
    print(f"\nWebhook flood: {len(messages)} forged notifications, {len(pages)} pages served meanwhile")
