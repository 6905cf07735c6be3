"""Calendar API v3 handlers: calendarList, calendars, events, freeBusy, channels.

Every handler authenticates the Bearer token, checks the OAuth scope the way
Google does for that method, resolves the calendar (`primary` is the
caller's own), checks the caller's access role, and then reads or calls
`event_ops`. Handlers run with `store.lock` held (see `app.Emulator`).
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any

from . import errors, event_ops, events, freebusy, listing
from . import scopes as sc
from .store import ROLE_RANK, role_at_least
from .tokens import Caller, authenticate
from .wire import Request, Response, empty, json_response

if TYPE_CHECKING:
    from .app import Emulator

SEND_UPDATES = ("none", "all", "externalOnly")


def _caller(app: Emulator, req: Request, needs: frozenset[str]) -> Caller:
    caller = authenticate(app, req)
    caller.require(needs)
    return caller


def _calendar(app: Emulator, caller: Caller, calendar_id: str, minimum: str) -> tuple[dict[str, Any], str]:
    """The calendar and the caller's role on it; 404 when unseen, 403 below `minimum`."""
    calendar = app.store.calendar(caller.email if calendar_id == "primary" else calendar_id)
    role = app.store.role(calendar, caller.email) if calendar else None
    if not role:
        raise errors.not_found()
    if not role_at_least(role, minimum):
        raise errors.required_access(minimum)
    return calendar, role


def _event(app: Emulator, calendar: dict[str, Any], event_id: str) -> dict[str, Any]:
    event = event_ops.find(app.store, calendar, event_id)
    if event is None:
        raise errors.not_found()
    return event


def _check_if_match(req: Request, event: dict[str, Any]) -> None:
    expected = req.header("if-match")
    if expected and expected.strip() not in ("*", event["etag"]):
        raise errors.precondition_failed()


def _send_updates(app: Emulator, req: Request) -> None:
    value = req.arg("sendUpdates")
    if value is None:
        return
    if value not in SEND_UPDATES:
        raise errors.bad_request("Invalid value for: sendUpdates", location="sendUpdates")
    app.stats.note_send_updates(value)


def _rendered(app: Emulator, event: dict[str, Any], calendar: dict[str, Any]) -> Response:
    return json_response(events.render(event, calendar, app.base_url))


# -- calendarList and calendars ---------------------------------------------------------
def _list_entry(calendar: dict[str, Any], role: str, email: str) -> dict[str, Any]:
    entry = {
        "kind": "calendar#calendarListEntry",
        "etag": calendar["etag"],
        "id": calendar["id"],
        "summary": calendar["summary"],
        "description": calendar.get("description", ""),
        "timeZone": calendar["timeZone"],
        "colorId": "14",
        "backgroundColor": calendar["backgroundColor"],
        "foregroundColor": "#000000",
        "selected": True,
        "accessRole": role,
        "defaultReminders": [],
    }
    if calendar["id"] == email:
        entry["primary"] = True
    return entry


def calendar_list(app: Emulator, req: Request) -> Response:
    """GET users/me/calendarList: paging, `minAccessRole`, `showHidden` (no entry is hidden)."""
    caller = _caller(app, req, sc.READ_CALENDARLIST)
    minimum = req.arg("minAccessRole")
    if minimum is not None and minimum not in ROLE_RANK:
        raise errors.bad_request("Invalid value for: minAccessRole", location="minAccessRole")
    entries = [
        _list_entry(c, role, caller.email)
        for c, role in app.store.calendars_for(caller.email)
        if minimum is None or role_at_least(role, minimum)
    ]
    size = min(int(req.arg("maxResults") or 100), 250)
    offset = _offset(req.arg("pageToken"))
    body: dict[str, Any] = {
        "kind": "calendar#calendarList",
        "etag": f'"{len(entries)}-{offset}"',
        "items": entries[offset : offset + size],
    }
    if offset + size < len(entries):
        body["nextPageToken"] = base64.urlsafe_b64encode(json.dumps({"o": offset + size}).encode()).decode()
    return json_response(body)


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        return int(json.loads(base64.urlsafe_b64decode(token))["o"])
    except (ValueError, KeyError, TypeError) as exc:
        raise errors.bad_request("Invalid page token value.", location="pageToken") from exc


def calendar_list_get(app: Emulator, req: Request, calendarId: str) -> Response:
    caller = _caller(app, req, sc.READ_CALENDARLIST)
    calendar, role = _calendar(app, caller, calendarId, "freeBusyReader")
    return json_response(_list_entry(calendar, role, caller.email))


def calendar_get(app: Emulator, req: Request, calendarId: str) -> Response:
    caller = _caller(app, req, sc.READ_CALENDARS)
    calendar, _ = _calendar(app, caller, calendarId, "freeBusyReader")
    return json_response(
        {
            "kind": "calendar#calendar",
            "etag": calendar["etag"],
            "id": calendar["id"],
            "summary": calendar["summary"],
            "description": calendar.get("description", ""),
            "timeZone": calendar["timeZone"],
        }
    )


# -- events -------------------------------------------------------------------------------------
def events_list(app: Emulator, req: Request, calendarId: str) -> Response:
    caller = _caller(app, req, sc.READ_EVENTS)
    calendar, role = _calendar(app, caller, calendarId, "reader")
    return json_response(listing.list_page(app.store, calendar, role, req, app.base_url, app.listings))


def events_instances(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    caller = _caller(app, req, sc.READ_EVENTS)
    calendar, role = _calendar(app, caller, calendarId, "reader")
    master = _event(app, calendar, eventId)
    if not master.get("recurrence"):
        raise errors.bad_request("The requested event is not a recurring event.", "notRecurringEvent")
    if events.is_cancelled(master):
        raise errors.deleted()
    return json_response(
        listing.instances_page(app.store, calendar, role, master, req, app.base_url, app.listings)
    )


def events_get(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    caller = _caller(app, req, sc.READ_EVENTS)
    calendar, _ = _calendar(app, caller, calendarId, "reader")
    event = _event(app, calendar, eventId)
    if req.header("if-none-match") == event["etag"]:
        return empty(304)
    return _rendered(app, event, calendar)


def events_insert(app: Emulator, req: Request, calendarId: str) -> Response:
    caller = _caller(app, req, sc.WRITE_EVENTS)
    calendar, _ = _calendar(app, caller, calendarId, "writer")
    _send_updates(app, req)
    event = event_ops.insert(app.store, calendar, req.json(), caller.email)
    return _rendered(app, event, calendar)


def events_update(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    caller = _caller(app, req, sc.WRITE_EVENTS)
    calendar, _ = _calendar(app, caller, calendarId, "writer")
    _send_updates(app, req)
    current = _event(app, calendar, eventId)
    _check_if_match(req, current)
    event = event_ops.replace(app.store, calendar, current, req.json(), caller.email)
    return _rendered(app, event, calendar)


def events_patch(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    caller = _caller(app, req, sc.WRITE_EVENTS)
    calendar, _ = _calendar(app, caller, calendarId, "writer")
    _send_updates(app, req)
    current = _event(app, calendar, eventId)
    _check_if_match(req, current)
    event = event_ops.patch(app.store, calendar, current, req.json(), caller.email)
    return _rendered(app, event, calendar)


def events_delete(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    caller = _caller(app, req, sc.WRITE_EVENTS)
    calendar, _ = _calendar(app, caller, calendarId, "writer")
    _send_updates(app, req)
    current = _event(app, calendar, eventId)
    _check_if_match(req, current)
    event_ops.delete(app.store, calendar, current)
    return empty(204)


def events_move(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    caller = _caller(app, req, sc.WRITE_EVENTS)
    source, _ = _calendar(app, caller, calendarId, "writer")
    destination_id = req.arg("destination")
    if not destination_id:
        raise errors.required("Required parameter: destination", location="destination")
    destination, _ = _calendar(app, caller, destination_id, "writer")
    _send_updates(app, req)
    current = _event(app, source, eventId)
    _check_if_match(req, current)
    moved = event_ops.move(app.store, source, destination, current)
    return _rendered(app, moved, destination)


def events_watch(app: Emulator, req: Request, calendarId: str) -> Response:
    caller = _caller(app, req, sc.READ_EVENTS)
    calendar, _ = _calendar(app, caller, calendarId, "reader")
    channel = app.channels.watch(
        calendar_id=calendar["id"],
        url_calendar_id=calendarId,
        email=caller.email,
        body=req.json(),
        base_url=app.base_url,
    )
    return json_response(channel)


# -- freeBusy and channels ------------------------------------------------------------------
def freebusy_query(app: Emulator, req: Request) -> Response:
    caller = _caller(app, req, sc.QUERY_FREEBUSY)
    return json_response(freebusy.query(app.store, caller.email, req.json()))


def channels_stop(app: Emulator, req: Request) -> Response:
    _caller(app, req, sc.ANY_CALENDAR)
    body = req.json()
    if not app.channels.stop(str(body.get("id", "")), str(body.get("resourceId", ""))):
        raise errors.ApiError(
            404, "notFound", f"Channel '{body.get('id')}' not found for project 'copilot-emulator'"
        )
    return empty(204)


ROUTES = [
    ("GET", "/calendar/v3/users/me/calendarList", calendar_list),
    ("GET", "/calendar/v3/users/me/calendarList/{calendarId}", calendar_list_get),
    ("GET", "/calendar/v3/calendars/{calendarId}", calendar_get),
    ("GET", "/calendar/v3/calendars/{calendarId}/events", events_list),
    ("POST", "/calendar/v3/calendars/{calendarId}/events", events_insert),
    ("POST", "/calendar/v3/calendars/{calendarId}/events/watch", events_watch),
    ("GET", "/calendar/v3/calendars/{calendarId}/events/{eventId}", events_get),
    ("PUT", "/calendar/v3/calendars/{calendarId}/events/{eventId}", events_update),
    ("PATCH", "/calendar/v3/calendars/{calendarId}/events/{eventId}", events_patch),
    ("DELETE", "/calendar/v3/calendars/{calendarId}/events/{eventId}", events_delete),
    ("POST", "/calendar/v3/calendars/{calendarId}/events/{eventId}/move", events_move),
    ("GET", "/calendar/v3/calendars/{calendarId}/events/{eventId}/instances", events_instances),
    ("POST", "/calendar/v3/freeBusy", freebusy_query),
    ("POST", "/calendar/v3/channels/stop", channels_stop),
]
