"""Staff pickers that keep their size whatever the size of the practice.

The booking form's staff and assignee pickers and the list's staff filter offer at most
``PICKER_LIMIT`` people: everyone in a small practice (the form looks as it always did), else the
people whose name or address matches what was typed in the picker's search box, plus whoever is
already chosen. With JavaScript the box refreshes the picker as one types (htmx,
``views.staff_options``); without it, the form's "Find" button (a GET of the same form) does.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from copilot.accounts.models import Membership

PICKER_LIMIT = 20


def member_search(
    members: QuerySet[Membership], query: str = "", *, keep: Iterable = (), limit: int = PICKER_LIMIT
) -> tuple[list[Membership], bool]:
    """Up to ``limit`` of ``members`` matching ``query`` (name or email; all when empty), in the
    queryset's order, plus the members whose ids are in ``keep`` (the current choice).

    Returns (members, more): ``more`` when the practice has more people than the picker shows, so
    the caller offers a search box. One query, two when a kept member is not among the matches.
    """
    query = (query or "").strip()[:100]
    found = members
    if query:
        found = members.filter(
            Q(user__first_name__icontains=query)
            | Q(user__last_name__icontains=query)
            | Q(user__email__icontains=query)
        )
    shown = list(found[: limit + 1])
    more = bool(query) or len(shown) > limit
    shown = shown[:limit]
    wanted = {int(pk) for pk in keep if str(pk).isdigit()}
    missing = wanted - {member.pk for member in shown}
    if missing:
        shown += list(members.filter(pk__in=missing))
    return shown, more
