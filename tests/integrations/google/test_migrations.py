"""Migration 0005: busy blocks that are another practice's appointments keep no title."""

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
