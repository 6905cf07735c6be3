"""Converting between a practice's wall clock and stored UTC."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError


def local_to_aware(value: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a naive wall-clock time.

    Raises ``ValidationError`` for a time that does not exist there (the hour skipped when
    clocks go forward). An ambiguous time (the repeated hour) means its first occurrence.
    """
    aware = value.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    if round_trip != value.replace(tzinfo=None):
        raise ValidationError(f"{value:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks change then.")
    return aware


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The aware start and end of a local day (23 or 25 hours long across DST changes)."""
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def _day_label(value: datetime, this_year: int) -> str:
    """ "Mon 04 Jan", with the year when it is not the current one ("Mon 04 Jan 1999")."""
    return f"{value:%a %d %b}" if value.year == this_year else f"{value:%a %d %b %Y}"


def format_local_range(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """A range on the practice's wall clock, for people: "Mon 04 Jan 10:00–10:30". The year is
    said when it is not the current one, so a typo'd year never hides in a confirmation."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    this_year = datetime.now(zone).year
    if local_start.date() == local_end.date():
        return f"{_day_label(local_start, this_year)} {local_start:%H:%M}–{local_end:%H:%M}"
    return (
        f"{_day_label(local_start, this_year)} {local_start:%H:%M} – "
        f"{_day_label(local_end, this_year)} {local_end:%H:%M}"
    )


def format_long_date(day: date) -> str:
    """ "4 January 1999": a date nobody misreads (the past-booking question)."""
    return f"{day.day} {day:%B %Y}"
