"""The member-status interface: what other apps know about a staff member, at a glance.

The Team page, the team views' column heads and the book's connection banner show each person's
calendar connection. Neither accounts nor the book knows Google: the integrations app registers a
``MemberStatusProvider`` here (with memberships, the lowest layer both pages build on), and a page
asks every provider once for all the members it shows (one query per provider, never one per person).
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
    # What to do, in words: said to the member themself (``yours``), or to anyone else (``theirs``:
    # "Bob should reconnect Google Calendar"). Shown by the banner when ``needs_attention``.
    yours: str = ""
    theirs: str = ""
    fix_url: str = ""  # where the member themself fixes it with a POST (Reconnect); "" if none
    fix_label: str = ""  # the button's words ("Reconnect")


class MemberStatusProvider(Protocol):
    def statuses(self, *, practice: Practice, member_ids: list[int]) -> dict[int, MemberStatus]:
        """Membership id → status for those of ``member_ids`` the provider knows, in one query."""

    # Optional: ``version_sql(*, scope) -> list[tuple[str, list]]`` (``scope``: the book's
    # ``calendars.fingerprint.Scope``), SQL subqueries whose answer changes whenever these statuses
    # do (the week and team pages' stored copies). Without it those pages are always drawn.


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
