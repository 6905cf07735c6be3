"""Demo accounts, calendars and events for `make run` (idempotent)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from . import event_ops, timeutil
from .store import Store

ZONE = "America/New_York"
ALVAREZ = "dr.alvarez@demo-dental.test"
SAM = "sam.lee@demo-dental.test"
JO = "jo.park@demo-dental.test"
PEOPLE = ((ALVAREZ, "Dr. Maria Alvarez"), (SAM, "Sam Lee"), (JO, "Jo Park"))


def _find_calendar(store: Store, owner: str, summary: str) -> dict[str, Any] | None:
    for calendar in store.data["calendars"].values():
        if calendar["owner"] == owner and calendar["summary"] == summary and calendar["id"] != owner:
            return calendar
    return None


def _local(day: dt.date, hour: int, minute: int = 0) -> dict[str, str]:
    moment = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=timeutil.zone(ZONE))
    return {"dateTime": timeutil.rfc3339(moment), "timeZone": ZONE}


def _ensure_event(store: Store, calendar_id: str, body: dict[str, Any]) -> None:
    calendar = store.calendar(calendar_id)
    if body["id"] not in store.events(calendar_id):
        event_ops.insert(store, calendar, body, calendar["owner"])


def seed(store: Store) -> None:
    """Create the demo people, calendars and a few events unless they already exist."""
    with store.lock:
        for email, name in PEOPLE:
            if not store.account(email):
                store.add_account(email, name, ZONE)
        if not _find_calendar(store, ALVAREZ, "Personal"):
            store.add_calendar(owner=ALVAREZ, summary="Personal", time_zone=ZONE)
        holidays = _find_calendar(store, SAM, "Clinic Holidays") or store.add_calendar(
            owner=SAM,
            summary="Clinic Holidays",
            time_zone=ZONE,
            acl={ALVAREZ: "reader", JO: "freeBusyReader"},
        )
        _seed_events(store, holidays["id"])


def _seed_events(store: Store, holidays_id: str) -> None:
    today = timeutil.now().astimezone(timeutil.zone(ZONE)).date()
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    _ensure_event(
        store,
        ALVAREZ,
        {
            "id": "demohuddle0001",
            "summary": "Weekly team huddle",
            "location": "Operatory 2",
            "start": _local(monday, 8, 0),
            "end": _local(monday, 8, 30),
            "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO"],
        },
    )
    _ensure_event(
        store,
        ALVAREZ,
        {
            "id": "democonference01",
            "summary": "Dental conference",
            "start": {"date": (today + dt.timedelta(days=10)).isoformat()},
            "end": {"date": (today + dt.timedelta(days=12)).isoformat()},
        },
    )
    _ensure_event(
        store,
        SAM,
        {
            "id": "demolunch000001",
            "summary": "Lunch with supplier",
            "start": _local(today + dt.timedelta(days=2), 12),
            "end": _local(today + dt.timedelta(days=2), 13),
        },
    )
    _ensure_event(
        store,
        holidays_id,
        {
            "id": "democlosed00001",
            "summary": "Clinic closed: staff training",
            "start": {"date": (today + dt.timedelta(days=20)).isoformat()},
            "end": {"date": (today + dt.timedelta(days=21)).isoformat()},
        },
    )
