"""Access helpers every portal view starts with: scope to the practice and role, 404 otherwise."""

from __future__ import annotations

from django.http import Http404

from .models import Membership


def current_membership(request) -> Membership:
    """The user's membership in the current practice; 404 when they belong to none."""
    membership = request.get_membership()
    if membership is None:
        raise Http404("You are not a member of any practice.")
    return membership


def current_admin(request) -> Membership:
    """The current membership when it is a practice admin's; 404 for everyone else."""
    membership = current_membership(request)
    if not membership.is_admin:
        raise Http404("Only practice admins can open this page.")
    return membership


def can_manage_member(actor: Membership, member: Membership) -> bool:
    """Admins manage everyone in their practice; staff manage only themselves."""
    if actor.practice_id != member.practice_id:
        return False
    return actor.is_admin or actor.pk == member.pk
