"""The heartbeat schedule, installed (idempotently) after every ``migrate``."""

from __future__ import annotations

HEARTBEAT_SCHEDULE = "Ops: worker heartbeat"


def install_heartbeat_schedule(**kwargs) -> None:
    """Run ``copilot.ops.tasks.heartbeat`` every minute; never duplicates, never replays missed runs."""
    from django_q.models import Schedule

    Schedule.objects.update_or_create(
        name=HEARTBEAT_SCHEDULE,
        defaults={
            "func": "copilot.ops.tasks.heartbeat",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": -1,
        },
    )
