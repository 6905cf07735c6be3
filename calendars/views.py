"""The appointment book's pages. Each view starts with an access helper and stays in its practice.

htmx requests get the partial of the region they swap; everything works as plain pages too.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import push_url, reswap, retarget, trigger_client_event

from copilot.accounts import member_status
from copilot.accounts.access import can_manage_member, current_membership
from copilot.accounts.models import Membership, Practice
from copilot.accounts.selectors import practice_members

from . import busy, grid_pages, page_cache, services
from .forms import AppointmentFilterForm, AppointmentForm, CancelForm, TeamFilterForm, WorkingHoursForm
from .limits import clamp_date, navigation_date
from .models import Appointment
from .selectors import (
    appointment_for_member,
    appointment_history,
    appointments_by_member,
    appointments_for_list,
    team_view_member_ids,
    working_hours_by_member,
    working_hours_for_member,
)
from .services import BookingError
from .sync_status import attach_badges, sync_statuses
from .team import build_team
from .timezones import day_bounds, format_local_range
from .week import DEFAULT_SPAN, build_week, span_of
from .week_changes import Before, ShownWeek, changed_days, shown_week

# --- lookups, always inside the current practice ------------------------------------------


def _member_or_404(practice: Practice, pk, *, include_inactive: bool = False) -> Membership:
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404("No such staff member.") from exc
    return get_object_or_404(practice_members(practice=practice, include_inactive=include_inactive), pk=pk)


def _member_among_or_404(members: list[Membership], pk) -> Membership:
    """The one of ``members`` (already read, scoped to the practice) with ``pk``; 404 otherwise."""
    try:
        pk = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404("No such staff member.") from exc
    for member in members:
        if member.pk == pk:
            return member
    raise Http404("No such staff member.")


def _appointment_or_404(membership: Membership, pk: int) -> Appointment:
    """Any appointment of the member's practice (everyone in a practice sees its book)."""
    try:
        return appointment_for_member(membership=membership, pk=pk)
    except Appointment.DoesNotExist as exc:
        raise Http404("No such appointment.") from exc


def _managed_appointment_or_404(membership: Membership, pk: int) -> Appointment:
    """An appointment the member may change: admins any in the practice, staff their own."""
    appointment = _appointment_or_404(membership, pk)
    if not can_manage_member(membership, appointment.staff):
        raise Http404("No such appointment.")
    return appointment


def _today(practice: Practice) -> date:
    return timezone.now().astimezone(practice.zone).date()


def week_url(staff: Membership, day: date, span: str = "week") -> str:
    query = {"staff": staff.pk, "date": day.isoformat()}
    if span == "day":
        query["span"] = "day"
    return f"{reverse('calendars:week')}?{urlencode(query)}"


def connection_attention(actor: Membership, members, statuses=None) -> list[dict]:
    """The banner's lines: each shown member whose connection needs a person (member-status
    interface). The member themself is told what to do (with the fix button), anyone else whom."""
    members = list(members)
    if statuses is None:
        statuses = member_status.member_statuses(practice=actor.practice, members=members)
    lines = []
    for member in members:
        for status in statuses.get(member.pk, []):
            if status.needs_attention:
                is_me = member.pk == actor.pk
                text = status.yours if is_me else status.theirs.format(name=member.display_name)
                lines.append({"member": member, "status": status, "is_me": is_me, "text": text})
    return lines


def _practice_attention(actor: Membership) -> list[dict]:
    """``connection_attention`` for everyone in the practice, loading only the members it names: the
    same queries and nearly the same time for 10 staff or 200."""
    practice = actor.practice
    ids = list(practice_members(practice=practice).values_list("pk", flat=True))
    statuses = member_status.member_statuses(practice=practice, members=[Membership(pk=pk) for pk in ids])
    named = [pk for pk, found in statuses.items() if any(status.needs_attention for status in found)]
    members = practice_members(practice=practice).filter(pk__in=named) if named else []
    return connection_attention(actor, members, statuses)


# --- the week view ----------------------------------------------------------------------------


def _week_context(
    actor: Membership,
    staff: Membership,
    day: date,
    span: str,
    members: list[Membership] | None = None,
    now: datetime | None = None,
) -> dict:
    practice = actor.practice
    now = now or timezone.now()
    today = now.astimezone(practice.zone).date()
    days = 1 if span == "day" else 7
    start_date, _, range_start, range_end = grid_pages.week_range(day, span, practice.zone)
    grid = build_week(
        appointments=attach_badges(
            appointments_by_member(practice=practice, members=[staff], start=range_start, end=range_end)[
                staff.pk
            ]
        ),
        busy=busy.busy_intervals(
            member=staff, start=range_start, end=range_end, show_titles=busy.show_titles_to(actor, staff)
        ),
        working_hours=working_hours_by_member(members=[staff])[staff.pk],
        start_date=start_date,
        zone=practice.zone,
        days=days,
        today=today,
        now=now,
    )
    statuses = member_status.member_statuses(practice=practice, members=[staff])
    step = timedelta(days=days)
    return {  # navigation stays inside the book's range (limits), so no link overflows
        "grid": grid,
        "staff": staff,
        "span": span,
        "day": day,
        "members": practice_members(practice=practice) if members is None else members,
        "can_manage": can_manage_member(actor, staff),
        "statuses": statuses[staff.pk],
        "attention": connection_attention(actor, [staff], statuses),
        "prev_url": week_url(staff, clamp_date(start_date - step), span),
        "next_url": week_url(staff, clamp_date(start_date + step), span),
        "today_url": week_url(staff, today, span),
        "day_url": week_url(staff, day, "day"),
        "week_url": week_url(staff, day, "week"),
        "section": "calendars",
    }


@require_safe
def week(request: HttpRequest) -> HttpResponse:
    """One staff member's week (or day) as a time grid. ``?staff=<membership id>&date=&span=day``."""
    stored, attempt = grid_pages.stored_or_attempt(request, "week")
    if stored is not None:
        return stored
    if request.get_membership() is None:
        return render(request, "portal/no_practice.html")
    actor = current_membership(request)
    page = grid_pages.page_for(request, actor, "week", attempt)
    if page.found is not None and not page.found.staff_ok:
        raise Http404("No such staff member.")
    template = "calendars/partials/week_grid.html" if request.htmx else "calendars/week.html"

    def draw(csrf_token: str | None) -> str:
        members = list(practice_members(practice=actor.practice))  # the staff picker's, and whom to show
        staff = _member_among_or_404(members, page.staff_id)
        context = _week_context(actor, staff, page.day, page.span, members, page.now)
        return grid_pages.draw(request, template, context, page.found, csrf_token)

    return page_cache.respond(request, page.key, page.fingerprint, draw)


def team_url(day: date, span: str = "day") -> str:
    query = {"date": day.isoformat()}
    if span == "week":
        query["span"] = "week"
    return f"{reverse('calendars:team')}?{urlencode(query)}"


def _team_context(actor: Membership, day: date, span: str, now: datetime | None = None) -> dict:
    """The team view: everyone chosen in the filter, side by side, in a constant number of queries."""
    practice = actor.practice
    now = now or timezone.now()
    days = 7 if span == "week" else 1
    start_date, _, range_start, range_end = grid_pages.team_range(day, span, practice.zone)
    everyone = list(practice_members(practice=practice))
    chosen = set(team_view_member_ids(membership=actor))
    shown = [m for m in everyone if m.pk in chosen] or everyone
    appointments = appointments_by_member(practice=practice, members=shown, start=range_start, end=range_end)
    attach_badges(a for found in appointments.values() for a in found)
    statuses = member_status.member_statuses(practice=practice, members=shown)
    grid = build_team(
        members=shown,
        appointments=appointments,
        busy=busy.busy_intervals_for_members(members=shown, start=range_start, end=range_end, viewer=actor),
        hours=working_hours_by_member(members=shown),
        statuses=statuses,
        bookable={m.pk for m in shown if can_manage_member(actor, m)},
        start_date=start_date,
        days=days,
        zone=practice.zone,
        now=now,
    )
    step = timedelta(days=days)
    shown_ids = {m.pk for m in shown}
    return {
        "grid": grid,
        "span": span,
        "day": day,
        "filter_form": TeamFilterForm(members=everyone, initial={"show": sorted(shown_ids)}),
        "filtered": len(shown) < len(everyone),
        "attention": connection_attention(actor, shown, statuses),
        "prev_url": team_url(clamp_date(start_date - step), span),
        "next_url": team_url(clamp_date(start_date + step), span),
        "today_url": team_url(now.astimezone(practice.zone).date(), span),
        "day_url": team_url(day, "day"),
        "week_url": team_url(day, "week"),
        "section": "calendars",
    }


@require_safe
def team(request: HttpRequest) -> HttpResponse:
    """The whole team side by side: ``?date=`` and ``span=week`` (lanes) or the day (columns)."""
    stored, attempt = grid_pages.stored_or_attempt(request, "team")
    if stored is not None:
        return stored
    if request.get_membership() is None:
        return render(request, "portal/no_practice.html")
    actor = current_membership(request)
    page = grid_pages.page_for(request, actor, "team", attempt)
    template = "calendars/partials/team_grid.html" if request.htmx else "calendars/team.html"

    def draw(csrf_token: str | None) -> str:
        context = _team_context(actor, page.day, page.span, page.now)
        return grid_pages.draw(request, template, context, page.found, csrf_token)

    return page_cache.respond(request, page.key, page.fingerprint, draw)


@require_http_methods(["GET", "HEAD", "POST"])
def team_filter(request: HttpRequest) -> HttpResponse:
    """POST: remember whom to show on the team views, then back to the team view it came from."""
    actor = current_membership(request)
    if request.method != "POST":
        return redirect("calendars:team")
    everyone = list(practice_members(practice=actor.practice))
    form = TeamFilterForm(request.POST, members=everyone)
    day = navigation_date(request.POST.get("date")) or _today(actor.practice)
    span = "week" if request.POST.get("span") == "week" else "day"
    if form.is_valid():
        services.team_view_preference_set(membership=actor, member_ids=form.cleaned_data["show"])
    else:
        messages.error(request, "That choice names someone outside this practice's team; nothing changed.")
    return redirect(team_url(day, span))


def _is_from_team_view(request: HttpRequest) -> bool:
    current = request.htmx.current_url_abs_path if request.htmx else None
    return bool(current) and current.startswith(reverse("calendars:team"))


def _saved_response(
    request: HttpRequest, actor: Membership, appointment: Appointment, before: Before | None = None
) -> HttpResponse:
    """After a change: a plain redirect to the week, or for htmx the refreshed week grid (or team
    view, when the change was made there), retargeted from the modal, with the messages swapped in
    out of band. From a week page that still shows the change, only the changed days are swapped
    (``week_changes``); ``before`` is the appointment as it was, for edits and cancellations."""
    zone = actor.practice.zone
    day = appointment.start.astimezone(zone).date()
    url = week_url(appointment.staff, day)
    if not request.htmx:
        return redirect(url)
    if _is_from_team_view(request):
        url, region = team_url(day), "#team-region"
        html = render_to_string(
            "calendars/partials/team_grid.html", _team_context(actor, day, "day"), request
        )
    else:
        shown = shown_week(
            request.htmx.current_url_abs_path,
            week_path=reverse("calendars:week"),
            actor_id=actor.pk,
            today=_today(actor.practice),
        )
        before_day = before.start.astimezone(zone).date() if before else None
        days = shown and changed_days(
            shown, staff_id=appointment.staff_id, day=day, before=before, before_day=before_day
        )
        if days:
            response = _changed_days_response(request, actor, appointment, before, shown, days)
            if response is not None:
                return response
        region = "#week-region"
        context = _week_context(actor, appointment.staff, day, "week")
        html = render_to_string("calendars/partials/week_grid.html", context, request)
    html += render_to_string("portal/partials/messages.html", {"oob": True}, request)
    response = HttpResponse(html)
    retarget(response, region)
    reswap(response, "outerHTML")
    push_url(response, url)
    return trigger_client_event(response, "modal-close", after="settle")


def _changed_days_response(
    request: HttpRequest,
    actor: Membership,
    appointment: Appointment,
    before: Before | None,
    shown: ShownWeek,
    days: list,
) -> HttpResponse | None:
    """The changed day columns of the week on screen (the first replaces its column, the others and
    their agenda days out of band), or None when the grid's hours changed (the whole week redraws)."""
    practice, staff, zone = actor.practice, appointment.staff, actor.practice.zone
    week_from, _ = day_bounds(shown.dates[0], zone)
    _, week_to = day_bounds(shown.dates[-1], zone)
    appointments = appointments_by_member(practice=practice, members=[staff], start=week_from, end=week_to)
    hours = working_hours_for_member(member=staff)  # read by the booking rules already: no query
    as_it_was = [a for a in appointments[staff.pk] if a.pk != appointment.pk] + ([before] if before else [])
    days_from, _ = day_bounds(days[0], zone)
    _, days_to = day_bounds(days[-1], zone)
    grid = build_week(
        appointments=attach_badges(appointments[staff.pk]),  # the tiles' sync badges
        busy=busy.busy_intervals(
            member=staff, start=days_from, end=days_to, show_titles=busy.show_titles_to(actor, staff)
        ),
        working_hours=hours,
        start_date=shown.dates[0],
        zone=zone,
        days=len(shown.dates),
        today=_today(practice),
        now=timezone.now(),
    )
    if span_of(as_it_was, hours, list(shown.dates), zone, DEFAULT_SPAN) != (grid.first_hour, grid.last_hour):
        return None
    context = {
        "columns": [column for column in grid.days if column.date in days],
        "staff": staff,
        "can_manage": can_manage_member(actor, staff),
        "span": shown.span,
    }
    html = render_to_string("calendars/partials/week_changed_days.html", context, request)
    html += render_to_string("portal/partials/messages.html", {"oob": True}, request)
    response = HttpResponse(html)
    retarget(response, f"#week-day-{days[0].isoformat()}")
    reswap(response, "outerHTML")
    return trigger_client_event(response, "modal-close", after="settle")


def _report(request: HttpRequest, verb: str, appointment: Appointment, warnings=()) -> None:
    when = format_local_range(appointment.start, appointment.end, appointment.practice.zone)
    messages.success(request, f"{verb} “{appointment.title}” for {appointment.staff.display_name}, {when}.")
    for warning in warnings:
        messages.warning(request, warning)


def _form_response(request: HttpRequest, context: dict) -> HttpResponse:
    context.setdefault("section", "calendars")
    context["in_modal"] = bool(request.htmx)
    if request.htmx:
        return render(request, "calendars/partials/appointment_form.html", context)
    return render(request, "calendars/appointment_form.html", context)


# --- appointments ---------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def appointment_new(request: HttpRequest) -> HttpResponse:
    """Book. GET takes ``staff``, ``date`` and ``start`` (HH:MM) to prefill from a clicked slot."""
    actor = current_membership(request)
    practice = actor.practice
    if request.method == "POST":
        form = AppointmentForm(request.POST, actor=actor)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = services.appointment_book(
                    practice=practice,
                    created_by=request.user,
                    overrides=data["overrides"],
                    **form.service_fields(),
                )
            except BookingError as exc:
                form.add_booking_error(exc)
            else:
                _report(request, "Booked", result.appointment, result.warnings)
                return _saved_response(request, actor, result.appointment)
    else:
        form = AppointmentForm(actor=actor, initial=_prefill(request, actor))
    return _form_response(request, {"form": form, "appointment": None})


def _prefill(request: HttpRequest, actor: Membership) -> dict:
    if "find" in request.GET:  # "Find" in a staff picker without JavaScript: the form as it was sent
        return AppointmentForm.initial_from_query(request.GET)
    practice = actor.practice
    staff = actor
    if request.GET.get("staff") and actor.is_admin:
        staff = _member_or_404(practice, request.GET["staff"])
    initial = {"staff": staff.pk, "date": navigation_date(request.GET.get("date")) or _today(practice)}
    try:
        start = datetime.strptime(request.GET.get("start", ""), "%H:%M")
    except ValueError:
        return initial
    end = start + timedelta(minutes=practice.default_appointment_minutes)
    initial["start_time"] = start.time()
    if end.date() == start.date():
        initial["end_time"] = end.time()
    return initial


@require_safe
def appointment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    actor = current_membership(request)
    appointment = _appointment_or_404(actor, pk)
    context = {
        "appointment": appointment,
        "history": appointment_history(appointment=appointment),
        "sync_statuses": sync_statuses([appointment.pk])[appointment.pk],
        "can_manage": can_manage_member(actor, appointment.staff),
        "when": format_local_range(appointment.start, appointment.end, actor.practice.zone),
        "back_url": week_url(appointment.staff, appointment.start.astimezone(actor.practice.zone).date()),
        "in_modal": bool(request.htmx),
        "section": "calendars",
    }
    if request.htmx:
        return render(request, "calendars/partials/appointment_detail.html", context)
    return render(request, "calendars/appointment_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def appointment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    actor = current_membership(request)
    appointment = _managed_appointment_or_404(actor, pk)
    if not appointment.is_active:
        messages.info(request, "This appointment was cancelled; it can no longer be changed.")
        return redirect("calendars:appointment_detail", pk=appointment.pk)
    if request.method == "POST":
        form = AppointmentForm(request.POST, actor=actor, appointment=appointment)
        before = Before(appointment.staff_id, appointment.start, appointment.end)
        if form.is_valid():
            try:
                result = services.appointment_update(
                    appointment=appointment,
                    actor=request.user,
                    overrides=form.cleaned_data["overrides"],
                    **form.service_fields(),
                )
            except BookingError as exc:
                form.add_booking_error(exc)
            else:
                _report(request, "Saved", result.appointment, result.warnings)
                return _saved_response(request, actor, result.appointment, before)
    elif "find" in request.GET:  # "Find" in a staff picker without JavaScript: the form as it was sent
        form = AppointmentForm(
            actor=actor, appointment=appointment, initial=AppointmentForm.initial_from_query(request.GET)
        )
    else:
        form = AppointmentForm(actor=actor, appointment=appointment)
    context = {
        "form": form,
        "appointment": appointment,
        "history": appointment_history(appointment=appointment),
        "sync_statuses": sync_statuses([appointment.pk])[appointment.pk],
    }
    return _form_response(request, context)


@require_http_methods(["GET", "HEAD", "POST"])
def appointment_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST cancels (the appointment and its history are kept)."""
    actor = current_membership(request)
    appointment = _managed_appointment_or_404(actor, pk)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        before = Before(appointment.staff_id, appointment.start, appointment.end)
        appointment = services.appointment_cancel(
            appointment=appointment, actor=request.user, reason=form.cleaned_data["reason"]
        )
        _report(request, "Cancelled", appointment)
        return _saved_response(request, actor, appointment, before)
    context = {
        "form": form,
        "appointment": appointment,
        "when": format_local_range(appointment.start, appointment.end, actor.practice.zone),
        "in_modal": bool(request.htmx),
        "section": "calendars",
    }
    if request.htmx:
        return render(request, "calendars/partials/appointment_cancel.html", context)
    return render(request, "calendars/appointment_cancel.html", context)


@require_safe
def appointment_list(request: HttpRequest) -> HttpResponse:
    """Every appointment of the practice, cancelled ones included, filtered by staff/status/dates."""
    actor = current_membership(request)
    practice = actor.practice
    today = _today(practice)
    data = request.GET.copy()
    data.setdefault("date_from", today.isoformat())
    data.setdefault("date_to", (today + timedelta(days=30)).isoformat())
    form = AppointmentFilterForm(data, practice=practice, today=today)
    page = None
    if form.is_valid():
        filters = form.cleaned_data
        start, _ = day_bounds(filters["date_from"], practice.zone)
        _, end = day_bounds(filters["date_to"], practice.zone)
        appointments = appointments_for_list(
            practice=practice, staff=filters["staff"], status=filters["status"] or None, start=start, end=end
        )
        page = Paginator(appointments, 50).get_page(request.GET.get("page"))
        page.object_list = attach_badges(page.object_list)
        attention = (
            connection_attention(actor, [filters["staff"]])
            if filters["staff"]
            else _practice_attention(actor)
        )
    else:
        attention = []
    context = {
        "form": form,
        "page": page,
        "actor": actor,
        "attention": attention,
        "section": "calendars",
    }
    if request.htmx:
        return render(request, "calendars/partials/appointment_list.html", context)
    return render(request, "calendars/appointment_list.html", context)


@require_safe
def staff_options(request: HttpRequest) -> HttpResponse:
    """A staff picker narrowed to what its search box holds (htmx, as one types): the booking form's
    ``picker=staff`` or ``assignees``, or with ``form=list`` the list's staff filter. Only members of
    the current practice, as the pickers themselves (``staff_picker``)."""
    actor = current_membership(request)
    picker = request.GET.get("picker")
    if request.GET.get("form") == "list" and picker == "staff":
        form = AppointmentFilterForm(request.GET, practice=actor.practice, today=_today(actor.practice))
    elif picker in ("staff", "assignees"):
        form = AppointmentForm(actor=actor, initial=AppointmentForm.initial_from_query(request.GET))
    else:
        raise Http404("No such picker.")
    return HttpResponse(str(form[picker]))


# --- settings -------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def working_hours(request: HttpRequest, member_id: int) -> HttpResponse:
    """A member's working week. Admins edit anyone's in their practice; staff view their own."""
    actor = current_membership(request)
    member = _member_or_404(actor.practice, member_id, include_inactive=True)
    if not can_manage_member(actor, member):
        raise Http404("No such staff member.")
    can_edit = actor.is_admin
    if request.method == "POST" and not can_edit:
        raise Http404("Only practice admins change working hours.")
    hours = working_hours_for_member(member=member)
    form = WorkingHoursForm(request.POST if request.method == "POST" else None, hours=hours)
    if request.method == "POST" and form.is_valid():
        try:
            services.working_hours_set(member=member, intervals=form.cleaned_data["intervals"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Saved {member.display_name}'s working hours.")
            return redirect("calendars:working_hours", member_id=member.pk)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    context = {
        "form": form,
        "member": member,
        "can_edit": can_edit,
        "section": "team" if actor.is_admin else "calendars",
    }
    return render(request, "calendars/working_hours.html", context)
