"""Every word the portal says about a Google connection's state, in one place.

Settings, the Team page, the book's banner and column badges, and each appointment's sync line all
read ``WORDS`` through ``connection_health`` (which adds the one state not stored: a connection
backing off for longer than ``GOOGLE_BACKOFF_ALERT_MINUTES``), so a state is called the same
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

NOT_CONNECTED = "none"
BACKING_OFF = "backing_off"


@dataclass(frozen=True)
class StateWords:
    label: str  # short, on badges: "Needs reconnect"
    needs_person: bool  # the banner shows it: syncing stopped until someone acts
    yours: str  # to the connection's owner: what happened and what to do
    theirs: str  # to anyone else, about ``{name}``
    waiting: str  # why ``{name}``'s copy of an appointment waits


WORDS: dict[str, StateWords] = {
    "active": StateWords(
        "Active",
        False,
        "Your Google Calendar is syncing.",
        "{name}'s Google Calendar is syncing.",
        "Waiting: on its way to {name}'s Google Calendar",
    ),
    "setup": StateWords(
        "Choose a calendar",
        False,
        "Choose the Google calendar your appointments are written to.",
        "{name} has not chosen a Google calendar yet.",
        "Waiting for {name} to choose a Google calendar",
    ),
    "missing_permissions": StateWords(
        "Missing permissions",
        True,
        "Google did not grant a permission syncing needs. Reconnect and allow access to your "
        "calendars; changes wait and nothing is lost.",
        "{name} should reconnect Google Calendar and allow access to calendars (missing permissions).",
        "Waiting for {name} to reconnect Google Calendar (missing permissions)",
    ),
    "needs_reconnect": StateWords(
        "Needs reconnect",
        True,
        "Google no longer accepts this connection (the access was revoked or expired). Reconnect to "
        "resume syncing; changes wait and nothing is lost.",
        "{name} should reconnect Google Calendar: Google no longer accepts the connection.",
        "Waiting for {name} to reconnect Google Calendar",
    ),
    BACKING_OFF: StateWords(
        "Retrying",
        True,
        "Google has not accepted your changes for a while; syncing retries by itself. If it goes on, "
        "use Sync now on Calendar Settings.",
        "{name}'s Google Calendar has not synced for a while; it retries by itself.",
        "Waiting: Google is not answering for {name}; retrying",
    ),
    NOT_CONNECTED: StateWords(
        "Not connected",
        False,
        "Your Google Calendar is not connected.",
        "{name} has not connected Google Calendar.",
        "Waiting for a connection: {name} has not connected Google Calendar",
    ),
}
WORDS["unlinked"] = WORDS[NOT_CONNECTED]


def connection_health(connection, now: datetime | None = None) -> str:
    """The connection's state as people are told it: a ``WORDS`` key.

    ``connection`` needs ``state``, ``retry_after``, ``last_sync_at`` and ``state_changed_at``
    (None: not connected). An active connection that is backing off and has not synced for
    ``GOOGLE_BACKOFF_ALERT_MINUTES`` is ``BACKING_OFF``; a shorter hiccup stays "active".
    """
    if connection is None:
        return NOT_CONNECTED
    state = connection.state
    now = now or timezone.now()
    if state == "active" and connection.retry_after is not None and connection.retry_after > now:
        since = connection.last_sync_at or connection.state_changed_at
        if since is None or now - since >= timedelta(minutes=settings.GOOGLE_BACKOFF_ALERT_MINUTES):
            return BACKING_OFF
    return state if state in WORDS else NOT_CONNECTED


def words_for(health: str) -> StateWords:
    return WORDS.get(health, WORDS[NOT_CONNECTED])


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """ "just now", "5 minutes ago", "never": how long ago ``moment`` was, for people."""
    if moment is None:
        return "never"
    now = now or timezone.now()
    if now - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, now)} ago"


def changes_waiting(count: int) -> str:
    """ "Nothing waiting", "1 change waiting", "36 changes waiting"."""
    if count == 0:
        return "Nothing waiting"
    return f"{count} change{'s' if count != 1 else ''} waiting"
