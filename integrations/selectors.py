"""Reads of Google connections and sync state, scoped to the person asking."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from copilot.accounts.models import Membership, Practice, User

from .models import EventLink, GoogleConnection

State = GoogleConnection.State
WARNING_STATES = {State.MISSING_PERMISSIONS, State.NEEDS_RECONNECT}


def connections_for_user(*, user: User, include_unlinked: bool = False) -> QuerySet[GoogleConnection]:
    qs = GoogleConnection.objects.filter(user=user).prefetch_related("calendars")
    if not include_unlinked:
        qs = qs.exclude(state=State.UNLINKED)
    return qs.order_by("created")


def connection_for_user(*, user: User, pk: int) -> GoogleConnection:
    """The user's own connection; 404 for anyone else's (the integration belongs to its person)."""
    connection = GoogleConnection.objects.filter(user=user, pk=pk).first()
    if connection is None:
        raise Http404("No such connection.")
    return connection


@dataclass(frozen=True)
class MemberConnection:
    state: str
    label: str
    email: str
    last_error: str

    @property
    def needs_attention(self) -> bool:
        return self.state in WARNING_STATES


def connection_states_for_practice(*, practice: Practice) -> dict[int, MemberConnection]:
    """Membership id → the staff member's Google connection at a glance (for admins' Team page).

    A person with several connections shows the one that needs attention, if any.
    """
    members = dict(Membership.objects.filter(practice=practice).values_list("user_id", "pk"))
    by_user: dict[int, MemberConnection] = {}
    connections = (
        GoogleConnection.objects.filter(user_id__in=members)
        .exclude(state=State.UNLINKED)
        .only("user_id", "state", "google_email", "last_error")
        .order_by("created")
    )
    for connection in connections:
        current = by_user.get(connection.user_id)
        if current is None or connection.state in WARNING_STATES:
            by_user[connection.user_id] = MemberConnection(
                state=connection.state,
                label=connection.get_state_display(),
                email=connection.google_email,
                last_error=connection.last_error,
            )
    return {members[user_id]: summary for user_id, summary in by_user.items()}


def connection_backlog(*, connection: GoogleConnection) -> int:
    """Appointment changes waiting to reach this connection's person's calendar."""
    return EventLink.objects.filter(member__user_id=connection.user_id, needs_push=True).count()


def connection_resync_progress(*, connection: GoogleConnection) -> tuple[int, int]:
    """(synced, total) calendar copies of the person's upcoming appointments (the progress bar)."""
    links = EventLink.objects.filter(
        member__user_id=connection.user_id, appointment__end__gte=timezone.now()
    ).exclude(state=EventLink.State.DETACHED)
    total = links.count()
    return total - links.filter(needs_push=True).count(), total
