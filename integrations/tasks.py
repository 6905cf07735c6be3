"""Background work on django-q2. Tasks take ids, reload, call the sync engine, and are safe to run twice.

``enqueue_*`` helpers are what services call: they enqueue after the current transaction
commits, so a worker never sees a change before it is durable.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_q.tasks import async_task

logger = logging.getLogger(__name__)


def _enqueue(func: str, *args, group: str = "google") -> None:
    transaction.on_commit(lambda: async_task(func, *args, group=group))


def enqueue_push(connection_id: int) -> None:
    """Push this connection's outbox soon."""
    _enqueue("integrations.tasks.push_connection", connection_id)


def enqueue_catch_up(connection_id: int) -> None:
    """After a connection works again: push everything that waited, then pull."""
    _enqueue("integrations.tasks.sync_connection", connection_id)


def enqueue_resync(connection_id: int, switched_from_calendar_pk: int | None = None) -> None:
    """After connecting or choosing calendars: write upcoming appointments, watch, pull."""
    _enqueue("integrations.tasks.resync_connection", connection_id, switched_from_calendar_pk)


def enqueue_pull(calendar_pk: int) -> None:
    _enqueue("integrations.tasks.pull_calendar", calendar_pk)


# --- Tasks ------------------------------------------------------------------------------------


def push_connection(connection_id: int) -> dict:
    from .google import push

    return push.push_connection(connection_id)


def sync_connection(connection_id: int) -> dict:
    from .google import pull, push

    pushed = push.push_connection(connection_id)
    pulled = pull.pull_connection(connection_id)
    return {"pushed": pushed, "pulled": pulled}


def resync_connection(connection_id: int, switched_from_calendar_pk: int | None = None) -> dict:
    from .google import pull, push

    pushed = push.resync_connection(connection_id, switched_from_calendar_pk=switched_from_calendar_pk)
    pulled = pull.pull_connection(connection_id, ensure_channels=True)
    return {"pushed": pushed, "pulled": pulled}


def pull_calendar(calendar_pk: int) -> dict:
    from .google import pull

    return pull.pull_calendar(calendar_pk)


def check_connection(connection_id: int) -> str:
    from .models import GoogleConnection
    from .services import connection_check_health

    connection = GoogleConnection.objects.filter(pk=connection_id).first()
    if connection is None:
        return "gone"
    return connection_check_health(connection=connection).state


# --- Schedules (installed by the ``install_schedules`` step of migrate) -----------------------------


def drain_outboxes() -> int:
    """Push every connection with waiting changes whose backoff has passed."""
    from .google import push

    return push.drain_outboxes()


def poll_connections() -> int:
    """The safety net under push notifications: an incremental pull of every active connection."""
    from .google import pull

    return pull.poll_all()


def renew_channels() -> int:
    from .google import channels

    return channels.renew_expiring_channels()


def check_all_connections() -> int:
    from .models import GoogleConnection

    ids = list(
        GoogleConnection.objects.exclude(state=GoogleConnection.State.UNLINKED).values_list("pk", flat=True)
    )
    for connection_id in ids:
        check_connection(connection_id)
    return len(ids)


def reconcile_daily() -> int:
    """Once a day: a full pull of every active connection (catches anything missed)."""
    from .google import pull

    return pull.reconcile_all()
