"""The week grid as data: days as columns, appointments and busy time as positioned blocks.

Pure: no ORM, no requests. Everything is placed by the practice's *wall clock*, so a
09:00 appointment is drawn at 09:00 on both sides of a daylight-saving change, and a
23- or 25-hour day keeps the same rows as any other (the skipped hour is drawn as a gap,
the repeated hour shares its rows).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.functional import cached_property  # no lock, unlike functools' in Python 3.11

DAY_MINUTES = 24 * 60
DEFAULT_SPAN = (7, 20)  # hours drawn at least, widened to working hours and appointments
SHORT_TILE_MINUTES = 30  # a tile this short has room for one line of title
UTC = ZoneInfo("UTC")


@dataclass
class Block:
    """Something drawn in a day column, ``top``/``height`` in minutes below the grid's first hour."""

    top: int
    height: int
    start: datetime  # local, clipped to the day
    end: datetime  # local, clipped to the day
    item: Any  # the appointment or busy interval drawn
    lane: int = 0
    lanes: int = 1
    continues_before: bool = False
    continues_after: bool = False

    @cached_property
    def time_label(self) -> str:
        start, end = self.start, self.end
        return f"{start.hour:02d}:{start.minute:02d}–{end.hour:02d}:{end.minute:02d}"

    @property
    def is_short(self) -> bool:
        return self.height <= SHORT_TILE_MINUTES

    @cached_property
    def tile_title(self) -> str:
        """The title as a tile shows it: short tiles put the patient first ("Name · Type")."""
        return tile_title(str(getattr(self.item, "title", "")), short=self.is_short)


def tile_title(title: str, *, short: bool) -> str:
    """``title`` for a tile. A short tile shows one line, so "Treatment plan: Ana Ruiz" becomes
    "Ana Ruiz · Treatment plan": the patient's name is what the front desk scans for."""
    kind, sep, name = title.partition(": ")
    if short and sep and kind.strip() and name.strip():
        return f"{name.strip()} · {kind.strip()}"
    return title


@dataclass(frozen=True)
class Band:
    """A stretch of working (bookable) time in a day column."""

    top: int
    height: int


@dataclass(frozen=True)
class Slot:
    """An empty-slot target: clicking it books from ``time``. ``exists`` is False in a DST gap."""

    top: int
    height: int
    time: time
    exists: bool

    @cached_property
    def label(self) -> str:  # read several times per slot while drawing it
        return f"{self.time.hour:02d}:{self.time.minute:02d}"


@dataclass
class DayColumn:
    date: date
    is_today: bool
    hours_long: int  # 23, 24 or 25
    working: list[Band] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    busy: list[Block] = field(default_factory=list)
    appointments: list[Block] = field(default_factory=list)
    is_past: bool = False  # the whole day is over (dimmed)
    past_minutes: int = 0  # today: how much of the drawn span is over (dimmed from the top)
    now_top: int | None = None  # today: where the "now" line goes, None when outside the span

    @property
    def clock_change(self) -> str:
        if self.hours_long < 24:
            return "Clocks go forward"
        if self.hours_long > 24:
            return "Clocks go back"
        return ""


@dataclass
class WeekGrid:
    start_date: date
    days: list[DayColumn]
    first_hour: int
    last_hour: int
    zone: ZoneInfo

    @property
    def total_minutes(self) -> int:
        return (self.last_hour - self.first_hour) * 60

    @property
    def hours(self) -> list[tuple[int, str]]:
        """(top in minutes, label) for each hour line."""
        return [((h - self.first_hour) * 60, f"{h:02d}:00") for h in range(self.first_hour, self.last_hour)]

    @property
    def end_date(self) -> date:
        return self.start_date + timedelta(days=len(self.days) - 1)


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(day, time.min, tzinfo=zone),
        datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone),
    )


def _wall_exists(day: date, at: time, zone: ZoneInfo) -> bool:
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive


def _segment(start: datetime, end: datetime, day: date, zone: ZoneInfo):
    """The part of [start, end) on local ``day`` as (local start, local end, wall minutes from, to)."""
    # Compare and subtract in UTC: Python does wall-clock arithmetic within one zone.
    day_start, day_end = (bound.astimezone(UTC) for bound in _day_bounds(day, zone))
    return _segment_utc(start.astimezone(UTC), end.astimezone(UTC), day_start, day_end, zone)


def _segment_utc(start: datetime, end: datetime, day_start: datetime, day_end: datetime, zone: ZoneInfo):
    """``_segment`` with every bound already in UTC (the day's bounds computed once per day)."""
    seg_start, seg_end = max(start, day_start), min(end, day_end)
    if seg_start >= seg_end:
        return None
    local_start, local_end = seg_start.astimezone(zone), seg_end.astimezone(zone)
    from_minute = _minutes(local_start.time())
    to_minute = DAY_MINUTES if seg_end == day_end else _minutes(local_end.time())
    if to_minute <= from_minute:  # inside the repeated hour when clocks go back
        to_minute = from_minute + int((seg_end - seg_start).total_seconds() // 60)
    return local_start, local_end, from_minute, to_minute, seg_start > start, seg_end < end


def _assign_lanes(blocks: list[Block]) -> None:
    """Side by side when blocks overlap (a flagged conflict): each cluster shares its width."""
    blocks.sort(key=lambda b: (b.top, -b.height))
    cluster: list[Block] = []
    lane_ends: list[int] = []
    cluster_end = -1

    def close() -> None:
        for member in cluster:
            member.lanes = len(lane_ends)

    for block in blocks:
        if cluster and block.top >= cluster_end:
            close()
            cluster, lane_ends = [], []
        for index, lane_end in enumerate(lane_ends):
            if lane_end <= block.top:
                block.lane, lane_ends[index] = index, block.top + block.height
                break
        else:
            block.lane = len(lane_ends)
            lane_ends.append(block.top + block.height)
        cluster.append(block)
        cluster_end = max(cluster_end, block.top + block.height)
    if cluster:
        close()


def span_of(
    appointments: Sequence[Any],
    working_hours: Mapping[int, Sequence[tuple[time, time]]],
    days: list[date],
    zone: ZoneInfo,
    default_span: tuple[int, int],
) -> tuple[int, int]:
    """Hours to draw: the default, widened to every working interval and appointment shown."""
    return _span_of(_by_day(appointments, days, zone), working_hours, days, default_span)


def _span_of(
    segments: Mapping[date, list[tuple]],
    working_hours: Mapping[int, Sequence[tuple[time, time]]],
    days: list[date],
    default_span: tuple[int, int],
) -> tuple[int, int]:
    """``span_of`` from appointments already cut into days (``_by_day``)."""
    first, last = default_span
    for day in days:
        for start, end in working_hours.get(day.weekday(), ()):
            first = min(first, start.hour)
            last = max(last, end.hour + (1 if end.minute else 0))
        for _, segment in segments.get(day, ()):
            first = min(first, segment[2] // 60)
            last = max(last, -(-segment[3] // 60))
    return max(first, 0), min(last, 24)


def _by_day(items: Iterable[Any], days: list[date], zone: ZoneInfo) -> dict[date, list[tuple]]:
    """Each item cut into the local days it touches, once: {day: [(item, segment), ...]}.

    Only the days an item spans are tested (usually one), not every day shown.
    """
    found: dict[date, list[tuple]] = {}
    if not days:
        return found
    bounds = {day: tuple(bound.astimezone(UTC) for bound in _day_bounds(day, zone)) for day in days}
    for item in items:
        start, end = item.start.astimezone(UTC), item.end.astimezone(UTC)
        day = max(start.astimezone(zone).date(), days[0])
        last = min(end.astimezone(zone).date(), days[-1])
        while day <= last:
            segment = _segment_utc(start, end, *bounds[day], zone)
            if segment is not None:
                found.setdefault(day, []).append((item, segment))
            day += timedelta(days=1)
    return found


def _clip(from_minute: int, to_minute: int, first_hour: int, last_hour: int) -> tuple[int, int] | None:
    top = max(from_minute, first_hour * 60) - first_hour * 60
    bottom = min(to_minute, last_hour * 60) - first_hour * 60
    return (top, bottom - top) if bottom > top else None


def build_week(
    *,
    appointments: Iterable[Any],
    busy: Iterable[Any],
    working_hours: Mapping[int, Sequence[tuple[time, time]]],
    start_date: date,
    zone: ZoneInfo,
    days: int = 7,
    today: date | None = None,
    default_span: tuple[int, int] = DEFAULT_SPAN,
    slot_minutes: int = 30,
    now: datetime | None = None,
) -> WeekGrid:
    """Lay out ``days`` local days from ``start_date`` as columns.

    ``appointments`` need ``start``/``end`` (aware); ``busy`` items too (``BusyInterval``).
    ``working_hours`` maps weekday (Monday 0) to local (start, end) times; empty means the
    member is not restricted, so every day is drawn bookable. Blocks keep the
    original object in ``item`` for the template. With ``now`` (aware), days before it are
    marked past, and today's column says how much is over and where the "now" line goes.
    Returns a ``WeekGrid``.
    """
    dates = [start_date + timedelta(days=offset) for offset in range(days)]
    appointments_by_day = _by_day(appointments, dates, zone)
    busy_by_day = _by_day(busy, dates, zone)
    first_hour, last_hour = _span_of(appointments_by_day, working_hours, dates, default_span)
    slot_times = [
        (minute - first_hour * 60, time(minute // 60, minute % 60))
        for minute in range(first_hour * 60, last_hour * 60, slot_minutes)
    ]
    columns = []
    for day in dates:
        day_start, day_end = _day_bounds(day, zone)
        column = DayColumn(
            date=day,
            is_today=day == today,
            hours_long=round((day_end.astimezone(UTC) - day_start.astimezone(UTC)).total_seconds() / 3600),
        )
        if not working_hours:  # no working week set: the booking rules do not restrict this member
            column.working.append(Band(0, (last_hour - first_hour) * 60))
        for start, end in working_hours.get(day.weekday(), ()):
            clipped = _clip(_minutes(start), _minutes(end), first_hour, last_hour)
            if clipped:
                column.working.append(Band(*clipped))
        regular = column.hours_long == 24  # every wall time exists: no need to ask the zone per slot
        column.slots = [
            Slot(top, slot_minutes, at, regular or _wall_exists(day, at, zone)) for top, at in slot_times
        ]
        for target, segments in (
            (column.busy, busy_by_day.get(day, ())),
            (column.appointments, appointments_by_day.get(day, ())),
        ):
            for item, (local_start, local_end, from_minute, to_minute, before, after) in segments:
                clipped = _clip(from_minute, to_minute, first_hour, last_hour)
                if clipped:
                    target.append(
                        Block(
                            *clipped,
                            local_start,
                            local_end,
                            item,
                            continues_before=before,
                            continues_after=after,
                        )
                    )
        _assign_lanes(column.appointments)
        if now is not None:
            _mark_past(column, now.astimezone(zone), first_hour, last_hour)
        columns.append(column)
    return WeekGrid(
        start_date=start_date, days=columns, first_hour=first_hour, last_hour=last_hour, zone=zone
    )


def _mark_past(column: DayColumn, now: datetime, first_hour: int, last_hour: int) -> None:
    """Dim what is over: whole days before ``now``, and today up to the "now" line."""
    if column.date < now.date():
        column.is_past = True
    elif column.date == now.date():
        minute = _minutes(now.time()) - first_hour * 60
        span = (last_hour - first_hour) * 60
        column.past_minutes = min(max(minute, 0), span)
        if 0 <= minute <= span:
            column.now_top = minute


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())
