"""The "Changes from Google" inbox: what it records about a change, and how it is read.

The services that apply a change from outside the portal call ``inbox_item_record`` inside their
transaction, with the appointment as it was before; Keep and Undo are services
(``calendars.services.inbox_item_keep`` / ``inbox_item_undo``). Extension point: another source
(online bookings) adds a value to ``InboxItem.Source`` (and a kind such as ``booked``) and calls
``inbox_item_record`` from the service that applies it; the page and the count need no change.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from copilot.accounts.models import Membership, Practice

from .models import Appointment, InboxItem
from .timezones import format_local_range

Kind = InboxItem.Kind


def appointment_snapshot(appointment: Appointment) -> dict:
    """What the inbox shows and Undo restores: the appointment's own fields, JSON-ready."""
    return {
        "title": appointment.title,
        "start": appointment.start.isoformat(),
        "end": appointment.end.isoformat(),
        "location": appointment.location,
        "notes": appointment.notes,
        "status": appointment.status,
    }


def kind_of_change(changed: set[str], *, has_conflict: bool) -> str:
    """Name the most important part of an update: a conflicting move, a move, a title, a place, notes."""
    if {"start", "end", "staff"} & changed:
        return Kind.CONFLICT if has_conflict else Kind.MOVED
    if "title" in changed:
        return Kind.RETITLED
    if "location" in changed:
        return Kind.RELOCATED
    return Kind.CHANGED


def inbox_item_record(*, appointment: Appointment, source: str, kind: str, before: dict) -> InboxItem:
    """Write one inbox line for a change just applied to ``appointment`` (call inside its transaction)."""
    return InboxItem.objects.create(
        practice_id=appointment.practice_id,
        appointment=appointment,
        staff_id=appointment.staff_id,
        source=source,
        kind=kind,
        before=before,
        after=appointment_snapshot(appointment),
        version_after=appointment.version,
    )


def inbox_items(*, practice: Practice, staff: Membership | None = None) -> QuerySet[InboxItem]:
    """The practice's inbox, newest first (unread and read), optionally one staff member's."""
    qs = InboxItem.objects.filter(practice=practice).select_related("appointment", "staff__user", "read_by")
    if staff is not None:
        qs = qs.filter(staff=staff)
    return qs


def inbox_unread_count(*, practice: Practice) -> int:
    """How many inbox lines nobody has kept or undone yet (one query, for the top bar)."""
    return InboxItem.objects.filter(practice=practice, read_at__isnull=True).count()


def inbox_item_for_member(*, membership: Membership, pk: int) -> InboxItem:
    """An inbox line of the member's practice; raises ``InboxItem.DoesNotExist`` otherwise."""
    return inbox_items(practice=membership.practice).get(pk=pk)


def inbox_item_differences(item: InboxItem, zone) -> list[tuple[str, str, str]]:
    """What changed, for people: (what, before, after), times on the practice's clock, long notes cut."""
    before, after = item.before, item.after
    rows = []
    if (before.get("start"), before.get("end")) != (after.get("start"), after.get("end")):
        rows.append(("When", _when(before, zone), _when(after, zone)))
    for name, label in (("title", "Title"), ("location", "Location"), ("status", "Status")):
        if before.get(name) != after.get(name):
            rows.append((label, before.get(name) or "(none)", after.get(name) or "(none)"))
    if before.get("notes") != after.get("notes"):
        rows.append(("Notes", _notes(before), _notes(after)))
    return rows


def _when(snapshot: dict, zone) -> str:
    return format_local_range(
        datetime.fromisoformat(snapshot["start"]), datetime.fromisoformat(snapshot["end"]), zone
    )


def _notes(snapshot: dict) -> str:
    notes = snapshot.get("notes") or ""
    return (notes[:300] + "…" if len(notes) > 300 else notes) or "(none)"
