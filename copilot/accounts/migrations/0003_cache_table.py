"""Create the database cache table ("default" cache without REDIS_URL), so every `migrate`
(also the test database's) has the shared cache that allauth's login rate limits use."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # Only touches DatabaseCache backends, and skips a table that already exists.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_invitation")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=True)]
