"""Special event types as Google restricts them: birthdays, and status events on primary calendars only."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .conftest import Google, reason_of


def birthday(**extra: Any) -> dict[str, Any]:
    body = {
        "summary": "Pat's birthday",
        "eventType": "birthday",
        "start": {"date": "2030-05-14"},
        "end": {"date": "2030-05-15"},
        "visibility": "private",
        "transparency": "transparent",
        "recurrence": ["RRULE:FREQ=YEARLY"],
    }
    return body | extra


def status_event(kind: str, **extra: Any) -> dict[str, Any]:
    properties = {
        "focusTime": {"focusTimeProperties": {"chatStatus": "doNotDisturb"}},
        "outOfOffice": {"outOfOfficeProperties": {"autoDeclineMode": "declineNone"}},
        "workingLocation": {
            "workingLocationProperties": {"type": "homeOffice", "homeOffice": {}},
            "visibility": "public",
            "transparency": "transparent",
        },
    }[kind]
    body = {
        "eventType": kind,
        "start": {"dateTime": "2030-05-14T09:00:00Z"},
        "end": {"dateTime": "2030-05-14T11:00:00Z"},
        **properties,
    }
    return body | extra


def refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.resp.status, reason_of(caught.value)


def test_a_birthday_event_is_accepted_and_comes_back_with_its_properties(google: Google, ana: str) -> None:
    events = google.service(ana).events()

    created = events.insert(calendarId="primary", body=birthday()).execute()

    assert created["eventType"] == "birthday"
    assert created["birthdayProperties"] == {"type": "birthday"}
    assert created["recurrence"] == ["RRULE:FREQ=YEARLY"]
    listed = events.list(calendarId="primary", singleEvents=True, timeMin="2031-05-01T00:00:00Z").execute()
    next_year = [e for e in listed["items"] if e["start"] == {"date": "2031-05-14"}]
    assert next_year and next_year[0]["eventType"] == "birthday"
    fetched = events.get(calendarId="primary", eventId=created["id"]).execute()
    assert fetched["birthdayProperties"] == {"type": "birthday"}


def test_a_birthday_leaves_the_day_free(google: Google, ana: str) -> None:
    service = google.service(ana)
    service.events().insert(calendarId="primary", body=birthday()).execute()

    answer = (
        service.freebusy()
        .query(
            body={
                "timeMin": "2030-05-14T00:00:00Z",
                "timeMax": "2030-05-15T00:00:00Z",
                "items": [{"id": ana}],
            }
        )
        .execute()
    )

    assert answer["calendars"][ana]["busy"] == []


@pytest.mark.parametrize(
    "change",
    [
        {
            "start": {"dateTime": "2030-05-14T09:00:00Z", "timeZone": "UTC"},
            "end": {"dateTime": "2030-05-14T10:00:00Z", "timeZone": "UTC"},
        },
        {"end": {"date": "2030-05-16"}},
        {"visibility": "default"},
        {"transparency": "opaque"},
        {"recurrence": None},
        {"recurrence": ["RRULE:FREQ=MONTHLY"]},
        {"birthdayProperties": {"type": "anniversary"}},
    ],
    ids=["timed", "two-days", "not-private", "opaque", "not-recurring", "monthly", "anniversary"],
)
def test_a_birthday_breaking_googles_rules_is_refused(google: Google, ana: str, change: dict) -> None:
    body = {k: v for k, v in (birthday() | change).items() if v is not None}

    status, reason = refusal(google.service(ana).events().insert(calendarId="primary", body=body))

    assert (status, reason) == (400, "eventTypeRestriction")


def test_the_event_type_cannot_change_after_creation(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    created = events.insert(calendarId="primary", body=birthday()).execute()
    plain = events.insert(
        calendarId="primary",
        body={"start": {"date": "2030-06-01"}, "end": {"date": "2030-06-02"}, "summary": "Trip"},
    ).execute()

    assert refusal(
        events.patch(calendarId="primary", eventId=created["id"], body={"eventType": "default"})
    ) == (
        400,
        "eventTypeRestriction",
    )
    assert refusal(
        events.patch(calendarId="primary", eventId=plain["id"], body={"eventType": "outOfOffice"})
    ) == (400, "eventTypeRestriction")
    renamed = events.patch(
        calendarId="primary", eventId=created["id"], body={"summary": "Pat turns 40"}
    ).execute()
    assert renamed["eventType"] == "birthday" and renamed["birthdayProperties"] == {"type": "birthday"}


@pytest.mark.parametrize("kind", ["focusTime", "outOfOffice", "workingLocation"])
def test_status_events_are_accepted_on_a_primary_calendar(google: Google, ana: str, kind: str) -> None:
    created = google.service(ana).events().insert(calendarId="primary", body=status_event(kind)).execute()

    assert created["eventType"] == kind


@pytest.mark.parametrize("kind", ["focusTime", "outOfOffice", "workingLocation"])
def test_status_events_are_refused_on_other_calendars(google: Google, ana: str, kind: str) -> None:
    team = google.calendar(ana, "Team")

    status, reason = refusal(google.service(ana).events().insert(calendarId=team, body=status_event(kind)))

    assert (status, reason) == (400, "eventTypeRestriction")
    assert google.service(ana).events().list(calendarId=team).execute()["items"] == []


@pytest.mark.parametrize("kind", ["focusTime", "outOfOffice"])
def test_focus_time_and_out_of_office_are_never_all_day(google: Google, ana: str, kind: str) -> None:
    body = status_event(kind, start={"date": "2030-05-14"}, end={"date": "2030-05-15"})

    assert refusal(google.service(ana).events().insert(calendarId="primary", body=body)) == (
        400,
        "eventTypeRestriction",
    )


def test_status_events_and_birthdays_cannot_be_moved(google: Google, ana: str) -> None:
    team = google.calendar(ana, "Team")
    events = google.service(ana).events()
    focus = events.insert(calendarId="primary", body=status_event("focusTime")).execute()
    cake = events.insert(calendarId="primary", body=birthday()).execute()

    for event in (focus, cake):
        assert refusal(events.move(calendarId="primary", eventId=event["id"], destination=team)) == (
            400,
            "eventTypeRestriction",
        )
    assert len(events.list(calendarId="primary").execute()["items"]) == 2
