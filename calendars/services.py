"""Writes to the appointment book. Every booking rule lives here.

Rules, for every participant (the staff member who owns the appointment and its assignees): the
end is after the start; inside the participant's working hours unless an admin overrides; no overlap
with another active appointment the participant takes part in, whoever owns it (PostgreSQL also
enforces this with an exclusion constraint on ``Participant``; on SQLite the IMMEDIATE transaction
serializes writers); no overlap with the participant's busy time from other calendars unless an
admin confirms; online bookings also keep appointment types' buffers free on both sides (the
owner's). The services alone write ``Participant`` rows, mirroring the appointment.
Changes that arrive from outside (Google) skip the rules and are flagged instead.
Bounds hold for every source: dates inside ``limits`` (2000–2100) and notes of at most
``limits.NOTES_MAX_LENGTH`` characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from copilot.accounts.models import Membership, Practice, User
from patients.models import Patient
from patients.services import PatientDetails, patient_create, patient_match_or_create

from . import busy, hooks
from .inbox import appointment_snapshot, inbox_item_record, kind_of_change
from .limits import DATE_RANGE_MESSAGE, NOTES_MAX_LENGTH, instant_in_range
from .models import (
    PARTICIPANT_NO_OVERLAP_CONSTRAINT,
    Appointment,
    AppointmentChange,
    AppointmentType,
    InboxItem,
    Participant,
    TeamViewPreference,
    WorkingHours,
)
from .selectors import buffered_conflict, overlapping_appointments, within_working_hours
from .timezones import format_local_range

Source = AppointmentChange.Source


class BookingError(ValidationError):
    """A booking rule refused the change. ``code`` says which rule; the message is for people."""

    def __init__(self, message, code: str | None = None, params=None):
        super().__init__(message, code, params)
        self.code = code  # ValidationError drops ``code`` when the message is a dict of fields


@dataclass
class BookingResult:
    appointment: Appointment
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Overrides:
    """What a practice admin has confirmed for this booking."""

    outside_hours: bool = False
    busy_time: bool = False


def _conflict_message(member: Membership, conflict: Appointment, practice: Practice) -> str:
    when = format_local_range(conflict.start, conflict.end, practice.zone)
    return f"{member.display_name} already has “{conflict.title}” {when}."


def _check_bounds(*, start: datetime | None, end: datetime | None, notes: str | None) -> None:
    """Refuse what no source may store: dates outside the book's range, notes longer than Google keeps.

    Applies to every source (the portal, Django admin, Google): an appointment in year 9999 would
    overflow date arithmetic and be pushed to Google; cut notes would lose text silently.
    """
    if start is not None and not instant_in_range(start):
        raise BookingError({"start": DATE_RANGE_MESSAGE}, code="date_range")
    if end is not None and not instant_in_range(end):
        raise BookingError({"end": DATE_RANGE_MESSAGE}, code="date_range")
    if notes is not None and len(notes) > NOTES_MAX_LENGTH:
        raise BookingError(
            {"notes": f"Notes can be at most {NOTES_MAX_LENGTH:,} characters (they have {len(notes):,})."},
            code="notes_length",
        )


def _check_rules(
    *,
    practice: Practice,
    staff: Membership,
    start: datetime,
    end: datetime,
    exclude_id: int | None,
    overrides: Overrides,
    assignees: list[Membership] = (),
    buffered: bool = False,
    appointment_type: AppointmentType | None = None,
) -> None:
    """Raise ``BookingError`` if a rule refuses [start, end) for ``staff`` or one of ``assignees``.

    Pass only the participants whose time is new to them (everyone when the time moves, the
    newcomers when people are added): a rule an admin overrode before is not asked again.
    ``buffered`` (online bookings) also keeps every type's buffers free on both sides around the
    owner's time: the new appointment's and its neighbours'. Checked here, under the staff lock, so
    two patients taking neighbouring times at once cannot both get them.
    """
    if end <= start:
        raise BookingError({"end": "The end must be after the start."}, code="end_before_start")
    if staff is not None and (staff.practice_id != practice.pk or not staff.is_active):
        raise BookingError({"staff": "Choose a staff member of this practice."}, code="staff")
    people = [(m, "start" if m is staff else "assignees") for m in (staff, *assignees) if m is not None]
    for member, field_name in people:
        if not overrides.outside_hours and not within_working_hours(member=member, start=start, end=end):
            when = format_local_range(start, end, practice.zone)
            raise BookingError(
                {field_name: f"{when} is outside {member.display_name}'s working hours."},
                code="outside_hours",
            )
    for member, field_name in people:
        conflict = overlapping_appointments(staff=member, start=start, end=end, exclude_id=exclude_id).first()
        if conflict is not None:
            raise BookingError({field_name: _conflict_message(member, conflict, practice)}, code="overlap")
    if buffered and staff is not None:
        near = buffered_conflict(
            staff=staff, start=start, end=end, appointment_type=appointment_type, exclude_id=exclude_id
        )
        if near is not None:
            raise BookingError({"start": "That time is too close to another appointment."}, code="buffer")
    if overrides.busy_time:
        return
    for member, field_name in people:
        for interval in busy.busy_intervals(member=member, start=start, end=end):
            if interval.overlaps(start, end):
                when = format_local_range(interval.start, interval.end, practice.zone)
                who = "" if member is staff else f"{member.display_name}: "
                raise BookingError({field_name: f"{who}Busy in “{interval.source}” {when}."}, code="busy")


def _freshness_warnings(members, start: datetime, end: datetime) -> list[str]:
    """Make stored busy time of every one of ``members`` trustworthy for [start, end) (a live
    check per member, only when theirs is stale).

    Called before any lock is taken or transaction opened: a slow calendar provider must not
    hold up other bookings of the staff member.
    """
    if end <= start:
        return []
    warnings: list[str] = []
    seen: set[int] = set()
    for member in members:
        if member is None or member.pk in seen:
            continue
        seen.add(member.pk)
        warnings.extend(w.message for w in busy.ensure_fresh(member=member, start=start, end=end))
    return warnings


def _lock_staff(*staff_ids: int) -> None:
    """Serialize bookings per staff member (a row lock on PostgreSQL)."""
    list(
        Membership.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(set(staff_ids)))
        .values_list("pk")
    )


def _participants_write(appointment: Appointment, assignee_ids, *, is_new: bool = False) -> None:
    """Make ``appointment``'s participant rows its owner and ``assignee_ids``, with its time and state."""
    active = appointment.is_active and not appointment.has_conflict
    member_ids = [appointment.staff_id, *(pk for pk in assignee_ids if pk != appointment.staff_id)]
    if not is_new:  # a new appointment has no rows yet
        Participant.objects.filter(appointment=appointment).delete()
    Participant.objects.bulk_create(
        Participant(
            appointment=appointment,
            member_id=pk,
            is_owner=pk == appointment.staff_id,
            start=appointment.start,
            end=appointment.end,
            active=active,
        )
        for pk in dict.fromkeys(member_ids)
    )


def _save_guarded(appointment: Appointment, practice: Practice, participants: list[Membership]) -> None:
    """Save the appointment and its participant rows (``participants``: owner first, then assignees),
    turning the database's no-overlap refusal into the same error people see."""
    try:
        with transaction.atomic():
            is_new = appointment.pk is None
            appointment.save()
            _participants_write(appointment, [m.pk for m in participants[1:]], is_new=is_new)
    except IntegrityError as exc:
        if PARTICIPANT_NO_OVERLAP_CONSTRAINT not in str(exc):
            raise
        for member in participants:
            conflict = overlapping_appointments(
                staff=member, start=appointment.start, end=appointment.end, exclude_id=appointment.pk
            ).first()
            if conflict is not None:
                field_name = "start" if member.pk == appointment.staff_id else "assignees"
                raise BookingError(
                    {field_name: _conflict_message(member, conflict, practice)}, code="overlap"
                ) from exc
        raise BookingError({"start": "That time was just booked by someone else."}, code="overlap") from exc


def _record(
    appointment: Appointment, *, actor: User | None, source: str, action: str, summary: str
) -> AppointmentChange:
    return AppointmentChange.objects.create(
        appointment=appointment, actor=actor, source=source, action=action, summary=summary[:500]
    )


def _validate_assignees(practice: Practice, assignees) -> list[Membership]:
    assignees = list(assignees or [])
    if any(member.practice_id != practice.pk for member in assignees):
        raise BookingError({"assignees": "Assignees must be staff of this practice."}, code="assignees")
    return assignees


def derived_title(appointment_type: AppointmentType | None, patient: Patient | None) -> str:
    """The usual title: "Check-up: Lucia Romero", or whichever of the two is known ("" for neither)."""
    parts = [part for part in (appointment_type and appointment_type.name, patient and patient.name) if part]
    return ": ".join(parts)[:200]


def _check_belongs(practice: Practice, patient: Patient | None, appointment_type: AppointmentType | None):
    """A patient and a type must be the appointment's practice's own."""
    if patient is not None and patient.practice_id != practice.pk:
        raise BookingError({"patient": "Choose a patient of this practice."}, code="patient")
    if appointment_type is not None and appointment_type.practice_id != practice.pk:
        raise BookingError({"appointment_type": "Choose a type of this practice."}, code="appointment_type")


def appointment_book(
    *,
    practice: Practice,
    staff: Membership,
    start: datetime,
    end: datetime,
    title: str = "",
    location: str = "",
    notes: str = "",
    assignees=(),
    created_by: User | None,
    overrides: Overrides = Overrides(),
    patient: Patient | None = None,
    new_patient: PatientDetails | None = None,
    appointment_type: AppointmentType | None = None,
    source: str = Source.PORTAL,
) -> BookingResult:
    """Book an appointment. Raises ``BookingError`` naming the rule and any conflict.

    ``new_patient`` creates the patient in the same transaction (the front desk's "new patient");
    from the booking page (``source`` online) it is matched to an existing patient of the practice
    by email or phone first. An empty ``title`` is derived from the type and the patient.
    """
    _check_bounds(start=start, end=end, notes=notes)
    _check_belongs(practice, patient, appointment_type)
    warnings = _freshness_warnings([staff, *(assignees or ())], start, end)
    with transaction.atomic():
        if new_patient is not None:
            make = patient_match_or_create if source == Source.ONLINE else patient_create
            patient = make(practice=practice, details=new_patient)
        appointment = _book_locked(
            practice=practice,
            staff=staff,
            start=start,
            end=end,
            title=title or derived_title(appointment_type, patient) or "Appointment",
            location=location,
            notes=notes,
            assignees=assignees,
            created_by=created_by,
            overrides=overrides,
            patient=patient,
            appointment_type=appointment_type,
            source=source,
        )
    return BookingResult(appointment, warnings)


def _book_locked(
    *, practice, staff, start, end, assignees, created_by, overrides, source, **fields
) -> Appointment:
    assignee_list = [m for m in _validate_assignees(practice, assignees) if m.pk != staff.pk]
    _lock_staff(staff.pk, *(m.pk for m in assignee_list))
    _check_rules(
        practice=practice,
        staff=staff,
        start=start,
        end=end,
        exclude_id=None,
        overrides=overrides,
        assignees=assignee_list,
        buffered=source == Source.ONLINE,
        appointment_type=fields.get("appointment_type"),
    )
    appointment = Appointment(
        practice=practice,
        staff=staff,
        start=start,
        end=end,
        created_by=created_by,
        booked_online=source == Source.ONLINE,
        **fields,
    )
    _save_guarded(appointment, practice, [staff, *assignee_list])
    appointment.assignees.set(assignee_list)
    when = format_local_range(start, end, practice.zone)
    _record(appointment, actor=created_by, source=source, action="booked", summary=f"Booked {when}")
    hooks.appointment_changed(appointment)
    return appointment


_EDITABLE = ("staff", "title", "start", "end", "location", "notes", "patient", "appointment_type")


def _describe_changes(appointment: Appointment, changes: dict, practice: Practice) -> str:
    parts = []
    if "start" in changes or "end" in changes:
        parts.append("moved to " + format_local_range(appointment.start, appointment.end, practice.zone))
    for name in ("title", "location", "notes", "patient"):
        if name in changes:
            parts.append(f"{name} changed")
    if "appointment_type" in changes:
        parts.append("type changed")
    if "staff" in changes:
        parts.append(f"reassigned to {appointment.staff.display_name}")
    if "assignees" in changes:
        parts.append("assignees changed")
    summary = ", ".join(parts) or "saved without changes"
    return summary[:1].upper() + summary[1:]  # not str.capitalize(): it lowercases "Mon 23 Nov"


def appointment_update(
    *,
    appointment: Appointment,
    actor: User | None,
    source: str = Source.PORTAL,
    overrides: Overrides = Overrides(),
    **changes,
) -> BookingResult:
    """Change an appointment's fields (any of staff, title, start, end, location, notes, assignees).

    Portal changes go through the booking rules. Changes from an outside calendar (``source``
    Google) are accepted as the staff member made them; an overlap is flagged, not refused.
    Returns the result; does nothing (and writes no history) when nothing changed.
    """
    _check_bounds(start=changes.get("start"), end=changes.get("end"), notes=changes.get("notes"))
    _check_belongs(appointment.practice, changes.get("patient"), changes.get("appointment_type"))
    warnings: list[str] = []
    if source != Source.GOOGLE and {"start", "end", "staff", "assignees"} & set(changes):
        assignees = changes.get("assignees")
        if assignees is None:
            assignees = list(appointment.assignees.all())
        warnings = _freshness_warnings(
            [changes.get("staff", appointment.staff), *assignees],
            changes.get("start", appointment.start),
            changes.get("end", appointment.end),
        )
    with transaction.atomic():
        appointment = _update_locked(
            appointment=appointment, actor=actor, source=source, overrides=overrides, **changes
        )
    return BookingResult(appointment, warnings)


def _update_locked(
    *, appointment: Appointment, actor, source, overrides, why: str = "", **changes
) -> Appointment:
    appointment = Appointment.objects.select_for_update(no_key=True).get(pk=appointment.pk)
    before = appointment_snapshot(appointment)
    practice = appointment.practice
    new_patient = changes.pop("new_patient", None)
    if new_patient is not None:
        changes["patient"] = patient_create(practice=practice, details=new_patient)
    if "title" in changes and not changes["title"]:
        changes["title"] = (
            derived_title(
                changes.get("appointment_type", appointment.appointment_type),
                changes.get("patient", appointment.patient),
            )
            or appointment.title
        )
    assignees = changes.pop("assignees", None)
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}")
    changed = {name: value for name, value in changes.items() if getattr(appointment, name) != value}
    previous_ids = set(appointment.participants.values_list("member_id", flat=True))
    current_assignees = list(appointment.assignees.select_related("user"))
    if assignees is not None:
        assignee_list = _validate_assignees(practice, assignees)
        if {m.pk for m in assignee_list} != {m.pk for m in current_assignees}:
            changed["assignees"] = assignee_list
    if not changed:
        return appointment
    for name, value in changed.items():
        if name != "assignees":
            setattr(appointment, name, value)
    staff = appointment.staff
    others = [m for m in changed.get("assignees", current_assignees) if m.pk != staff.pk]
    timing_changed = {"start", "end", "staff", "assignees"} & set(changed)
    if source == Source.GOOGLE:
        if timing_changed:
            appointment.has_conflict = _overlaps_anything(appointment, [staff, *others])
    elif timing_changed and appointment.is_active:
        _lock_staff(*previous_ids, staff.pk, *(m.pk for m in others))
        moved = {"start", "end"} & set(changed) or appointment.has_conflict
        _check_rules(
            practice=practice,
            staff=staff if moved or staff.pk not in previous_ids else None,
            start=appointment.start,
            end=appointment.end,
            exclude_id=appointment.pk,
            overrides=overrides,
            assignees=[m for m in others if moved or m.pk not in previous_ids],
            buffered=source == Source.ONLINE,
            appointment_type=appointment.appointment_type,
        )
        appointment.has_conflict = False
    appointment.version += 1
    _save_guarded(appointment, practice, [staff, *others])
    if "assignees" in changed:
        appointment.assignees.set(changed["assignees"])
    summary = _describe_changes(appointment, changed, practice)
    _record(
        appointment,
        actor=actor,
        source=source,
        action="changed",
        summary=f"{why}: {summary[:1].lower()}{summary[1:]}" if why else summary,
    )
    if source == Source.GOOGLE:
        kind = kind_of_change(set(changed), has_conflict=appointment.has_conflict)
        inbox_item_record(appointment=appointment, source=InboxItem.Source.GOOGLE, kind=kind, before=before)
    hooks.appointment_changed(appointment)
    return appointment


def _overlaps_anything(appointment: Appointment, participants: list[Membership]) -> bool:
    """Whether any participant has another active appointment or busy time at the appointment's time."""
    start, end = appointment.start, appointment.end
    for member in participants:
        if overlapping_appointments(staff=member, start=start, end=end, exclude_id=appointment.pk).exists():
            return True
        if any(i.overlaps(start, end) for i in busy.busy_intervals(member=member, start=start, end=end)):
            return True
    return False


@transaction.atomic
def appointment_cancel(
    *, appointment: Appointment, actor: User | None, source: str = Source.PORTAL, reason: str = ""
) -> Appointment:
    """Cancel (a status change; history is kept). Cancelling twice changes nothing."""
    appointment = Appointment.objects.select_for_update(no_key=True).get(pk=appointment.pk)
    if appointment.status == Appointment.Status.CANCELLED:
        return appointment
    before = appointment_snapshot(appointment)
    appointment.status = Appointment.Status.CANCELLED
    appointment.has_conflict = False
    appointment.version += 1
    appointment.save(update_fields=["status", "has_conflict", "version", "updated"])
    Participant.objects.filter(appointment=appointment).update(active=False)
    summary = "Cancelled" + (f": {reason}" if reason else "")
    _record(appointment, actor=actor, source=source, action="cancelled", summary=summary)
    if source == Source.GOOGLE:
        kind = InboxItem.Kind.CANCELLED
        inbox_item_record(appointment=appointment, source=InboxItem.Source.GOOGLE, kind=kind, before=before)
    hooks.appointment_changed(appointment)
    return appointment


@transaction.atomic
def working_hours_set(*, member: Membership, intervals: list[tuple[int, object, object]]) -> None:
    """Replace ``member``'s working week with ``intervals`` of (weekday, start_time, end_time)."""
    hours = [WorkingHours(member=member, weekday=d, start_time=s, end_time=e) for d, s, e in intervals]
    for item in hours:
        item.full_clean(exclude=["member"])
    WorkingHours.objects.filter(member=member).delete()
    WorkingHours.objects.bulk_create(hours)
    member.__dict__.pop("_hours_by_weekday", None)  # the selectors' per-instance cache


def team_view_preference_set(*, membership: Membership, member_ids: list[int]) -> list[int]:
    """Remember whom ``membership`` shows on the team views; ids outside its practice are dropped.

    An empty choice (or the whole team) means everyone. Returns the ids kept.
    """
    with transaction.atomic():
        known = set(
            Membership.objects.filter(practice_id=membership.practice_id, pk__in=member_ids).values_list(
                "pk", flat=True
            )
        )
        kept = sorted(known)
        TeamViewPreference.objects.update_or_create(
            membership=membership, defaults={"shown_member_ids": kept}
        )
    return kept


# --- Changes from outside the portal (the Google sync) ------------------------------------------


def appointment_lock(*, appointment_id: int) -> bool:
    """Lock the appointment's row until the caller's transaction ends; False when it no longer exists.

    The booking services lock the appointment first; a change arriving from outside takes this
    lock before its own rows, so both follow the book's order. Only that row is locked (a joined
    FOR UPDATE would also lock the practice and hold up every booking there). Raises
    ``TransactionManagementError`` outside ``transaction.atomic``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("appointment_lock needs an open transaction")
    return bool(
        list(
            Appointment.objects.select_for_update(of=("self",), no_key=True)
            .filter(pk=appointment_id)
            .values_list("pk")
        )
    )


def appointments_hold_versions(*, appointment_ids: list[int]) -> None:
    """Wait for transactions changing these appointments to commit, and keep them from changing until
    the caller's transaction ends (a share lock on PostgreSQL; SQLite serializes writers anyway).

    A statement that compares an appointment's ``version`` inside an UPDATE of another row reads
    the version from the snapshot it started with: without this, a change committing meanwhile
    goes unseen. Raises ``TransactionManagementError`` outside ``transaction.atomic``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("appointments_hold_versions needs an open transaction")
    connection = transaction.get_connection()
    if connection.vendor != "postgresql" or not appointment_ids:
        return
    table = connection.ops.quote_name(Appointment._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR SHARE", [sorted(set(appointment_ids))]
        )


@transaction.atomic
def appointment_record_conflict(*, appointment: Appointment, source: str, summary: str) -> AppointmentChange:
    """Write into the history that a change from ``source`` met one made in the portal, and which won."""
    return _record(appointment, actor=None, source=source, action="conflict", summary=summary)


@transaction.atomic
def appointment_put_back(*, appointment: Appointment, source: str = Source.GOOGLE) -> Appointment:
    """Keep an appointment whose event was deleted in ``source``: the push writes the event anew.

    The practice chose "a deletion in Google is undone". The appointment stays booked; its version
    moves on (so every copy is pushed again), the history says so and the inbox tells the front desk.
    Does nothing to a cancelled appointment.
    """
    appointment = Appointment.objects.select_for_update(no_key=True).get(pk=appointment.pk)
    if not appointment.is_active:
        return appointment
    before = appointment_snapshot(appointment)
    appointment.version += 1
    appointment.save(update_fields=["version", "updated"])
    _record(
        appointment,
        actor=None,
        source=source,
        action="put_back",
        summary="Deleted in Google; put back (the practice undoes deletions made in Google)",
    )
    inbox_item_record(
        appointment=appointment, source=InboxItem.Source.GOOGLE, kind=InboxItem.Kind.PUT_BACK, before=before
    )
    hooks.appointment_changed(appointment)
    return appointment


# --- The inbox's actions: Keep and Undo ---------------------------------------------------------


class UndoRefused(BookingError):
    """Undo would overwrite something newer (or the book refuses the old time). The message says what."""


def inbox_item_keep(*, item: InboxItem, actor: User) -> bool:
    """Acknowledge ``item`` (the change stays). Returns False when it was already kept or undone."""
    unread = InboxItem.objects.filter(pk=item.pk, read_at__isnull=True)
    return bool(unread.update(read_at=timezone.now(), read_by=actor))


def _restore_fields(item: InboxItem) -> dict:
    before = item.before
    return {
        "title": before["title"],
        "start": datetime.fromisoformat(before["start"]),
        "end": datetime.fromisoformat(before["end"]),
        "location": before["location"],
        "notes": before["notes"],
    }


@transaction.atomic
def inbox_item_undo(*, item: InboxItem, actor: User) -> Appointment:
    """Put the appointment back as it was before the change ``item`` records; the push tells Google.

    Safe to run twice (the second run changes nothing). Raises ``UndoRefused`` when the appointment
    changed again since (a newer change is never overwritten), when the item has nothing to undo (a
    deletion already put back), or when the old time is now taken by another appointment.
    """
    appointment = Appointment.objects.select_for_update(no_key=True).get(pk=item.appointment_id)
    item = InboxItem.objects.select_for_update().get(pk=item.pk)
    if item.undone:
        return appointment
    if item.kind == InboxItem.Kind.PUT_BACK:
        raise UndoRefused("The event was already put back in Google: nothing to undo.", code="nothing")
    if appointment.version != item.version_after:
        raise UndoRefused(
            "This appointment changed again after this change from Google, so it was not undone. "
            "Open the appointment to change it by hand.",
            code="changed_since",
        )
    why = "Undid a change made in Google"
    if item.kind == InboxItem.Kind.CANCELLED:
        appointment = _reinstate_locked(appointment=appointment, actor=actor)
    else:
        appointment = _update_locked(
            appointment=appointment,
            actor=actor,
            source=Source.PORTAL,
            overrides=Overrides(outside_hours=True, busy_time=True),  # it was there before
            why=why,
            **_restore_fields(item),
        )
    InboxItem.objects.filter(pk=item.pk).update(undone=True, read_at=timezone.now(), read_by=actor)
    return appointment


def _reinstate_locked(*, appointment: Appointment, actor: User) -> Appointment:
    """Book a cancelled appointment again at its time (refused when someone else has taken it)."""
    practice = appointment.practice
    staff = appointment.staff
    others = [m for m in appointment.assignees.all() if m.pk != staff.pk]
    _lock_staff(staff.pk, *(m.pk for m in others))
    _check_rules(
        practice=practice,
        staff=staff,
        start=appointment.start,
        end=appointment.end,
        exclude_id=appointment.pk,
        overrides=Overrides(outside_hours=True, busy_time=True),
        assignees=others,
    )
    appointment.status = Appointment.Status.BOOKED
    appointment.has_conflict = False
    appointment.version += 1
    _save_guarded(appointment, practice, [staff, *others])
    _record(
        appointment,
        actor=actor,
        source=Source.PORTAL,
        action="restored",
        summary="Undid a deletion made in Google: booked again",
    )
    hooks.appointment_changed(appointment)
    return appointment
