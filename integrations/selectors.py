"""Reads of Google connections and sync state, scoped to the person asking."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection as db
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from calendars.fingerprint import Scope, datetime_param, quote, rows_sql
from calendars.models import Participant
from copilot.accounts.models import Membership, Practice, User

from .models import EventLink, GoogleCalendar, GoogleConnection
from .words import connection_health, words_for

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
    health: str = ""  # ``words.connection_health``: the state as people are told it

    @property
    def needs_attention(self) -> bool:
        return words_for(self.health or self.state).needs_person


def connection_states_for_practice(*, practice: Practice) -> dict[int, MemberConnection]:
    """Membership id → the staff member's Google connection at a glance (Team page, team views,
    the book's banner), in two queries whatever the number of members.

    A person with several connections shows the one that needs attention, if any.
    """
    members = dict(Membership.objects.filter(practice=practice).values_list("user_id", "pk"))
    by_user: dict[int, MemberConnection] = {}
    connections = (
        GoogleConnection.objects.filter(user_id__in=members)
        .exclude(state=State.UNLINKED)
        .only(
            "user_id",
            "state",
            "google_email",
            "last_error",
            "retry_after",
            "last_sync_at",
            "state_changed_at",
        )
        .order_by("created")
    )
    now = timezone.now()
    for connection in connections:
        health = connection_health(connection, now)
        summary = MemberConnection(
            state=connection.state,
            label=words_for(health).label,
            email=connection.google_email,
            last_error=connection.last_error,
            health=health,
        )
        current = by_user.get(connection.user_id)
        if current is None or summary.needs_attention:
            by_user[connection.user_id] = summary
    return {members[user_id]: summary for user_id, summary in by_user.items()}


def connection_backlog(*, connection: GoogleConnection) -> int:
    """Appointment changes waiting to reach this connection's person's calendar."""
    return EventLink.objects.filter(member__user_id=connection.user_id, needs_push=True).count()


@dataclass(frozen=True)
class SyncCounts:
    """A person's calendar copies, counted once so every figure shown agrees: waiting + synced = total."""

    waiting: int
    total: int

    @property
    def synced(self) -> int:
        return self.total - self.waiting


def connection_sync_counts(*, connection: GoogleConnection) -> SyncCounts:
    """The calendar copies of the connection's person (detached ones aside) and how many wait to be
    pushed, in one query: the Connections tab's "changes waiting" and "X of Y synced" come from here."""
    counts = (
        EventLink.objects.filter(member__user_id=connection.user_id)
        .exclude(state=EventLink.State.DETACHED)
        .aggregate(total=Count("pk"), waiting=Count("pk", filter=Q(needs_push=True)))
    )
    return SyncCounts(waiting=counts["waiting"], total=counts["total"])


# --- the book's page fingerprints (calendars.fingerprint): what these reads show, in SQL --------------


def connections_version_sql(*, scope: Scope) -> tuple[str, list]:
    """A part of a page's fingerprint (``calendars.fingerprint.Scope``): the Google connections of the
    practice's people, every field the connection states and sync lines are told from, and where
    ``now`` stands against the two times ``words.connection_health`` turns on (``retry_after``, and
    ``GOOGLE_BACKOFF_ALERT_MINUTES`` after the last sync): change that rule, change these two."""
    alert = scope.now - timedelta(minutes=settings.GOOGLE_BACKOFF_ALERT_MINUTES)
    return _connections_sql(db.vendor), [
        datetime_param(scope.now),
        datetime_param(alert),
        scope.practice_id,
    ]


def event_links_version_sql(*, scope: Scope) -> list[tuple[str, list]]:
    """Parts of a page's fingerprint: the calendar copies (state, error) of the appointments the
    members shown take part in over the scope's range, and the connections they are told with."""
    params = [*scope.members_params, datetime_param(scope.end), datetime_param(scope.start)]
    return [
        (_event_links_sql(db.vendor, scope.members_sql), params),
        connections_version_sql(scope=scope),
    ]


def calendars_version_sql(*, scope: Scope) -> tuple[str, list]:
    """A part of a page's fingerprint: the Google calendars of the members shown, with their
    ``busy_version`` (bumped with every write of their busy blocks), names and roles."""
    return _calendars_sql(db.vendor, scope.users_sql), list(scope.members_params)


# The parts' SQL is the same text for every request of a kind: built once.


@functools.lru_cache(maxsize=16)
def _connections_sql(vendor: str) -> str:
    return rows_sql(
        [
            *("n.id", "n.user_id", "n.state", "n.google_email", "n.last_error", "n.retry_after"),
            *("n.last_sync_at", "n.state_changed_at", "n.created"),
            "CASE WHEN n.retry_after > %s THEN 1 ELSE 0 END",
            "CASE WHEN COALESCE(n.last_sync_at, n.state_changed_at) <= %s THEN 1 ELSE 0 END",
        ],
        f"FROM {quote(GoogleConnection._meta.db_table)} n WHERE n.user_id IN "
        f"(SELECT m.user_id FROM {quote(Membership._meta.db_table)} m WHERE m.practice_id = %s)",
    )


@functools.lru_cache(maxsize=16)
def _event_links_sql(vendor: str, members_sql: str) -> str:
    return rows_sql(
        ["l.id", "l.appointment_id", "l.member_id", "l.state", "l.last_error"],
        f"FROM {quote(Participant._meta.db_table)} p JOIN {quote(EventLink._meta.db_table)} l "
        f"ON l.appointment_id = p.appointment_id WHERE p.member_id IN ({members_sql}) "
        f"AND p.{quote('start')} < %s AND p.{quote('end')} > %s",
    )


@functools.lru_cache(maxsize=16)
def _calendars_sql(vendor: str, users_sql: str) -> str:
    return rows_sql(
        ["c.id", "c.busy_version", "c.summary", "c.is_linked", "c.is_conflict", "c.user_id", "n.state"],
        f"FROM {quote(GoogleCalendar._meta.db_table)} c JOIN {quote(GoogleConnection._meta.db_table)} n "
        f"ON n.id = c.connection_id WHERE c.user_id IN ({users_sql})",
    )
