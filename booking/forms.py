"""The booking page's forms: what a patient types, checked; nothing here writes."""

from __future__ import annotations

from datetime import datetime

from django import forms

from patients.models import phone_digits
from patients.services import PatientDetails

HONEYPOT = "website"


class PatientDetailsForm(forms.Form):
    """Name, email and phone, with the chosen time; ``website`` is a honeypot people never see."""

    start = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    email = forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    phone = forms.CharField(
        max_length=40, widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})
    )
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )

    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    def clean_start(self) -> datetime:
        try:
            value = datetime.fromisoformat(self.cleaned_data["start"])
        except ValueError as exc:
            raise forms.ValidationError("Choose a time.") from exc
        if value.tzinfo is None:
            raise forms.ValidationError("Choose a time.")
        return value.astimezone(self.zone)

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        if len(phone_digits(phone)) < 6:
            raise forms.ValidationError("Give a phone number we can call (at least 6 digits).")
        return phone

    @property
    def is_bot(self) -> bool:
        return bool(self.data.get(HONEYPOT))

    def details(self) -> PatientDetails:
        data = self.cleaned_data
        return PatientDetails(name=data["name"].strip(), email=data["email"], phone=data["phone"])


class RescheduleForm(forms.Form):
    start = forms.CharField()

    def __init__(self, *args, zone, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone

    clean_start = PatientDetailsForm.clean_start
