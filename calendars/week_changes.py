"""After a save made from a week page: which of the days on screen it changed.

An htmx save from the week swaps only those day columns (and their agenda days) instead of the
whole week. The page says what it shows through htmx's ``HX-Current-URL`` (the week's own query
string: ``staff``, ``date``, ``span``); anything this module cannot read, or a change that
leaves the days on screen (another week, another person), answers None, and the caller swaps the
whole region as a navigation would. Pure: no ORM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from .limits import clamp_date
from .week import week_start


@dataclass(frozen=True)
class ShownWeek:
    """The days a week page shows, and whose."""

    staff_id: int
    dates: tuple[date, ...]
    span: str  # "week" or "day"


@dataclass(frozen=True)
class Before:
    """An appointment as it was before the change (an edit or a cancellation)."""

    staff_id: int
    start: datetime
    end: datetime


def shown_week(current_url: str | None, *, week_path: str, actor_id: int, today: date) -> ShownWeek | None:
    """What the week page at ``current_url`` shows (the view's own defaults), or None if not a week page."""
    if not current_url:
        return None
    parts = urlsplit(current_url)
    if parts.path != week_path:
        return None
    query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
    try:
        staff_id = int(query["staff"]) if query.get("staff") else actor_id
        day = clamp_date(date.fromisoformat(query["date"])) if query.get("date") else today
    except (ValueError, OverflowError):
        return None
    span = "day" if query.get("span") == "day" else "week"
    first = day if span == "day" else week_start(day)
    count = 1 if span == "day" else 7
    return ShownWeek(staff_id, tuple(first + timedelta(days=n) for n in range(count)), span)


def changed_days(
    shown: ShownWeek, *, staff_id: int, day: date, before: Before | None, before_day: date | None
) -> list[date] | None:
    """The shown days to redraw after a change now on ``staff_id``'s ``day``; None when the change
    is not (or no longer) on the page, which the caller answers by showing the appointment's week."""
    if staff_id != shown.staff_id or day not in shown.dates:
        return None
    days = {day}
    if before is not None and before.staff_id == shown.staff_id and before_day in shown.dates:
        days.add(before_day)
    return sorted(days)
