"""Each staff member's Google connection, told to the member-status interface (Team page, team
views, the book's banner), in the words of ``integrations.words``."""

from __future__ import annotations

from django.urls import reverse

from calendars.fingerprint import Scope
from copilot.accounts.member_status import MemberStatus
from copilot.accounts.models import Practice

from .google.oauth import connect_url
from .selectors import connection_states_for_practice, connections_version_sql
from .words import NOT_CONNECTED, words_for


class GoogleConnectionStatus:
    """The ``MemberStatusProvider`` for Google: the batch selector, two queries per page."""

    def version_sql(self, *, scope: Scope) -> list[tuple[str, list]]:
        """The page fingerprint's part for connection states (``calendars.fingerprint``)."""
        return [connections_version_sql(scope=scope)]

    def statuses(self, *, practice: Practice, member_ids: list[int]) -> dict[int, MemberStatus]:
        states = connection_states_for_practice(practice=practice)
        url = reverse("integrations:connections")
        found = {}
        for pk in member_ids:
            connection = states.get(pk)
            if connection is None:
                words = words_for(NOT_CONNECTED)
                found[pk] = MemberStatus(
                    label="No Google",
                    detail=f"Google Calendar: {words.label.lower()}",
                    url=url,
                    state=NOT_CONNECTED,
                    yours=words.yours,
                    theirs=words.theirs,
                )
                continue
            words = words_for(connection.health)
            reconnect = connection.needs_attention and connection.state != "active"  # not a mere retry
            detail = f"Google ({connection.email}): {words.label}"
            if connection.last_error and connection.needs_attention:
                detail = f"{detail}. {connection.last_error}"
            found[pk] = MemberStatus(
                label=f"Google: {words.label}",
                detail=detail,
                url=url,
                state=connection.health,
                needs_attention=connection.needs_attention,
                yours=words.yours,
                theirs=words.theirs,
                fix_url=connect_url(login_hint=connection.email) if reconnect else "",
                fix_label="Reconnect" if reconnect else "",
            )
        return found
