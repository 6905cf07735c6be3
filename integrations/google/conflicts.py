"""When Google's copy of one of our events differs from the book: echo, stale read, or a change.

The newer change wins, whichever side it came from; both directions use this policy (the pull for
what it reads, the push when Google answers 412). The book is changed only through its services.
"""

from __future__ import annotations

import logging

from django.db import transaction

from calendars.limits import NOTES_MAX_LENGTH, instant_in_range
from calendars.models import Appointment, AppointmentChange
from calendars.services import (
    appointment_cancel,
    appointment_lock,
    appointment_put_back,
    appointment_record_conflict,
    appointment_update,
)
from copilot.accounts.models import Practice

from ..models import EventLink
from . import mapping
from .events import MalformedEvent, clean_text, event_bounds, safe_fingerprint, updated_at

logger = logging.getLogger(__name__)
GOOGLE = AppointmentChange.Source.GOOGLE


def is_echo(link: EventLink, event: dict) -> bool:
    """Google's copy is exactly what we last wrote (so it tells us nothing)."""
    if event.get("status") == "cancelled" or not link.pushed_hash:
        return False
    return safe_fingerprint(event) == link.pushed_hash


def _google_is_newer(event: dict, appointment: Appointment) -> bool:
    updated = updated_at(event)  # unreadable: Google counts as newer
    return updated is None or updated > appointment.updated


def _older_than_our_last_write(link: EventLink, event: dict) -> bool:
    """A stale read: the copy predates our last successful write (which would have got a 412 otherwise)."""
    updated = updated_at(event)
    return bool(
        link.last_pushed_at and updated and event.get("etag") != link.etag and updated < link.last_pushed_at
    )


def changes_from_event(event: dict, appointment: Appointment) -> dict:
    """The appointment fields a Google copy of it says should change (for ``appointment_update``)."""
    practice = appointment.practice
    hidden = practice.external_title_privacy != Practice.TitlePrivacy.FULL  # "type only" too (issue 14)
    changes: dict = {}
    try:
        start, end = event_bounds(event, practice.zone)
        if not (instant_in_range(start) and instant_in_range(end)):  # the book would refuse the change
            raise MalformedEvent("outside the dates the book accepts")
    except MalformedEvent as exc:
        logger.warning("Ignoring the time of Google event %.80r: %s", event.get("id"), exc)
    else:
        if (start, end) != (appointment.start, appointment.end):
            changes.update(start=start, end=end)
    if not hidden:
        title = clean_text(event.get("summary"), 200)
        ours = title == mapping.PRIVATE_TITLE or title.startswith(mapping.CANCELLED_PREFIX)
        if title and not ours and title != appointment.title:
            changes["title"] = title
    location = clean_text(event.get("location"), 300)
    if location != appointment.location:
        changes["location"] = location
    if not hidden:  # with hidden titles the description carries no notes, only our link
        # Read at most 20,000 characters: anything that long is over the notes limit and refused whole.
        notes = mapping.notes_from_description(clean_text(event.get("description"), 20_000))
        if len(notes) > NOTES_MAX_LENGTH:  # never cut: keep the portal's notes (logged without content)
            logger.warning(
                "Not applying the description of Google event %.80r to appointment %s: %d characters "
                "of notes, the limit is %d",
                event.get("id"),
                appointment.pk,
                len(notes),
                NOTES_MAX_LENGTH,
            )
        elif notes != appointment.notes:
            changes["notes"] = notes
    return changes


def remember_google_copy(link: EventLink, event: dict, *, deleted: bool = False) -> None:
    """Store what Google has now, so the push the change triggers finds nothing to write."""
    if deleted:
        if link.event_id:
            # Google refuses a deleted event's id for ever (409): a copy written anew takes the next one.
            link.generation += 1
        link.event_id, link.etag, link.pushed_hash = "", "", ""
    else:
        link.etag = clean_text(event.get("etag"), 255)
        link.pushed_hash = safe_fingerprint(event)
    link.save(update_fields=["event_id", "etag", "pushed_hash", "generation", "updated"])


@transaction.atomic
def apply_our_event(*, link: EventLink, event: dict) -> str:
    """Bring the appointment behind ``link`` in line with Google's copy ``event``. Returns what happened.

    Only the staff member's own copy drives the appointment. An echo of our own write changes
    nothing. When both sides changed since the last sync (the link still waits for a push),
    the newer change wins by timestamp: Google's ``updated`` against the appointment's; a
    Google change that loses is recorded in the history and the push overwrites it. An
    assignee's edited copy is restored by the push; a deleted one is forgotten.

    Outcomes: ``echo``, ``stale``, ``inactive``, ``applied``, ``unchanged``, ``cancelled``,
    ``google_lost``, ``restore_assignee_copy``, ``assignee_copy_deleted``, ``gone``, ``put_back`` (a
    deletion undone, as the practice chose).
    """
    appointment_id = EventLink.objects.filter(pk=link.pk).values_list("appointment_id", flat=True).first()
    # The book's lock first (as its services take it), then the link's.
    if appointment_id is None or not appointment_lock(appointment_id=appointment_id):
        return "gone"
    link = (
        EventLink.objects.select_for_update(of=("self",), no_key=True)
        .select_related("appointment__practice")
        .filter(pk=link.pk)
        .first()
    )
    if link is None:
        return "gone"
    appointment = link.appointment
    deleted = event.get("status") == "cancelled"
    if not deleted and is_echo(link, event):
        remember_google_copy(link, event)
        return "echo"
    if _older_than_our_last_write(link, event):
        return "stale"
    if link.member_id != appointment.staff_id:
        return _apply_assignee_copy(link, event, deleted=deleted)
    both_changed = link.needs_push
    if both_changed and not _google_is_newer(event, appointment):
        return _google_loses(link, event, appointment, deleted=deleted)
    if deleted:
        return _cancel_from_google(link, event, appointment, both_changed=both_changed)
    remember_google_copy(link, event)
    if not appointment.is_active:
        return "inactive"  # the push deletes or marks it; edits of a cancelled appointment are moot
    changes = changes_from_event(event, appointment)
    if not changes:
        return "unchanged"
    if both_changed:
        summary = "A newer change in Google replaced a change made in the portal"
        appointment_record_conflict(appointment=appointment, source=GOOGLE, summary=summary)
    appointment_update(appointment=appointment, actor=None, source=GOOGLE, **changes)
    return "applied"


def _cancel_from_google(link: EventLink, event: dict, appointment: Appointment, *, both_changed: bool) -> str:
    remember_google_copy(link, event, deleted=True)  # cleared first: the push must not delete it again
    if not appointment.is_active:
        return "unchanged"
    if appointment.practice.google_deletion == Practice.GoogleDeletion.PUT_BACK:
        appointment_put_back(appointment=appointment, source=GOOGLE)  # the push writes the event anew
        return "put_back"
    if both_changed:
        summary = "A newer deletion in Google replaced a change made in the portal"
        appointment_record_conflict(appointment=appointment, source=GOOGLE, summary=summary)
    appointment_cancel(appointment=appointment, actor=None, source=GOOGLE, reason="deleted in Google")
    return "cancelled"


def _google_loses(link: EventLink, event: dict, appointment: Appointment, *, deleted: bool) -> str:
    if deleted:
        remember_google_copy(link, event, deleted=True)  # gone in Google: the push writes it anew
        summary = "A deletion in Google was overridden by a newer change in the portal"
    else:
        remember_google_copy(link, event)  # what Google shows now: the push sees the difference
        summary = "A change in Google was overridden by a newer change in the portal"
    EventLink.objects.filter(pk=link.pk).update(needs_push=True)
    if appointment.is_active or not deleted:
        appointment_record_conflict(appointment=appointment, source=GOOGLE, summary=summary)
    return "google_lost"


def _apply_assignee_copy(link: EventLink, event: dict, *, deleted: bool) -> str:
    remember_google_copy(link, event, deleted=deleted)
    if deleted:
        return "assignee_copy_deleted"
    # The appointment is the staff member's: the push puts the assignee's copy back.
    EventLink.objects.filter(pk=link.pk).update(needs_push=True)
    return "restore_assignee_copy"
