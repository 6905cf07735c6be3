"""Signed, expiring links with which a patient reschedules or cancels their own online booking.

The token carries the appointment's id and its patient's id, signed with ``SECRET_KEY`` and a salt
of its own (a token made for anything else never opens here). It expires ``BOOKING_LINK_MAX_AGE_DAYS``
after it was made; a link opens only the appointment it was made for.
"""

from __future__ import annotations

from django.conf import settings
from django.core import signing

from calendars.models import Appointment

SALT = "booking.manage-appointment"


class LinkError(Exception):
    """The link is not one of ours, was altered, or has expired (``expired`` says which)."""

    def __init__(self, expired: bool = False):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def manage_token(appointment: Appointment) -> str:
    return signing.dumps({"a": appointment.pk, "p": appointment.patient_id}, salt=SALT, compress=True)


def appointment_from_token(token: str, *, practice_id: int) -> Appointment:
    """The appointment ``token`` was made for, in ``practice_id``. Raises ``LinkError``."""
    max_age = settings.BOOKING_LINK_MAX_AGE_DAYS * 24 * 3600
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkError(expired=True) from exc
    except signing.BadSignature as exc:
        raise LinkError() from exc
    if not isinstance(data, dict):
        raise LinkError()
    appointment = (
        Appointment.objects.select_related("practice", "staff__user", "appointment_type", "patient")
        .filter(pk=data.get("a"), practice_id=practice_id, patient_id=data.get("p"), booked_online=True)
        .first()
    )
    if appointment is None or appointment.patient_id is None:
        raise LinkError()
    return appointment
