"""Leave appointments flagged ``has_conflict`` out of the no-overlap constraint.

A change made in Google is accepted as the staff member made it and flagged when it
overlaps; before this, PostgreSQL refused to save the flagged appointment at all.
Like 0002, this touches PostgreSQL only.
"""

from django.db import migrations
from django.db.models import Q


def _replace(apps, schema_editor, condition):
    if schema_editor.connection.vendor != "postgresql":
        return
    from calendars.models import no_overlap_constraint

    model = apps.get_model("calendars", "Appointment")
    constraint = no_overlap_constraint()
    schema_editor.remove_constraint(model, constraint)  # dropped by name
    if condition is not None:
        constraint.condition = condition
    schema_editor.add_constraint(model, constraint)


def forwards(apps, schema_editor):
    _replace(apps, schema_editor, None)


def backwards(apps, schema_editor):
    _replace(apps, schema_editor, Q(status="booked"))


class Migration(migrations.Migration):
    dependencies = [("calendars", "0002_no_overlap_on_postgresql")]

    operations = [migrations.RunPython(forwards, backwards)]
