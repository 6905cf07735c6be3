"""Forms of the patient list: they validate; services write."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone

from calendars.limits import NOTES_MAX_LENGTH

from .models import Patient


class PatientForm(forms.ModelForm):
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    notes = forms.CharField(
        required=False, max_length=NOTES_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )

    class Meta:
        model = Patient
        fields = ["name", "email", "phone", "date_of_birth", "notes"]

    def clean_date_of_birth(self) -> date | None:
        value = self.cleaned_data.get("date_of_birth")
        if value is not None and not date(1900, 1, 1) <= value <= timezone.now().date():
            raise forms.ValidationError("Give a date of birth between 1900 and today.")
        return value
