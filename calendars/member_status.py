"""The book's member-status interface: what other apps know about a staff member, at a glance.

The team views show each person's calendar connection at the head of their column. The book knows
nothing of Google: the integrations app registers a ``MemberStatusProvider`` here, and the book asks
every provider once per page for all the members shown (one query per provider, never one per person).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from copilot.accounts.models import Membership, Practice


@dataclass(frozen=True)
class MemberStatus:
    """One thing to say about a member: a short label, a longer title, where to fix it."""

    label: str  # "Google: Active"
    detail: str  # shown on hover and read by screen readers
    url: str  # where the member (or an admin) deals with it
    state: str  # the provider's own state name, for styling ("active", "needs_reconnect", ...)
    needs_attention: bool = False


class MemberStatusProvider(Protocol):
    def statuses(self, *, practice: Practice, member_ids: list[int]) -> dict[int, MemberStatus]:
        """Membership id → status for those of ``member_ids`` the provider knows, in one query."""


_providers: list[MemberStatusProvider] = []


def register_member_status_provider(provider: MemberStatusProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def member_statuses(*, practice: Practice, members: Iterable[Membership]) -> dict[int, list[MemberStatus]]:
    """Membership id → every registered provider's status of that member (an empty list if none)."""
    ids = [member.pk for member in members]
    found: dict[int, list[MemberStatus]] = {pk: [] for pk in ids}
    if not ids:
        return found
    for provider in _providers:
        for pk, status in provider.statuses(practice=practice, member_ids=ids).items():
            if pk in found:
                found[pk].append(status)
    return found
