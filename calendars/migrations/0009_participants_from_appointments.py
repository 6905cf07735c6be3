"""Participant rows for every existing appointment, and the no-overlap rule moved onto them.

Owners come first (the old constraint kept their active appointments apart). Assignees were never
checked, so an assignee already in another active appointment at that time gets the appointment
flagged ``has_conflict`` (shown as a conflict in the portal) and its rows inactive, as a change
from Google would be. On PostgreSQL the per-owner constraint on ``Appointment`` is then replaced by
the per-member one on ``Participant``.
"""

from django.db import migrations


def create_rows(apps, schema_editor):
    Appointment = apps.get_model("calendars", "Appointment")
    Participant = apps.get_model("calendars", "Participant")
    Assignment = Appointment.assignees.through
    appointments = {a.pk: a for a in Appointment.objects.order_by("start", "pk")}
    Participant.objects.bulk_create(
        [
            Participant(
                appointment_id=a.pk,
                member_id=a.staff_id,
                is_owner=True,
                start=a.start,
                end=a.end,
                active=a.status == "booked" and not a.has_conflict,
            )
            for a in appointments.values()
        ],
        batch_size=500,
    )
    for row in Assignment.objects.order_by("appointment_id", "membership_id"):
        a = appointments[row.appointment_id]
        if row.membership_id == a.staff_id:
            continue
        active = a.status == "booked" and not a.has_conflict
        if active and Participant.objects.filter(
            member_id=row.membership_id, active=True, start__lt=a.end, end__gt=a.start
        ).exists():
            a.has_conflict = True
            active = False
            Appointment.objects.filter(pk=a.pk).update(has_conflict=True)
            Participant.objects.filter(appointment_id=a.pk).update(active=False)
        Participant.objects.create(
            appointment_id=a.pk, member_id=row.membership_id, start=a.start, end=a.end, active=active
        )


def move_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from calendars.models import no_overlap_constraint, participant_no_overlap_constraint

    schema_editor.remove_constraint(apps.get_model("calendars", "Appointment"), no_overlap_constraint())
    schema_editor.add_constraint(apps.get_model("calendars", "Participant"), participant_no_overlap_constraint())


def restore_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from calendars.models import no_overlap_constraint, participant_no_overlap_constraint

    schema_editor.remove_constraint(apps.get_model("calendars", "Participant"), participant_no_overlap_constraint())
    schema_editor.add_constraint(apps.get_model("calendars", "Appointment"), no_overlap_constraint())


class Migration(migrations.Migration):
    dependencies = [("calendars", "0008_participants")]

    operations = [
        migrations.RunPython(create_rows, migrations.RunPython.noop),
        migrations.RunPython(move_constraint, restore_constraint),
    ]
