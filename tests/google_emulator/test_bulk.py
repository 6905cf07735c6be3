"""`POST /_emulator/bulk`: many people at once, each as consent plus a first full sync leaves them."""

from __future__ import annotations

import requests
from googleapiclient.errors import HttpError

from google_emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

from .conftest import CALENDAR, Google, reason_of


def seed(google: Google, users: list[dict], **extra) -> list[dict]:
    return google.control("POST", "bulk", {"users": users, **extra})["items"]


def service(google: Google, item: dict):
    return google.service(item["email"], credentials=google.credentials_of(item))


def test_bulk_people_are_accounts_with_working_tokens_and_a_sync_token(google: Google) -> None:
    items = seed(
        google,
        [
            {"email": f"Staff{i}@Bulk.test", "name": f"Staff {i}", "timeZone": "Europe/Paris"}
            for i in range(3)
        ],
    )

    assert [i["email"] for i in items] == [f"staff{i}@bulk.test" for i in range(3)]
    accounts = {a["email"]: a for a in google.control("GET", "users")["items"]}
    for item in items:
        assert accounts[item["email"]]["sub"] == item["sub"]
        assert accounts[item["email"]]["timeZone"] == "Europe/Paris"
        assert CALENDAR in item["scope"].split() and "openid" in item["scope"].split()
        assert item["refresh_token"] and item["expires_in"] > 0 and "id_token" not in item
    events = service(google, items[0]).events()
    # The sync token is the one a full list ends with: nothing changed since, nothing comes back.
    assert events.list(calendarId="primary", syncToken=items[0]["nextSyncToken"]).execute()["items"] == []
    # Once something changes, it comes back, as after a real first sync.
    at = {"start": {"dateTime": "2030-01-02T10:00:00Z"}, "end": {"dateTime": "2030-01-02T11:00:00Z"}}
    made = events.insert(calendarId="primary", body={"summary": "New", **at}).execute()
    page = events.list(calendarId="primary", syncToken=items[0]["nextSyncToken"]).execute()
    assert [e["id"] for e in page["items"]] == [made["id"]]
    # Each person reaches only their own calendar.
    try:
        service(google, items[1]).events().list(calendarId=items[0]["email"]).execute()
        raise AssertionError("another person's calendar was readable")
    except HttpError as error:
        assert error.resp.status == 404 and reason_of(error) == "notFound"


def test_bulk_tokens_refresh_and_sync_tokens_expire_like_any_other(google: Google) -> None:
    item = seed(google, [{"email": "ana@bulk.test"}])[0]

    refreshed = requests.post(
        google.url + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": item["refresh_token"],
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        },
        timeout=10,
    )
    assert refreshed.status_code == 200 and refreshed.json()["access_token"] != item["access_token"]
    google.control("POST", "expire-sync-tokens")
    try:
        service(google, item).events().list(calendarId="primary", syncToken=item["nextSyncToken"]).execute()
        raise AssertionError("an expired sync token was accepted")
    except HttpError as error:
        assert error.resp.status == 410 and reason_of(error) == "fullSyncRequired"


def test_bulk_refuses_bad_input_and_is_not_counted(google: Google) -> None:
    for body in (
        {},
        {"users": []},
        {"users": ["ana@bulk.test"]},
        {"users": [{"email": "no-at-sign"}]},
        {"users": [{"email": "ana@bulk.test", "timeZone": "Mars/Olympus"}]},
        {"users": [{"email": "ana@bulk.test"}], "client_id": "nobody"},
        {"users": [{"email": "ana@bulk.test"}], "scopes": ["https://example.test/nothing"]},
        {"users": [{"email": f"p{i}@bulk.test"} for i in range(5001)]},
    ):
        answer = requests.post(google.url + "/_emulator/bulk", json=body, timeout=10)
        assert answer.status_code == 400, body
    assert google.control("GET", "users")["items"] == []
    seed(google, [{"email": "ana@bulk.test"}])
    assert google.stats()["total"] == 0


def test_bulk_watch_opens_a_channel_as_events_watch_does(google: Google, receiver) -> None:
    items = seed(
        google,
        [
            {
                "email": f"w{i}@bulk.test",
                "watch": {"id": f"chan-{i}", "token": f"t{i}", "address": receiver.url},
            }
            for i in range(2)
        ],
    )

    assert [i["channel"]["id"] for i in items] == ["chan-0", "chan-1"]
    assert all(int(i["channel"]["expiration"]) > 0 and i["channel"]["resourceId"] for i in items)
    synced = receiver.wait_for(2)
    assert sorted((c["x-goog-channel-id"], c["x-goog-resource-state"]) for c in synced) == [
        ("chan-0", "sync"),
        ("chan-1", "sync"),
    ]
    # A change of one calendar is told to its own channel only.
    at = {"start": {"dateTime": "2030-01-02T10:00:00Z"}, "end": {"dateTime": "2030-01-02T11:00:00Z"}}
    service(google, items[1]).events().insert(calendarId="primary", body={"summary": "x", **at}).execute()
    told = receiver.wait_for(3)[2]
    assert (told["x-goog-channel-id"], told["x-goog-resource-state"], told["x-goog-channel-token"]) == (
        "chan-1",
        "exists",
        "t1",
    )
    answer = requests.post(
        google.url + "/_emulator/bulk",
        json={"users": [{"email": "x@bulk.test", "watch": {"id": "chan-0", "address": receiver.url}}]},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"]["errors"][0]["reason"] == "channelIdNotUnique"
