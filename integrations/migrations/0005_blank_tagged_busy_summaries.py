"""Blank the title of every busy block that is another practice's appointment (issue 10, point 2).

Before busy time stopped storing titles of our own tagged events, a block whose event is an
appointment of another practice (``practice_tag`` set) kept that appointment's title, a patient's
name, in ``summary``. The portal no longer shows it, but it must not stay in the table either.
Not reversible: the titles are gone (the next pull would not bring them back either).
"""

from django.db import migrations


def blank_tagged_summaries(apps, schema_editor):
    busy_blocks = apps.get_model("integrations", "BusyBlock").objects
    busy_blocks.exclude(practice_tag="").exclude(summary="").update(summary="")


class Migration(migrations.Migration):
    dependencies = [("integrations", "0004_delete_plaintext_social_tokens")]

    operations = [migrations.RunPython(blank_tagged_summaries, migrations.RunPython.noop, elidable=True)]
