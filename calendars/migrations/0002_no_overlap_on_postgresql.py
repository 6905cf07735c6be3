"""PostgreSQL refuses overlapping active appointments of one staff member itself.

SQLite has no exclusion constraints; there the booking service's IMMEDIATE transaction
serializes writers instead. The constraint is added through the schema editor only on
PostgreSQL so one set of migrations serves both databases.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from calendars.models import no_overlap_constraint

    schema_editor.add_constraint(apps.get_model("calendars", "Appointment"), no_overlap_constraint())


def remove_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from calendars.models import no_overlap_constraint

    schema_editor.remove_constraint(apps.get_model("calendars", "Appointment"), no_overlap_constraint())


class Migration(migrations.Migration):
    dependencies = [("calendars", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, remove_constraint),
    ]
