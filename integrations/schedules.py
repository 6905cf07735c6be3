"""The periodic work django-q2 runs, installed (idempotently) after every ``migrate``."""

from __future__ import annotations


def _wanted() -> list[dict]:
    return [
        {"name": "Google: push waiting changes", "func": "integrations.tasks.drain_outboxes", "minutes": 1},
        {
            "name": "Google: poll connections",
            "func": "integrations.tasks.poll_connections",
            "minutes": 1,  # each run polls one slice: every connection once per GOOGLE_POLL_MINUTES
            "intended_date_kwarg": "intended",  # the run's planned minute: runs tile the interval
        },
        {"name": "Google: renew push channels", "func": "integrations.tasks.renew_channels", "minutes": 60},
        {
            "name": "Google: check connection health",
            "func": "integrations.tasks.check_all_connections",
            "minutes": 6 * 60,
        },
    ]


# Schedules of earlier versions, removed when migrate runs. The daily reconcile enqueued a full
# pull of every connection at once; each connection's poll now makes it once a day (pull.daily_full_pull).
RETIRED = ["Google: daily reconcile"]


def install_schedules(**kwargs) -> None:
    """Create or update the schedules by name; never duplicates, never replays missed runs."""
    from django_q.models import Schedule

    Schedule.objects.filter(name__in=RETIRED).delete()

    for item in _wanted():
        Schedule.objects.update_or_create(
            name=item["name"],
            defaults={
                "func": item["func"],
                "schedule_type": Schedule.MINUTES,
                "minutes": item["minutes"],
                "repeats": -1,
                "intended_date_kwarg": item.get("intended_date_kwarg"),
            },
        )
