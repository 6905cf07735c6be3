"""Settings › Online booking: the page's address, an embeddable snippet, and the switch (admins only)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from copilot.accounts.access import current_admin

from . import services
from .selectors import online_types, staff_slug, type_staff


class OnlineBookingForm(forms.Form):
    enabled = forms.BooleanField(label="Patients can book online", required=False)


@require_http_methods(["GET", "HEAD", "POST"])
def online_booking_settings(request: HttpRequest) -> HttpResponse:
    admin = current_admin(request)
    practice = admin.practice
    form = OnlineBookingForm(
        request.POST if request.method == "POST" else None,
        initial={"enabled": practice.online_booking_enabled},
    )
    if request.method == "POST" and form.is_valid():
        services.online_booking_set(practice=practice, enabled=form.cleaned_data["enabled"])
        messages.success(
            request, "Online booking is " + ("on." if practice.online_booking_enabled else "off.")
        )
        return redirect("booking_settings")
    page_url = request.build_absolute_uri(reverse("booking:page", args=[practice.slug]))
    types = list(online_types(practice=practice))
    people = {member for kind in types for member in type_staff(appointment_type=kind)}
    staff_pages = [
        (
            member.display_name,
            request.build_absolute_uri(
                reverse("booking:staff_page", args=[practice.slug, staff_slug(member)])
            ),
        )
        for member in sorted(people, key=lambda m: (m.display_name, m.pk))
    ]
    context = {
        "form": form,
        "practice": practice,
        "page_url": page_url,
        "snippet": f'<iframe src="{page_url}" title="Book an appointment with {practice.name}" '
        'style="width:100%;min-height:720px;border:0" loading="lazy"></iframe>',
        "types": types,
        "staff_pages": staff_pages,
        "section": "settings",
    }
    return render(request, "booking/settings.html", context)
