"""Writes to a practice's patient list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import transaction

from copilot.accounts.models import Practice

from .models import Patient, phone_digits

_EDITABLE = ("name", "email", "phone", "date_of_birth", "notes")


@dataclass(frozen=True)
class PatientDetails:
    """What a person typed about a patient (the booking form's "new patient", the booking page)."""

    name: str
    email: str = ""
    phone: str = ""
    date_of_birth: date | None = None
    notes: str = ""


@transaction.atomic
def patient_create(*, practice: Practice, details: PatientDetails) -> Patient:
    """A new patient of ``practice``. Raises ``ValidationError`` for invalid fields."""
    patient = Patient(practice=practice, **details.__dict__)
    patient.full_clean(exclude=["practice"])
    patient.save()
    return patient


@transaction.atomic
def patient_update(*, patient: Patient, **changes) -> Patient:
    """Change any of name, email, phone, date_of_birth, notes."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(patient, name, value)
    patient.full_clean(exclude=["practice"])
    patient.save()
    return patient


def patient_match(*, practice: Practice, email: str, phone: str) -> Patient | None:
    """The practice's patient with this email address, else this phone number; None when none.

    Only ever looks inside ``practice``: a patient of another practice is never matched.
    """
    email = (email or "").strip().lower()
    patients = Patient.objects.filter(practice=practice).order_by("pk")
    if email:
        found = patients.filter(email=email).first()
        if found is not None:
            return found
    digits = phone_digits(phone)
    if len(digits) >= 6:  # a fragment ("12") would match strangers
        return patients.filter(phone_digits=digits).first()
    return None


@transaction.atomic
def patient_match_or_create(*, practice: Practice, details: PatientDetails) -> Patient:
    """The matching patient of ``practice`` (``patient_match``), else a new one from ``details``.

    A match keeps its stored name and contact details: what a stranger types never rewrites them.
    """
    found = patient_match(practice=practice, email=details.email, phone=details.phone)
    return found if found is not None else patient_create(practice=practice, details=details)
