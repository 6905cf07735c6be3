"""The HTML pages: a person editing their calendar in Google, seen through the API."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import zoneinfo

import requests

from .conftest import Google, Receiver

NY = zoneinfo.ZoneInfo("America/New_York")


def tomorrow_at(hour: int) -> dt.datetime:
    day = dt.datetime.now(NY).date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(hour), tzinfo=NY)


def calendar_url(google: Google, calendar_id: str) -> str:
    return f"{google.url}/calendars/{urllib.parse.quote(calendar_id, safe='')}"


def test_index_lists_accounts_and_calendars_with_roles(google: Google, ana: str, ben: str) -> None:
    google.calendar(ben, "Holidays", {ana: "reader"})
    page = requests.get(google.url + "/", timeout=10).text
    assert "Ana Diaz" in page and "Ben Okafor" in page
    assert "Holidays</a> <span class=badge>reader</span>" in page


def test_a_person_creates_edits_and_deletes_an_event(google: Google, receiver: Receiver) -> None:
    email = google.user("ny@example.test", "Nia York", time_zone="America/New_York")["email"]
    service = google.service(email)
    first_sync = service.events().list(calendarId="primary").execute()["nextSyncToken"]
    service.events().watch(
        calendarId="primary", body={"id": "page-chan", "type": "web_hook", "address": receiver.url}
    ).execute()
    start = tomorrow_at(10)
    form = {
        "summary": "Dentist",
        "start": start.strftime("%Y-%m-%dT%H:%M"),
        "end": (start + dt.timedelta(minutes=45)).strftime("%Y-%m-%dT%H:%M"),
        "location": "Main St",
        "description": "Bring forms",
        "action": "save",
    }

    created = requests.post(
        calendar_url(google, email) + "/events", data=form, allow_redirects=False, timeout=10
    )
    assert created.status_code == 303

    [event] = service.events().list(calendarId="primary").execute()["items"]
    assert event["summary"] == "Dentist" and event["location"] == "Main St"
    assert event["start"]["dateTime"] == start.isoformat()
    assert event["creator"]["email"] == email

    page = requests.get(calendar_url(google, email), timeout=10).text
    assert "Dentist" in page and f'data-event-id="{event["id"]}"' in page
    edit_url = f"{calendar_url(google, email)}/events/{event['id']}"
    edited = requests.post(
        edit_url,
        data=form
        | {
            "summary": "Dentist (moved)",
            "start": form["end"],
            "end": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        },
        allow_redirects=False,
        timeout=10,
    )
    assert edited.status_code == 303
    changed = service.events().get(calendarId="primary", eventId=event["id"]).execute()
    assert changed["summary"] == "Dentist (moved)" and changed["etag"] != event["etag"]
    assert changed["sequence"] == 1

    requests.post(edit_url, data={"action": "delete"}, allow_redirects=False, timeout=10)

    assert service.events().get(calendarId="primary", eventId=event["id"]).execute()["status"] == "cancelled"
    delta = service.events().list(calendarId="primary", syncToken=first_sync).execute()["items"]
    assert [(i["id"], i["status"]) for i in delta] == [(event["id"], "cancelled")]
    states = [c["x-goog-resource-state"] for c in receiver.wait_for(4)]
    assert states == ["sync", "exists", "exists", "exists"]


def test_event_page_shows_app_events_and_html_link_leads_there(google: Google, ana: str) -> None:
    start = tomorrow_at(9)
    body = {
        "summary": "Booked by Copilot",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat()},
        "extendedProperties": {"private": {"copilotAppointment": "42"}},
    }
    event = google.service(ana).events().insert(calendarId="primary", body=body).execute()

    listing = requests.get(calendar_url(google, ana), timeout=10).text
    assert "created by an app" in listing
    page = requests.get(event["htmlLink"], timeout=10)
    assert page.status_code == 200 and "copilotAppointment" in page.text
    for name in ("name=summary", "name=start", "name=end", "name=location", "name=description"):
        assert name in page.text
    assert "<button type=submit name=action value=save id=save>Save</button>" in page.text
    assert "value=delete id=delete>Delete</button>" in page.text


def test_invalid_form_shows_the_error_and_changes_nothing(google: Google, ana: str) -> None:
    form = {"summary": "Backwards", "start": "2030-01-01T10:00", "end": "2030-01-01T09:00", "action": "save"}
    answer = requests.post(calendar_url(google, ana) + "/events", data=form, timeout=10)
    assert answer.status_code == 400 and "The specified time range is empty." in answer.text
    assert google.service(ana).events().list(calendarId="primary").execute()["items"] == []
