"""freeBusy.query: merging, what does not count as busy, recurrences, limits, visibility."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .conftest import SIGN_IN, Google, reason_of

FREEBUSY = "https://www.googleapis.com/auth/calendar.freebusy"


def event(summary: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "start": {"dateTime": start}, "end": {"dateTime": end}, **extra}


def query(service: Any, ids: list[str], time_min: str, time_max: str, **extra: Any) -> dict[str, Any]:
    body = {"timeMin": time_min, "timeMax": time_max, "items": [{"id": i} for i in ids], **extra}
    return service.freebusy().query(body=body).execute()


def test_busy_intervals_merge_clip_and_skip_free_time(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    for body in (
        event("a", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z"),
        event("overlaps a", "2030-01-07T09:30:00Z", "2030-01-07T10:30:00Z"),
        event("touches", "2030-01-07T10:30:00Z", "2030-01-07T11:00:00Z"),
        event("starts before range", "2030-01-07T07:00:00Z", "2030-01-07T08:30:00Z"),
        event("transparent", "2030-01-07T12:00:00Z", "2030-01-07T13:00:00Z", transparency="transparent"),
        event(
            "declined",
            "2030-01-07T14:00:00Z",
            "2030-01-07T15:00:00Z",
            attendees=[{"email": ana, "responseStatus": "declined"}],
        ),
        event("tentative status", "2030-01-07T16:00:00Z", "2030-01-07T16:30:00Z", status="tentative"),
    ):
        events.insert(calendarId="primary", body=body).execute()
    cancelled = events.insert(
        calendarId="primary", body=event("cancelled", "2030-01-07T17:00:00Z", "2030-01-07T18:00:00Z")
    ).execute()
    events.delete(calendarId="primary", eventId=cancelled["id"]).execute()

    answer = query(
        google.service(ana, [*SIGN_IN, FREEBUSY]), [ana], "2030-01-07T08:00:00Z", "2030-01-08T00:00:00Z"
    )

    assert answer["kind"] == "calendar#freeBusy"
    assert answer["calendars"][ana]["busy"] == [
        {"start": "2030-01-07T08:00:00Z", "end": "2030-01-07T08:30:00Z"},
        {"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T11:00:00Z"},
        {"start": "2030-01-07T16:00:00Z", "end": "2030-01-07T16:30:00Z"},
    ]


def test_recurrences_and_all_day_events_in_the_calendar_zone(google: Google, ben: str) -> None:
    google.user("ny@example.test", "New York", time_zone="America/New_York")
    events = google.service("ny@example.test").events()
    weekly = {
        "summary": "Weekly",
        "start": {"dateTime": "2030-01-01T09:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2030-01-01T10:00:00", "timeZone": "America/New_York"},
        "recurrence": ["RRULE:FREQ=WEEKLY"],
    }
    events.insert(calendarId="primary", body=weekly).execute()
    events.insert(
        calendarId="primary",
        body={"summary": "Off", "start": {"date": "2030-01-10"}, "end": {"date": "2030-01-11"}},
    ).execute()

    answer = query(
        google.service("ny@example.test"),
        ["primary"],
        "2030-01-01T00:00:00Z",
        "2030-01-16T00:00:00Z",
        timeZone="America/New_York",
    )

    assert answer["calendars"]["primary"]["busy"] == [
        {"start": "2030-01-01T09:00:00-05:00", "end": "2030-01-01T10:00:00-05:00"},
        {"start": "2030-01-08T09:00:00-05:00", "end": "2030-01-08T10:00:00-05:00"},
        {"start": "2030-01-10T00:00:00-05:00", "end": "2030-01-11T00:00:00-05:00"},
        {"start": "2030-01-15T09:00:00-05:00", "end": "2030-01-15T10:00:00-05:00"},
    ]


def test_free_busy_reader_sees_busy_time_and_strangers_get_not_found(
    google: Google, ana: str, ben: str
) -> None:
    shared = google.calendar(ben, "Ben", {ana: "freeBusyReader"})
    google.service(ben).events().insert(
        calendarId=shared, body=event("x", "2030-01-07T09:00:00Z", "2030-01-07T10:00:00Z")
    ).execute()

    answer = query(
        google.service(ana, [*SIGN_IN, FREEBUSY]),
        [shared, ben, "nobody@example.test"],
        "2030-01-07T00:00:00Z",
        "2030-01-08T00:00:00Z",
    )

    assert answer["calendars"][shared]["busy"] == [
        {"start": "2030-01-07T09:00:00Z", "end": "2030-01-07T10:00:00Z"}
    ]
    for hidden in (ben, "nobody@example.test"):
        assert answer["calendars"][hidden] == {
            "errors": [{"domain": "global", "reason": "notFound"}],
            "busy": [],
        }


def test_at_most_50_calendars(google: Google, ana: str) -> None:
    service = google.service(ana)
    query(service, [ana] * 50, "2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z")
    with pytest.raises(HttpError) as caught:
        query(service, [ana] * 51, "2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z")
    assert caught.value.resp.status == 400 and reason_of(caught.value) == "tooManyCalendarsRequested"


def test_range_longer_than_90_days_is_refused(google: Google, ana: str) -> None:
    service = google.service(ana)
    query(service, [ana], "2030-01-01T00:00:00Z", "2030-04-01T00:00:00Z")  # exactly 90 days
    with pytest.raises(HttpError) as caught:
        query(service, [ana], "2030-01-01T00:00:00Z", "2030-04-01T00:00:01Z")
    assert caught.value.resp.status == 400 and reason_of(caught.value) == "timeRangeTooLong"


def test_free_busy_needs_a_free_busy_capable_scope(google: Google, ana: str) -> None:
    service = google.service(ana, [*SIGN_IN, "https://www.googleapis.com/auth/calendar.events"])
    with pytest.raises(HttpError) as caught:
        query(service, [ana], "2030-01-07T00:00:00Z", "2030-01-08T00:00:00Z")
    assert caught.value.resp.status == 403 and reason_of(caught.value) == "insufficientPermissions"
