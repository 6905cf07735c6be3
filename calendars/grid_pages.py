"""The week and team grids as a request asks for them: which dates, which page-cache key, which
fingerprint, and the stored page when it still holds (``page_cache``, ``fingerprint``).

The views stay thin: they resolve the person, ask here for the page, and draw it on a miss.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone

from copilot.accounts.models import Membership

from . import page_cache
from .fingerprint import Fingerprint, page_fingerprint, team_scope, week_scope
from .limits import navigation_date
from .timezones import day_bounds
from .week import week_start


def dates_shown(start_date: date, days: int, zone) -> tuple[date, date, datetime, datetime]:
    """``days`` local days from ``start_date``: the first and last, and their bounds [start, end)."""
    end_date = start_date + timedelta(days=days - 1)
    range_start, _ = day_bounds(start_date, zone)
    _, range_end = day_bounds(end_date, zone)
    return start_date, end_date, range_start, range_end


def week_range(day: date, span: str, zone) -> tuple[date, date, datetime, datetime]:
    """The week (or day) shown for ``day``."""
    return dates_shown(day, 1, zone) if span == "day" else dates_shown(week_start(day), 7, zone)


def team_range(day: date, span: str, zone) -> tuple[date, date, datetime, datetime]:
    """The team day (or week) shown for ``day``."""
    return week_range(day, "week" if span == "week" else "day", zone)


@dataclass
class GridPage:
    """A time-grid page as one request asks for it, seen by ``actor``: its key and fingerprint for the
    page cache, and what drawing it needs."""

    actor: Membership
    day: date
    span: str
    now: datetime
    key: tuple
    found: Fingerprint | None
    fingerprint: str | None
    staff_id: int | None = None

    def same_as(self, actor: Membership) -> bool:
        """Whether ``actor`` (read now) asks for the same fingerprint as the one this was made for."""
        return (actor.pk, actor.practice_id, actor.practice.time_zone) == (
            self.actor.pk,
            self.actor.practice_id,
            self.actor.practice.time_zone,
        )


def grid_page(request: HttpRequest, actor: Membership, kind: str) -> GridPage:
    """The week (``kind`` "week") or team page ``request`` asks ``actor`` to see: the parameters, one
    fingerprint query, and the key. Raises Http404 for a staff id that is not a number."""
    practice = actor.practice
    now = timezone.now()
    today = now.astimezone(practice.zone).date()
    day = navigation_date(request.GET.get("date")) or today
    staff_id = None
    if kind == "week":
        staff_id = member_id(request.GET["staff"]) if request.GET.get("staff") else actor.pk
        span = "day" if request.GET.get("span") == "day" else "week"
        start_date, end_date, range_start, range_end = week_range(day, span, practice.zone)
        scope = week_scope(
            practice_id=practice.pk, staff_id=staff_id, start=range_start, end=range_end, now=now
        )
    else:
        span = "week" if request.GET.get("span") == "week" else "day"
        start_date, end_date, range_start, range_end = team_range(day, span, practice.zone)
        scope = team_scope(practice_id=practice.pk, start=range_start, end=range_end, now=now)
    found = page_fingerprint(scope, user_id=request.user.pk, actor_id=actor.pk, staff_id=staff_id)
    key = (kind, actor.pk, staff_id, day, span, bool(request.htmx), page_cache.wanted_practice(request))
    fingerprint = None
    if found is not None:
        minute = now.replace(second=0, microsecond=0) if start_date <= today <= end_date else None
        fingerprint = f"{found.digest}:{page_cache.python_part(request, actor, today, minute)}"
    return GridPage(actor, day, span, now, key, found, fingerprint, staff_id)


def stored_or_attempt(request: HttpRequest, kind: str) -> tuple[HttpResponse | None, GridPage | None]:
    """The stored page, when the member this person was last seen as (this process remembers, for
    this practice choice) still sees it unchanged: no membership query. Otherwise None and that
    attempt (a fingerprint made for someone the request may no longer be)."""
    known = page_cache.known_actor(request)
    if known is None:
        return None, None
    try:
        attempt = grid_page(request, known, kind)
    except Http404:
        return None, None
    return page_cache.stored(request, attempt.key, attempt.fingerprint, known), attempt


def page_for(request: HttpRequest, actor: Membership, kind: str, attempt: GridPage | None) -> GridPage:
    """The page ``actor`` asks for: ``attempt`` (made for the member this person was last seen as)
    when that is still who they are, else a fingerprint read for ``actor``; either way ``actor`` is
    remembered as who this person is for their next request."""
    page_cache.remember_actor(request, actor)
    if attempt is not None and attempt.same_as(actor):
        return attempt
    return grid_page(request, actor, kind)


def member_id(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise Http404("No such staff member.") from exc


def draw(
    request: HttpRequest, template: str, context: dict, found: Fingerprint | None, csrf_token: str | None
) -> str:
    """``template`` drawn for ``request``; the top bar's counts come from the fingerprint's query."""
    if found is not None:
        context["inbox_unread_count"] = found.inbox_unread
        context["open_invitation_count"] = found.open_invitations
    if csrf_token is not None:
        context["csrf_token"] = csrf_token
    return render_to_string(template, context, request)
