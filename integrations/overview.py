"""The whole installation's sync at a glance: what ``/metrics``, ``sync_status`` and alerts read.

A handful of aggregate queries; nothing here reads appointments row by row (the pull lags are
one row per selected calendar, that is per staff member).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, F, Min, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .models import EventLink, GoogleCalendar, GoogleConnection, WatchChannel

State = GoogleConnection.State


@dataclass(frozen=True)
class Backlog:
    """Changes waiting to be pushed, and when the oldest of them was made (None: nothing waits)."""

    count: int
    oldest_at: datetime | None

    def oldest_seconds(self, now: datetime) -> float:
        return 0.0 if self.oldest_at is None else max((now - self.oldest_at).total_seconds(), 0.0)


@dataclass(frozen=True)
class Overview:
    now: datetime
    connections: dict[str, int]  # every state, 0 when none
    due: Backlog  # changes the workers should push (their connection can sync)
    held: Backlog  # changes held until a person reconnects or grants a permission
    pull_lags: list[float]  # seconds since the last successful pull, per calendar of an active connection
    never_pulled: int  # calendars of active connections never pulled yet
    channels_expiring: int  # open push channels of active connections that expire within 24 h


def connections_by_state() -> dict[str, int]:
    counts = dict(GoogleConnection.objects.values_list("state").annotate(n=Count("pk")).order_by())
    return {state: counts.get(state, 0) for state in State.values}


def outbox_backlog() -> tuple[Backlog, Backlog]:
    """(changes due to be pushed, changes held for a person), in one query.

    A change is made when its appointment was last saved, or (for a copy re-queued without an
    appointment change, such as a resync) no earlier than the copy's last push. Held changes
    are the links the push marked "waiting for a connection".
    """
    waiting_since = Greatest(
        F("appointment__updated"), Coalesce(F("last_pushed_at"), F("appointment__updated"))
    )
    held = Q(state=EventLink.State.WAITING)
    answer = EventLink.objects.filter(needs_push=True).aggregate(
        due=Count("pk", filter=~held),
        due_oldest=Min(waiting_since, filter=~held),
        held=Count("pk", filter=held),
        held_oldest=Min(waiting_since, filter=held),
    )
    return Backlog(answer["due"], answer["due_oldest"]), Backlog(answer["held"], answer["held_oldest"])


def pull_lags(now: datetime) -> tuple[list[float], int]:
    """Seconds since each selected calendar of an active connection was last read, and how many never were.

    A free/busy-only calendar counts from its last free/busy refresh.
    """
    rows = (
        GoogleCalendar.objects.filter(connection__state=State.ACTIVE)
        .filter(Q(is_linked=True) | Q(is_conflict=True))
        .values_list("last_synced_at", "busy_refreshed_at")
    )
    lasts = [max(filter(None, pair), default=None) for pair in rows]
    lags = [max((now - last).total_seconds(), 0.0) for last in lasts if last is not None]
    return lags, lasts.count(None)


def channels_expiring(now: datetime, within: timedelta = timedelta(hours=24)) -> int:
    return WatchChannel.objects.filter(
        stopped_at__isnull=True,
        expiration__gt=now,
        expiration__lte=now + within,
        calendar__connection__state=State.ACTIVE,  # others cannot be renewed until reconnected
    ).count()


def sync_overview(now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    due, held = outbox_backlog()
    lags, never = pull_lags(now)
    return Overview(
        now=now,
        connections=connections_by_state(),
        due=due,
        held=held,
        pull_lags=lags,
        never_pulled=never,
        channels_expiring=channels_expiring(now),
    )


def percentile(values: list[float], q: float) -> float | None:
    """The ``q``-th percentile (0–100, nearest rank) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(q / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def status_summary(overview: Overview) -> dict:
    """The overview as plain data (what ``sync_status`` prints, as text or JSON)."""
    lags = overview.pull_lags
    return {
        "at": overview.now.isoformat(),
        "connections": overview.connections,
        "outbox": {
            reason: {
                "changes": backlog.count,
                "oldest_seconds": round(backlog.oldest_seconds(overview.now), 1),
            }
            for reason, backlog in (("due", overview.due), ("held", overview.held))
        },
        "pull_lag_seconds": {
            "calendars": len(lags),
            "never_pulled": overview.never_pulled,
            **{name: _rounded(percentile(lags, q)) for name, q in (("p50", 50), ("p90", 90), ("p99", 99))},
            "max": _rounded(max(lags, default=None)),
        },
        "channels_expiring_24h": overview.channels_expiring,
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
