"""Periodic Google work is installed by migrate, once, and its tasks run."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from integrations import tasks

pytestmark = pytest.mark.django_db


def test_migrate_installs_each_schedule_once():
    call_command("migrate", verbosity=0)  # a second migrate must not duplicate them
    names = list(Schedule.objects.filter(name__startswith="Google:").values_list("name", flat=True))
    assert sorted(names) == sorted(set(names))
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert {
        "integrations.tasks.drain_outboxes",
        "integrations.tasks.poll_connections",
        "integrations.tasks.renew_channels",
        "integrations.tasks.check_all_connections",
    } <= funcs
    poll = Schedule.objects.get(func="integrations.tasks.poll_connections")
    # Every minute since issue 15: each run polls one slice of the connections (pull.poll_due).
    assert (poll.schedule_type, poll.minutes, poll.repeats) == (Schedule.MINUTES, 1, -1)
    # Each run is told its planned minute, so runs tile the interval however late they start.
    assert poll.intended_date_kwarg == "intended"


def test_migrate_retires_the_daily_reconcile_that_pulled_everyone_at_once():
    """Issue 15: each connection's poll makes its full pull once a day (pull.daily_full_pull)."""
    Schedule.objects.create(
        name="Google: daily reconcile",
        func="integrations.tasks.reconcile_daily",
        schedule_type=Schedule.DAILY,
    )

    call_command("migrate", verbosity=0)

    assert not Schedule.objects.filter(func="integrations.tasks.reconcile_daily").exists()


def test_the_health_check_task_moves_a_revoked_connection_to_needs_reconnect(bob, connect, google):
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import GoogleConnection

    connection = connect(bob)
    google.revoke(bob.user.email)
    GoogleConnection.objects.filter(pk=connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1)
    )
    assert tasks.check_all_connections() == 1
    assert GoogleConnection.objects.get(pk=connection.pk).state == "needs_reconnect"


def test_the_health_check_leaves_connections_their_polls_vouch_for(bob, dora, connect, google):
    """Issue 15: at 10,000 connections one task refreshing every token outlasts the task timeout.
    An active connection that synced recently has just used its grant: no refresh for it."""
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import GoogleConnection

    polled, stale = connect(bob), connect(dora)
    GoogleConnection.objects.filter(pk=polled.pk).update(last_sync_at=timezone.now() - timedelta(minutes=5))
    GoogleConnection.objects.filter(pk=stale.pk).update(last_sync_at=timezone.now() - timedelta(hours=2))
    google.reset_stats()

    assert tasks.check_all_connections() == 1

    assert sum(google.stats()["requests"].get("POST /token", {}).values()) == 1
