"""A practice's patients: who an appointment is for."""

from __future__ import annotations

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models.functions import Upper

from copilot.accounts.models import Practice


class Patient(models.Model):
    """A person a practice sees. Belongs to one practice; never matched or shown across practices."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="patients")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    phone_digits = models.CharField(
        max_length=40, blank=True, editable=False, help_text="The phone number's digits, for matching."
    )
    date_of_birth = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["practice", "email"], name="patient_practice_email"),
            models.Index(fields=["practice", "phone_digits"], name="patient_practice_phone"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.phone_digits = phone_digits(self.phone)
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)


def phone_digits(phone: str) -> str:
    """The digits of a phone number ("+1 (212) 555-0101" → "12125550101"), for matching and search."""
    return "".join(ch for ch in phone or "" if ch.isdigit())


def search_indexes() -> list[GinIndex]:
    """Trigram indexes for search-as-you-type (PostgreSQL only; added by migration 0002).

    On the same expressions the search filters on (``UPPER(col) LIKE UPPER('%q%')``, which is
    what ``icontains`` becomes), so one query serves both databases and PostgreSQL answers it
    from the index.
    """
    return [
        GinIndex(OpClass(Upper(column), name="gin_trgm_ops"), name=f"patient_{column}_trgm")
        for column in ("name", "email", "phone_digits")
    ]
