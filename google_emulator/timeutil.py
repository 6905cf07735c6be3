"""Time parsing and formatting in the shapes Google's wire protocol uses."""

from __future__ import annotations

import datetime as dt
import time
import zoneinfo

UTC = dt.UTC


class TimeFormatError(ValueError):
    """A timestamp, date or time zone that Google would refuse."""


def now() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(UTC)


def rfc3339_millis(moment: dt.datetime) -> str:
    """Format like Google's `updated`/`created`: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def rfc3339(moment: dt.datetime) -> str:
    """Format an aware datetime with its own offset (`Z` for UTC), no fraction."""
    text = moment.replace(microsecond=0).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def parse_rfc3339(text: str) -> dt.datetime:
    """Parse an RFC 3339 timestamp that carries an offset; raise TimeFormatError."""
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except (ValueError, AttributeError) as exc:
        raise TimeFormatError(text) from exc
    if value.tzinfo is None:
        raise TimeFormatError(text)
    return value


def parse_local(text: str) -> dt.datetime:
    """Parse a timestamp that may lack an offset (naive result then)."""
    try:
        return dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except (ValueError, AttributeError) as exc:
        raise TimeFormatError(text) from exc


def parse_date(text: str) -> dt.date:
    """Parse a `YYYY-MM-DD` date; raise TimeFormatError."""
    try:
        if len(text) != 10:
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except (ValueError, TypeError) as exc:
        raise TimeFormatError(str(text)) from exc


def zone(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone called `name`; raise TimeFormatError when unknown."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise TimeFormatError(str(name)) from exc


def is_zone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows."""
    try:
        zone(name)
    except TimeFormatError:
        return False
    return True


def midnight(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """The instant a calendar day starts in `tz`."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz)


def http_date(epoch_seconds: float) -> str:
    """RFC 1123 date, as in `X-Goog-Channel-Expiration`."""
    return time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(epoch_seconds))
