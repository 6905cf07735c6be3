"""Search-as-you-type stays fast at 50,000 patients: trigram indexes, on PostgreSQL only.

``pg_trgm``'s GIN indexes answer ``UPPER(col) LIKE UPPER('%q%')`` (Django's ``icontains``).
SQLite has neither the extension nor GIN, so the indexes are added through the schema editor
only on PostgreSQL and one set of migrations serves both databases.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


def add_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from patients.models import search_indexes

    for index in search_indexes():
        schema_editor.add_index(apps.get_model("patients", "Patient"), index)


def remove_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from patients.models import search_indexes

    for index in search_indexes():
        schema_editor.remove_index(apps.get_model("patients", "Patient"), index)


class Migration(migrations.Migration):
    dependencies = [("patients", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(add_indexes, remove_indexes),
    ]
