"""Settings › Appointment types: practice admins list, add and change them (404 for everyone else)."""

from __future__ import annotations

from copy import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from copilot.accounts.access import current_admin
from copilot.accounts.models import Membership

from . import type_services
from .forms import AppointmentTypeForm
from .models import AppointmentType
from .selectors import appointment_types_for_practice


def _type_or_404(admin: Membership, pk: int) -> AppointmentType:
    try:
        return AppointmentType.objects.get(pk=pk, practice_id=admin.practice_id)
    except AppointmentType.DoesNotExist as exc:
        raise Http404("No such appointment type.") from exc


@require_safe
def type_list(request: HttpRequest) -> HttpResponse:
    admin = current_admin(request)
    context = {"types": appointment_types_for_practice(practice=admin.practice), "section": "settings"}
    return render(request, "calendars/type_list.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def type_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add (no ``pk``) or change an appointment type."""
    admin = current_admin(request)
    appointment_type = _type_or_404(admin, pk) if pk is not None else None
    instance = copy(appointment_type) if appointment_type else None  # the service saves, not the form
    form = AppointmentTypeForm(request.POST or None, practice=admin.practice, instance=instance)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            type_services.appointment_type_save(
                practice=admin.practice, appointment_type=appointment_type, **data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved the appointment type “{data['name']}”.")
            return redirect("calendars:type_list")
    context = {"form": form, "appointment_type": appointment_type, "section": "settings"}
    return render(request, "calendars/type_form.html", context)
