"""google_doctor --json and sync_status: what an on-call person or a script reads about the installation."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from calendars.models import Appointment
from integrations.models import GoogleCalendar, GoogleConnection
from integrations.overview import percentile, status_summary, sync_overview
from tests.conftest import local

pytestmark = pytest.mark.django_db


def run(*args, capsys) -> tuple[int, str]:
    try:
        call_command(*args)
        code = 0
    except SystemExit as exit_info:
        code = exit_info.code
    return code, capsys.readouterr().out


def test_google_doctor_json_describes_each_connection_for_scripts(bob, dora, google, connect, capsys):
    bob_connection, dora_connection = connect(bob), connect(dora)
    code, out = run("google_doctor", "--json", capsys=capsys)
    assert code == 0
    document = json.loads(out)
    assert document["needs_person"] == 0
    bob_facts = next(c for c in document["connections"] if c["id"] == bob_connection.pk)
    assert bob_facts["state"] == "active"
    assert bob_facts["token_check"] == "works"
    assert bob_facts["scopes_missing"] == []
    assert [c["role"] for c in bob_facts["calendars"]] == ["linked"]
    assert bob_connection.access_token not in out and bob_connection.refresh_token not in out

    google.revoke(dora.user.email)
    GoogleConnection.objects.filter(pk=dora_connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1)
    )
    code, out = run("google_doctor", "--json", "--user", dora.user.email, capsys=capsys)
    assert code == 1
    document = json.loads(out)
    assert document["needs_person"] == 1
    [facts] = document["connections"]
    assert (facts["state"], facts["token_check"], facts["needs_person"]) == (
        "needs_reconnect",
        "failed",
        True,
    )


def test_sync_status_summarises_states_backlog_and_lag_percentiles(bob, dora, google, connect, book, capsys):
    bob_connection, dora_connection = connect(bob), connect(dora)
    GoogleConnection.objects.filter(pk=dora_connection.pk).update(
        state=GoogleConnection.State.NEEDS_RECONNECT
    )
    day = timezone.now().astimezone(dora.practice.zone).date() + timedelta(days=3)
    for hour in (9, 10):
        book(
            dora,
            local(dora.practice, day.year, day.month, day.day, hour),
            local(dora.practice, day.year, day.month, day.day, hour, 30),
        )
    Appointment.objects.filter(staff=dora).update(updated=timezone.now() - timedelta(minutes=5))
    GoogleCalendar.objects.filter(connection=bob_connection, is_linked=True).update(
        last_synced_at=timezone.now() - timedelta(minutes=20)
    )

    code, out = run("sync_status", "--json", capsys=capsys)
    assert code == 0
    summary = json.loads(out)
    assert summary["connections"]["active"] == 1 and summary["connections"]["needs_reconnect"] == 1
    assert summary["outbox"]["held"]["changes"] == 2 and summary["outbox"]["due"]["changes"] == 0
    assert 300 <= summary["outbox"]["held"]["oldest_seconds"] < 400
    assert summary["pull_lag_seconds"]["calendars"] == 1
    assert 1200 <= summary["pull_lag_seconds"]["p50"] < 1300

    code, out = run("sync_status", capsys=capsys)
    assert code == 0
    assert "active 1" in out and "needs_reconnect 1" in out
    assert "0 change(s) due to be pushed\n" in out
    assert "2 change(s) held until someone reconnects, oldest 5 min" in out
    assert "1 calendar(s): p50 20 min" in out


def test_sync_status_of_an_empty_installation(capsys):
    code, out = run("sync_status", capsys=capsys)
    assert code == 0
    assert "0 change(s) due to be pushed" in out and "no calendar of an active connection" in out
    assert status_summary(sync_overview())["pull_lag_seconds"]["p99"] is None


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 90), percentile(values, 99)) == (50, 90, 99)
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) is None


def test_changes_google_refuses_stay_due_not_held(
    bob, google, connect, book, django_capture_on_commit_callbacks
):
    connect(bob)
    google.faults(rate=1.0, statuses=[503])  # Google is down: the push fails and will be retried
    day = timezone.now().astimezone(bob.practice.zone).date() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        book(
            bob,
            local(bob.practice, day.year, day.month, day.day, 9),
            local(bob.practice, day.year, day.month, day.day, 10),
        )
    google.clear_faults()
    summary = status_summary(sync_overview())
    assert summary["outbox"]["due"]["changes"] == 1
    assert summary["outbox"]["held"]["changes"] == 0
