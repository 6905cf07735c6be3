"""Each appointment's Google copies, told to the book's sync-status interface, in one query."""

from __future__ import annotations

from django.db.models import OuterRef, Subquery

from calendars.fingerprint import Scope
from calendars.sync_status import FAILED, SYNCED, UNCONNECTED, WAITING, SyncStatus

from .models import EventLink, GoogleConnection
from .selectors import event_links_version_sql
from .words import NOT_CONNECTED, connection_health, words_for

LinkState = EventLink.State
ConnState = GoogleConnection.State


def _copy_line(name: str, state: str, last_error: str, connection) -> SyncStatus:
    if state == LinkState.SYNCED:
        return SyncStatus(SYNCED, f"Google ({name}): Synced")
    if state == LinkState.FAILED:
        why = f" — {last_error[:160]}" if last_error else ""
        return SyncStatus(FAILED, f"Google ({name}): Failed{why}")
    if state == LinkState.WAITING:
        health = connection_health(connection) if connection else NOT_CONNECTED
        if health == "active":  # reconnected since: the push is on its way
            return SyncStatus(WAITING, f"Google ({name}): Waiting, on its way")
        state = UNCONNECTED if health == NOT_CONNECTED else WAITING
        return SyncStatus(state, f"Google ({name}): {words_for(health).waiting.format(name=name)}")
    return SyncStatus(WAITING, f"Google ({name}): Waiting, on its way")  # pending


class _Connection:
    """The few connection fields ``connection_health`` reads, from the one query's annotations."""

    def __init__(self, row: dict) -> None:
        self.state = row["conn_state"]
        self.retry_after = row["conn_retry_after"]
        self.last_sync_at = row["conn_last_sync_at"]
        self.state_changed_at = row["conn_state_changed_at"]


class GoogleSyncStatus:
    """The book's ``SyncStatusProvider`` for Google: every copy's link state, with its person's
    connection (the one needing attention first) read in the same query."""

    def version_sql(self, *, scope: Scope) -> list[tuple[str, list]]:
        """The page fingerprint's part for sync badges (``calendars.fingerprint``)."""
        return event_links_version_sql(scope=scope)

    def statuses(self, *, appointment_ids: list[int]) -> dict[int, list[SyncStatus]]:
        live = (
            GoogleConnection.objects.filter(user_id=OuterRef("member__user_id"))
            .exclude(state=ConnState.UNLINKED)
            .order_by("-state_changed_at")
        )
        fields = {
            f"conn_{name}": Subquery(live.values(name)[:1])
            for name in ("state", "retry_after", "last_sync_at", "state_changed_at")
        }
        rows = (
            EventLink.objects.filter(appointment_id__in=appointment_ids)
            .exclude(state=LinkState.DETACHED)
            .annotate(**fields)
            .values(
                "appointment_id",
                "state",
                "last_error",
                "member__user__first_name",
                "member__user__last_name",
                "member__user__email",
                *fields,
            )
            .order_by("pk")
        )
        found: dict[int, list[SyncStatus]] = {}
        for row in rows:
            full = f"{row['member__user__first_name']} {row['member__user__last_name']}".strip()
            name = full or row["member__user__email"]
            connection = _Connection(row) if row["conn_state"] else None
            found.setdefault(row["appointment_id"], []).append(
                _copy_line(name, row["state"], row["last_error"], connection)
            )
        return found
