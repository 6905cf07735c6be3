"""What ``/readyz`` checks: each dependency a request or a sync needs, answered cheaply.

Every check returns a ``Check``; none raises. In a process whose migrations were once found
applied, that answer is kept (migrations do not un-apply under a running process), so a
steady-state probe costs three small queries: ``SELECT 1``, the heartbeat row and the oldest
queued task.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Min
from django.utils import timezone


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


_migrations_applied = False


def reset_migration_check() -> None:
    """Forget a cached "all applied" answer (tests; a deploy restarts processes anyway)."""
    global _migrations_applied
    _migrations_applied = False


def check_database() -> Check:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not reachable"
        return Check("database", False, f"unreachable: {exc.__class__.__name__}")
    return Check("database", True, "reachable")


def check_migrations() -> Check:
    global _migrations_applied
    if _migrations_applied:
        return Check("migrations", True, "applied")
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return Check("migrations", False, f"could not be checked: {exc.__class__.__name__}")
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        return Check("migrations", False, f"{len(plan)} not applied (run migrate): {names}")
    _migrations_applied = True
    return Check("migrations", True, "applied")


def check_cache() -> Check:
    """A round trip through the default cache when it is a shared one of its own (Redis, memcached).

    The database cache is a table in the database the ``database`` check already reached (and
    ``migrations`` already found created), so it costs the probe no queries of its own.
    """
    key, value = "ops:readyz", uuid.uuid4().hex
    try:
        cache = caches["default"]
        if isinstance(cache, LocMemCache | DummyCache):
            return Check("cache", True, "in-process cache, nothing to reach")
        if isinstance(cache, DatabaseCache):
            return Check("cache", True, "a table in the database, reached above")
        cache.set(key, value, 30)
        answered = cache.get(key)
    except Exception as exc:
        return Check("cache", False, f"unreachable: {exc.__class__.__name__}")
    if answered != value:
        return Check("cache", False, "did not return what was just stored")
    return Check("cache", True, "reachable")


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


def last_heartbeat() -> datetime | None:
    """When a django-q2 worker last ran the heartbeat task (None: never)."""
    from .models import Heartbeat
    from .tasks import WORKER

    return Heartbeat.objects.filter(name=WORKER).values_list("beat_at", flat=True).first()


def check_worker(now: datetime | None = None) -> Check:
    """The heartbeat task ran recently, so a django-q2 worker (and its scheduler) is alive."""
    now = now or timezone.now()
    limit = settings.READY_WORKER_MAX_SECONDS
    try:
        beat = last_heartbeat()
    except Exception as exc:
        return Check("worker", False, f"could not be checked: {exc.__class__.__name__}")
    age = _age(beat, now)
    if age is None:
        return Check("worker", False, "no heartbeat yet: is a qcluster process running?")
    if age > limit:
        return Check("worker", False, f"last heartbeat {age:.0f} s ago (limit {limit} s)")
    return Check("worker", True, f"last heartbeat {age:.0f} s ago")


def oldest_queued_at() -> datetime | None:
    """When the oldest task still waiting for a worker was queued (None: the queue is empty).

    ORM broker: the smallest ``lock`` of the rows no worker holds (``lock`` is the enqueue time
    until a worker takes the row, then its retry deadline). Redis broker: the ``started`` time
    inside the task at the head of the list (tasks are appended and taken from the head).
    """
    from django_q.conf import Conf

    now = timezone.now()
    if Conf.ORM:
        from django_q.models import OrmQ

        return OrmQ.objects.using(Conf.ORM).filter(lock__lte=now).aggregate(oldest=Min("lock"))["oldest"]
    from django_q.brokers import get_broker
    from django_q.signing import SignedPackage

    broker = get_broker()
    head = broker.connection.lindex(broker.list_key, 0)
    return SignedPackage.loads(head)["started"] if head else None


def check_queue(now: datetime | None = None) -> Check:
    now = now or timezone.now()
    limit = settings.READY_QUEUE_MAX_SECONDS
    try:
        age = _age(oldest_queued_at(), now)
    except Exception as exc:
        return Check("queue", False, f"could not be read: {exc.__class__.__name__}")
    if age is None:
        return Check("queue", True, "empty")
    if age > limit:
        return Check("queue", False, f"oldest task waiting {age:.0f} s (limit {limit} s)")
    return Check("queue", True, f"oldest task waiting {age:.0f} s")


def readiness() -> list[Check]:
    """Every check, in order; with the database down the checks that need it are not attempted."""
    database = check_database()
    if not database.ok:
        skipped = [
            Check(name, False, "not checked: database unreachable") for name in ("migrations", "worker")
        ]
        return [database, *skipped, check_cache(), check_queue_without_database()]
    return [database, check_migrations(), check_cache(), check_worker(), check_queue()]


def check_queue_without_database() -> Check:
    from django_q.conf import Conf

    if Conf.ORM:
        return Check("queue", False, "not checked: database unreachable")
    return check_queue()
