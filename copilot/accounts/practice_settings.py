"""Settings › Practice: practice-wide choices for practice admins (404 for everyone else).

Each choice is its own form posting to its own address, so one section's errors or saves never
touch another's.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .access import current_admin
from .models import Practice
from .services import practice_title_privacy_set


class CalendarPrivacyForm(forms.Form):
    external_title_privacy = forms.ChoiceField(
        label="What staff calendars show of an appointment",
        choices=Practice.TitlePrivacy.choices,
        widget=forms.RadioSelect,
    )


def _page(request: HttpRequest, practice: Practice, privacy_form: CalendarPrivacyForm, status=200):
    context = {"practice": practice, "privacy_form": privacy_form, "section": "settings"}
    return render(request, "accounts/practice_settings.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def practice_settings(request: HttpRequest) -> HttpResponse:
    practice = current_admin(request).practice
    form = CalendarPrivacyForm(initial={"external_title_privacy": practice.external_title_privacy})
    return _page(request, practice, form)


@require_http_methods(["POST"])
def calendar_privacy(request: HttpRequest) -> HttpResponse:
    """Save what staff calendars show; a change rewrites the upcoming appointments in Google."""
    practice = current_admin(request).practice
    form = CalendarPrivacyForm(request.POST)
    if not form.is_valid():
        return _page(request, practice, form, status=400)
    changed = practice_title_privacy_set(
        practice=practice, privacy=form.cleaned_data["external_title_privacy"]
    )
    if changed:
        messages.success(request, "Saved. Upcoming appointments in staff calendars are being updated.")
    else:
        messages.info(request, "Nothing changed.")
    return redirect("accounts:practice_settings")
