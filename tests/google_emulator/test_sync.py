"""Paging and incremental sync with sync tokens, as a sync engine uses them."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .conftest import Google, reason_of


def insert(events: Any, n: int, prefix: str = "appt") -> list[dict[str, Any]]:
    made = []
    for i in range(n):
        body = {
            "summary": f"{prefix} {i}",
            "start": {"dateTime": f"2030-01-{i % 28 + 1:02d}T10:00:00Z"},
            "end": {"dateTime": f"2030-01-{i % 28 + 1:02d}T11:00:00Z"},
        }
        made.append(events.insert(calendarId="primary", body=body).execute())
    return made


def list_all(events: Any, **params: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every item over all pages, plus the raw pages."""
    items, pages, token = [], [], None
    while True:
        page = events.list(calendarId="primary", pageToken=token, **params).execute()
        pages.append(page)
        items += page["items"]
        token = page.get("nextPageToken")
        if not token:
            return items, pages


def test_paging_gives_the_sync_token_only_on_the_last_page(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    made = insert(events, 7)

    items, pages = list_all(events, maxResults=3)

    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert ["nextSyncToken" in p for p in pages] == [False, False, True]
    assert ["nextPageToken" in p for p in pages] == [True, True, False]
    assert sorted(i["id"] for i in items) == sorted(e["id"] for e in made)
    envelope = pages[0]
    assert envelope["kind"] == "calendar#events" and envelope["accessRole"] == "owner"
    assert envelope["timeZone"] == "UTC" and envelope["defaultReminders"] == []


def test_incremental_sync_returns_only_changes_with_tombstones(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    kept, changed, removed = insert(events, 3)
    _, pages = list_all(events)
    token = pages[-1]["nextSyncToken"]

    events.patch(calendarId="primary", eventId=changed["id"], body={"summary": "moved"}).execute()
    events.delete(calendarId="primary", eventId=removed["id"]).execute()
    added = insert(events, 1, prefix="new")[0]

    delta, delta_pages = list_all(events, syncToken=token)

    by_id = {i["id"]: i for i in delta}
    assert set(by_id) == {changed["id"], removed["id"], added["id"]}
    assert by_id[changed["id"]]["summary"] == "moved"
    tombstone = by_id[removed["id"]]
    assert tombstone["status"] == "cancelled"
    assert set(tombstone) <= {"kind", "etag", "id", "status", "updated"}
    assert kept["id"] not in by_id

    quiet, _ = list_all(events, syncToken=delta_pages[-1]["nextSyncToken"])
    assert quiet == []


def test_incremental_sync_pages_like_a_full_list(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    _, pages = list_all(events)
    insert(events, 5)

    delta, delta_pages = list_all(events, syncToken=pages[-1]["nextSyncToken"], maxResults=2)

    assert len(delta) == 5 and len(delta_pages) == 3
    assert "nextSyncToken" in delta_pages[-1] and "nextSyncToken" not in delta_pages[0]


def test_a_write_between_pages_reaches_the_next_sync(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    insert(events, 4)
    first = events.list(calendarId="primary", maxResults=2).execute()
    late = insert(events, 1, prefix="late")[0]
    rest, pages = [], [first]
    token = first["nextPageToken"]
    while token:
        page = events.list(calendarId="primary", maxResults=2, pageToken=token).execute()
        pages.append(page)
        rest += page["items"]
        token = page.get("nextPageToken")

    delta, _ = list_all(events, syncToken=pages[-1]["nextSyncToken"])
    assert late["id"] in {i["id"] for i in delta}


def test_single_events_sync_returns_instances_of_a_changed_series(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    _, pages = list_all(events, singleEvents=True)
    body = {
        "summary": "Standup",
        "start": {"dateTime": "2030-05-06T09:00:00Z", "timeZone": "UTC"},
        "end": {"dateTime": "2030-05-06T09:15:00Z", "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
    }
    master = events.insert(calendarId="primary", body=body).execute()
    events.delete(calendarId="primary", eventId=f"{master['id']}_20300507T090000Z").execute()

    delta, _ = list_all(events, singleEvents=True, syncToken=pages[-1]["nextSyncToken"])

    status = {i["id"]: i["status"] for i in delta}
    assert status[f"{master['id']}_20300506T090000Z"] == "confirmed"
    assert status[f"{master['id']}_20300507T090000Z"] == "cancelled"
    cancelled = next(i for i in delta if i["status"] == "cancelled")
    assert cancelled["recurringEventId"] == master["id"] and cancelled["originalStartTime"]


def test_expired_sync_tokens_answer_410_full_sync_required(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    _, pages = list_all(events)
    google.control("POST", "expire-sync-tokens")

    with pytest.raises(HttpError) as caught:
        events.list(calendarId="primary", syncToken=pages[-1]["nextSyncToken"]).execute()

    assert caught.value.resp.status == 410
    assert reason_of(caught.value) == "fullSyncRequired"
    assert "Sync token is no longer valid, a full sync is required." in str(caught.value.reason)


def test_a_token_for_another_calendar_or_garbage_is_410(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    for token in ("garbage", "eyJjIjoieCJ9"):
        with pytest.raises(HttpError) as caught:
            events.list(calendarId="primary", syncToken=token).execute()
        assert caught.value.resp.status == 410


@pytest.mark.parametrize(
    "param",
    [
        {"timeMin": "2030-01-01T00:00:00Z"},
        {"timeMax": "2030-01-01T00:00:00Z"},
        {"orderBy": "updated"},
        {"q": "x"},
        {"updatedMin": "2030-01-01T00:00:00Z"},
        {"iCalUID": "x@google.com"},
        {"privateExtendedProperty": "a=b"},
        {"sharedExtendedProperty": "a=b"},
    ],
)
def test_sync_token_refuses_filters(google: Google, ana: str, param: dict) -> None:
    events = google.service(ana).events()
    _, pages = list_all(events)
    with pytest.raises(HttpError) as caught:
        events.list(calendarId="primary", syncToken=pages[-1]["nextSyncToken"], **param).execute()
    assert caught.value.resp.status == 400 and reason_of(caught.value) == "invalid"


def test_show_deleted_and_updated_min_include_tombstones(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    gone = insert(events, 1)[0]
    events.delete(calendarId="primary", eventId=gone["id"]).execute()

    assert events.list(calendarId="primary").execute()["items"] == []
    shown = events.list(calendarId="primary", showDeleted=True).execute()["items"]
    assert [(i["id"], i["status"]) for i in shown] == [(gone["id"], "cancelled")]
    since = events.list(calendarId="primary", updatedMin="2000-01-01T00:00:00Z").execute()["items"]
    assert [i["id"] for i in since] == [gone["id"]]


def test_order_by_updated(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    first, second = insert(events, 2)
    events.patch(calendarId="primary", eventId=first["id"], body={"summary": "touched"}).execute()
    ordered = events.list(calendarId="primary", orderBy="updated").execute()["items"]
    assert [i["id"] for i in ordered] == [second["id"], first["id"]]
