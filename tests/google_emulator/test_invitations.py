"""Invitations: attendees who are accounts here get the event on their primary calendar, as in Google."""

from __future__ import annotations

from typing import Any

import pytest
from googleapiclient.errors import HttpError

from .conftest import Google, Receiver, reason_of

START, END = "2030-03-04T10:00:00Z", "2030-03-04T11:00:00Z"


def meeting(*guests: str, **extra: Any) -> dict[str, Any]:
    return {
        "summary": "Implant review",
        "location": "Room 2",
        "start": {"dateTime": START},
        "end": {"dateTime": END},
        "attendees": [{"email": g} for g in guests],
        **extra,
    }


def refusal(call: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as caught:
        call.execute()
    return caught.value.resp.status, reason_of(caught.value)


def items(google: Google, email: str, **params: Any) -> list[dict[str, Any]]:
    return google.service(email).events().list(calendarId="primary", **params).execute()["items"]


def response_of(event: dict[str, Any], email: str) -> str:
    [entry] = [a for a in event["attendees"] if a["email"] == email]
    return entry["responseStatus"]


@pytest.fixture
def cy(google: Google) -> str:
    return google.user("cy@example.test", "Cy Park")["email"]


def test_each_guest_account_gets_the_event_on_their_primary_calendar(
    google: Google, ana: str, ben: str, cy: str
) -> None:
    made = (
        google.service(ana)
        .events()
        .insert(
            calendarId="primary",
            body=meeting(
                ben,
                cy,
                "outsider@elsewhere.test",
                extendedProperties={"private": {"app": "1"}, "shared": {"k": "v"}},
            ),
        )
        .execute()
    )

    for guest in (ben, cy):
        [copy] = items(google, guest)
        assert (copy["id"], copy["iCalUID"]) == (made["id"], made["iCalUID"])
        assert copy["organizer"] == {"email": ana, "displayName": "Ana Diaz"}  # not self on the guest's copy
        assert (copy["summary"], copy["location"], copy["start"], copy["end"]) == (
            made["summary"],
            made["location"],
            made["start"],
            made["end"],
        )
        [me] = [a for a in copy["attendees"] if a.get("self")]
        assert me == {"email": guest, "responseStatus": "needsAction", "self": True}
        assert copy["extendedProperties"] == {"shared": {"k": "v"}}  # private properties stay with their copy
        assert copy["htmlLink"] != made["htmlLink"]
    assert made["organizer"]["self"] is True
    assert [e["id"] for e in items(google, ana)] == [made["id"]]


def test_a_guests_response_shows_on_every_copy_and_the_organizers_event(
    google: Google, ana: str, ben: str, cy: str
) -> None:
    made = google.service(ana).events().insert(calendarId="primary", body=meeting(ben, cy)).execute()
    ben_events = google.service(ben).events()
    copy = ben_events.get(calendarId="primary", eventId=made["id"]).execute()
    for attendee in copy["attendees"]:
        if attendee.get("self"):
            attendee["responseStatus"] = "accepted"

    answered = ben_events.update(calendarId="primary", eventId=made["id"], body=copy).execute()

    assert response_of(answered, ben) == "accepted"
    organizers = google.service(ana).events().get(calendarId="primary", eventId=made["id"]).execute()
    assert response_of(organizers, ben) == "accepted" and organizers["etag"] != made["etag"]
    assert response_of(items(google, cy)[0], ben) == "accepted"
    assert response_of(items(google, cy)[0], cy) == "needsAction"


def test_the_organizers_changes_and_deletion_reach_every_copy(
    google: Google, ana: str, ben: str, cy: str, receiver: Receiver
) -> None:
    events = google.service(ana).events()
    made = events.insert(calendarId="primary", body=meeting(ben, cy)).execute()
    ben_sync = google.service(ben).events().list(calendarId="primary").execute()["nextSyncToken"]
    google.service(ben).events().watch(
        calendarId="primary", body={"id": "ben-chan", "type": "web_hook", "address": receiver.url}
    ).execute()

    events.patch(
        calendarId="primary",
        eventId=made["id"],
        body={"start": {"dateTime": "2030-03-04T14:00:00Z"}, "end": {"dateTime": "2030-03-04T15:00:00Z"}},
    ).execute()

    [moved] = items(google, ben)
    assert moved["start"] == {"dateTime": "2030-03-04T14:00:00Z"} and moved["sequence"] == 1
    delta = google.service(ben).events().list(calendarId="primary", syncToken=ben_sync).execute()["items"]
    assert [e["id"] for e in delta] == [made["id"]]
    receiver.wait_for(2)  # sync, then exists: the guest's calendar changed

    events.patch(calendarId="primary", eventId=made["id"], body={"attendees": [{"email": ben}]}).execute()
    assert items(google, cy) == []  # dropped from the list: cy's copy is cancelled
    assert [e["status"] for e in items(google, cy, showDeleted=True)] == ["cancelled"]

    events.delete(calendarId="primary", eventId=made["id"]).execute()

    assert items(google, ben) == []
    tombstone = google.service(ben).events().get(calendarId="primary", eventId=made["id"]).execute()
    assert tombstone["status"] == "cancelled"


def test_a_guest_cannot_move_or_retitle_their_copy_unless_guests_can_modify(
    google: Google, ana: str, ben: str
) -> None:
    made = google.service(ana).events().insert(calendarId="primary", body=meeting(ben)).execute()
    ben_events = google.service(ben).events()
    later = {"start": {"dateTime": "2030-03-05T10:00:00Z"}, "end": {"dateTime": "2030-03-05T11:00:00Z"}}

    for change in (later, {"summary": "Mine now"}, {"guestsCanModify": True}):
        assert refusal(ben_events.patch(calendarId="primary", eventId=made["id"], body=change)) == (
            403,
            "forbiddenForNonOrganizer",
        )
    other = google.calendar(ben, "Ben's other")
    assert refusal(ben_events.move(calendarId="primary", eventId=made["id"], destination=other)) == (
        403,
        "forbiddenForNonOrganizer",
    )
    assert items(google, ben)[0]["start"] == {"dateTime": START}
    mine = ben_events.patch(
        calendarId="primary",
        eventId=made["id"],
        body={"reminders": {"useDefault": False, "overrides": []}, "colorId": "5"},
    ).execute()
    assert mine["colorId"] == "5"  # personal fields are the guest's own
    assert (
        "colorId" not in google.service(ana).events().get(calendarId="primary", eventId=made["id"]).execute()
    )


def test_with_guests_can_modify_a_guests_move_reaches_the_organizer_and_everyone(
    google: Google, ana: str, ben: str, cy: str
) -> None:
    made = (
        google.service(ana)
        .events()
        .insert(calendarId="primary", body=meeting(ben, cy, guestsCanModify=True))
        .execute()
    )
    later = {"start": {"dateTime": "2030-03-05T10:00:00Z"}, "end": {"dateTime": "2030-03-05T11:00:00Z"}}

    google.service(ben).events().patch(calendarId="primary", eventId=made["id"], body=later).execute()

    for email in (ana, ben, cy):
        [event] = items(google, email)
        assert event["start"] == {"dateTime": "2030-03-05T10:00:00Z"}, email
    assert items(google, ana)[0]["organizer"]["email"] == ana


def test_a_guest_deleting_their_copy_declines_and_keeps_it_off_their_calendar(
    google: Google, ana: str, ben: str
) -> None:
    events = google.service(ana).events()
    made = events.insert(calendarId="primary", body=meeting(ben)).execute()

    google.service(ben).events().delete(calendarId="primary", eventId=made["id"]).execute()

    assert items(google, ben) == []
    assert response_of(events.get(calendarId="primary", eventId=made["id"]).execute(), ben) == "declined"
    events.patch(
        calendarId="primary", eventId=made["id"], body={"summary": "Implant review (moved)"}
    ).execute()
    assert items(google, ben) == []


def test_a_recurring_invitation_expands_on_the_guests_calendar(google: Google, ana: str, ben: str) -> None:
    body = meeting(ben)
    body["start"] = {"dateTime": "2030-03-04T10:00:00", "timeZone": "UTC"}
    body["end"] = {"dateTime": "2030-03-04T11:00:00", "timeZone": "UTC"}
    body["recurrence"] = ["RRULE:FREQ=WEEKLY;COUNT=3"]
    made = google.service(ana).events().insert(calendarId="primary", body=body).execute()

    instances = items(google, ben, singleEvents=True)

    assert [i["recurringEventId"] for i in instances] == [made["id"]] * 3
    assert all(i["organizer"]["email"] == ana for i in instances)


def test_the_organizer_moving_the_event_to_another_calendar_repoints_the_copies(
    google: Google, ana: str, ben: str
) -> None:
    team = google.calendar(ana, "Team")
    made = google.service(ana).events().insert(calendarId="primary", body=meeting(ben)).execute()

    google.service(ana).events().move(calendarId="primary", eventId=made["id"], destination=team).execute()

    [copy] = items(google, ben)
    assert copy["id"] == made["id"] and copy["organizer"] == {"email": team, "displayName": "Team"}


def test_only_accounts_of_the_emulator_and_never_the_organizer_get_copies(google: Google, ana: str) -> None:
    made = (
        google.service(ana)
        .events()
        .insert(calendarId="primary", body=meeting(ana, "nobody@elsewhere.test"))
        .execute()
    )

    stored = google.control("GET", "state")["data"]["events"]
    assert [calendar for calendar, events in stored.items() if made["id"] in events] == [ana]
