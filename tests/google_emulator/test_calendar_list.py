"""calendarList, calendars.get, authentication and scope enforcement."""

from __future__ import annotations

import pytest
import requests
from googleapiclient.errors import HttpError

from .conftest import EVENTS, FREEBUSY, READONLY, SIGN_IN, Google, reason_of

CALENDARLIST_READONLY = "https://www.googleapis.com/auth/calendar.calendarlist.readonly"


@pytest.fixture
def shared(google: Google, ana: str, ben: str) -> dict[str, str]:
    """Ana owns a team calendar (ben writes); ben shares one calendar as reader, one as free/busy."""
    return {
        "team": google.calendar(ana, "Team", {ben: "writer"}),
        "holidays": google.calendar(ben, "Holidays", {ana: "reader"}),
        "busy": google.calendar(ben, "Ben busy", {ana: "freeBusyReader"}),
        "private": google.calendar(ben, "Ben private"),
    }


def test_calendar_list_shows_every_calendar_with_its_access_role(
    google: Google, ana: str, shared: dict
) -> None:
    items = google.service(ana).calendarList().list().execute()["items"]

    roles = {i["id"]: i["accessRole"] for i in items}
    assert roles == {
        ana: "owner",
        shared["team"]: "owner",
        shared["holidays"]: "reader",
        shared["busy"]: "freeBusyReader",
    }
    primary = [i["id"] for i in items if i.get("primary")]
    assert primary == [ana]
    first = items[0]
    assert first["kind"] == "calendar#calendarListEntry" and first["timeZone"] == "UTC"
    assert (
        first["etag"].startswith('"')
        and first["backgroundColor"].startswith("#")
        and first["selected"] is True
    )


def test_min_access_role_filters_the_list(google: Google, ana: str, shared: dict) -> None:
    service = google.service(ana)
    writers = service.calendarList().list(minAccessRole="writer").execute()["items"]
    readers = service.calendarList().list(minAccessRole="reader").execute()["items"]
    assert {i["id"] for i in writers} == {ana, shared["team"]}
    assert {i["id"] for i in readers} == {ana, shared["team"], shared["holidays"]}


def test_calendar_list_pages(google: Google, ana: str, shared: dict) -> None:
    service = google.service(ana)
    seen, token = [], None
    while True:
        page = service.calendarList().list(maxResults=3, pageToken=token, showHidden=True).execute()
        seen += [i["id"] for i in page["items"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert len(seen) == 4 and len(set(seen)) == 4


def test_calendar_list_get_and_calendars_get(google: Google, ana: str, shared: dict) -> None:
    service = google.service(ana)
    entry = service.calendarList().get(calendarId="primary").execute()
    assert entry["id"] == ana and entry["primary"] is True
    calendar = service.calendars().get(calendarId=shared["holidays"]).execute()
    assert calendar["summary"] == "Holidays" and calendar["kind"] == "calendar#calendar"
    with pytest.raises(HttpError) as caught:
        service.calendars().get(calendarId=shared["private"]).execute()
    assert caught.value.resp.status == 404 and reason_of(caught.value) == "notFound"


@pytest.mark.parametrize("scope", [EVENTS, FREEBUSY])
def test_calendar_list_needs_a_calendar_list_scope(google: Google, ana: str, scope: str) -> None:
    service = google.service(ana, [*SIGN_IN, scope])
    with pytest.raises(HttpError) as caught:
        service.calendarList().list().execute()
    error = caught.value
    assert error.resp.status == 403
    body = error.error_details
    assert body[0]["reason"] == "insufficientPermissions"
    assert "insufficient authentication scopes" in str(error.reason)


@pytest.mark.parametrize("scope", [READONLY, CALENDARLIST_READONLY])
def test_calendar_list_works_with_read_scopes(google: Google, ana: str, scope: str) -> None:
    assert google.service(ana, [*SIGN_IN, scope]).calendarList().list().execute()["items"]


def test_calendar_api_without_a_token_is_google_401(google: Google) -> None:
    answer = requests.get(google.url + "/calendar/v3/users/me/calendarList", timeout=10)
    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["code"] == 401 and error["status"] == "UNAUTHENTICATED"
    assert error["message"].startswith("Request had invalid authentication credentials.")
    assert error["errors"][0]["reason"] == "authError"


def test_insufficient_scope_body_has_googles_shape(google: Google, ana: str) -> None:
    token = google.tokens(ana, [*SIGN_IN, EVENTS])["access_token"]
    answer = requests.get(
        google.url + "/calendar/v3/users/me/calendarList",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 403
    assert answer.json()["error"]["status"] == "PERMISSION_DENIED"
    assert answer.json()["error"]["message"] == "Request had insufficient authentication scopes."
