"""The HTML pages at `/`: a person looking at and editing their Google Calendar.

Plain server-rendered HTML, no JavaScript. Edits act as the calendar's owner
and go through `event_ops`, so they bump etags and sync sequence numbers and
trigger push notifications exactly like API writes.

Form contract for browser tests: fields `summary`, `start`, `end`
(`datetime-local` in the calendar's zone, `date` for all-day events),
`location`, `description`; buttons "Save" (`name=action value=save`) and
"Delete" (`name=action value=delete`).
"""

from __future__ import annotations

import base64
import datetime as dt
import urllib.parse
from html import escape
from typing import TYPE_CHECKING, Any

from . import errors, event_ops, events, timeutil
from .errors import ApiError
from .wire import Request, Response, html_response, redirect

if TYPE_CHECKING:
    from .app import Emulator

UPCOMING_DAYS = 60
MIN_YEAR, MAX_YEAR = 1900, 2999
STYLE = """
body{font-family:Arial,Helvetica,sans-serif;margin:0;background:#f8f9fa;color:#202124}
header{background:#1a73e8;color:#fff;padding:12px 24px} header a{color:#fff;text-decoration:none}
main{max-width:900px;margin:24px auto;padding:0 16px}
table{border-collapse:collapse;width:100%;background:#fff}
td,th{border-bottom:1px solid #e0e0e0;padding:6px 8px;text-align:left;vertical-align:top}
.badge{background:#e8f0fe;color:#1967d2;border-radius:8px;padding:1px 6px;font-size:12px}
.error{color:#d93025} label{display:block;margin:6px 0} input[type=text],textarea{width:100%}
form.event{background:#fff;padding:12px 16px;border:1px solid #dadce0;border-radius:8px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:6px}
"""


def _layout(title: str, body: str, status: int = 200) -> Response:
    markup = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(title)} - Google Calendar (emulator)</title><style>{STYLE}</style></head>"
        '<body><header><a href="/"><strong>Google Calendar</strong> emulator</a></header>'
        f"<main>{body}</main></body></html>"
    )
    return html_response(markup, status)


def _calendar_url(calendar_id: str) -> str:
    return "/calendars/" + urllib.parse.quote(calendar_id, safe="")


def _event_url(calendar_id: str, event_id: str) -> str:
    return f"{_calendar_url(calendar_id)}/events/{urllib.parse.quote(event_id, safe='')}"


def _calendar(app: Emulator, calendar_id: str) -> dict[str, Any]:
    calendar = app.store.calendar(calendar_id)
    if calendar is None:
        raise ApiError(404, "notFound", "Not Found")
    return calendar


# -- index ---------------------------------------------------------------------------------
def index(app: Emulator, req: Request) -> Response:
    """Accounts, and for each the calendars it sees with its access role."""
    rows = []
    for account in sorted(app.store.data["accounts"].values(), key=lambda a: a["email"]):
        links = "".join(
            f'<li><span class=swatch style="background:{c["backgroundColor"]}"></span>'
            f'<a href="{_calendar_url(c["id"])}">{escape(c["summary"])}</a> '
            f"<span class=badge>{escape(role)}</span></li>"
            for c, role in app.store.calendars_for(account["email"])
        )
        rows.append(
            f"<tr><td><strong>{escape(account['name'])}</strong><br>{escape(account['email'])}</td><td><ul>{links}</ul></td></tr>"
        )
    table = "<table><tr><th>Account</th><th>Calendars</th></tr>" + "".join(rows) + "</table>"
    if not rows:
        table = (
            "<p>No accounts yet. Create one with <code>POST /_emulator/users</code> "
            "or start with <code>--demo</code>.</p>"
        )
    return _layout("Accounts", "<h1>Accounts</h1>" + table)


# -- a calendar ---------------------------------------------------------------------------
class WeekError(ValueError):
    """A `week` query value that names no usable date."""


def _shown_range(calendar: dict[str, Any], week: str | None) -> tuple[dt.date, dt.date, str]:
    """The local days a calendar page shows, [first, stop), and a caption.

    No `week`: from this week's Monday to UPCOMING_DAYS after today (what has been and is
    coming). `week=YYYY-MM-DD`: the Monday-to-Sunday week holding that date.
    """
    today = timeutil.now().astimezone(timeutil.zone(calendar["timeZone"])).date()
    if not week:
        first = today - dt.timedelta(days=today.weekday())
        return first, today + dt.timedelta(days=UPCOMING_DAYS), f"this week and the next {UPCOMING_DAYS} days"
    try:
        day = dt.date.fromisoformat(week)
    except ValueError as exc:
        raise WeekError(f"“{week}” is not a date: use YYYY-MM-DD.") from exc
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise WeekError(f"Pick a week between {MIN_YEAR} and {MAX_YEAR}.")
    first = day - dt.timedelta(days=day.weekday())
    return first, first + dt.timedelta(days=7), f"week of {first:%a %d %b %Y}"


def _events_between(
    app: Emulator, calendar: dict[str, Any], first: dt.date, stop: dt.date
) -> list[dict[str, Any]]:
    zone = timeutil.zone(calendar["timeZone"])
    lo, hi = timeutil.midnight(first, zone), timeutil.midnight(stop, zone)
    found = []
    for event in app.store.events(calendar["id"]).values():
        if event.get("recurringEventId") or events.is_cancelled(event):
            continue
        if event.get("recurrence"):
            found.extend(event_ops.expand(app.store, calendar, event, lo, hi))
        else:
            start, end = events.bounds(event, calendar)
            if end > lo and start < hi:
                found.append(event)
    live = [e for e in found if not events.is_cancelled(e)]
    return sorted(live, key=lambda e: (events.instant(e["start"], calendar), e["id"]))


def _when(event: dict[str, Any], calendar: dict[str, Any]) -> str:
    if events.is_all_day(event):
        return f"{event['start']['date']} (all day)"
    zone = timeutil.zone(calendar["timeZone"])
    start, end = (t.astimezone(zone) for t in events.bounds(event, calendar))
    return f"{start:%a %Y-%m-%d %H:%M}–{end:%H:%M}"


def _title(event: dict[str, Any]) -> str:
    return escape(event.get("summary") or "(No title)")


def _badges(event: dict[str, Any]) -> str:
    badges = []
    if event.get("extendedProperties", {}).get("private"):
        badges.append('<span class=badge title="has private extended properties">created by an app</span>')
    if event.get("recurringEventId"):
        badges.append("<span class=badge>repeats</span>")
    if event.get("transparency") == "transparent":
        badges.append("<span class=badge>free</span>")
    return " ".join(badges)


def _week_nav(calendar: dict[str, Any], first: dt.date) -> str:
    url = _calendar_url(calendar["id"])
    links = [f'<a id=this-week href="{url}">This week</a>']
    previous, following = first - dt.timedelta(days=7), first + dt.timedelta(days=7)
    if previous.year >= MIN_YEAR:
        links.insert(0, f'<a id=previous-week href="{url}?week={previous}">← Previous week</a>')
    if following.year <= MAX_YEAR:
        links.append(f'<a id=next-week href="{url}?week={following}">Next week →</a>')
    jump = (
        f'<form method=get action="{url}" style="display:inline"> · <label>Week of '
        f'<input type=date name=week id=week value="{first}"></label> <button type=submit>Go</button></form>'
    )
    return f"<nav class=weeks>{' · '.join(links)}{jump}</nav>"


def calendar_page(app: Emulator, req: Request, calendarId: str) -> Response:
    calendar = _calendar(app, calendarId)
    week = req.arg("week")
    try:
        first, stop, caption = _shown_range(calendar, week)
    except WeekError as exc:
        back = f'<p><a href="{_calendar_url(calendar["id"])}">← {escape(calendar["summary"])}</a></p>'
        return _layout("Not a week", f"{back}<p class=error id=week-error>{escape(str(exc))}</p>", 400)
    rows = "".join(
        f'<tr class=event data-event-id="{escape(e["id"])}"><td>{escape(_when(e, calendar))}</td>'
        f'<td><a href="{_event_url(calendar["id"], e["id"])}">{_title(e)}</a> {_badges(e)}</td>'
        f"<td>{escape(e.get('location', ''))}</td></tr>"
        for e in _events_between(app, calendar, first, stop)
    )
    table = f"<table id=events><tr><th>When</th><th>Title</th><th>Where</th></tr>{rows}</table>"
    body = (
        f"<h1>{escape(calendar['summary'])}</h1><p>Owner {escape(calendar['owner'])} · time zone "
        f"{escape(calendar['timeZone'])} · <span id=range>{escape(caption)}</span></p>"
        f"{_week_nav(calendar, first)}{table}"
        f"<h2>New event</h2>{_event_form(calendar, None, _calendar_url(calendar['id']) + '/events')}"
    )
    return _layout(calendar["summary"], body)


# -- one event ------------------------------------------------------------------------------
def _local_value(when: dict[str, Any], calendar: dict[str, Any]) -> str:
    if "date" in when:
        return when["date"]
    moment = timeutil.parse_rfc3339(when["dateTime"]).astimezone(timeutil.zone(calendar["timeZone"]))
    return moment.strftime("%Y-%m-%dT%H:%M")


def _text_input(label: str, name: str, event: dict[str, Any]) -> str:
    value = escape(event.get(name, ""))
    return f'<label>{label} <input type=text name={name} id={name} value="{value}"></label>'


def _event_form(
    calendar: dict[str, Any], event: dict[str, Any] | None, action: str, error: str | None = None
) -> str:
    event = event or {}
    kind = "date" if event and events.is_all_day(event) else "datetime-local"
    start = _local_value(event["start"], calendar) if event else ""
    end = _local_value(event["end"], calendar) if event else ""
    delete = (
        "<button type=submit name=action value=delete id=delete>Delete</button>" if event.get("id") else ""
    )
    notice = f"<p class=error id=form-error>{escape(error)}</p>" if error else ""
    description = escape(event.get("description", ""))
    return (
        f'<form class=event method=post action="{escape(action)}">{notice}'
        f"{_text_input('Title', 'summary', event)}"
        f'<label>Start <input type={kind} name=start id=start value="{start}" required></label>'
        f'<label>End <input type={kind} name=end id=end value="{end}" required></label>'
        f"{_text_input('Location', 'location', event)}"
        f"<label>Description <textarea name=description id=description>{description}</textarea></label>"
        f"<button type=submit name=action value=save id=save>Save</button> {delete}</form>"
    )


def _details(event: dict[str, Any]) -> str:
    private = event.get("extendedProperties", {}).get("private", {})
    lines = [f"<p>{_badges(event)}</p>"]
    if private:
        items = "".join(
            f"<li><code>{escape(k)}</code> = <code>{escape(v)}</code></li>" for k, v in private.items()
        )
        lines.append(
            f"<p>Private extended properties (set by an app):</p><ul id=private-properties>{items}</ul>"
        )
    if event.get("recurrence"):
        lines.append("<p>Repeats: <code>" + escape("; ".join(event["recurrence"])) + "</code></p>")
    return "".join(lines)


def event_page(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    calendar = _calendar(app, calendarId)
    event = event_ops.find(app.store, calendar, eventId)
    if event is None or events.is_cancelled(event):
        return _layout("Not found", "<h1>This event no longer exists</h1>", 404)
    return _render_event(calendar, event)


def _render_event(calendar: dict[str, Any], event: dict[str, Any], error: str | None = None) -> Response:
    form = _event_form(calendar, event, _event_url(calendar["id"], event["id"]), error)
    back = f'<p><a href="{_calendar_url(calendar["id"])}">← {escape(calendar["summary"])}</a></p>'
    title = escape(event.get("summary") or "(No title)")
    return _layout(
        event.get("summary") or "Event",
        f"{back}<h1>{title}</h1>{_details(event)}{form}",
        400 if error else 200,
    )


def _when_from_form(value: str, calendar: dict[str, Any], template: dict[str, Any] | None) -> dict[str, Any]:
    if len(value) == 10:
        return {"date": value}
    zone_name = (template or {}).get("timeZone")
    local = timeutil.parse_local(value).replace(tzinfo=timeutil.zone(calendar["timeZone"]))
    when = {"dateTime": timeutil.rfc3339(local)}
    if zone_name:
        when["timeZone"] = zone_name
    return when


def _form_body(req: Request, calendar: dict[str, Any], event: dict[str, Any] | None) -> dict[str, Any]:
    form = {k: v[0] for k, v in req.form().items()}
    try:
        start = _when_from_form(form.get("start", ""), calendar, (event or {}).get("start"))
        end = _when_from_form(form.get("end", ""), calendar, (event or {}).get("end"))
    except timeutil.TimeFormatError as exc:
        raise errors.bad_request("Enter a start and an end.") from exc
    return {
        "summary": form.get("summary", ""),
        "location": form.get("location", ""),
        "description": form.get("description", ""),
        "start": start,
        "end": end,
    }


def create_event(app: Emulator, req: Request, calendarId: str) -> Response:
    calendar = _calendar(app, calendarId)
    try:
        event_ops.insert(app.store, calendar, _form_body(req, calendar, None), calendar["owner"])
    except ApiError as exc:
        form = _event_form(calendar, None, _calendar_url(calendar["id"]) + "/events", exc.message)
        body = f"<h1>New event</h1>{form}"
        return _layout("New event", body, 400)
    return redirect(_calendar_url(calendar["id"]), 303)


def save_event(app: Emulator, req: Request, calendarId: str, eventId: str) -> Response:
    """Save (`action=save`) or delete (`action=delete`) an event, then back to the calendar."""
    calendar = _calendar(app, calendarId)
    event = event_ops.find(app.store, calendar, eventId)
    if event is None or events.is_cancelled(event):
        return _layout("Not found", "<h1>This event no longer exists</h1>", 404)
    try:
        if (req.form().get("action") or ["save"])[0] == "delete":
            event_ops.delete(app.store, calendar, event)
        else:
            event_ops.patch(app.store, calendar, event, _form_body(req, calendar, event), calendar["owner"])
    except ApiError as exc:
        return _render_event(calendar, event, exc.message)
    return redirect(_calendar_url(calendar["id"]), 303)


def html_link(app: Emulator, req: Request) -> Response:
    """`/event?eid=...`, the target of every event's `htmlLink`."""
    eid = req.arg("eid") or ""
    try:
        event_id, calendar_id = base64.urlsafe_b64decode(eid + "=" * (-len(eid) % 4)).decode().split(" ", 1)
    except (ValueError, UnicodeDecodeError):
        return _layout("Not found", "<h1>Unknown event link</h1>", 404)
    return redirect(_event_url(calendar_id, event_id))


ROUTES = [
    ("GET", "/", index),
    ("GET", "/event", html_link),
    ("GET", "/calendars/{calendarId}", calendar_page),
    ("POST", "/calendars/{calendarId}/events", create_event),
    ("GET", "/calendars/{calendarId}/events/{eventId}", event_page),
    ("POST", "/calendars/{calendarId}/events/{eventId}", save_event),
]
