"""The worker heartbeat: a scheduled task that proves a django-q2 worker picks up and runs work.

django-q2's own cluster status (``Stat``) lives in the cache, which with the ORM broker and a
per-process cache is invisible to the web process; a row written by a real task is not.
"""

from __future__ import annotations

from django.utils import timezone

from .models import Heartbeat

WORKER = "worker"


def heartbeat() -> str:
    """Record that a worker ran this task now. Safe to run twice."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name=WORKER, defaults={"beat_at": now})
    return now.isoformat()
