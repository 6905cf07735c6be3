"""Reads about people and practices."""

from __future__ import annotations

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from .models import Invitation, Membership, Practice, User


def memberships_for_user(*, user: User) -> QuerySet[Membership]:
    """Active memberships of ``user``, with their practices, in a stable order."""
    return (
        Membership.objects.filter(user=user, is_active=True)
        .select_related("practice")
        .order_by("practice__name")
    )


def practice_members(*, practice: Practice, include_inactive: bool = False) -> QuerySet[Membership]:
    """The staff of a practice, admins included, ordered by name."""
    qs = Membership.objects.filter(practice=practice).select_related("user")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("user__first_name", "user__last_name", "user__email")


def invitations_for_user(*, user: User) -> QuerySet[Invitation]:
    """Open invitations addressed to ``user``'s verified primary address, newest first."""
    cutoff = timezone.now() - timedelta(days=settings.INVITATION_EXPIRE_DAYS)
    verified = EmailAddress.objects.filter(user=user, primary=True, verified=True).values("email")
    return (
        Invitation.objects.filter(state=Invitation.State.PENDING, sent__gt=cutoff, email__in=verified)
        .select_related("practice", "invited_by")
        .order_by("-sent")
    )


def practice_invitations(*, practice: Practice) -> QuerySet[Invitation]:
    """A practice's pending invitations (expired ones too, so they can be resent), newest first."""
    return Invitation.objects.filter(practice=practice, state=Invitation.State.PENDING).order_by("-sent")
