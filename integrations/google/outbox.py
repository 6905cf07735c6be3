"""The Google outbox: what the book's change hook marks, and who is told to push it.

A practice's new privacy setting (``copilot.accounts.practice_hooks``) marks its upcoming
appointments' copies the same way.

A booking marks every calendar copy (``EventLink``) of the appointment as due inside its own
transaction; each owner's working connection gets a push enqueued on commit, the rest wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calendars.models import Appointment
from copilot.accounts.models import Membership, Practice

from .. import queue
from ..models import EventLink, GoogleCalendar, GoogleConnection

LinkState = EventLink.State
ConnState = GoogleConnection.State


def on_appointment_changed(appointment: Appointment) -> None:
    """Mark every calendar copy of ``appointment`` as needing a push (inside the booking transaction).

    Changes that came from Google are marked too: the push compares fingerprints, so the copy
    Google already shows costs no request, while the others (an assignee's copy, a title the
    practice hides) are written.
    """
    member_ids = {appointment.staff_id, *appointment.assignees.values_list("pk", flat=True)}
    existing = set(EventLink.objects.filter(appointment=appointment).values_list("member_id", flat=True))
    EventLink.objects.bulk_create(
        [EventLink(appointment=appointment, member_id=pk) for pk in member_ids - existing],
        ignore_conflicts=True,
    )
    EventLink.objects.filter(appointment=appointment).update(
        needs_push=True, state=LinkState.PENDING, last_error=""
    )
    user_ids = set(
        Membership.objects.filter(event_links__appointment=appointment).values_list("user_id", flat=True)
    )
    route_to_connections(user_ids)


def on_practice_display_changed(practice: Practice) -> None:
    """Mark every upcoming appointment's calendar copies of ``practice`` for a push (its privacy
    setting changed: the events must show the new title). Inside the setting's transaction."""
    links = EventLink.objects.filter(appointment__practice=practice, appointment__end__gte=timezone.now())
    user_ids = set(links.values_list("member__user_id", flat=True))
    links.update(needs_push=True, state=LinkState.PENDING, last_error="")
    route_to_connections(user_ids)


def route_to_connections(user_ids: set[int]) -> None:
    """Enqueue a push for each user's working connection; mark the rest as waiting."""
    ready = dict(
        GoogleCalendar.objects.filter(
            user_id__in=user_ids, is_linked=True, connection__state=ConnState.ACTIVE
        ).values_list("user_id", "connection_id")
    )
    waiting = user_ids - set(ready)
    if waiting:
        EventLink.objects.filter(member__user_id__in=waiting, needs_push=True).update(state=LinkState.WAITING)
    for connection_id in set(ready.values()):
        queue.enqueue_push(connection_id)


DRAIN_SPREAD_SECONDS = 45  # a run's pushes leave over this long: done before the next minute's run
# Retries are rare when Google answers (none in a small deployment's steady state), so even a few
# are paced: at 10,000 connections 20 retries at once are half a second's worth of polls again.
DRAIN_PACE_AT_LEAST = 10


def drain_outboxes(*, pace: bool = False, sleep: Callable[[float], object] = time.sleep) -> int:
    """Enqueue a push for every active connection with due links whose backoff has passed.

    These are retries (a push is enqueued when its booking commits): after a Google incident
    they are every connection that booked meanwhile. With ``pace`` (the every-minute schedule)
    they leave evenly over ``DRAIN_SPREAD_SECONDS``, not in one burst (from
    ``DRAIN_PACE_AT_LEAST`` on).
    """
    now = timezone.now()
    ids = sorted(
        set(
            GoogleConnection.objects.filter(state=ConnState.ACTIVE)
            .filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
            .filter(user__memberships__event_links__needs_push=True)
            .values_list("pk", flat=True)
        )
    )
    start, gap = now.timestamp(), DRAIN_SPREAD_SECONDS / max(1, len(ids))
    sends = [(start + n * gap if pace else 0.0, partial(queue.send_push, pk)) for n, pk in enumerate(ids)]
    return queue.send_paced(sends, sleep=sleep, at_least=DRAIN_PACE_AT_LEAST)


def retry_failed(link_ids: list[int]) -> int:
    """Put failed links back in the outbox (Django admin action)."""
    links = EventLink.objects.filter(pk__in=link_ids, state=LinkState.FAILED)
    user_ids = set(links.values_list("member__user_id", flat=True))
    count = links.update(needs_push=True, state=LinkState.PENDING, last_error="")
    with transaction.atomic():
        route_to_connections(user_ids)
    return count
