"""Reads of a practice's patients."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q, QuerySet

from copilot.accounts.models import Membership, Practice

from .models import Patient, phone_digits

SEARCH_MIN_LENGTH = 2
SEARCH_LIMIT = 10


def patients_search(*, practice: Practice, query: str, limit: int = SEARCH_LIMIT) -> list[Patient]:
    """Up to ``limit`` patients of ``practice`` whose name, email or phone contains ``query``.

    One query. On PostgreSQL the trigram indexes (``models.search_indexes``) answer it; SQLite
    scans (development only). Shorter queries than ``SEARCH_MIN_LENGTH`` find nobody.
    """
    query = (query or "").strip()
    if len(query) < SEARCH_MIN_LENGTH:
        return []
    return list(patients_matching(practice=practice, query=query)[:limit])


def patients_matching(*, practice: Practice, query: str) -> QuerySet[Patient]:
    """The search's query: name or email contains ``query``, or the phone contains its digits."""
    condition = Q(name__icontains=query) | Q(email__icontains=query)
    digits = phone_digits(query)
    if len(digits) >= SEARCH_MIN_LENGTH:
        condition |= Q(phone_digits__icontains=digits)
    return Patient.objects.filter(practice=practice).filter(condition).order_by("name", "pk")


def patients_for_practice(*, practice: Practice) -> QuerySet[Patient]:
    return Patient.objects.filter(practice=practice).order_by("name", "pk")


def patient_for_member(*, membership: Membership, pk: int) -> Patient:
    """A patient of the member's practice. Raises ``Patient.DoesNotExist`` otherwise."""
    return Patient.objects.get(pk=pk, practice_id=membership.practice_id)


def patient_appointments(*, patient: Patient, now: datetime) -> tuple[list, list]:
    """The patient's (upcoming, past) appointments: upcoming soonest first, past latest first."""
    appointments = patient.appointments.filter(practice_id=patient.practice_id).select_related(
        "staff__user", "appointment_type"
    )
    upcoming = list(appointments.filter(end__gt=now).order_by("start", "pk"))
    past = list(appointments.filter(end__lte=now).order_by("-start", "-pk")[:100])
    return upcoming, past
