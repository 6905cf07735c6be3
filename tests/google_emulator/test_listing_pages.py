"""Listing many pages: each query is sorted once, pages stay correct, writes between pages still count."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.http import BatchHttpRequest

from .conftest import Google
from .test_sync import list_all


def insert_many(google: Google, email: str, n: int) -> None:
    """`n` events on `email`'s primary calendar, out of order in time, inserted in batches."""
    service = google.service(email)
    for first in range(0, n, 50):
        batch = BatchHttpRequest(batch_uri=google.url + "/batch/calendar/v3")
        for i in range(first, min(first + 50, n)):
            day, hour = (i * 7) % 28 + 1, (i * 5) % 20
            body = {
                "summary": f"appt {i}",
                "start": {"dateTime": f"2030-01-{day:02d}T{hour:02d}:00:00Z"},
                "end": {"dateTime": f"2030-01-{day:02d}T{hour:02d}:30:00Z"},
            }
            batch.add(service.events().insert(calendarId="primary", body=body))
        batch.execute()


def keys(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(i["start"]["dateTime"], i["id"]) for i in items]


@pytest.mark.parametrize(
    "params",
    [{}, {"singleEvents": True, "orderBy": "startTime"}, {"orderBy": "updated"}, {"q": "appt 1"}],
    ids=["default", "startTime", "updated", "search"],
)
def test_many_small_pages_give_exactly_what_one_big_page_gives(
    google: Google, ana: str, params: dict
) -> None:
    insert_many(google, ana, 230)
    events = google.service(ana).events()
    sorts_before = google.server.app.listings.sorts

    paged, pages = list_all(events, maxResults=7, **params)

    assert google.server.app.listings.sorts - sorts_before == 1  # sorted once, not once per page
    google.server.app.listings.clear()
    whole, _ = list_all(events, maxResults=2500, **params)
    assert len(pages) == -(-len(whole) // 7) and len(pages) > 1
    assert keys(paged) == keys(whole) and len({i["id"] for i in paged}) == len(paged)


def test_a_recurring_series_pages_through_its_instances(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    body = {
        "summary": "huddle",
        "start": {"dateTime": "2030-01-07T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2030-01-07T09:30:00", "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=40"],
    }
    master = events.insert(calendarId="primary", body=body).execute()
    items, token, pages = [], None, 0
    while True:
        page = events.instances(
            calendarId="primary", eventId=master["id"], maxResults=6, pageToken=token
        ).execute()
        items += page["items"]
        pages += 1
        token = page.get("nextPageToken")
        if not token:
            break

    assert pages == 7 and len(items) == 40
    assert [i["start"]["dateTime"] for i in items] == sorted(i["start"]["dateTime"] for i in items)


def test_a_write_between_pages_is_seen_by_the_next_page_and_the_next_sync(google: Google, ana: str) -> None:
    insert_many(google, ana, 30)
    events = google.service(ana).events()
    first = events.list(calendarId="primary", maxResults=10, singleEvents=True, orderBy="startTime").execute()
    shown = keys(first["items"])
    late = events.insert(
        calendarId="primary",
        body={
            "summary": "late addition",
            "start": {"dateTime": "2030-02-01T10:00:00Z"},
            "end": {"dateTime": "2030-02-01T11:00:00Z"},
        },
    ).execute()
    early = events.insert(
        calendarId="primary",
        body={
            "summary": "before the cursor",
            "start": {"dateTime": "2029-12-01T10:00:00Z"},
            "end": {"dateTime": "2029-12-01T11:00:00Z"},
        },
    ).execute()

    rest, token = [], first["nextPageToken"]
    while token:
        page = events.list(
            calendarId="primary", maxResults=10, singleEvents=True, orderBy="startTime", pageToken=token
        ).execute()
        rest += page["items"]
        token = page.get("nextPageToken")

    assert late["id"] in {i["id"] for i in rest}  # after the cursor: on a later page
    assert early["id"] not in {i["id"] for i in rest}  # before it: not now, but ...
    assert not set(keys(rest)) & set(shown)  # and nothing twice
    delta = events.list(calendarId="primary", syncToken=page["nextSyncToken"]).execute()["items"]
    assert {i["id"] for i in delta} == {late["id"], early["id"]}  # ... in the next incremental sync
