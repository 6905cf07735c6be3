"""The book's sync-status interface: where each appointment's copies in other calendars stand.

The book knows nothing of Google: the integrations app registers a ``SyncStatusProvider`` here, and a
page asks every provider once for all the appointments it shows (one query per provider, never one
per appointment). ``badge`` sums an appointment up for a tile or a list row: conflict, failed,
waiting or synced.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from .models import Appointment

# Badge states, worst first: the badge of an appointment is its worst copy's.
CONFLICT, FAILED, WAITING, SYNCED = "conflict", "failed", "waiting", "synced"
UNCONNECTED = "unconnected"  # a copy for someone with no calendar connected: said on the page, no badge
SEVERITY = [CONFLICT, FAILED, WAITING, SYNCED]
BADGE_LABELS = {CONFLICT: "Conflict", FAILED: "Sync failed", WAITING: "Waiting", SYNCED: "Synced"}


@dataclass(frozen=True)
class SyncStatus:
    """One copy of an appointment elsewhere (a staff member's Google calendar)."""

    state: str  # FAILED, WAITING, SYNCED or UNCONNECTED
    text: str  # the whole line for the appointment's page: "Google (Bob): Synced"


@dataclass(frozen=True)
class Badge:
    state: str
    label: str
    detail: str  # every copy's line, for the tooltip and screen readers


class SyncStatusProvider(Protocol):
    def statuses(self, *, appointment_ids: list[int]) -> dict[int, list[SyncStatus]]:
        """Appointment id → its copies' statuses, for every id the provider knows, in one query."""

    # Optional: ``version_sql(*, scope: calendars.fingerprint.Scope) -> list[tuple[str, list]]``, SQL
    # subqueries whose answer changes whenever the statuses of the appointments in the scope do (the
    # week and team pages' stored copies). Without it those pages are always drawn.


_providers: list[SyncStatusProvider] = []


def register_sync_status_provider(provider: SyncStatusProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def sync_statuses(appointment_ids: Iterable[int]) -> dict[int, list[SyncStatus]]:
    """Appointment id → every registered provider's statuses (an empty list if none)."""
    found: dict[int, list[SyncStatus]] = {pk: [] for pk in appointment_ids}
    if not found:
        return found
    for provider in _providers:
        for pk, statuses in provider.statuses(appointment_ids=list(found)).items():
            if pk in found:
                found[pk].extend(statuses)
    return found


def badge(appointment: Appointment, statuses: list[SyncStatus]) -> Badge | None:
    """The appointment's worst state, or None when there is nothing to say (no copies, no conflict)."""
    states = {s.state for s in statuses} & set(SEVERITY)
    if appointment.has_conflict:
        states.add(CONFLICT)
    if not states:
        return None
    worst = next(state for state in SEVERITY if state in states)
    lines = [s.text for s in statuses if s.state in SEVERITY]
    if appointment.has_conflict:
        lines.insert(0, "Conflict: moved outside the portal onto time that is taken")
    return Badge(state=worst, label=BADGE_LABELS[worst], detail="; ".join(lines))


def attach_badges(appointments: Iterable[Appointment]) -> list[Appointment]:
    """Give each appointment ``sync_badge`` (``badge``) and ``sync_lines`` (every copy's line), for
    all of them in one query per provider."""
    appointments = list(appointments)
    statuses = sync_statuses(a.pk for a in appointments)
    for appointment in appointments:
        appointment.sync_badge = badge(appointment, statuses[appointment.pk])
        appointment.sync_lines = [status.text for status in statuses[appointment.pk]]
    return appointments
