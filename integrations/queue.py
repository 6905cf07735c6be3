"""The integrations app's task queue: enqueue by name, never by import.

Tasks are named by their dotted path in ``integrations.tasks``, so any module (services, the
sync engine, the webhook) may enqueue without importing a task body: this module imports
nothing of the product and sits at the bottom of the import graph. ``enqueue_*`` wait for the
current transaction to commit (a worker never sees a change before it is durable); ``send_*``
are the schedules' fan-outs, which run outside any transaction. The request id and practice ride
along through django-q2's ``pre_enqueue`` signal (``copilot/ops/requestid.py``).
"""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task

TASKS = "integrations.tasks"
GROUP = "google"


def _send(task: str, *args, **kwargs) -> None:
    async_task(f"{TASKS}.{task}", *args, group=GROUP, **kwargs)


def _send_on_commit(task: str, *args, **kwargs) -> None:
    transaction.on_commit(lambda: _send(task, *args, **kwargs))


def enqueue_push(connection_id: int) -> None:
    """Push this connection's outbox soon."""
    _send_on_commit("push_connection", connection_id)


def enqueue_catch_up(connection_id: int) -> None:
    """After a connection works again: push everything that waited, then pull."""
    _send_on_commit("sync_connection", connection_id)


def enqueue_resync(connection_id: int) -> None:
    """After connecting or choosing calendars: write upcoming appointments, watch, pull."""
    _send_on_commit("resync_connection", connection_id)


def enqueue_pull(calendar_pk: int) -> None:
    """An incremental pull of one calendar (a push notification asked for it)."""
    _send_on_commit("pull_calendar", calendar_pk)


def send_push(connection_id: int) -> None:
    """Push this connection's outbox (the every-minute drain; not tied to a transaction)."""
    _send("push_connection", connection_id)


def send_pull(connection_id: int, *, full: bool = False) -> None:
    """Pull every selected calendar of the connection; ``full`` also drops tokens and heals channels."""
    _send("pull_connection", connection_id, full=full)
