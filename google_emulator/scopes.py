"""OAuth scopes the emulator knows, their consent wording, and who may call what."""

from __future__ import annotations

from collections.abc import Iterable

AUTH = "https://www.googleapis.com/auth/"
OPENID = "openid"
EMAIL = AUTH + "userinfo.email"
PROFILE = AUTH + "userinfo.profile"
CALENDAR = AUTH + "calendar"
CALENDAR_READONLY = AUTH + "calendar.readonly"
EVENTS = AUTH + "calendar.events"
EVENTS_READONLY = AUTH + "calendar.events.readonly"
CALENDARLIST_READONLY = AUTH + "calendar.calendarlist.readonly"
FREEBUSY = AUTH + "calendar.freebusy"
EVENTS_FREEBUSY = AUTH + "calendar.events.freebusy"

ALIASES = {"email": EMAIL, "profile": PROFILE, "openid": OPENID}

DESCRIPTIONS = {
    OPENID: "Associate you with your personal info on Google",
    EMAIL: "See your primary Google Account email address",
    PROFILE: "See your personal info, including any personal info you've made publicly available",
    CALENDAR: (
        "See, edit, share, and permanently delete all the calendars you can access using Google Calendar"
    ),
    CALENDAR_READONLY: "See and download any calendar you can access using your Google Calendar",
    EVENTS: "View and edit events on all your calendars",
    EVENTS_READONLY: "View events on all your calendars",
    CALENDARLIST_READONLY: "See the list of Google calendars you're subscribed to",
    FREEBUSY: "See the availability on Google calendars you have access to",
    EVENTS_FREEBUSY: "See the availability on Google calendars you have access to",
}

IDENTITY = frozenset({OPENID, EMAIL, PROFILE})

# Any one of these grants the operation (Google's per-method scope lists).
READ_EVENTS = frozenset({CALENDAR, CALENDAR_READONLY, EVENTS, EVENTS_READONLY})
WRITE_EVENTS = frozenset({CALENDAR, EVENTS})
READ_CALENDARLIST = frozenset({CALENDAR, CALENDAR_READONLY, CALENDARLIST_READONLY})
READ_CALENDARS = frozenset({CALENDAR, CALENDAR_READONLY})
QUERY_FREEBUSY = frozenset({CALENDAR, CALENDAR_READONLY, FREEBUSY, EVENTS_FREEBUSY})
ANY_CALENDAR = frozenset(DESCRIPTIONS) - IDENTITY


class UnknownScope(ValueError):
    """A scope string Google would answer with `invalid_scope`."""


def normalize(scopes: Iterable[str]) -> list[str]:
    """Full scope names in first-seen order; raise UnknownScope for unknown ones."""
    result: list[str] = []
    for scope in scopes:
        full = ALIASES.get(scope, scope)
        if full not in DESCRIPTIONS:
            raise UnknownScope(scope)
        if full not in result:
            result.append(full)
    return result


def split(text: str | None) -> list[str]:
    """Split a space-separated (or `+`/comma-separated) scope parameter."""
    return [s for s in (text or "").replace(",", " ").replace("+", " ").split() if s]


def ordered(scopes: Iterable[str]) -> list[str]:
    """A stable order for reporting: identity scopes first, then the rest sorted."""
    unique = set(scopes)
    return sorted(unique & IDENTITY) + sorted(unique - IDENTITY)
