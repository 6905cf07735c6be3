"""The outbox is found through a partial index of the due links only, not by reading every copy.

A practice keeps one EventLink per appointment and staff member for years; at any moment only a
handful are due. The every-minute drain, a connection's push and the backlog gauge must cost what
the backlog holds, so their plans use ``eventlink_due`` (``WHERE needs_push``) and never scan the
table, with the planner's own choice (nothing disabled).
"""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.db import connection as db

from calendars.models import Appointment
from integrations.google import outbox, push
from integrations.models import EventLink, GoogleConnection
from integrations.overview import outbox_backlog

from ...conftest import slot

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

LINKS = 20_000
DUE = 3


@pytest.fixture
def years_of_copies(practice_a, bob):
    """``LINKS`` synced copies of bob's appointments, the last ``DUE`` of them waiting to be pushed."""
    start = slot(bob, 1, 9)[0].astimezone(UTC)  # hours back in UTC: no wall-clock DST gaps
    appointments = Appointment.objects.bulk_create(
        Appointment(
            practice=practice_a,
            staff=bob,
            title="Check-up",
            start=start - timedelta(hours=n),
            end=start - timedelta(hours=n - 1),
        )
        for n in range(LINKS)
    )
    EventLink.objects.bulk_create(
        EventLink(
            appointment=appointment,
            member=bob,
            event_id=f"e{n}",
            state=EventLink.State.PENDING if n < DUE else EventLink.State.SYNCED,
            needs_push=n < DUE,
        )
        for n, appointment in enumerate(appointments)
    )
    GoogleConnection.objects.create(
        user=bob.user, google_email=bob.user.email, state=GoogleConnection.State.ACTIVE
    )
    with db.cursor() as cursor:
        cursor.execute(f"ANALYZE {EventLink._meta.db_table}")


def plan(sql: str, params) -> str:
    with db.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def assert_reads_only_the_due_links(plan_text: str) -> None:
    table = EventLink._meta.db_table
    assert "eventlink_due" in plan_text, plan_text
    assert f"Seq Scan on {table}" not in plan_text, plan_text


def test_a_connections_push_reads_its_due_links_through_the_partial_index(years_of_copies, bob):
    connection = GoogleConnection.objects.get(user=bob.user)
    due = push.due_links(connection)
    assert due.count() == DUE
    assert_reads_only_the_due_links(due.explain())


def test_the_drain_and_the_backlog_gauge_read_only_the_due_links(years_of_copies, bob, monkeypatch):
    sent = []
    monkeypatch.setattr(outbox.queue, "send_push", sent.append)
    queries = []

    def capture(execute, sql, params, many, context):
        queries.append((sql, params))
        return execute(sql, params, many, context)

    with db.execute_wrapper(capture):
        outbox.drain_outboxes()
        due, _held = outbox_backlog()
    assert due.count == DUE
    assert sent == [GoogleConnection.objects.get(user=bob.user).pk]
    table = EventLink._meta.db_table
    reading_links = [(sql, params) for sql, params in queries if table in sql]
    assert len(reading_links) == 2, reading_links
    for sql, params in reading_links:
        assert_reads_only_the_due_links(plan(sql, params))
