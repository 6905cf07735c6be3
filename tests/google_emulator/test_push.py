"""Push notifications: events.watch, delivery, retries, channels.stop."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from tests.helpers import wait_until

from .conftest import Google, Receiver, reason_of


def timed(summary: str) -> dict[str, Any]:
    return {
        "summary": summary,
        "start": {"dateTime": "2030-01-01T10:00:00Z"},
        "end": {"dateTime": "2030-01-01T11:00:00Z"},
    }


def watch(service: Any, channel_id: str, address: str, **extra: Any) -> dict[str, Any]:
    body = {"id": channel_id, "type": "web_hook", "address": address, **extra}
    return service.events().watch(calendarId="primary", body=body).execute()


def test_watch_sends_sync_then_exists_with_googles_headers(
    google: Google, ana: str, receiver: Receiver
) -> None:
    service = google.service(ana)
    channel = watch(service, "chan-1", receiver.url, token="practice=7", params={"ttl": "3600"})

    assert channel["kind"] == "api#channel" and channel["id"] == "chan-1" and channel["token"] == "practice=7"
    assert channel["resourceUri"] == f"{google.url}/calendar/v3/calendars/primary/events?alt=json"
    assert channel["resourceId"] and int(channel["expiration"]) > 0
    sync = receiver.wait_for(1)[0]
    assert sync["x-goog-resource-state"] == "sync" and sync["x-goog-message-number"] == "1"

    service.events().insert(calendarId="primary", body=timed("new")).execute()

    exists = receiver.wait_for(2)[1]
    assert exists["x-goog-resource-state"] == "exists"
    assert exists["x-goog-message-number"] == "2"
    assert exists["x-goog-channel-id"] == "chan-1"
    assert exists["x-goog-channel-token"] == "practice=7"
    assert exists["x-goog-resource-id"] == channel["resourceId"]
    assert exists["x-goog-resource-uri"] == channel["resourceUri"]
    assert exists["x-goog-channel-expiration"].endswith(" GMT")


def test_every_kind_of_change_notifies(google: Google, ana: str, receiver: Receiver) -> None:
    service = google.service(ana)
    team = google.calendar(ana, "Team")
    watch(service, "chan-2", receiver.url)
    receiver.wait_for(1)
    created = service.events().insert(calendarId="primary", body=timed("a")).execute()
    service.events().patch(calendarId="primary", eventId=created["id"], body={"summary": "b"}).execute()
    service.events().move(calendarId="primary", eventId=created["id"], destination=team).execute()
    other = service.events().insert(calendarId="primary", body=timed("c")).execute()
    service.events().delete(calendarId="primary", eventId=other["id"]).execute()

    calls = receiver.wait_for(6)
    assert [c["x-goog-message-number"] for c in calls] == ["1", "2", "3", "4", "5", "6"]
    assert "x-goog-channel-token" not in calls[0]


def test_delivery_is_retried_after_a_500(google: Google, ana: str, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    watch(google.service(ana), "chan-3", receiver.url)

    calls = receiver.wait_for(3)

    assert [c["x-goog-message-number"] for c in calls] == ["1", "1", "1"]

    # The receiver has the third call before the emulator has logged its answer: wait for the log.
    def three_logged() -> list | None:
        log = google.control("GET", "channels")["deliveries"]
        return log if len(log) >= 3 else None

    deliveries = wait_until(three_logged)
    assert [(d["attempt"], d.get("status")) for d in deliveries] == [(1, 500), (2, 503), (3, 200)]


def test_no_deliveries_after_channels_stop_or_expiry(google: Google, ana: str, receiver: Receiver) -> None:
    service = google.service(ana)
    stopped = watch(service, "stopped", receiver.url)
    watch(service, "expired", receiver.url, params={"ttl": "0"})
    receiver.wait_for(1)
    service.channels().stop(body={"id": "stopped", "resourceId": stopped["resourceId"]}).execute()
    watch(service, "witness", receiver.url)

    service.events().insert(calendarId="primary", body=timed("after stop")).execute()

    calls = receiver.wait_for(3)
    assert [(c["x-goog-channel-id"], c["x-goog-resource-state"]) for c in calls] == [
        ("stopped", "sync"),
        ("witness", "sync"),
        ("witness", "exists"),
    ]


def test_stopping_an_unknown_channel_is_404(google: Google, ana: str) -> None:
    with pytest.raises(HttpError) as caught:
        google.service(ana).channels().stop(body={"id": "nope", "resourceId": "nope"}).execute()
    assert caught.value.resp.status == 404


def test_watch_validates_the_channel(google: Google, ana: str, receiver: Receiver) -> None:
    service = google.service(ana)
    watch(service, "dup", receiver.url)
    with pytest.raises(HttpError) as duplicate:
        watch(service, "dup", receiver.url)
    assert duplicate.value.resp.status == 400 and reason_of(duplicate.value) == "channelIdNotUnique"
    with pytest.raises(HttpError) as insecure:
        watch(service, "plain-http", "http://hooks.example.com/google")
    assert reason_of(insecure.value) == "push.webhookUrlNotHttps"
