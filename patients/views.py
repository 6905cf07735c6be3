"""The patient list, search and a patient's page. Each view starts with the practice-scoped helper."""

from __future__ import annotations

from copy import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from copilot.accounts.access import current_membership
from copilot.accounts.models import Membership

from . import services
from .forms import PatientForm
from .models import Patient
from .selectors import (
    SEARCH_MIN_LENGTH,
    patient_appointments,
    patient_for_member,
    patients_for_practice,
    patients_search,
)


def _patient_or_404(membership: Membership, pk: int) -> Patient:
    """A patient of the member's practice (everyone in a practice sees its patients)."""
    try:
        return patient_for_member(membership=membership, pk=pk)
    except Patient.DoesNotExist as exc:
        raise Http404("No such patient.") from exc


@require_safe
def patient_list(request: HttpRequest) -> HttpResponse:
    """The practice's patients, or those matching ``?q=`` (name, phone or email)."""
    actor = current_membership(request)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        page = None
        patients = patients_search(practice=actor.practice, query=query, limit=50)
    else:
        page = Paginator(patients_for_practice(practice=actor.practice), 50).get_page(request.GET.get("page"))
        patients = page.object_list
    context = {"patients": patients, "page": page, "query": query, "section": "patients"}
    if request.htmx:
        return render(request, "patients/partials/patient_table.html", context)
    return render(request, "patients/patient_list.html", context)


@require_safe
def patient_search(request: HttpRequest) -> HttpResponse:
    """Matches for the booking form's patient picker (an htmx fragment of radio buttons)."""
    actor = current_membership(request)
    query = request.GET.get("patient_query", request.GET.get("q", "")).strip()[:100]
    context = {
        "patients": patients_search(practice=actor.practice, query=query),
        "query": query,
        "min_length": SEARCH_MIN_LENGTH,
    }
    return render(request, "patients/partials/patient_search_results.html", context)


@require_safe
def patient_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = current_membership(request)
    patient = _patient_or_404(actor, pk)
    upcoming, past = patient_appointments(patient=patient, now=timezone.now())
    context = {"patient": patient, "upcoming": upcoming, "past": past, "section": "patients"}
    return render(request, "patients/patient_detail.html", context)


def _save(request: HttpRequest, form: PatientForm, save) -> HttpResponse | None:
    if not form.is_valid():
        return None
    try:
        patient = save(form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None, exc)
        return None
    messages.success(request, "Saved the patient.")  # no name: flash messages end up in logs and caches
    return redirect("patients:patient_detail", pk=patient.pk)


@require_http_methods(["GET", "HEAD", "POST"])
def patient_new(request: HttpRequest) -> HttpResponse:
    actor = current_membership(request)
    form = PatientForm(request.POST or None)
    if request.method == "POST":

        def create(data: dict) -> Patient:
            return services.patient_create(practice=actor.practice, details=services.PatientDetails(**data))

        saved = _save(request, form, create)
        if saved:
            return saved
    context = {"form": form, "patient": None, "section": "patients"}
    return render(request, "patients/patient_form.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = current_membership(request)
    patient = _patient_or_404(actor, pk)
    form = PatientForm(request.POST or None, instance=copy(patient))  # the service saves, not the form
    if request.method == "POST":
        saved = _save(request, form, lambda data: services.patient_update(patient=patient, **data))
        if saved:
            return saved
    context = {"form": form, "patient": patient, "section": "patients"}
    return render(request, "patients/patient_form.html", context)
