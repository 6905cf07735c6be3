"""Liveness marks written by background work and read by ``/readyz``."""

from __future__ import annotations

from django.db import models


class Heartbeat(models.Model):
    """The last time a process of one kind proved it runs (``worker``: a django-q2 worker ran a task)."""

    name = models.CharField(max_length=32, primary_key=True)
    beat_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.beat_at:%Y-%m-%d %H:%M:%S}"
