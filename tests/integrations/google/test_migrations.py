"""Data migrations of busy blocks: 0005 (no stored titles of other practices), 0006 (is_long, snapshots)."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

from django.apps import apps
from django.utils import timezone

from integrations.models import BusyBlock

blank_tagged_summaries = import_module(
    "integrations.migrations.0005_blank_tagged_busy_summaries"
).blank_tagged_summaries


def test_busy_blocks_of_another_practices_appointments_lose_their_stored_titles(db, bob, connect):
    calendar = connect(bob).calendars.get(is_linked=True)
    start = timezone.now()

    def block(event_id: str, summary: str, practice_tag: str = "") -> BusyBlock:
        return BusyBlock.objects.create(
            calendar=calendar,
            event_id=event_id,
            start=start,
            end=start + timedelta(hours=1),
            summary=summary,
            practice_tag=practice_tag,
        )

    tagged = block("a", "Filling: Lucia Romero", practice_tag="7")
    own = block("b", "Bob's dentist visit")
    untitled = block("c", "", practice_tag="7")

    blank_tagged_summaries(apps, None)

    assert BusyBlock.objects.get(pk=tagged.pk).summary == ""
    assert BusyBlock.objects.get(pk=own.pk).summary == "Bob's dentist visit", "his own events keep theirs"
    assert BusyBlock.objects.get(pk=untitled.pk).summary == ""
    assert BusyBlock.objects.get(pk=tagged.pk).practice_tag == "7", "still busy, still tagged"


def test_migration_0006_flags_long_blocks_and_calendars_with_snapshots(db, bob, connect):
    mark_long_blocks = import_module("integrations.migrations.0006_busy_index_and_version").mark_long_blocks
    calendar = connect(bob).calendars.get(is_linked=True)
    start = timezone.now()
    short = BusyBlock.objects.create(
        calendar=calendar, event_id="s", start=start, end=start + timedelta(hours=36)
    )
    long = BusyBlock.objects.create(
        calendar=calendar, event_id="l", start=start, end=start + timedelta(days=3)
    )
    BusyBlock.objects.filter(pk=long.pk).update(is_long=False)  # as rows were before the column
    BusyBlock.objects.create(calendar=calendar, event_id="", start=start, end=start + timedelta(hours=1))

    mark_long_blocks(apps, None)

    assert not BusyBlock.objects.get(pk=short.pk).is_long
    assert BusyBlock.objects.get(pk=long.pk).is_long
    calendar.refresh_from_db()
    assert calendar.has_busy_snapshots
