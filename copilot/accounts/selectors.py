"""Reads about people and practices."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Membership, Practice, User


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
