"""Reads of the appointment book, scoped by practice and staff member."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from django.db.models import F, Q, QuerySet

from copilot.accounts.models import Membership, Practice

from . import busy
from .expressions import EpochSeconds
from .models import (
    Appointment,
    AppointmentChange,
    AppointmentType,
    Participant,
    TeamViewPreference,
    WorkingHours,
)
from .timezones import day_bounds

T = TypeVar("T", datetime, float)


def appointments_in_range(
    *,
    practice: Practice,
    start: datetime,
    end: datetime,
    staff: Membership | None = None,
    include_cancelled: bool = False,
) -> QuerySet[Appointment]:
    """Appointments of ``practice`` overlapping [start, end), optionally those one member takes part in
    (as its staff member or an assignee)."""
    qs = Appointment.objects.filter(practice=practice, start__lt=end, end__gt=start)
    if staff is not None:
        qs = qs.filter(participants__member=staff)
    if not include_cancelled:
        qs = qs.filter(status=Appointment.Status.BOOKED)
    return qs.select_related("staff__user", "appointment_type").order_by("start")


# What a time grid draws of an appointment (tiles, agenda): loading only these keeps a busy week cheap.
GRID_FIELDS = (
    *("id", "practice", "staff", "title", "start", "end", "status", "has_conflict", "booked_online"),
    "appointment_type__colour",  # tiles are coloured by type
)


def appointments_by_member(
    *, practice: Practice, members: Iterable[Membership], start: datetime, end: datetime
) -> dict[int, list[Appointment]]:
    """Active appointments of ``members`` overlapping [start, end), in ONE query: membership id → list.

    The week and team views read people's appointments through here. Who "has" an appointment is
    decided here only: everyone taking part in it (its ``Participant`` rows: the owner and the
    assignees). Only the ``GRID_FIELDS`` of each appointment are loaded.
    """
    ids = [member.pk for member in members]
    found: dict[int, list[Appointment]] = {pk: [] for pk in ids}
    rows = (
        Participant.objects.filter(
            member_id__in=ids,
            appointment__practice=practice,
            appointment__status=Appointment.Status.BOOKED,
            start__lt=end,
            end__gt=start,
        )
        .select_related("appointment__appointment_type")
        .only("member", "is_owner", *(f"appointment__{name}" for name in GRID_FIELDS))
        # The owner's name as plain values: their membership and user rows as model instances
        # were two of every five objects a team day of 500 tiles built.
        .annotate(
            owner_first=F("appointment__staff__user__first_name"),
            owner_last=F("appointment__staff__user__last_name"),
            owner_email=F("appointment__staff__user__email"),
        )
        .order_by("start", "appointment_id")
    )
    for row in rows:
        appointment = row.appointment
        owner = f"{row.owner_first} {row.owner_last}".strip() or row.owner_email  # User.display_name
        appointment.with_owner = "" if row.is_owner else owner
        found[row.member_id].append(appointment)
    return found


def working_hours_by_member(
    *, members: Iterable[Membership]
) -> dict[int, dict[int, list[tuple[time, time]]]]:
    """Working weeks of many members in one query: membership id → ``working_hours_for_member``'s shape."""
    ids = [member.pk for member in members]
    found: dict[int, dict[int, list[tuple[time, time]]]] = {pk: {} for pk in ids}
    rows = WorkingHours.objects.filter(member_id__in=ids).order_by("start_time")
    for member_id, weekday, start, end in rows.values_list("member_id", "weekday", "start_time", "end_time"):
        found[member_id].setdefault(weekday, []).append((start, end))
    return found


def team_view_member_ids(*, membership: Membership) -> list[int]:
    """Whom ``membership`` chose to show on the team views (empty: everyone)."""
    preference = TeamViewPreference.objects.filter(membership=membership).first()
    return list(preference.shown_member_ids) if preference else []


def overlapping_appointments(
    *, staff: Membership, start: datetime, end: datetime, exclude_id: int | None = None
) -> QuerySet[Appointment]:
    """Active appointments ``staff`` takes part in (as owner or assignee) that overlap [start, end)."""
    qs = Appointment.objects.filter(
        participants__member=staff, status=Appointment.Status.BOOKED, start__lt=end, end__gt=start
    ).select_related("staff__user")
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.order_by("start")


def appointment_for_member(*, membership: Membership, pk: int) -> Appointment:
    """An appointment the member may see (any in their practice). Raises DoesNotExist."""
    return Appointment.objects.select_related("staff__user", "practice").get(
        pk=pk, practice_id=membership.practice_id
    )


def working_intervals(*, member: Membership, day: date) -> list[tuple[datetime, datetime]]:
    """``member``'s working intervals on a local day, as aware datetimes."""
    zone = member.practice.zone
    hours = _hours_by_weekday(member).get(day.weekday(), [])
    return [
        (datetime.combine(day, h.start_time, tzinfo=zone), datetime.combine(day, h.end_time, tzinfo=zone))
        for h in hours
    ]


def _hours_by_weekday(member: Membership) -> dict[int, list[WorkingHours]]:
    cached = getattr(member, "_hours_by_weekday", None)
    if cached is None:
        cached = {}
        for item in WorkingHours.objects.filter(member=member).order_by("start_time"):
            cached.setdefault(item.weekday, []).append(item)
        member._hours_by_weekday = cached
    return cached


def within_working_hours(*, member: Membership, start: datetime, end: datetime) -> bool:
    """True when [start, end) sits inside one of ``member``'s working intervals.

    A member with no working hours set is not restricted.
    """
    if not _hours_by_weekday(member):
        return True
    local_day = start.astimezone(member.practice.zone).date()
    return any(s <= start and end <= e for s, e in working_intervals(member=member, day=local_day))


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime


def subtract(free: list[tuple[T, T]], taken: Iterable[tuple[T, T]]) -> list[tuple[T, T]]:
    """The parts of ``free`` not covered by any of ``taken`` (all half-open [start, end)).

    Both sorted by start. One sweep, O(n + m).
    """
    result = []
    taken = list(taken)
    index = 0
    for free_start, free_end in free:
        cursor = free_start
        while index < len(taken) and taken[index][1] <= cursor:
            index += 1
        probe = index
        while probe < len(taken) and taken[probe][0] < free_end:
            busy_start, busy_end = taken[probe]
            if busy_start > cursor:
                result.append((cursor, busy_start))
            cursor = max(cursor, busy_end)
            probe += 1
        if cursor < free_end:
            result.append((cursor, free_end))
    return result


# The most a type's buffer may be (AppointmentType's validators): how far beyond a range to look for
# appointments whose buffers reach into it.
BUFFER_REACH = timedelta(minutes=240)


def _buffered_spans(member: Membership, start: datetime, end: datetime) -> list[tuple[float, float]]:
    """``member``'s active appointments as epoch-second spans widened by their type's buffers."""
    rows = overlapping_appointments(
        staff=member, start=start - BUFFER_REACH, end=end + BUFFER_REACH
    ).values_list(
        EpochSeconds("start"),
        EpochSeconds("end"),
        "appointment_type__buffer_before_minutes",
        "appointment_type__buffer_after_minutes",
    )
    return [(s - 60 * (before or 0), e + 60 * (after or 0)) for s, e, before, after in rows]


def buffered_conflict(
    *,
    staff: Membership,
    start: datetime,
    end: datetime,
    appointment_type: AppointmentType | None,
    exclude_id: int | None = None,
) -> Appointment | None:
    """An active appointment of ``staff`` too close to [start, end) of ``appointment_type``, or None.

    Each appointment keeps its type's buffers free around it, and buffers add up: the buffered
    spans of two appointments never overlap (the rule the booking page's free times follow).
    """
    before = timedelta(minutes=appointment_type.buffer_before_minutes if appointment_type else 0)
    after = timedelta(minutes=appointment_type.buffer_after_minutes if appointment_type else 0)
    near = overlapping_appointments(
        staff=staff,
        start=start - before - BUFFER_REACH,
        end=end + after + BUFFER_REACH,
        exclude_id=exclude_id,
    ).select_related("appointment_type")
    for other in near:
        kind = other.appointment_type
        other_before = timedelta(minutes=kind.buffer_before_minutes if kind else 0)
        other_after = timedelta(minutes=kind.buffer_after_minutes if kind else 0)
        if other.start - other_before < end + after and other.end + other_after > start - before:
            return other
    return None


def _free_spans(member: Membership, start_date: date, end_date: date) -> list[tuple[float, float]]:
    """Working hours minus active appointments (widened by their type's buffers) minus busy time,
    as epoch-second spans.

    Epoch seconds throughout: thousands of busy spans come back from the database as numbers,
    and arithmetic on them is immune to DST (no wall-clock additions).
    """
    zone = member.practice.zone
    range_start, _ = day_bounds(start_date, zone)
    _, range_end = day_bounds(end_date, zone)
    working: list[tuple[float, float]] = []
    day = start_date
    while day <= end_date:
        working.extend((s.timestamp(), e.timestamp()) for s, e in working_intervals(member=member, day=day))
        day += timedelta(days=1)
    taken = _buffered_spans(member, range_start, range_end)
    taken.extend(busy.busy_spans(member=member, start=range_start, end=range_end))
    taken.sort()
    return subtract(sorted(working), taken)


def free_spans(*, member: Membership, start_date: date, end_date: date) -> list[tuple[float, float]]:
    """``free_intervals`` as epoch-second spans (what the booking page's free times are cut from)."""
    return _free_spans(member, start_date, end_date)


def free_intervals(
    *, member: Membership, start_date: date, end_date: date
) -> list[tuple[datetime, datetime]]:
    """Working hours minus active appointments (with their type's buffers) minus busy time, for local
    days [start_date, end_date]."""
    zone = member.practice.zone
    return [
        (datetime.fromtimestamp(s, zone), datetime.fromtimestamp(e, zone))
        for s, e in _free_spans(member, start_date, end_date)
    ]


def free_slots(
    *, member: Membership, start_date: date, end_date: date, minutes: int | None = None
) -> list[Slot]:
    """Bookable slots of ``minutes`` (default: the practice's appointment length), in the practice's zone.

    Slots step in epoch seconds: adding to a zoned datetime adds wall-clock time, which on a DST
    change day yields times that do not exist, or repeats (or skips) an hour.
    """
    length = 60.0 * (minutes or member.practice.default_appointment_minutes)
    zone = member.practice.zone
    slots = []
    for free_start, free_end in _free_spans(member, start_date, end_date):
        cursor = free_start
        while cursor + length <= free_end:
            slots.append(
                Slot(datetime.fromtimestamp(cursor, zone), datetime.fromtimestamp(cursor + length, zone))
            )
            cursor += length
    return slots


def working_hours_for_member(*, member: Membership) -> dict[int, list[tuple[time, time]]]:
    """``member``'s working week: weekday (Monday 0) to its local (start, end) times, in order."""
    return {
        weekday: [(h.start_time, h.end_time) for h in hours]
        for weekday, hours in _hours_by_weekday(member).items()
    }


def appointments_for_list(
    *,
    practice: Practice,
    staff: Membership | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> QuerySet[Appointment]:
    """The practice's appointments for the list view: any status unless ``status`` is given,
    optionally those one member takes part in, overlapping [start, end) when the bounds are given."""
    qs = Appointment.objects.filter(practice=practice)
    if staff is not None:
        qs = qs.filter(participants__member=staff)
    if status:
        qs = qs.filter(status=status)
    if start is not None:
        qs = qs.filter(end__gt=start)
    if end is not None:
        qs = qs.filter(start__lt=end)
    return (
        qs.select_related("staff__user", "appointment_type")
        .prefetch_related("assignees__user")
        .order_by("start", "pk")
    )


def appointment_history(*, appointment: Appointment) -> QuerySet[AppointmentChange]:
    """An appointment's history, newest first, with who made each change."""
    return appointment.changes.select_related("actor").order_by("-at", "-pk")


def practice_ids_of_appointments(*, appointment_ids: Iterable[int]) -> dict[int, int]:
    """Appointment id → its practice's id, for those of ``appointment_ids`` that exist."""
    ids = list(appointment_ids)
    if not ids:
        return {}
    return dict(Appointment.objects.filter(pk__in=ids).values_list("pk", "practice_id"))


def member_appointment_times(
    *, member: Membership, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """(start, end) of the booked appointments ``member`` takes part in (as staff or assignee)
    overlapping [start, end)."""
    return list(
        Appointment.objects.filter(
            participants__member=member, status=Appointment.Status.BOOKED, start__lt=end, end__gt=start
        ).values_list("start", "end")
    )


def upcoming_appointments_of_members(
    *, member_ids: list[int], since: datetime, until: datetime | None = None
) -> set[tuple[int, int]]:
    """(appointment id, member id) for every appointment ending at or after ``since`` (and starting
    before ``until``, when given) that one of ``member_ids`` takes part in, as its staff member or an
    assignee."""
    upcoming = Appointment.objects.filter(end__gte=since)
    if until is not None:
        upcoming = upcoming.filter(start__lt=until)
    upcoming = upcoming.filter(Q(staff_id__in=member_ids) | Q(assignees__in=member_ids))
    pairs = {
        (appointment_id, staff_id)
        for appointment_id, staff_id in upcoming.values_list("pk", "staff_id").distinct()
        if staff_id in member_ids
    }
    pairs.update(
        Appointment.assignees.through.objects.filter(
            appointment__in=upcoming, membership_id__in=member_ids
        ).values_list("appointment_id", "membership_id")
    )
    return pairs


def appointment_types_for_practice(
    *, practice: Practice, active_only: bool = False, online_only: bool = False
) -> QuerySet[AppointmentType]:
    """The practice's appointment types by name, with who offers them prefetched."""
    qs = AppointmentType.objects.filter(practice=practice)
    if active_only or online_only:
        qs = qs.filter(is_active=True)
    if online_only:
        qs = qs.filter(bookable_online=True)
    return qs.prefetch_related("staff__user").order_by("name", "pk")
