"""The portal's URLconf plus two public pages that name a practice by slug (for test_urlwalk.py):
one that shows the practice's name, and one that leaks its appointment titles."""

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.decorators.http import require_safe

from calendars.models import Appointment
from copilot.accounts.models import Practice
from copilot.urls import urlpatterns as portal


@login_not_required
@require_safe
def booking_page(request, slug: str) -> HttpResponse:
    return HttpResponse(f"Book at {get_object_or_404(Practice, slug=slug).name}")


@login_not_required
@require_safe
def leaky_page(request, slug: str) -> HttpResponse:
    titles = Appointment.objects.filter(practice__slug=slug).values_list("title", flat=True)
    return HttpResponse(", ".join(titles))


urlpatterns = [
    *portal,
    path("book/<slug:slug>/", booking_page, name="public_booking"),
    path("leaky/<slug:slug>/", leaky_page, name="public_leak"),
]
