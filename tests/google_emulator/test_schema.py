"""Responses validate against the schemas of the bundled Calendar v3 discovery document.

The converter turns discovery schemas into JSON Schema with
`additionalProperties: false` wherever `properties` are defined, so a field
Google never returns fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import googleapiclient
import jsonschema
import pytest
import requests

from .conftest import Google

DISCOVERY = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "calendar.v3.json"
SIMPLE = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def convert(schema: dict[str, Any]) -> dict[str, Any]:
    """One discovery schema as JSON Schema (draft 7)."""
    if "$ref" in schema:
        return {"$ref": f"#/definitions/{schema['$ref']}"}
    kind = schema.get("type")
    if kind == "object":
        result: dict[str, Any] = {"type": "object"}
        if "properties" in schema:
            result["properties"] = {name: convert(sub) for name, sub in schema["properties"].items()}
            result["additionalProperties"] = False
        if "additionalProperties" in schema:
            result["additionalProperties"] = convert(schema["additionalProperties"])
        return result
    if kind == "array":
        return {"type": "array", "items": convert(schema.get("items", {"type": "any"}))}
    if kind in SIMPLE:
        return {"type": SIMPLE[kind]}
    if kind == "any" or kind is None:
        return {}
    raise ValueError(f"unknown discovery type {kind!r}")


def validator_for(name: str) -> jsonschema.Draft7Validator:
    schemas = json.loads(DISCOVERY.read_text())["schemas"]
    root = {
        "definitions": {key: convert(value) for key, value in schemas.items()},
        "$ref": f"#/definitions/{name}",
    }
    return jsonschema.Draft7Validator(root)


def assert_valid(name: str, document: dict[str, Any]) -> None:
    errors = sorted(validator_for(name).iter_errors(document), key=str)
    assert not errors, f"{name}: " + "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_converter_catches_unknown_fields() -> None:
    assert list(validator_for("Event").iter_errors({"id": "x", "bogus": 1}))
    assert list(validator_for("Event").iter_errors({"start": {"dateTime": "x", "bogus": 1}}))
    assert not list(
        validator_for("Event").iter_errors({"id": "x", "extendedProperties": {"private": {"a": "b"}}})
    )


@pytest.fixture
def rich(google: Google, ana: str, ben: str, receiver: Any) -> dict[str, Any]:
    """A calendar with every shape of event, plus a channel."""
    service = google.service(ana)
    events = service.events()
    google.calendar(ben, "Shared", {ana: "freeBusyReader"})
    timed = events.insert(
        calendarId="primary",
        body={
            "summary": "Full",
            "description": "d",
            "location": "l",
            "start": {"dateTime": "2030-01-01T10:00:00", "timeZone": "Europe/Berlin"},
            "end": {"dateTime": "2030-01-01T11:00:00", "timeZone": "Europe/Berlin"},
            "attendees": [
                {"email": ana},
                {"email": "x@example.test", "displayName": "X", "responseStatus": "accepted"},
            ],
            "extendedProperties": {"private": {"a": "1"}, "shared": {"b": "2"}},
            "visibility": "private",
            "transparency": "transparent",
            "eventType": "default",
            "colorId": "5",
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
        },
    ).execute()
    all_day = events.insert(
        calendarId="primary",
        body={"summary": "Day", "start": {"date": "2030-01-02"}, "end": {"date": "2030-01-03"}},
    ).execute()
    gone = events.insert(
        calendarId="primary", body={"start": {"date": "2030-01-05"}, "end": {"date": "2030-01-06"}}
    ).execute()
    events.delete(calendarId="primary", eventId=gone["id"]).execute()
    channel = events.watch(
        calendarId="primary",
        body={"id": "schema-chan", "type": "web_hook", "address": receiver.url, "token": "t"},
    ).execute()
    return {"service": service, "timed": timed, "all_day": all_day, "channel": channel}


def test_event_resources_match_the_event_schema(rich: dict[str, Any]) -> None:
    assert_valid("Event", rich["timed"])
    assert_valid("Event", rich["all_day"])


def test_event_lists_match_the_events_schema(rich: dict[str, Any]) -> None:
    events = rich["service"].events()
    assert_valid("Events", events.list(calendarId="primary", showDeleted=True).execute())
    assert_valid(
        "Events", events.list(calendarId="primary", singleEvents=True, orderBy="startTime").execute()
    )
    assert_valid("Events", events.list(calendarId="primary", maxResults=1).execute())
    assert_valid("Events", events.instances(calendarId="primary", eventId=rich["timed"]["id"]).execute())


def test_calendar_list_matches_its_schemas(rich: dict[str, Any], ana: str) -> None:
    listing = rich["service"].calendarList().list().execute()
    assert_valid("CalendarList", listing)
    assert_valid("CalendarListEntry", rich["service"].calendarList().get(calendarId=ana).execute())
    assert_valid("Calendar", rich["service"].calendars().get(calendarId=ana).execute())


def test_free_busy_matches_its_schema(rich: dict[str, Any], ana: str, ben: str) -> None:
    body = {
        "timeMin": "2030-01-01T00:00:00Z",
        "timeMax": "2030-01-04T00:00:00Z",
        "items": [{"id": ana}, {"id": ben}],
    }
    answer = rich["service"].freebusy().query(body=body).execute()
    assert answer["calendars"][ben]["errors"]
    assert_valid("FreeBusyResponse", answer)


def test_channel_matches_its_schema(rich: dict[str, Any]) -> None:
    assert_valid("Channel", rich["channel"])


def test_error_bodies_have_googles_envelope(google: Google, ana: str) -> None:
    token = google.tokens(ana)["access_token"]
    answer = requests.get(
        f"{google.url}/calendar/v3/calendars/primary/events/nope12345",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    error = answer.json()["error"]
    assert set(error) == {"code", "message", "errors", "status"}
    assert error["errors"] == [{"domain": "global", "reason": "notFound", "message": "Not Found"}]
    assert error["status"] == "NOT_FOUND"
