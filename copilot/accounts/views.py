"""The practice switcher and the Team pages (admins only)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core import signing
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST, require_safe
from django_htmx.http import reswap, retarget

from .access import current_admin
from .forms import InviteForm, PracticeSwitchForm, RoleForm
from .member_status import member_statuses
from .middleware import SESSION_KEY
from .models import Invitation, Membership
from .selectors import invitations_for_user, memberships_for_user, practice_invitations, practice_members
from .services import (
    INVITATION_SALT,
    invitation_accept,
    invitation_decline,
    invitation_resend,
    invitation_revoke,
    member_invite,
    membership_set_role,
)


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


def _with_statuses(practice, members) -> list[Membership]:
    """``members`` with ``statuses`` (the member-status interface: their calendar connections), for
    everyone in one query per provider."""
    members = list(members)
    statuses = member_statuses(practice=practice, members=members)
    for member in members:
        member.statuses = statuses[member.pk]
        member.attention = [
            status.theirs.format(name=member.display_name)
            for status in member.statuses
            if status.needs_attention
        ]
    return members


def _team_context(admin: Membership, invite_form: InviteForm | None = None) -> dict:
    return {
        "actor": admin,
        "members": _with_statuses(
            admin.practice, practice_members(practice=admin.practice, include_inactive=True)
        ),
        "invitations": practice_invitations(practice=admin.practice),
        "invite_form": invite_form or InviteForm(),
        "role_choices": Membership.Role.choices,
        "section": "team",
    }


@require_safe
def team(request: HttpRequest) -> HttpResponse:
    admin = current_admin(request)
    return render(request, "accounts/team.html", _team_context(admin))


def _with_messages(request: HttpRequest, html: str) -> HttpResponse:
    html += render_to_string("portal/partials/messages.html", {"oob": True}, request)
    return HttpResponse(html)


@require_POST
def team_invite(request: HttpRequest) -> HttpResponse:
    """Invite someone by email: a new person gets a set-password link, anyone else a pending invitation."""
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
            messages.success(
                request, f"Invitation to {form.cleaned_data['email']} queued; the email goes out shortly."
            )
            if not request.htmx:
                return redirect("accounts:team")
            context = _team_context(admin)
            html = render_to_string("accounts/partials/team_members.html", context, request)
            html += render_to_string("accounts/partials/invite_form.html", {**context, "oob": True}, request)
            html += render_to_string(
                "accounts/partials/team_invitations.html", {**context, "oob": True}, request
            )
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
            membership_set_role(membership=member, role=form.cleaned_data["role"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{member.display_name} is now {member.get_role_display()}.")
    else:
        messages.error(request, "Choose a role.")
    if not request.htmx:
        return redirect("accounts:team")
    member.refresh_from_db()
    [member] = _with_statuses(admin.practice, [member])
    html = render_to_string(
        "accounts/partials/member_row.html",
        {"member": member, "actor": admin, "role_choices": Membership.Role.choices},
        request,
    )
    return _with_messages(request, html)


def _practice_invitation(request: HttpRequest, invitation_id: int) -> tuple[Membership, Invitation]:
    admin = current_admin(request)
    return admin, get_object_or_404(practice_invitations(practice=admin.practice), pk=invitation_id)


def _invitations_response(request: HttpRequest, admin: Membership) -> HttpResponse:
    if not request.htmx:
        return redirect("accounts:team")
    html = render_to_string("accounts/partials/team_invitations.html", _team_context(admin), request)
    return _with_messages(request, html)


@require_POST
def team_invitation_resend(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Send a pending invitation again (admins); the link is valid for another week."""
    admin, invitation = _practice_invitation(request, invitation_id)
    invitation_resend(invitation=invitation, base_url=request.build_absolute_uri("/"))
    messages.success(request, f"Invitation to {invitation.email} queued again.")
    return _invitations_response(request, admin)


@require_POST
def team_invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Withdraw a pending invitation (admins); its link stops working."""
    admin, invitation = _practice_invitation(request, invitation_id)
    invitation_revoke(invitation=invitation)
    messages.success(request, f"Invitation to {invitation.email} withdrawn.")
    return _invitations_response(request, admin)


# --- The invited person's side: works without a practice (she may not belong to one yet) ------------


@require_safe
def invitations(request: HttpRequest) -> HttpResponse:
    """Invitations waiting for the signed-in person (addressed to her verified primary address)."""
    return render(
        request, "accounts/invitations.html", {"invitations": invitations_for_user(user=request.user)}
    )


@require_safe
def invitation_open(request: HttpRequest, token: str) -> HttpResponse:
    """The emailed link: shows the invitation to the person it was sent to, and to no one else (404)."""
    max_age = settings.INVITATION_EXPIRE_DAYS * 24 * 3600
    try:
        invitation_id = signing.loads(token, salt=INVITATION_SALT, max_age=max_age)
    except signing.BadSignature as exc:
        raise Http404("This invitation link is not valid or has expired.") from exc
    invitation = get_object_or_404(invitations_for_user(user=request.user), pk=invitation_id)
    return render(request, "accounts/invitations.html", {"invitations": [invitation]})


def _respond(request: HttpRequest, invitation_id: int, service) -> Invitation | None:
    """Run ``service`` on one of her open invitations (404 otherwise); None when it refused."""
    invitation = get_object_or_404(invitations_for_user(user=request.user), pk=invitation_id)
    try:
        service(invitation=invitation, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return None
    return invitation


@require_POST
def invitation_accept_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    """Join the practice. She keeps working where she was; the switcher now offers the new practice."""
    invitation = _respond(request, invitation_id, invitation_accept)
    if invitation:
        messages.success(
            request, f"You joined {invitation.practice.name}. Switch to it with the practice menu at the top."
        )
    return redirect("accounts:invitations")


@require_POST
def invitation_decline_view(request: HttpRequest, invitation_id: int) -> HttpResponse:
    invitation = _respond(request, invitation_id, invitation_decline)
    if invitation:
        messages.info(request, f"You declined the invitation to {invitation.practice.name}.")
    return redirect("accounts:invitations")
