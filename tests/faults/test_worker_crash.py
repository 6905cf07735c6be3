"""A real django-q2 worker killed in the middle of a resync: the restart converges, nothing is duplicated.

The worker is ``manage.py qcluster`` in its own process group, on the test database (PostgreSQL:
the worker and the test share it for real). It is killed with SIGKILL once Google holds some but
not all of the events, so the database has not recorded the batch Google already accepted.
The dead worker's lease holds the connection up for at most 30 s (it is renewed while a worker
lives, and short): the restart waits for it to run out, on a deadline.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone
from django_q.tasks import async_task

from calendars.models import Appointment
from integrations.google import push
from integrations.models import EventLink, GoogleConnection
from tests.helpers import wait_until

from .conftest import connect_member, tagged_events

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

APPOINTMENTS = 200
LATENCY_MS = 250  # per batch request of 50 events: the batch is in flight long enough to be hit
ROOT = Path(settings.BASE_DIR)
INSERT_ROUTE = "POST /calendar/v3/calendars/{calendarId}/events"


def _database_url() -> str:
    db = db_connection.settings_dict
    credentials = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or "5432"
    return f"postgres://{credentials}@{host}:{port}/{db['NAME']}"


@contextmanager
def qcluster(log: Path) -> Iterator[subprocess.Popen]:
    """A real worker on the test database; SIGKILLed with its process group on the way out."""
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "Q_SYNC": "0",
        "Q_WORKERS": "1",
        "GOOGLE_EMULATOR_URL": settings.GOOGLE_EMULATOR_URL,
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        kill(process)


def kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def _inserted(google) -> int:
    """Events Google accepted (batch parts and single requests)."""
    stats = google.stats()
    return sum(
        table.get(INSERT_ROUTE, {}).get("200", 0) for table in (stats["batch_parts"], stats["requests"])
    )


def _upcoming(member, count: int) -> list[Appointment]:
    """``count`` one-hour appointments, ten a day from tomorrow, created without the booking hook."""
    zone = member.practice.zone
    first = timezone.now().astimezone(zone).date() + timedelta(days=1)
    appointments = []
    for number in range(count):
        day = first + timedelta(days=number // 10)
        start = datetime(day.year, day.month, day.day, 8 + number % 10, tzinfo=zone)
        appointments.append(
            Appointment(
                practice=member.practice,
                staff=member,
                title=f"Patient {number}",
                start=start,
                end=start + timedelta(hours=1),
            )
        )
    return Appointment.objects.bulk_create(appointments)


def _enqueue_resync(connection_id: int) -> None:
    # sync=False: into the ORM queue for the real worker, although this process runs tasks inline.
    async_task("integrations.tasks.resync_connection", connection_id, None, group="google", sync=False)


def test_a_worker_killed_mid_resync_converges_without_duplicates(google, staff, tmp_path):
    [member] = staff(1)
    connection = connect_member(google, member)
    _upcoming(member, APPOINTMENTS)
    google.reset_stats()
    google.faults(rate=0, latency_ms=LATENCY_MS)
    log = tmp_path / "qcluster.log"

    with qcluster(log) as worker:
        _enqueue_resync(connection.pk)
        wait_until(lambda: _inserted(google) >= 50 or worker.poll() is not None, timeout=90)
        assert worker.poll() is None, f"the worker died on its own:\n{log.read_text()[-3000:]}"
        kill(worker)
        killed_at = timezone.now()
    in_google_at_kill = _inserted(google)
    synced_at_kill = EventLink.objects.filter(member=member, needs_push=False).count()
    assert 0 < in_google_at_kill < APPOINTMENTS or synced_at_kill < APPOINTMENTS, "not killed mid-batch"
    assert synced_at_kill < APPOINTMENTS, "the resync finished before the kill: nothing was tested"

    # While the dead worker's lease lasts, nobody else writes to this calendar.
    assert push.push_due_links(connection.pk) == {"skipped_busy": 1}
    # Issue 15: the lease is short and was being renewed while the worker lived, so the dead
    # worker holds the connection up for at most 30 s after the kill (it was five minutes).
    lease_until = GoogleConnection.objects.get(pk=connection.pk).push_lease_until
    assert lease_until - killed_at <= timedelta(seconds=30), lease_until - killed_at
    wait_until(
        lambda: GoogleConnection.objects.get(pk=connection.pk).push_lease_until < timezone.now(),
        timeout=45,  # 30 s of lease, and room for a loaded machine
    )

    google.faults(rate=0, latency_ms=20)
    with qcluster(log) as worker:
        _enqueue_resync(connection.pk)
        wait_until(
            lambda: (
                worker.poll() is not None
                or not EventLink.objects.filter(member=member, needs_push=True).exists()
                and EventLink.objects.filter(member=member).count() == APPOINTMENTS
            ),
            timeout=120,
        )
        assert worker.poll() is None, f"the restarted worker died:\n{log.read_text()[-3000:]}"
    google.clear_faults()

    events = tagged_events(google, member.user.email)
    duplicates = {k: len(v) for k, v in events.items() if len(v) > 1}
    assert not duplicates, f"duplicated events by appointment: {duplicates}"
    ids = {str(pk) for pk in Appointment.objects.filter(staff=member).values_list("pk", flat=True)}
    assert set(events) == ids
    links = dict(EventLink.objects.filter(member=member).values_list("appointment_id", "event_id"))
    assert {str(k): v for k, v in links.items()} == {k: v[0]["id"] for k, v in events.items()}
    assert not EventLink.objects.filter(member=member).exclude(state=EventLink.State.SYNCED).exists()
    print(
        f"\nWorker crash: killed with {in_google_at_kill}/{APPOINTMENTS} events in Google and "
        f"{synced_at_kill} recorded; converged with {len(events)} events, no duplicates"
    )
