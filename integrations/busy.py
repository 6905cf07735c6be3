"""Busy time from Google calendars, fed to the appointment book's busy-time interface.

``intervals`` reads only the database (the pull keeps it current). ``ensure_fresh`` asks Google
once, live, when the stored data of a staff member's connection is stale, and never blocks a
booking because Google could not answer.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from calendars.busy import BUSY, BusyInterval, FreshnessWarning
from calendars.expressions import EpochSeconds
from calendars.fingerprint import Scope
from calendars.selectors import member_appointment_times, subtract
from copilot.accounts.models import Membership

from . import services
from .google import client
from .models import BusyBlock, GoogleCalendar, GoogleConnection
from .selectors import calendars_version_sql

logger = logging.getLogger(__name__)
SPANS_CACHE_SECONDS = 300
Span = tuple[datetime, datetime]


class GoogleBusySource:
    """The book's ``BusySource`` for Google: linked and conflict calendars of a staff member's user."""

    @staticmethod
    def _calendars(member: Membership) -> list[tuple[int, int]]:
        """(pk, busy_version) of the member's selected calendars of live connections (a handful of rows)."""
        return list(
            GoogleCalendar.objects.filter(user_id=member.user_id)
            .filter(Q(is_linked=True) | Q(is_conflict=True))
            .exclude(connection__state=GoogleConnection.State.UNLINKED)
            .values_list("pk", "busy_version")
            .order_by("pk")
        )

    @classmethod
    def _calendar_ids(cls, member: Membership) -> list[int]:
        return [pk for pk, _ in cls._calendars(member)]

    @staticmethod
    def _blocks(member: Membership, calendar_ids: list[int], start: datetime, end: datetime):
        """Blocks of those calendars overlapping [start, end): index range scans, no join, no full scan."""
        return (
            BusyBlock.overlapping(calendar_ids, start, end)
            .exclude(practice_tag=str(member.practice_id))
            .order_by()
        )

    def intervals(self, *, member: Membership, start: datetime, end: datetime) -> list[BusyInterval]:
        """Stored busy time overlapping [start, end), in two small indexed queries.

        Blocks that stand for this practice's own appointments (``practice_tag``) are left out:
        the book already knows them. Blocks of any other practice's appointments are labelled
        "Busy": their titles are that practice's patients. Other labels are the event's title,
        which the book shows only to the calendar's owner (``calendars.busy.show_titles_to``).
        """
        rows = self._blocks(member, self._calendar_ids(member), start, end).values_list(
            "start", "end", "summary", "is_private", "practice_tag", "calendar__summary"
        )
        return [
            BusyInterval(
                start=block_start,
                end=block_end,
                source=calendar_name or "Google Calendar",
                label=BUSY if private or tag or not summary else summary,
            )
            for block_start, block_end, summary, private, tag, calendar_name in rows
        ]

    def intervals_for_members(
        self, *, members: list[Membership], start: datetime, end: datetime
    ) -> dict[int, list[BusyInterval]]:
        """``intervals`` of many members (the team views) in two queries, whatever their number."""
        by_user: dict[int, list[Membership]] = {}
        for member in members:
            by_user.setdefault(member.user_id, []).append(member)
        calendars = dict(
            GoogleCalendar.objects.filter(user_id__in=by_user)
            .filter(Q(is_linked=True) | Q(is_conflict=True))
            .exclude(connection__state=GoogleConnection.State.UNLINKED)
            .values_list("pk", "user_id")
        )
        found: dict[int, list[BusyInterval]] = {member.pk: [] for member in members}
        if not calendars:
            return found
        rows = (
            BusyBlock.overlapping(list(calendars), start, end)
            .order_by()
            .values_list(
                "calendar_id", "start", "end", "summary", "is_private", "practice_tag", "calendar__summary"
            )
        )
        for calendar_id, block_start, block_end, summary, private, tag, calendar_name in rows:
            for member in by_user[calendars[calendar_id]]:
                if tag == str(member.practice_id):
                    continue  # this practice's own appointment: the book already shows it
                found[member.pk].append(
                    BusyInterval(
                        start=block_start,
                        end=block_end,
                        source=calendar_name or "Google Calendar",
                        label=BUSY if private or tag or not summary else summary,
                    )
                )
        return found

    def spans(self, *, member: Membership, start: datetime, end: datetime) -> list[tuple[float, float]]:
        """``intervals`` as epoch-second spans (availability's fast path), cached until blocks change.

        Busy time changes when Google does; availability is read on every page and booking. The
        cache is the shared one (every web and worker process sees one entry), and its key carries
        the selected calendars with their ``busy_version``, which every write of their blocks bumps
        in the same transaction: checking validity reads a handful of calendar rows, never the blocks.
        """
        calendars = self._calendars(member)
        if not calendars:
            return []  # no Google calendar: nothing to read or cache
        key = "busy-spans:{}:{}:{}:{}:{}".format(
            member.practice_id,
            member.user_id,
            ",".join(f"{pk}v{version}" for pk, version in calendars),
            start.timestamp(),
            end.timestamp(),
        )
        spans = cache.get(key)
        if spans is None:
            blocks = self._blocks(member, [pk for pk, _ in calendars], start, end)
            spans = list(blocks.values_list(EpochSeconds("start"), EpochSeconds("end")))
            cache.set(key, spans, timeout=SPANS_CACHE_SECONDS)
        return spans

    def version_sql(self, *, scope: Scope) -> list[tuple[str, list]]:
        """The page fingerprint's part for busy time (``calendars.fingerprint``): the calendars read."""
        return [calendars_version_sql(scope=scope)]

    def ensure_fresh(self, *, member: Membership, start: datetime, end: datetime) -> FreshnessWarning | None:
        """When a connection's data is older than ``GOOGLE_STALE_MINUTES``, ask Google's freeBusy live.

        One request per stale connection, for its selected calendars over [start, end); what it
        finds is stored so ``intervals`` sees it. Fresh data costs no request. Returns a warning
        (and lets the booking go ahead) when Google cannot answer.
        """
        stale_before = timezone.now() - timedelta(minutes=settings.GOOGLE_STALE_MINUTES)
        connections = (
            GoogleConnection.objects.filter(user_id=member.user_id)
            .exclude(state=GoogleConnection.State.UNLINKED)
            .filter(Q(last_sync_at__isnull=True) | Q(last_sync_at__lt=stale_before))
        )
        for connection in connections:
            calendars = list(connection.calendars.filter(Q(is_linked=True) | Q(is_conflict=True)))
            if not calendars:
                continue
            if not self._check_live(connection, calendars, member, start, end):
                return FreshnessWarning(
                    f"Could not check {connection.google_email}'s Google calendars just now; "
                    "booked without that check."
                )
        return None

    def _check_live(
        self,
        connection: GoogleConnection,
        calendars: list[GoogleCalendar],
        member: Membership,
        start: datetime,
        end: datetime,
    ) -> bool:
        """Store live free/busy of ``calendars``; False when Google could not be asked or failed."""
        if not connection.can_call_google or services.connection_is_backing_off(connection):
            return False
        try:
            answer = services.open_session(connection).free_busy(
                [c.calendar_id for c in calendars], start, end
            )
        except client.GoogleError as error:
            logger.info("Live free/busy check of connection %s failed: %s", connection.pk, error)
            return False
        # This practice's appointments of the member: free/busy shows them too, but they are not busy *time*.
        own = member_appointment_times(member=member, start=start, end=end)
        with transaction.atomic():
            for calendar in calendars:
                spans = answer.get(calendar.calendar_id)
                if isinstance(spans, client.GoogleError) or not spans:
                    continue
                _store_new_busy(calendar, spans, own, start, end)
        return True


def _store_new_busy(
    calendar: GoogleCalendar, spans: list[Span], own: list[Span], start: datetime, end: datetime
) -> None:
    known = list(BusyBlock.overlapping([calendar.pk], start, end).values_list("start", "end"))
    clipped = sorted((max(s, start), min(e, end)) for s, e in spans)
    fresh = [(s, e) for s, e in subtract(clipped, sorted(known + own)) if e > s]
    if fresh:
        BusyBlock.objects.bulk_create(
            [BusyBlock(calendar=calendar, event_id="", start=s, end=e) for s, e in fresh]
        )
        BusyBlock.mark_changed(calendar.pk, has_busy_snapshots=True)
