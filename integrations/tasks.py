"""django-q2 task bodies, one name per task: each takes ids, reloads, calls the sync engine, and is
safe to run twice. Nothing imports this module; work is enqueued by name through ``queue.py``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from .google import channels, outbox, pull, push, resync
from .models import GoogleConnection
from .services import connection_check_health


def push_connection(connection_id: int) -> dict:
    return push.push_due_links(connection_id)


def pull_connection(connection_id: int, *, full: bool = False) -> dict:
    """An incremental pull of every selected calendar; ``full`` re-reads them whole and heals channels."""
    return pull.pull_account(connection_id, ensure_channels=full, full=full)


def pull_calendar(calendar_pk: int) -> dict:
    return pull.pull_one_calendar(calendar_pk)


def sync_connection(connection_id: int) -> dict:
    """Catch up: push everything that waited, then pull."""
    pushed = push.push_due_links(connection_id)
    pulled = pull.pull_account(connection_id)
    return {"pushed": pushed, "pulled": pulled}


def resync_connection(connection_id: int, _switched_from_calendar_pk: int | None = None) -> dict:
    """Write every upcoming appointment into the linked calendar, then pull and open channels.

    (The second argument is ignored: tasks queued by earlier versions still carry it.)
    """
    pushed = resync.resync_linked_calendar(connection_id)
    pulled = pull.pull_account(connection_id, ensure_channels=True)
    return {"pushed": pushed, "pulled": pulled}


def check_connection(connection_id: int) -> str:
    connection = GoogleConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        return "gone"
    return connection_check_health(connection=connection).state


# --- Schedules (installed by the ``install_schedules`` step of migrate) -----------------------------


def drain_outboxes() -> int:
    """Push every connection with waiting changes whose backoff has passed (spread over the minute)."""
    return outbox.drain_outboxes(pace=True)


def poll_connections(intended: str | None = None) -> int:
    """The safety net under push notifications: every minute, the pulls of that minute's slice of
    active connections (each connection once per ``GOOGLE_POLL_MINUTES``, spread over it), each
    enqueued at its own second. ``intended`` is the run's planned time (the schedule passes it)."""
    planned = datetime.fromisoformat(intended) if intended else None
    return pull.poll_due(now=planned, pace=True)


def renew_channels() -> int:
    return channels.renew_expiring_channels()


def check_all_connections() -> int:
    """Every 6 hours: refresh the token and re-read the scopes of each connection that polling does
    not vouch for. An active connection synced within ``GOOGLE_STALE_MINUTES`` has just used its
    grant (a revoked one fails its next poll and moves to needs-reconnect there), so it is skipped:
    at 10,000 connections one task refreshing every token would outlast the task timeout."""
    fresh = timezone.now() - timedelta(minutes=settings.GOOGLE_STALE_MINUTES)
    ids = list(
        GoogleConnection.objects.exclude(state=GoogleConnection.State.UNLINKED)
        .exclude(state=GoogleConnection.State.ACTIVE, last_sync_at__gte=fresh)
        .values_list("pk", flat=True)
    )
    for connection_id in ids:
        check_connection(connection_id)
    return len(ids)


def reconcile_daily() -> int:
    """A full pull of every active connection at once. No longer scheduled (each connection's
    daily full pull rides on its own poll: ``pull.daily_full_pull``); kept for tasks queued before."""
    return pull.reconcile_all()
