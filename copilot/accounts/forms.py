"""Forms for the Team pages."""

from __future__ import annotations

from django import forms

from .models import Membership


class InviteForm(forms.Form):
    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.STAFF)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Membership.Role.choices)


class PracticeSwitchForm(forms.Form):
    practice = forms.IntegerField()
