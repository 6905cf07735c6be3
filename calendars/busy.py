"""The book's busy-time interface: time that is taken outside the book itself.

The appointment book knows nothing of Google. Other apps register a ``BusySource``
(the integrations app feeds it from linked and conflict calendars); availability and
the booking rules ask every registered source, and only the database, at booking time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from copilot.accounts.models import Membership

BUSY = "Busy"


@dataclass(frozen=True)
class BusyInterval:
    """A span of time a staff member is not available, and where it comes from."""

    start: datetime
    end: datetime
    source: str  # the calendar's name, shown to people ("Personal")
    label: str = BUSY  # the event's title when its owner may see it, else "Busy"

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start < end and start < self.end


@dataclass(frozen=True)
class FreshnessWarning:
    """Said when busy time could not be confirmed live; the booking goes ahead."""

    message: str


Span = tuple[float, float]  # [start, end) in seconds since 1970, UTC


class BusySource(Protocol):
    def intervals(self, *, member: Membership, start: datetime, end: datetime) -> Iterable[BusyInterval]:
        """Busy intervals of ``member`` overlapping [start, end), from stored data only."""

    def spans(self, *, member: Membership, start: datetime, end: datetime) -> Iterable[Span]:
        """The same time as ``intervals``, as bare epoch-second spans (what availability needs, fast)."""

    # Optional: ``version_sql(*, scope: calendars.fingerprint.Scope) -> list[tuple[str, list]]``, SQL
    # subqueries whose answer changes whenever what ``intervals`` gives for the scope does (the week and
    # team pages' stored copies, calendars/page_cache.py). Without it those pages are always drawn.

    def ensure_fresh(self, *, member: Membership, start: datetime, end: datetime) -> FreshnessWarning | None:
        """Make stored busy time trustworthy for [start, end) before a booking, if it is stale.

        Returns a warning when that was not possible; never raises for remote failures.
        """


_sources: list[BusySource] = []


def register_busy_source(source: BusySource) -> None:
    if source not in _sources:
        _sources.append(source)


def busy_intervals(
    *, member: Membership, start: datetime, end: datetime, show_titles: bool = False
) -> list[BusyInterval]:
    """Every registered source's busy time for ``member`` in [start, end), sorted by start.

    Labels are "Busy" unless ``show_titles``: only the calendar's owner looking at their own
    week may see the titles of their events (``show_titles_to``); everyone else sees "Busy".
    """
    found: list[BusyInterval] = []
    for source in _sources:
        found.extend(source.intervals(member=member, start=start, end=end))
    if not show_titles:
        found = [replace(interval, label=BUSY) for interval in found]
    return sorted(found, key=lambda interval: (interval.start, interval.end))


def busy_intervals_for_members(
    *, members: Iterable[Membership], start: datetime, end: datetime, viewer: Membership
) -> dict[int, list[BusyInterval]]:
    """Busy time of many members at once (the team views): membership id → sorted intervals.

    A source with ``intervals_for_members(members=, start=, end=)`` answers for all of them in a
    constant number of queries; one without it is asked member by member. Titles show only to
    the calendar's owner (``show_titles_to``), "Busy" to everyone else.
    """
    members = list(members)
    found: dict[int, list[BusyInterval]] = {member.pk: [] for member in members}
    for source in _sources:
        batch = getattr(source, "intervals_for_members", None)
        if batch is not None:
            answers = batch(members=members, start=start, end=end)
        else:
            answers = {m.pk: source.intervals(member=m, start=start, end=end) for m in members}
        for pk, intervals in answers.items():
            if pk in found:
                found[pk].extend(intervals)
    by_pk = {member.pk: member for member in members}
    for pk, intervals in found.items():
        if not show_titles_to(viewer, by_pk[pk]):
            intervals = [replace(interval, label=BUSY) for interval in intervals]
        found[pk] = sorted(intervals, key=lambda interval: (interval.start, interval.end))
    return found


def show_titles_to(viewer: Membership, member: Membership) -> bool:
    """Whether ``viewer`` may see the titles of ``member``'s busy time: only when it is their own."""
    return viewer.user_id == member.user_id


def busy_spans(*, member: Membership, start: datetime, end: datetime) -> list[Span]:
    """Every registered source's busy time for ``member`` in [start, end) as epoch-second spans."""
    found: list[Span] = []
    for source in _sources:
        spans = getattr(source, "spans", None)
        if spans is not None:
            found.extend(spans(member=member, start=start, end=end))
        else:  # a source that only knows intervals
            found.extend(
                (i.start.timestamp(), i.end.timestamp())
                for i in source.intervals(member=member, start=start, end=end)
            )
    return found


def ensure_fresh(*, member: Membership, start: datetime, end: datetime) -> list[FreshnessWarning]:
    warnings = []
    for source in _sources:
        warning = source.ensure_fresh(member=member, start=start, end=end)
        if warning is not None:
            warnings.append(warning)
    return warnings
