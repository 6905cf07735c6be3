"""Each staff member's Google connection, told to the book's member-status interface (team views)."""

from __future__ import annotations

from django.urls import reverse

from calendars.member_status import MemberStatus
from copilot.accounts.models import Practice

from .selectors import connection_states_for_practice


class GoogleConnectionStatus:
    """The book's ``MemberStatusProvider`` for Google: the Team page's batch selector, one per page."""

    def statuses(self, *, practice: Practice, member_ids: list[int]) -> dict[int, MemberStatus]:
        states = connection_states_for_practice(practice=practice)
        url = reverse("integrations:connections")
        found = {}
        for pk in member_ids:
            connection = states.get(pk)
            if connection is None:
                found[pk] = MemberStatus(
                    label="No Google", detail="No Google calendar connected", url=url, state="none"
                )
                continue
            detail = f"Google ({connection.email}): {connection.label}"
            if connection.last_error and connection.needs_attention:
                detail = f"{detail}. {connection.last_error}"
            found[pk] = MemberStatus(
                label=f"Google: {connection.label}",
                detail=detail,
                url=url,
                state=connection.state,
                needs_attention=connection.needs_attention,
            )
        return found
