"""Writes to a practice's appointment types."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from copilot.accounts.models import Practice

from .models import AppointmentType

FIELDS = (
    "name",
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "colour",
    "bookable_online",
    "min_notice_minutes",
    "horizon_days",
    "location",
    "is_active",
)


@transaction.atomic
def appointment_type_save(
    *, practice: Practice, appointment_type: AppointmentType | None = None, staff=(), **fields
) -> AppointmentType:
    """Create (``appointment_type`` None) or change a type of ``practice``, with who offers it.

    Raises ``ValidationError`` for invalid values, a duplicate name, or staff of another practice.
    """
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"Unknown fields: {', '.join(sorted(unknown))}")
    if appointment_type is None:
        appointment_type = AppointmentType(practice=practice)
    elif appointment_type.practice_id != practice.pk:
        raise AppointmentType.DoesNotExist
    for name, value in fields.items():
        setattr(appointment_type, name, value)
    staff = list(staff)
    if any(member.practice_id != practice.pk for member in staff):
        raise ValidationError({"staff": "Choose staff of this practice."})
    appointment_type.full_clean()
    appointment_type.save()
    appointment_type.staff.set(staff)
    return appointment_type
