"""RRULE / EXDATE / RDATE expansion (RFC 5545 lines as Google stores them).

Timed series expand in wall-clock time of their zone (10:00 stays 10:00 across
DST); all-day series expand on naive dates. Expansion is always bounded by
a window and an instance cap, so an endless rule cannot run away.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from dateutil.rrule import rruleset, rrulestr

from .timeutil import UTC, TimeFormatError, zone

MAX_INSTANCES = 1000
MAX_ITERATIONS = 100_000
_UNTIL = re.compile(r"UNTIL=([0-9TZ]+)", re.IGNORECASE)


class RecurrenceError(ValueError):
    """A recurrence line Google would refuse."""


def instance_suffix(original_start: dt.datetime | dt.date) -> str:
    """The `_...` part of an instance id: UTC `YYYYMMDDTHHMMSSZ` or `YYYYMMDD`."""
    if isinstance(original_start, dt.datetime) and original_start.tzinfo is not None:
        return original_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return original_start.strftime("%Y%m%d")


def _parse_value(value: str, tzid: str | None, dtstart: dt.datetime) -> dt.datetime:
    value = value.strip()
    try:
        if len(value) == 8:
            day = dt.datetime.strptime(value, "%Y%m%d")
            return day if dtstart.tzinfo is None else day.replace(tzinfo=dtstart.tzinfo)
        if value.endswith("Z"):
            moment = dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            moment = dt.datetime.strptime(value, "%Y%m%dT%H%M%S")
            moment = moment.replace(tzinfo=zone(tzid) if tzid else dtstart.tzinfo)
    except (ValueError, TimeFormatError) as exc:
        raise RecurrenceError(value) from exc
    if dtstart.tzinfo is None:
        local = moment.astimezone(UTC) if moment.tzinfo else moment
        return local.replace(tzinfo=None, hour=0, minute=0, second=0)
    return moment.astimezone(dtstart.tzinfo) if moment.tzinfo else moment.replace(tzinfo=dtstart.tzinfo)


def _date_lines(line: str, dtstart: dt.datetime) -> list[dt.datetime]:
    head, _, values = line.partition(":")
    params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
    tzid = params.get("TZID")
    return [_parse_value(v, tzid, dtstart) for v in values.split(",") if v.strip()]


def _fix_until(rule: str, dtstart: dt.datetime) -> str:
    """Make UNTIL's form agree with DTSTART's, as Google tolerates either."""
    match = _UNTIL.search(rule)
    if not match:
        return rule
    value = _parse_value(match.group(1), None, dtstart)
    if dtstart.tzinfo is None:
        text = value.strftime("%Y%m%dT%H%M%S")
    else:
        if len(match.group(1)) == 8:
            value = value.replace(hour=23, minute=59, second=59)
        text = value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return rule[: match.start(1)] + text + rule[match.end(1) :]


def build(lines: list[str], dtstart: dt.datetime) -> rruleset:
    """Parse recurrence lines into a rule set starting at `dtstart`; raise RecurrenceError."""
    rules = rruleset()
    has_rule = False
    for raw in lines:
        line = raw.strip()
        name = line.split(":", 1)[0].split(";", 1)[0].upper()
        if name == "RRULE":
            try:
                rules.rrule(rrulestr(_fix_until(line[6:], dtstart), dtstart=dtstart))
            except (ValueError, TypeError) as exc:
                raise RecurrenceError(line) from exc
            has_rule = True
        elif name == "EXDATE":
            for value in _date_lines(line, dtstart):
                rules.exdate(value)
        elif name == "RDATE":
            for value in _date_lines(line, dtstart):
                rules.rdate(value)
                has_rule = True
        else:
            raise RecurrenceError(line)
    if not has_rule:
        raise RecurrenceError("no RRULE or RDATE")
    return rules


def occurrences(
    lines: list[str],
    dtstart: dt.datetime,
    duration: dt.timedelta,
    window_start: dt.datetime | None,
    window_end: dt.datetime,
    limit: int = MAX_INSTANCES,
) -> Iterator[dt.datetime]:
    """Starts of instances overlapping [window_start, window_end), at most `limit`.

    `dtstart` and the window must be of one kind: aware for timed series,
    naive local midnights for all-day series.
    """
    emitted = 0
    for index, start in enumerate(build(lines, dtstart)):
        if start >= window_end or emitted >= limit or index >= MAX_ITERATIONS:
            return
        if (
            window_start is None
            or start + duration > window_start
            or (duration == dt.timedelta(0) and start >= window_start)
        ):
            emitted += 1
            yield start
