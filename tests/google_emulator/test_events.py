"""Events: CRUD, ids, etags, move, access roles, all-day and recurring events, filters."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .conftest import SIGN_IN, Google, reason_of

EVENTS_SCOPE = "https://www.googleapis.com/auth/calendar.events"


def timed(summary: str, start: str, end: str, **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "start": {"dateTime": start}, "end": {"dateTime": end}, **extra}


def error_of(call: Any) -> HttpError:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value


def test_insert_get_update_delete_round_trip(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    created = events.insert(
        calendarId="primary",
        sendUpdates="none",
        body=timed(
            "Cleaning",
            "2030-03-04T10:00:00-05:00",
            "2030-03-04T11:00:00-05:00",
            location="Chair 1",
            attendees=[{"email": ana}, {"email": "patient@example.test", "displayName": "Pat"}],
        ),
    ).execute()

    assert created["kind"] == "calendar#event" and created["status"] == "confirmed"
    assert len(created["id"]) == 26 and created["iCalUID"] == created["id"] + "@google.com"
    assert created["start"] == {"dateTime": "2030-03-04T15:00:00Z"}
    assert created["organizer"] == {"email": ana, "displayName": "Ana Diaz", "self": True}
    assert created["creator"] == {"email": ana, "self": True}
    assert created["attendees"][0]["self"] is True and created["attendees"][0]["organizer"] is True
    assert (
        created["attendees"][1]["responseStatus"] == "needsAction" and "self" not in created["attendees"][1]
    )
    assert created["updated"].endswith("Z") and len(created["updated"]) == 24
    assert created["reminders"] == {"useDefault": True} and created["sequence"] == 0
    assert created["htmlLink"].startswith(google.url + "/event?eid=")

    fetched = events.get(calendarId=ana, eventId=created["id"]).execute()
    assert fetched == created

    body = timed("Deep cleaning", "2030-03-04T12:00:00Z", "2030-03-04T13:30:00Z")
    updated = events.update(calendarId="primary", eventId=created["id"], body=body).execute()
    assert updated["summary"] == "Deep cleaning" and "location" not in updated
    assert updated["etag"] != created["etag"] and updated["sequence"] == 1

    events.delete(calendarId="primary", eventId=created["id"]).execute()
    gone = events.get(calendarId="primary", eventId=created["id"]).execute()
    assert gone["status"] == "cancelled"
    assert error_of(events.delete(calendarId="primary", eventId=created["id"])).resp.status == 410


def test_event_with_time_zone_keeps_wall_clock(google: Google, ana: str) -> None:
    body = {
        "summary": "Local",
        "start": {"dateTime": "2030-07-01T09:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2030-07-01T09:30:00", "timeZone": "America/New_York"},
    }
    created = google.service(ana).events().insert(calendarId="primary", body=body).execute()
    assert created["start"] == {"dateTime": "2030-07-01T09:00:00-04:00", "timeZone": "America/New_York"}


def test_client_chosen_ids_are_validated(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    ok = events.insert(
        calendarId="primary", body=timed("A", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z", id="appt00042")
    ).execute()
    assert ok["id"] == "appt00042"

    for bad in ("appt-42", "APPT00042", "wxyz12345", "abc"):
        error = error_of(
            events.insert(
                calendarId="primary", body=timed("B", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z", id=bad)
            )
        )
        assert error.resp.status == 400 and reason_of(error) == "invalid", bad
        assert "Invalid resource id value." in str(error.reason)


def test_an_id_that_existed_is_a_409_even_after_delete(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    body = timed("A", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z", id="appt00043")
    events.insert(calendarId="primary", body=body).execute()
    events.delete(calendarId="primary", eventId="appt00043").execute()

    error = error_of(events.insert(calendarId="primary", body=body))

    assert error.resp.status == 409 and reason_of(error) == "duplicate"
    assert "The requested identifier already exists." in str(error.reason)


@pytest.mark.parametrize(
    ("body", "reason", "message"),
    [
        ({"summary": "x", "start": {"dateTime": "2030-01-01T10:00:00Z"}}, "required", "Missing end time."),
        ({"summary": "x", "end": {"dateTime": "2030-01-01T10:00:00Z"}}, "required", "Missing start time."),
        (
            timed("x", "2030-01-01T10:00:00Z", "2030-01-01T09:00:00Z"),
            "timeRangeEmpty",
            "The specified time range is empty.",
        ),
        (
            {
                "start": {"dateTime": "2030-01-01T10:00:00", "timeZone": "Mars/Olympus"},
                "end": {"dateTime": "2030-01-01T11:00:00Z"},
            },
            "invalid",
            "Invalid time zone definition for start time.",
        ),
        (timed("x", "tomorrow", "2030-01-01T09:00:00Z"), "invalid", "Invalid start time."),
        (
            {"start": {"date": "2030-01-01"}, "end": {"dateTime": "2030-01-01T09:00:00Z"}},
            "invalid",
            "either both be date",
        ),
    ],
)
def test_insert_validation_errors(google: Google, ana: str, body: dict, reason: str, message: str) -> None:
    error = error_of(google.service(ana).events().insert(calendarId="primary", body=body))
    assert error.resp.status == 400
    assert reason_of(error) == reason
    assert message in str(error.reason)


def test_stale_etag_is_412_and_fresh_etag_works(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    created = events.insert(
        calendarId="primary", body=timed("A", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")
    ).execute()
    events.patch(calendarId="primary", eventId=created["id"], body={"summary": "B"}).execute()

    stale = events.patch(calendarId="primary", eventId=created["id"], body={"summary": "C"})
    stale.headers["If-Match"] = created["etag"]
    error = error_of(stale)
    assert error.resp.status == 412 and reason_of(error) == "conditionNotMet"

    current = events.get(calendarId="primary", eventId=created["id"]).execute()
    fresh = events.delete(calendarId="primary", eventId=created["id"])
    fresh.headers["If-Match"] = current["etag"]
    fresh.execute()


def test_get_with_matching_if_none_match_is_304(google: Google, ana: str) -> None:
    import requests

    token = google.tokens(ana)["access_token"]
    created = (
        google.service(ana)
        .events()
        .insert(calendarId="primary", body=timed("A", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z"))
        .execute()
    )
    url = f"{google.url}/calendar/v3/calendars/primary/events/{created['id']}"
    headers = {"Authorization": f"Bearer {token}", "If-None-Match": created["etag"]}
    assert requests.get(url, headers=headers, timeout=10).status_code == 304


def test_patch_merges_fields_and_extended_properties(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    body = timed(
        "A",
        "2030-01-01T10:00:00Z",
        "2030-01-01T11:00:00Z",
        description="keep",
        extendedProperties={"private": {"copilot": "1", "kind": "appt"}},
    )
    created = events.insert(calendarId="primary", body=body).execute()

    patched = events.patch(
        calendarId="primary",
        eventId=created["id"],
        body={
            "summary": "B",
            "extendedProperties": {"private": {"kind": "break"}},
            "transparency": "transparent",
        },
    ).execute()

    assert patched["summary"] == "B" and patched["description"] == "keep"
    assert patched["extendedProperties"] == {"private": {"copilot": "1", "kind": "break"}}
    assert patched["transparency"] == "transparent"


def test_move_puts_the_event_on_the_destination_and_leaves_a_tombstone(google: Google, ana: str) -> None:
    team = google.calendar(ana, "Team")
    events = google.service(ana).events()
    created = events.insert(
        calendarId="primary", body=timed("A", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")
    ).execute()

    moved = events.move(calendarId="primary", eventId=created["id"], destination=team).execute()

    assert moved["id"] == created["id"] and moved["organizer"]["email"] == team
    assert events.get(calendarId=team, eventId=created["id"]).execute()["status"] == "confirmed"
    assert events.get(calendarId="primary", eventId=created["id"]).execute()["status"] == "cancelled"
    assert events.list(calendarId="primary").execute()["items"] == []


def test_reader_cannot_write(google: Google, ana: str, ben: str) -> None:
    shared = google.calendar(ben, "Holidays", {ana: "reader"})
    events = google.service(ana).events()
    assert events.list(calendarId=shared).execute()["accessRole"] == "reader"

    error = error_of(
        events.insert(calendarId=shared, body=timed("A", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z"))
    )

    assert error.resp.status == 403 and reason_of(error) == "requiredAccessLevel"
    assert "You need to have writer access to this calendar." in str(error.reason)


def test_writer_can_write(google: Google, ana: str, ben: str) -> None:
    shared = google.calendar(ben, "Front desk", {ana: "writer"})
    created = (
        google.service(ana)
        .events()
        .insert(calendarId=shared, body=timed("A", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z"))
        .execute()
    )
    assert created["organizer"] == {"email": shared, "displayName": "Front desk", "self": True}
    assert created["creator"] == {"email": ana}


def test_free_busy_reader_cannot_list_or_get_events(google: Google, ana: str, ben: str) -> None:
    shared = google.calendar(ben, "Ben", {ana: "freeBusyReader"})
    events = google.service(ana).events()
    error = error_of(events.list(calendarId=shared))
    assert error.resp.status == 403 and reason_of(error) == "requiredAccessLevel"


def test_unshared_calendar_is_404(google: Google, ana: str, ben: str) -> None:
    error = error_of(google.service(ana).events().list(calendarId=ben))
    assert error.resp.status == 404 and reason_of(error) == "notFound"


def test_events_scope_can_write_but_freebusy_scope_cannot_read(google: Google, ana: str) -> None:
    google.service(ana, [*SIGN_IN, EVENTS_SCOPE]).events().list(calendarId="primary").execute()
    reader = google.service(ana, [*SIGN_IN, "https://www.googleapis.com/auth/calendar.events.readonly"])
    error = error_of(
        reader.events().insert(
            calendarId="primary", body=timed("A", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")
        )
    )
    assert error.resp.status == 403 and reason_of(error) == "insufficientPermissions"
    freebusy_only = google.service(ana, [*SIGN_IN, "https://www.googleapis.com/auth/calendar.freebusy"])
    assert error_of(freebusy_only.events().list(calendarId="primary")).resp.status == 403


def test_all_day_events(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    body = {"summary": "Closed", "start": {"date": "2030-12-24"}, "end": {"date": "2030-12-26"}}
    created = events.insert(calendarId="primary", body=body).execute()
    assert created["start"] == {"date": "2030-12-24"} and created["end"] == {"date": "2030-12-26"}

    window = events.list(
        calendarId="primary", timeMin="2030-12-25T12:00:00Z", timeMax="2030-12-25T13:00:00Z"
    ).execute()
    assert [i["id"] for i in window["items"]] == [created["id"]]
    outside = events.list(
        calendarId="primary", timeMin="2030-12-26T00:00:00Z", timeMax="2030-12-27T00:00:00Z"
    ).execute()
    assert outside["items"] == []

    same_day = {"summary": "x", "start": {"date": "2030-12-24"}, "end": {"date": "2030-12-24"}}
    assert reason_of(error_of(events.insert(calendarId="primary", body=same_day))) == "timeRangeEmpty"


def test_single_events_expand_a_daily_rule_with_exdate(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    body = {
        "summary": "Huddle",
        "start": {"dateTime": "2030-03-01T09:00:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2030-03-01T09:15:00", "timeZone": "America/New_York"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=12", "EXDATE;TZID=America/New_York:20300303T090000"],
    }
    master = events.insert(calendarId="primary", body=body).execute()

    listed = events.list(
        calendarId="primary",
        singleEvents=True,
        orderBy="startTime",
        timeMin="2030-03-01T00:00:00Z",
        timeMax="2030-03-12T00:00:00Z",
    ).execute()["items"]

    starts = [i["start"]["dateTime"] for i in listed]
    assert "2030-03-03T09:00:00-05:00" not in starts
    assert starts[0] == "2030-03-01T09:00:00-05:00"
    assert "2030-03-10T09:00:00-04:00" in starts  # wall clock kept across the DST change
    assert len(listed) == 10
    first = listed[0]
    assert first["id"] == master["id"] + "_20300301T140000Z"
    assert first["recurringEventId"] == master["id"]
    assert first["originalStartTime"] == {
        "dateTime": "2030-03-01T09:00:00-05:00",
        "timeZone": "America/New_York",
    }
    assert "recurrence" not in first

    series = events.list(calendarId="primary").execute()["items"]
    assert [i["id"] for i in series] == [master["id"]] and series[0]["recurrence"] == body["recurrence"]


def test_recurring_instances_can_be_changed_and_cancelled_one_by_one(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    body = {
        "summary": "Standup",
        "start": {"dateTime": "2030-05-06T09:00:00Z", "timeZone": "UTC"},
        "end": {"dateTime": "2030-05-06T09:15:00Z", "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
    }
    master = events.insert(calendarId="primary", body=body).execute()
    second, third = f"{master['id']}_20300507T090000Z", f"{master['id']}_20300508T090000Z"

    events.patch(calendarId="primary", eventId=second, body={"summary": "Standup (moved)"}).execute()
    events.delete(calendarId="primary", eventId=third).execute()

    listed = events.list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()["items"]
    assert [i["summary"] for i in listed] == ["Standup", "Standup (moved)"]
    instances = events.instances(calendarId="primary", eventId=master["id"], showDeleted=True).execute()[
        "items"
    ]
    assert [i["status"] for i in instances] == ["confirmed", "confirmed", "cancelled"]


def test_all_day_recurring_instances_use_date_ids(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    body = {
        "summary": "Payday",
        "start": {"date": "2030-01-15"},
        "end": {"date": "2030-01-16"},
        "recurrence": ["RRULE:FREQ=MONTHLY;COUNT=3"],
    }
    master = events.insert(calendarId="primary", body=body).execute()
    listed = events.list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()["items"]
    assert [i["id"] for i in listed] == [f"{master['id']}_{d}" for d in ("20300115", "20300215", "20300315")]
    assert listed[1]["start"] == {"date": "2030-02-15"} and listed[1]["end"] == {"date": "2030-02-16"}


def test_private_extended_property_filter_is_an_and(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    mine = {"private": {"copilot": "1", "practice": "7"}}
    events.insert(
        calendarId="primary",
        body=timed("ours", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z", extendedProperties=mine),
    ).execute()
    other = {"private": {"copilot": "1", "practice": "8"}}
    events.insert(
        calendarId="primary",
        body=timed("theirs", "2030-01-01T12:00:00Z", "2030-01-01T13:00:00Z", extendedProperties=other),
    ).execute()
    events.insert(
        calendarId="primary", body=timed("person", "2030-01-01T14:00:00Z", "2030-01-01T15:00:00Z")
    ).execute()

    both = events.list(calendarId="primary", privateExtendedProperty=["copilot=1", "practice=7"]).execute()[
        "items"
    ]
    any_app = events.list(calendarId="primary", privateExtendedProperty="copilot=1").execute()["items"]

    assert [i["summary"] for i in both] == ["ours"]
    assert sorted(i["summary"] for i in any_app) == ["ours", "theirs"]


def test_text_search_and_time_window_overlap(google: Google, ana: str) -> None:
    events = google.service(ana).events()
    events.insert(
        calendarId="primary", body=timed("Root canal", "2030-01-01T10:00:00Z", "2030-01-01T11:00:00Z")
    ).execute()
    events.insert(
        calendarId="primary", body=timed("Lunch", "2030-01-01T11:00:00Z", "2030-01-01T12:00:00Z")
    ).execute()

    assert [i["summary"] for i in events.list(calendarId="primary", q="canal").execute()["items"]] == [
        "Root canal"
    ]
    overlap = events.list(
        calendarId="primary", timeMin="2030-01-01T10:30:00Z", timeMax="2030-01-01T11:00:00Z"
    ).execute()
    assert [i["summary"] for i in overlap["items"]] == ["Root canal"]


def test_order_by_start_time_needs_single_events(google: Google, ana: str) -> None:
    error = error_of(google.service(ana).events().list(calendarId="primary", orderBy="startTime"))
    assert error.resp.status == 400
