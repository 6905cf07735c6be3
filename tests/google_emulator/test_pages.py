"""The HTML pages: a person editing their calendar in Google, seen through the API."""

from __future__ import annotations

import datetime as dt
import urllib.parse
import zoneinfo

import pytest
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


def event_on(google: Google, email: str, day: dt.date, summary: str) -> dict:
    start = dt.datetime.combine(day, dt.time(9), tzinfo=NY)
    body = {
        "summary": summary,
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat()},
    }
    return google.service(email).events().insert(calendarId="primary", body=body).execute()


def test_calendar_pages_go_to_any_week_and_back(google: Google) -> None:
    email = google.user("ny@example.test", "Nia York", time_zone="America/New_York")["email"]
    today = dt.datetime.now(NY).date()
    monday = today - dt.timedelta(days=today.weekday())
    long_ago, far_ahead = monday - dt.timedelta(weeks=52), monday + dt.timedelta(weeks=104)
    event_on(google, email, monday, "Monday huddle")
    event_on(google, email, long_ago + dt.timedelta(days=2), "Checkup last year")
    event_on(google, email, far_ahead + dt.timedelta(days=4), "Checkup in two years")
    url = calendar_url(google, email)

    default = requests.get(url, timeout=10).text
    assert "Monday huddle" in default  # the whole current week, even on a weekend
    assert "last year" not in default and "two years" not in default
    assert f'href="{urllib.parse.urlsplit(url).path}?week={monday + dt.timedelta(weeks=1)}"' in default

    then = requests.get(url, params={"week": str(long_ago + dt.timedelta(days=5))}, timeout=10)
    assert then.status_code == 200 and "Checkup last year" in then.text and "Monday huddle" not in then.text
    assert f"week of {long_ago:%a %d %b %Y}" in then.text
    assert (
        f"?week={long_ago - dt.timedelta(weeks=1)}" in then.text
        and f"?week={long_ago + dt.timedelta(weeks=1)}" in then.text
    )

    ahead = requests.get(url, params={"week": str(far_ahead)}, timeout=10).text
    assert "Checkup in two years" in ahead and "last year" not in ahead


def test_a_repeating_event_shows_in_any_week(google: Google, ana: str) -> None:
    body = {
        "summary": "Team huddle",
        "start": {"dateTime": "2026-01-05T09:00:00", "timeZone": "UTC"},
        "end": {"dateTime": "2026-01-05T09:30:00", "timeZone": "UTC"},
        "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO"],
    }
    google.service(ana).events().insert(calendarId="primary", body=body).execute()

    page = requests.get(calendar_url(google, ana), params={"week": "2027-03-10"}, timeout=10).text

    assert page.count("Team huddle") == 1 and "Mon 2027-03-08 09:00" in page


@pytest.mark.parametrize("week", ["tomorrow", "2030-02-30", "0001-01-01", "99999-01-01", "1899-12-31"])
def test_a_bad_week_is_a_clear_error_not_a_crash(google: Google, ana: str, week: str) -> None:
    answer = requests.get(calendar_url(google, ana), params={"week": week}, timeout=10)

    assert answer.status_code == 400 and "id=week-error" in answer.text


def test_the_first_and_last_weeks_offer_no_step_beyond(google: Google, ana: str) -> None:
    first = requests.get(calendar_url(google, ana), params={"week": "1900-01-03"}, timeout=10).text
    last = requests.get(calendar_url(google, ana), params={"week": "2999-12-30"}, timeout=10).text

    assert "id=previous-week" not in first and "id=next-week" in first
    assert "id=next-week" not in last and "id=previous-week" in last
