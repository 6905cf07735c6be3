"""Online bookings: a patient books, reschedules or cancels, through the book's own services.

Every write goes through ``calendars.services`` (source "online"), so the booking rules, the staff
lock, the history and the Google outbox are the portal's. The freshness rule (a live freeBusy only
when stored Google busy time is stale) runs inside ``appointment_book`` before the lock is taken.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import timezone

from calendars import services as book
from calendars.models import Appointment, AppointmentChange, AppointmentType
from copilot.accounts.mail import email_queue
from copilot.accounts.models import Membership, Practice
from patients.services import PatientDetails

from .availability import booking_window, offered_starts
from .ics import appointment_ics
from .selectors import least_booked

ONLINE = AppointmentChange.Source.ONLINE


class SlotTaken(Exception):
    """The time is no longer free (taken meanwhile, or never offered). Never says why."""


def _is_offered(appointment_type: AppointmentType, member: Membership, start: datetime, now) -> bool:
    window = booking_window(appointment_type, now)
    day = start.astimezone(member.practice.zone).date()
    return start in offered_starts(
        appointment_type=appointment_type, member=member, window=window, start_date=day, end_date=day
    )


def _choose_staff(appointment_type: AppointmentType, candidates: list[Membership], start: datetime, now):
    """Of those who offer the type and are free at ``start``, the least booked that day, then week."""
    free = [member for member in candidates if _is_offered(appointment_type, member, start, now)]
    if not free:
        raise SlotTaken
    return least_booked(members=free, day=start.astimezone(appointment_type.practice.zone).date())


def online_booking_confirm(
    *,
    practice: Practice,
    appointment_type: AppointmentType,
    candidates: list[Membership],
    start: datetime,
    details: PatientDetails,
    manage_url_for,
) -> Appointment:
    """Book ``start`` for the patient with one of ``candidates`` (one person, or everyone offering
    the type for "first available"); queue the confirmation email after commit.

    The patient is matched to the practice's existing patient by email or phone, else created.
    ``manage_url_for(appointment)`` gives the signed link for the email. Raises ``SlotTaken``.
    """
    now = timezone.now()
    staff = _choose_staff(appointment_type, candidates, start, now)
    try:
        result = book.appointment_book(
            practice=practice,
            staff=staff,
            start=start,
            end=start + timedelta(minutes=appointment_type.duration_minutes),
            location=appointment_type.location,
            created_by=None,
            new_patient=details,
            appointment_type=appointment_type,
            source=ONLINE,
        )
    except book.BookingError as exc:
        raise SlotTaken from exc
    appointment = result.appointment
    _email(appointment, manage_url_for(appointment), "booking/email/booked.txt", "Your appointment is booked")
    return appointment


def online_booking_reschedule(*, appointment: Appointment, start: datetime, manage_url: str) -> Appointment:
    """Move the patient's own appointment to another offered ``start`` with the same person."""
    appointment_type = appointment.appointment_type
    if appointment_type is None or not appointment.is_active:
        raise SlotTaken
    if not _is_offered(appointment_type, appointment.staff, start, timezone.now()):
        raise SlotTaken
    try:
        result = book.appointment_update(
            appointment=appointment,
            actor=None,
            source=ONLINE,
            start=start,
            end=start + timedelta(minutes=appointment_type.duration_minutes),
        )
    except book.BookingError as exc:
        raise SlotTaken from exc
    _email(result.appointment, manage_url, "booking/email/rescheduled.txt", "Your appointment has moved")
    return result.appointment


def online_booking_cancel(*, appointment: Appointment, manage_url: str) -> Appointment:
    appointment = book.appointment_cancel(
        appointment=appointment, actor=None, source=ONLINE, reason="by the patient online"
    )
    _email(appointment, manage_url, "booking/email/cancelled.txt", "Your appointment is cancelled")
    return appointment


def _email(appointment: Appointment, manage_url: str, template: str, subject: str) -> None:
    """Queue the patient's email, with the appointment as an .ics file, to leave after commit."""
    patient = appointment.patient
    if patient is None or not patient.email:
        return
    zone = appointment.practice.zone
    context = {
        "appointment": appointment,
        "patient": patient,
        "start": appointment.start.astimezone(zone),
        "end": appointment.end.astimezone(zone),
        "manage_url": manage_url,
    }
    message = EmailMessage(
        f"{subject} · {appointment.practice.name}", render_to_string(template, context), to=[patient.email]
    )
    ics = appointment_ics(appointment, manage_url=manage_url, now=timezone.now())
    message.attach("appointment.ics", ics.decode(), "text/calendar")
    email_queue(message)  # leaves after the caller's transaction commits


def online_booking_set(*, practice: Practice, enabled: bool) -> Practice:
    """Turn the practice's booking page on or off (its address answers 404 while off)."""
    Practice.objects.filter(pk=practice.pk).update(online_booking_enabled=enabled)
    practice.online_booking_enabled = enabled
    return practice
