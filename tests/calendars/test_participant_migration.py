"""Migration 0009: participant rows for the appointments that existed before participants."""

from __future__ import annotations

from importlib import import_module

from django.apps import apps

from calendars.models import Appointment, Participant
from tests.conftest import local

create_rows = import_module("calendars.migrations.0009_participants_from_appointments").create_rows


def test_existing_owners_and_assignees_get_rows_and_a_double_booked_assignee_is_flagged(db, alice, bob, dora):
    p = bob.practice
    nine, ten = local(p, 2026, 11, 23, 9), local(p, 2026, 11, 23, 10)
    first = Appointment.objects.create(practice=p, staff=bob, title="Crown", start=nine, end=ten)
    first.assignees.set([dora])
    second = Appointment.objects.create(practice=p, staff=alice, title="Filling", start=nine, end=ten)
    second.assignees.set([dora])  # accepted before participants: Dora was in two places at once
    gone = Appointment.objects.create(
        practice=p, staff=dora, title="Old", start=nine, end=ten, status=Appointment.Status.CANCELLED
    )

    create_rows(apps, None)

    def rows(appointment):
        return sorted(appointment.participants.values_list("member_id", "is_owner", "active"))

    assert rows(first) == sorted([(bob.pk, True, True), (dora.pk, False, True)])
    assert rows(second) == sorted([(alice.pk, True, False), (dora.pk, False, False)])
    assert Appointment.objects.get(pk=second.pk).has_conflict
    assert not Appointment.objects.get(pk=first.pk).has_conflict
    assert rows(gone) == [(dora.pk, True, False)]
    assert set(Participant.objects.values_list("start", "end")) == {(nine, ten)}
