"""The integrations app's task queue: enqueue by name, never by import.

Tasks are named by their dotted path in ``integrations.tasks``, so any module (services, the
sync engine, the webhook) may enqueue without importing a task body: this module imports
nothing of the product and sits at the bottom of the import graph. ``enqueue_*`` wait for the
current transaction to commit (a worker never sees a change before it is durable); ``send_*``
are the schedules' fan-outs, which run outside any transaction. The request id and practice ride
along through django-q2's ``pre_enqueue`` signal (``copilot/ops/requestid.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from django.db import transaction
from django.utils import timezone
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


# Fewer sends than this go at once: the workers clear such a burst in a second or two, and
# pacing it would keep a worker asleep for most of a minute (a small deployment has few).
PACE_AT_LEAST = 60


def send_paced(
    sends: Iterable[tuple[float, Callable[[], None]]],
    *,
    sleep: Callable[[float], object] = time.sleep,
    at_least: int = PACE_AT_LEAST,
) -> int:
    """Call each ``send`` at its moment (a Unix time), earliest first; those already due at once.

    The schedules' fan-outs (polls, the outbox drain) use it so Google and the workers see a
    steady stream instead of one burst per run; fewer than ``at_least`` go at once.
    Returns how many were sent.
    """
    sends = sorted(sends, key=lambda item: item[0])
    pace = len(sends) >= at_least
    sent = 0
    for at, send in sends:
        wait = at - timezone.now().timestamp()
        if pace and wait > 0:
            sleep(wait)
        send()
        sent += 1
    return sent
