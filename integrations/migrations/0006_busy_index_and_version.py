"""Busy time read by index range scans (issue 15): ``is_long`` and the (calendar, is_long, start)
index, a partial index on free/busy snapshots for the pull's sweep, and a per-calendar
``busy_version`` (with ``has_busy_snapshots``) that availability's shared cache keys on."""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import F

SHORT_BLOCK_MAX = timedelta(hours=36)  # integrations.models.SHORT_BLOCK_MAX when this was written


def mark_long_blocks(apps, schema_editor):
    blocks = apps.get_model("integrations", "BusyBlock").objects
    blocks.filter(end__gt=F("start") + SHORT_BLOCK_MAX).update(is_long=True)
    apps.get_model("integrations", "GoogleCalendar").objects.filter(
        pk__in=blocks.filter(event_id="").values("calendar_id")
    ).update(has_busy_snapshots=True)


class Migration(migrations.Migration):

    dependencies = [
        ('integrations', '0005_blank_tagged_busy_summaries'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='busyblock',
            name='busyblock_calendar_start',
        ),
        migrations.AddField(
            model_name='busyblock',
            name='is_long',
            field=models.BooleanField(default=False, editable=False),
        ),
        migrations.AddField(
            model_name='googlecalendar',
            name='busy_version',
            field=models.PositiveBigIntegerField(default=0, editable=False, help_text="Bumped with every write of this calendar's busy blocks (cache keys)."),
        ),
        migrations.AddField(
            model_name='googlecalendar',
            name='has_busy_snapshots',
            field=models.BooleanField(default=False, editable=False, help_text='Free/busy snapshots stored since the last pull (to sweep).'),
        ),
        migrations.AddIndex(
            model_name='busyblock',
            index=models.Index(fields=['calendar', 'is_long', 'start'], name='busyblock_calendar_long_start'),
        ),
        migrations.AddIndex(
            model_name='busyblock',
            index=models.Index(condition=models.Q(('event_id', '')), fields=['calendar'], name='busyblock_snapshots'),
        ),
        migrations.RunPython(mark_long_blocks, migrations.RunPython.noop, elidable=True),
    ]
