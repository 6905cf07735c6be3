"""The practice switcher and the Team pages (admins only)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST
from django_htmx.http import reswap, retarget

from .access import current_admin
from .forms import InviteForm, PracticeSwitchForm, RoleForm
from .middleware import SESSION_KEY
from .models import Membership
from .selectors import memberships_for_user, practice_members
from .services import member_invite, membership_set_role


@require_POST
def practice_switch(request: HttpRequest) -> HttpResponse:
    """Work in another practice; only one the user is an active member of (404 otherwise)."""
    form = PracticeSwitchForm(request.POST)
    if not form.is_valid():
        raise Http404("No such practice.")
    membership = get_object_or_404(
        memberships_for_user(user=request.user), practice_id=form.cleaned_data["practice"]
    )
    request.session[SESSION_KEY] = membership.practice_id
    messages.info(request, f"You are now working in {membership.practice.name}.")
    return redirect("calendars:week")


def _team_context(admin: Membership, invite_form: InviteForm | None = None) -> dict:
    return {
        "actor": admin,
        "members": practice_members(practice=admin.practice, include_inactive=True),
        "invite_form": invite_form or InviteForm(),
        "role_choices": Membership.Role.choices,
        "section": "team",
    }


def team(request: HttpRequest) -> HttpResponse:
    admin = current_admin(request)
    return render(request, "accounts/team.html", _team_context(admin))


def _with_messages(request: HttpRequest, html: str) -> HttpResponse:
    html += render_to_string("portal/partials/messages.html", {"oob": True}, request)
    return HttpResponse(html)


@require_POST
def team_invite(request: HttpRequest) -> HttpResponse:
    """Invite someone by email; they get a link to set their password."""
    admin = current_admin(request)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            member_invite(
                practice=admin.practice,
                invited_by=request.user,
                base_url=request.build_absolute_uri("/"),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            form.add_error("email" if hasattr(exc, "error_dict") else None, exc.messages)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            if not request.htmx:
                return redirect("accounts:team")
            context = _team_context(admin)
            html = render_to_string("accounts/partials/team_members.html", context, request)
            html += render_to_string("accounts/partials/invite_form.html", {**context, "oob": True}, request)
            response = _with_messages(request, html)
            retarget(response, "#team-members")
            return reswap(response, "outerHTML")
    context = _team_context(admin, form)
    if request.htmx:
        return render(request, "accounts/partials/invite_form.html", context)
    return render(request, "accounts/team.html", context)


@require_POST
def member_role(request: HttpRequest, member_id: int) -> HttpResponse:
    """Change a member's role (the last admin cannot step down)."""
    admin = current_admin(request)
    member = get_object_or_404(practice_members(practice=admin.practice, include_inactive=True), pk=member_id)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            membership_set_role(membership=member, role=form.cleaned_data["role"], actor=admin)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{member.display_name} is now {member.get_role_display()}.")
    else:
        messages.error(request, "Choose a role.")
    if not request.htmx:
        return redirect("accounts:team")
    member.refresh_from_db()
    html = render_to_string(
        "accounts/partials/member_row.html", {"member": member, **_team_context(admin)}, request
    )
    return _with_messages(request, html)
