"""Bounds on what the book accepts, in one place (plain constants: no settings, no imports).

Dates outside [EARLIEST_DATE, LATEST_DATE] are refused with a field error by the forms and the
services, and navigation clamps to them: a year-1 or year-9999 date overflows date arithmetic and
is never a real appointment. ``NOTES_MAX_LENGTH`` keeps the notes together with the portal link
we append (``integrations.google.mapping``) inside what a Google event description keeps.
"""

from __future__ import annotations

from datetime import date, datetime

EARLIEST_DATE = date(2000, 1, 1)
LATEST_DATE = date(2100, 12, 31)
DATE_RANGE_MESSAGE = "Choose a date between 1 Jan 2000 and 31 Dec 2100."

NOTES_MAX_LENGTH = 8_000


def date_in_range(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


def clamp_date(day: date) -> date:
    """``day``, moved to the nearest bound when it lies outside them."""
    return min(max(day, EARLIEST_DATE), LATEST_DATE)


def instant_in_range(value: datetime) -> bool:
    """Whether a datetime falls on a bookable date (its date on its own clock)."""
    return date_in_range(value.date())


def navigation_date(value: str | None) -> date | None:
    """A navigation date from the query string: None when unreadable, clamped to the book's range."""
    try:
        return clamp_date(date.fromisoformat(value)) if value else None
    except (TypeError, ValueError):
        return None
