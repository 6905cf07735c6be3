"""Writing every upcoming appointment into a (new) linked calendar: mark, adopt, then move or copy.

Runs after connecting and after a person switches their linked calendar. Events of ours already
in the calendar are adopted before anything is written, so nothing is duplicated.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from calendars.selectors import upcoming_appointments_of_members
from copilot.accounts.models import Membership

from .. import services
from ..models import EventLink, GoogleConnection
from . import client, mapping
from .push import LeaseKeeper, claim, due_links, push_round

LinkState = EventLink.State


def mark_upcoming(connection: GoogleConnection) -> int:
    """Make sure every upcoming appointment of the user within the horizon has a link; mark them all.

    Upcoming: ending from now on and starting before ``GOOGLE_SYNC_HORIZON_DAYS`` from now (what
    the pull reads too). Later ones reach Google when they are next changed.
    """
    now = timezone.now()
    horizon = now + timedelta(days=settings.GOOGLE_SYNC_HORIZON_DAYS)
    member_ids = list(Membership.objects.filter(user_id=connection.user_id).values_list("pk", flat=True))
    pairs = upcoming_appointments_of_members(member_ids=member_ids, since=now, until=horizon)
    EventLink.objects.bulk_create(
        (EventLink(appointment_id=a, member_id=m) for a, m in pairs), ignore_conflicts=True, batch_size=500
    )
    return EventLink.objects.filter(
        member_id__in=member_ids, appointment__end__gte=now, appointment__start__lt=horizon
    ).update(needs_push=True, state=LinkState.PENDING)


def adopt_tagged(connection: GoogleConnection, session: client.GoogleSession) -> int:
    """Find our events already in the linked calendar (reconnect, new account, restored DB) and link them."""
    target = connection.calendars.filter(is_linked=True).first()
    if target is None:
        return 0
    events = session.find_tagged_events(target.calendar_id, {mapping.TAG_APP: "1"})
    by_key = {}
    for event in events:
        tags = mapping.our_tags(event)
        if tags and tags.get(mapping.TAG_MEMBER):
            by_key[(tags[mapping.TAG_APPOINTMENT], tags[mapping.TAG_MEMBER])] = event
    adopted = 0
    unlinked = due_links(connection).filter(Q(event_id="") | ~Q(calendar__connection=connection))
    for link in unlinked.select_related("calendar"):
        event = by_key.get((str(link.appointment_id), str(link.member_id)))
        if event is None:
            continue
        link.event_id, link.etag, link.calendar = event["id"], event.get("etag", ""), target
        link.pushed_hash = mapping.fingerprint(event)
        link.save(update_fields=["event_id", "etag", "calendar", "pushed_hash"])
        adopted += 1
    return adopted


def resync_linked_calendar(connection_id: int) -> dict:
    """Write every upcoming appointment into the linked calendar: adopt, move, or insert — in batches.

    Each link records the calendar its event is in, so a switch of linked calendar needs no
    other memory of the old one. Everything due is pushed in this one run, ``ROUND_SIZE`` links
    at a time (memory stays bounded), under a lease renewed while it runs. Returns counts.
    """
    counts: Counter = Counter()
    connection = claim(connection_id)
    if connection is None:
        return {"skipped_busy": 1}
    with LeaseKeeper(connection):
        if connection.state != GoogleConnection.State.ACTIVE:
            return {"waiting": 1}
        counts["marked"] = mark_upcoming(connection)
        try:
            counts["adopted"] = adopt_tagged(connection, services.open_session(connection))
        except client.GoogleError as error:
            services.connection_record_failure(connection=connection, error=error)
            return dict(counts)
        # Round after round (ROUND_SIZE links each: bounded memory) until nothing is due, Google
        # stops us (backoff, reconnect) or a round finishes nothing.
        while push_round(connection, counts, relocate=True) and due_links(connection).exists():
            counts["rounds"] += 1
    return dict(counts)
