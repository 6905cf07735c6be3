"""The push's planning step reads its outbox in a fixed number of queries, however many appointments
and appointment types it holds (the type's name is what "type only" writes to Google)."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from calendars.models import AppointmentType
from copilot.accounts.models import Practice
from integrations.google import push
from patients.services import PatientDetails, patient_create

from .test_push import slot

pytestmark = pytest.mark.django_db

# The due links with their appointment, practice, staff, type, member and calendar (one join),
# the assignees (one prefetch), and the connection's linked calendar.
PLAN_QUERIES = 3


@pytest.fixture
def typed(practice_a, bob, book):
    """Book ``n`` appointments for bob, each of its own type, left in the outbox (not pushed)."""
    practice_a.external_title_privacy = Practice.TitlePrivacy.TYPE
    practice_a.save()
    lucia = patient_create(
        practice=practice_a, details=PatientDetails(name="Lucia Romero", email="", phone="1")
    )

    def _typed(n: int, first_day: int = 1) -> None:
        for day in range(first_day, first_day + n):
            kind = AppointmentType.objects.create(practice=practice_a, name=f"Type {day}")
            book(bob, *slot(bob, day, 10), title="", patient=lucia, appointment_type=kind)

    return _typed


def plan_queries(connection) -> int:
    with CaptureQueriesContext(db_connection) as queries:
        pushes = push.link_pushes(connection, push.load_due_links(connection))
    assert all(p.body and p.body["summary"].startswith("Type ") for p in pushes)
    return len(queries)


def test_planning_a_push_of_typed_appointments_costs_fixed_queries(bob_connected, typed):
    typed(1)
    assert plan_queries(bob_connected) == PLAN_QUERIES
    typed(4, first_day=2)
    assert plan_queries(bob_connected) == PLAN_QUERIES  # five appointments of five types
