"""Reads for the public booking page: only what a patient may see of a practice."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils.text import slugify

from calendars.models import Appointment, AppointmentType
from calendars.timezones import day_bounds
from copilot.accounts.models import Membership, Practice


def bookable_practice(*, slug: str) -> Practice | None:
    """The practice at ``slug`` when it takes online bookings, else None."""
    return Practice.objects.filter(slug=slug, online_booking_enabled=True).first()


def online_types(*, practice: Practice) -> QuerySet[AppointmentType]:
    return AppointmentType.objects.filter(practice=practice, is_active=True, bookable_online=True).order_by(
        "name", "pk"
    )


def type_staff(*, appointment_type: AppointmentType) -> list[Membership]:
    """Active members of the type's practice who offer it."""
    return list(
        appointment_type.staff.filter(practice_id=appointment_type.practice_id, is_active=True)
        .select_related("user", "practice")
        .order_by("user__first_name", "pk")
    )


def staff_slug(member: Membership) -> str:
    """The person's part of their own booking page's address: "dr-alvarez-12"."""
    return f"{slugify(member.display_name.split('@')[0]) or 'staff'}-{member.pk}"


def staff_from_slug(*, practice: Practice, slug: str) -> Membership | None:
    try:
        pk = int(slug.rsplit("-", 1)[-1])
    except ValueError:
        return None
    members = Membership.objects.filter(pk=pk, practice=practice, is_active=True)
    member = members.select_related("user").first()
    return member if member is not None and staff_slug(member) == slug else None


def least_booked(*, members: list[Membership], day: date) -> Membership:
    """The member in the fewest booked appointments that day, then that week, then the lowest id.

    An appointment counts for everyone taking part in it (owner or assignee): a hygienist who
    assists in six appointments today is as busy as one who owns six.
    """
    zone = members[0].practice.zone
    day_start, day_end = day_bounds(day, zone)
    week_start, _ = day_bounds(day - timedelta(days=day.weekday()), zone)
    week_end = week_start + timedelta(days=7)
    booked = Q(participations__appointment__status=Appointment.Status.BOOKED)
    counts = {
        row["pk"]: (row["today"], row["week"])
        for row in Membership.objects.filter(pk__in=[m.pk for m in members])
        .values("pk")
        .annotate(
            today=Count(
                "participations",
                filter=booked & Q(participations__start__gte=day_start, participations__start__lt=day_end),
            ),
            week=Count(
                "participations",
                filter=booked & Q(participations__start__gte=week_start, participations__start__lt=week_end),
            ),
        )
    }
    return min(members, key=lambda m: (*counts.get(m.pk, (0, 0)), m.pk))
