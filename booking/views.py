"""The public booking pages: no sign-in, may be framed by the practice's own website.

Each view starts with the practice at the address (404 when it does not take online bookings).
Pages show only what is free, never why a time is busy. Posts are rate-limited per client address
and per practice in the shared cache, and carry a honeypot field. There is no session here, so the
posts are exempt from CSRF (a framed page on another site gets no SameSite cookie); they carry no
authority a forged post could borrow.
"""

from __future__ import annotations

from collections.abc import Callable

from csp.decorators import csp_replace
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from calendars.models import Appointment
from copilot.accounts.client_ip import client_ip
from copilot.accounts.models import Practice

from . import links, services
from .availability import booking_window, offers_by_day
from .flow import Flow, nearest_times, read_flow
from .forms import PatientDetailsForm, RescheduleForm
from .selectors import bookable_practice, staff_from_slug, staff_slug

TAKEN = "That time was just taken. Here are the nearest free times; what you typed is kept."


def public(view: Callable) -> Callable:
    """A booking page: no sign-in, framable anywhere (the portal itself never is)."""
    return login_not_required(xframe_options_exempt(csp_replace({"frame-ancestors": ["*"]})(view)))


def _practice_or_404(slug: str) -> Practice:
    practice = bookable_practice(slug=slug)
    if practice is None:
        raise Http404("This practice does not take online bookings.")
    return practice


def _rate_limited(request: HttpRequest, practice: Practice) -> bool:
    """One more post from this address and to this practice; True when either is over its rate."""
    by_address = is_ratelimited(
        request,
        group="booking-address",
        key=lambda _group, request: client_ip(request),  # the login limits' address, proxy-aware
        rate=settings.BOOKING_RATE_PER_ADDRESS,
        increment=True,
    )
    by_practice = is_ratelimited(
        request,
        group="booking-practice",
        key=lambda _group, _request: str(practice.pk),
        rate=settings.BOOKING_RATE_PER_PRACTICE,
        increment=True,
    )
    return by_address or by_practice


def _too_many(request: HttpRequest, practice: Practice) -> HttpResponse:
    context = {"practice": practice}
    return render(request, "booking/too_many.html", context, status=429)


def _render_flow(request: HttpRequest, flow: Flow, form=None, notice: str = "", nearest=()) -> HttpResponse:
    context = {
        "practice": flow.practice,
        "flow": flow,
        "form": form,
        "notice": notice,
        "nearest": nearest,
        "base_url": request.path,
        "confirm_url": reverse("booking:confirm", args=[flow.practice.slug]),
        "fixed_slug": staff_slug(flow.fixed_staff) if flow.fixed_staff else "",
    }
    if request.htmx and not notice:
        return render(request, "booking/partials/flow.html", context)
    return render(request, "booking/page.html", context, status=409 if notice else 200)


@public
@require_http_methods(["GET", "HEAD"])
def booking_page(request: HttpRequest, practice: str, staff: str | None = None) -> HttpResponse:
    """The steps, from the query string (``type``, ``staff``, ``day``, ``time``)."""
    practice_obj = _practice_or_404(practice)
    fixed = None
    if staff is not None:
        fixed = staff_from_slug(practice=practice_obj, slug=staff)
        if fixed is None:
            raise Http404("No such person.")
    flow = read_flow(practice_obj, request.GET, fixed)
    form = None
    chosen = request.GET.get("time", "")
    start = next((moment for moment in flow.times if moment.strftime("%H:%M") == chosen), None)
    if start is not None:
        flow.start = start
        form = PatientDetailsForm(initial={"start": start.isoformat()}, zone=practice_obj.zone)
    return _render_flow(request, flow, form)


@public
@csrf_exempt
@require_POST
def booking_confirm(request: HttpRequest, practice: str) -> HttpResponse:
    """Book the chosen time; a lost race shows the nearest free times with the details kept."""
    practice_obj = _practice_or_404(practice)
    fixed = staff_from_slug(practice=practice_obj, slug=request.POST.get("staff_slug", "")) or None
    flow = read_flow(practice_obj, request.POST, fixed)
    form = PatientDetailsForm(request.POST, zone=practice_obj.zone)
    if form.is_bot:  # a honeypot hit: answer like a success, book nothing
        return render(request, "booking/received.html", {"practice": practice_obj})
    if _rate_limited(request, practice_obj):
        return _too_many(request, practice_obj)
    if flow.appointment_type is None or not flow.candidates:
        return redirect(reverse("booking:page", args=[practice_obj.slug]))
    if not form.is_valid():
        flow.start = form.cleaned_data.get("start")  # a readable time stays chosen
        return _render_flow(request, flow, form)
    start = form.cleaned_data["start"]
    try:
        appointment = services.online_booking_confirm(
            practice=practice_obj,
            appointment_type=flow.appointment_type,
            candidates=flow.candidates,
            start=start,
            details=form.details(),
            manage_url_for=lambda booked: _manage_url(request, booked),
        )
    except services.SlotTaken:
        flow.offers = offers_by_day(
            appointment_type=flow.appointment_type,
            members=flow.candidates,
            window=booking_window(flow.appointment_type, timezone.now()),
        )
        return _render_flow(request, flow, form, notice=TAKEN, nearest=nearest_times(flow, start))
    return redirect(_manage_path(appointment) + "?booked=1")


def _manage_path(appointment: Appointment) -> str:
    return reverse("booking:manage", args=[appointment.practice.slug, links.manage_token(appointment)])


def _manage_url(request: HttpRequest, appointment: Appointment) -> str:
    path = _manage_path(appointment)
    base = settings.PUBLIC_BASE_URL
    return base + path if base else request.build_absolute_uri(path)


@public
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def booking_manage(request: HttpRequest, practice: str, token: str) -> HttpResponse:
    """The patient's own appointment, from the signed link: reschedule (same person) or cancel."""
    practice_obj = Practice.objects.filter(slug=practice).first()
    if practice_obj is None:
        raise Http404("No such practice.")
    try:
        appointment = links.appointment_from_token(token, practice_id=practice_obj.pk)
    except links.LinkError as error:
        status = 410 if error.expired else 404
        return render(request, "booking/link_invalid.html", {"expired": error.expired}, status=status)
    manage_url = _manage_url(request, appointment)
    notice, form = "", RescheduleForm(zone=practice_obj.zone)
    if request.method == "POST":
        if _rate_limited(request, practice_obj):
            return _too_many(request, practice_obj)
        if request.POST.get("action") == "cancel":
            services.online_booking_cancel(appointment=appointment, manage_url=manage_url)
            return redirect(request.path + "?cancelled=1")
        form = RescheduleForm(request.POST, zone=practice_obj.zone)
        if form.is_valid():
            try:
                services.online_booking_reschedule(
                    appointment=appointment, start=form.cleaned_data["start"], manage_url=manage_url
                )
            except services.SlotTaken:
                notice = "That time was just taken. Choose another."
            else:
                return redirect(request.path + "?moved=1")
    return _render_manage(request, appointment, form, notice)


def _render_manage(request, appointment: Appointment, form, notice: str) -> HttpResponse:
    practice = appointment.practice
    offers, day = {}, None
    if appointment.is_active and appointment.appointment_type_id:
        window = booking_window(appointment.appointment_type, timezone.now())
        offers = offers_by_day(
            appointment_type=appointment.appointment_type, members=[appointment.staff], window=window
        )
        day = next((d for d in offers if d.isoformat() == request.GET.get("day")), None)
    zone = practice.zone
    context = {
        "practice": practice,
        "appointment": appointment,
        "start": appointment.start.astimezone(zone),
        "end": appointment.end.astimezone(zone),
        "days": list(offers),
        "day": day,
        "times": list(offers.get(day, {})) if day else [],
        "form": form,
        "notice": notice,
        "booked": "booked" in request.GET,
        "moved": "moved" in request.GET,
        "cancelled": "cancelled" in request.GET,
    }
    return render(request, "booking/manage.html", context, status=409 if notice else 200)
