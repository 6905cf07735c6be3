"""Google → Copilot: pull each selected calendar's changes.

``events.list`` with a sync token, page by page: our own events go to ``conflicts`` (which changes
the book through its services), everything else becomes ``BusyBlock`` rows. Free/busy-only
calendars are read with ``freeBusy``. Polling and the daily reconcile (a full pull in each
connection's own poll once a day) are scheduled here.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, F, Max, Q, TextField, Value, When
from django.utils import timezone

from calendars.selectors import practice_ids_of_appointments
from copilot.accounts.models import Membership

from .. import queue, services
from ..models import BusyBlock, EventLink, GoogleCalendar, GoogleConnection
from . import client, conflicts
from .channels import ensure_channel, live_channel_expiry, renew_channel_when_due, stop_channels_for
from .events import (
    MalformedEvent,
    appointment_id_of,
    blocks_time,
    calendar_zone,
    clean_text,
    event_bounds,
    event_id_of,
    tags_of,
    visible_summary,
)

logger = logging.getLogger(__name__)
ConnState = GoogleConnection.State

PAGE_SIZE = 1000
OUR_EVENT_ID = re.compile(r"cc[0-9a-v]{1,1022}")  # mapping.event_id_for: "cc" + base32hex
WRITE_CHUNK = 500  # ids per IN (...) clause: SQLite allows 999 parameters
ERRORS_FOR_THE_CONNECTION = (client.Retryable, client.NeedsReconnect, client.MissingPermission)


def sync_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The stretch of time we keep busy time for: lookback days behind, horizon days ahead."""
    now = now or timezone.now()
    return (
        now - timedelta(days=settings.GOOGLE_SYNC_LOOKBACK_DAYS),
        now + timedelta(days=settings.GOOGLE_SYNC_HORIZON_DAYS),
    )


# --- One page of events.list ------------------------------------------------------------------------


def process_page(
    calendar: GoogleCalendar, items: Iterable[object], *, now: datetime | None = None
) -> Counter:
    """Apply one page of ``events.list`` items for ``calendar`` to the database.

    Busy time is replaced per event id (delete + insert in one transaction, so nothing is ever
    duplicated); our own events go to ``conflicts.apply_our_event``. Malformed events are logged and skipped;
    this function does not raise for anything Google (or a fuzzer) sends. Returns counts.
    """
    counts: Counter = Counter()
    low, high = sync_window(now)
    zone = calendar_zone(calendar)
    touched: list[str] = []  # event ids whose blocks are replaced
    removed_series: list[str] = []  # cancelled ids: their expanded instances go too
    blocks: list[tuple[BusyBlock, int | None]] = []  # (block, appointment id it stands for)
    ours: list[tuple[str, dict]] = []  # (event id, event) to hand to conflicts.apply_our_event
    items = list(items)
    invitations = _invitations_to_our_events(calendar, items)
    for event in items:
        try:
            event_id = event_id_of(event)
            if event.get("status") == "cancelled":
                touched.append(event_id)
                if "_" not in event_id:  # a series (instance ids carry "_<start>")
                    removed_series.append(event_id)
                ours.append((event_id, event))  # tombstones carry no tags: matched by event id
                counts["deleted"] += 1
                continue
            tags = tags_of(event)
            if tags is not None:
                ours.append((event_id, event))
            touched.append(event_id)
            if tags is None and event_id in invitations:
                counts["our_invitation"] += 1  # an appointment of ours, never busy time
                continue
            if not blocks_time(event):
                counts["free"] += 1
                continue
            start, end = event_bounds(event, zone)
            if end <= low or start >= high:
                counts["outside_window"] += 1
                continue
            summary, private = visible_summary(event)
            appointment_id = appointment_id_of(tags) if tags else None
            block = BusyBlock(
                calendar=calendar,
                event_id=event_id,
                start=start,
                end=end,
                summary=summary,
                is_private=private,
            )
            blocks.append((block, appointment_id))
        except MalformedEvent as exc:
            event_id = event.get("id") if isinstance(event, dict) else None
            logger.warning(
                "Skipped a malformed Google event %.80r on calendar %s: %s", event_id, calendar.pk, exc
            )
            counts["malformed"] += 1
    _replace_blocks(calendar, touched, removed_series, blocks, counts)
    if ours:
        _apply_our_events(calendar, ours, counts)
    return counts


def _invitations_to_our_events(calendar: GoogleCalendar, items: list[object]) -> set[str]:
    """Ids of untagged events in ``items`` that are copies of events we wrote for an appointment the
    calendar's owner takes part in (Google puts an invitation on each guest's calendar with the
    organizer's event id and iCalUID; older versions listed participants as ``attendees``). The
    owner has their own copy of the appointment already; another practice's appointment they are
    not part of stays busy time."""
    candidates: dict[str, str] = {}
    for event in items:
        if not isinstance(event, dict) or tags_of(event) is not None or event.get("status") == "cancelled":
            continue
        event_id = event.get("id")
        if not isinstance(event_id, str) or len(event_id) > 1024:
            continue
        uid = event.get("iCalUID")
        for key in (event_id, uid.split("@", 1)[0] if isinstance(uid, str) else ""):
            if OUR_EVENT_ID.fullmatch(key):  # only ids of our shape reach the query (no NUL, no junk)
                candidates.setdefault(key, event_id)
    if not candidates:
        return set()
    found: set[str] = set()
    keys = list(candidates)
    for offset in range(0, len(keys), WRITE_CHUNK):
        chunk = keys[offset : offset + WRITE_CHUNK]
        found.update(
            EventLink.objects.filter(
                event_id__in=chunk, appointment__participants__member__user_id=calendar.user_id
            ).values_list("event_id", flat=True)
        )
    return {candidates[key] for key in found}


def _replace_blocks(
    calendar: GoogleCalendar,
    touched: list[str],
    removed_series: list[str],
    blocks: list[tuple[BusyBlock, int | None]],
    counts: Counter,
) -> None:
    tagged = {appointment_id for _, appointment_id in blocks if appointment_id is not None}
    practice_of = practice_ids_of_appointments(appointment_ids=tagged) if tagged else {}
    practices_of_owner = _practices_of_owner(calendar) if tagged else set()
    rows = []
    for block, appointment_id in blocks:
        if appointment_id is not None:
            if appointment_id not in practice_of:
                counts["gone_appointment"] += 1  # ours, for an appointment that no longer exists
                continue
            if not practices_of_owner - {practice_of[appointment_id]}:
                counts["own_appointment"] += 1  # already in the book of her only practice: not busy time
                continue
            block.practice_tag = str(practice_of[appointment_id])
            block.summary = ""  # a practice's appointment title is a patient's name: never kept as busy time
        rows.append(block)
    if not touched and not rows:
        return  # nothing changed (an idle poll): no write, no lock
    with transaction.atomic():
        # Serializes writers of one calendar, so two pulls cannot both insert the same event.
        list(GoogleCalendar.objects.select_for_update(no_key=True).filter(pk=calendar.pk).values_list("pk"))
        for offset in range(0, len(touched), WRITE_CHUNK):
            chunk = touched[offset : offset + WRITE_CHUNK]
            BusyBlock.objects.filter(calendar=calendar, event_id__in=chunk).delete()
        for offset in range(0, len(removed_series), 50):
            series = Q()
            for event_id in removed_series[offset : offset + 50]:
                series |= Q(event_id__startswith=f"{event_id}_")
            BusyBlock.objects.filter(calendar=calendar).filter(series).delete()
        BusyBlock.objects.bulk_create(rows, batch_size=WRITE_CHUNK)
        BusyBlock.mark_changed(calendar.pk)
    counts["busy"] += len(rows)


def _practices_of_owner(calendar: GoogleCalendar) -> set[int]:
    """Practices the calendar's owner works in (another practice's appointment is busy time there)."""
    return set(
        Membership.objects.filter(user_id=calendar.user_id, is_active=True).values_list(
            "practice_id", flat=True
        )
    )


def _apply_our_events(calendar: GoogleCalendar, ours: list[tuple[str, dict]], counts: Counter) -> None:
    ids = [event_id for event_id, _ in ours]
    links = {}
    for offset in range(0, len(ids), WRITE_CHUNK):
        for link in EventLink.objects.filter(
            calendar=calendar, event_id__in=ids[offset : offset + WRITE_CHUNK]
        ):
            links[link.event_id] = link
    for event_id, event in ours:
        link = links.get(event_id)
        if link is None:
            continue  # a copy we no longer track (old calendar, other generation): busy time only
        if conflicts.is_echo(link, event):
            counts["echo"] += 1
            etag = clean_text(event.get("etag"), 255)
            if etag and etag != link.etag:
                EventLink.objects.filter(pk=link.pk, pushed_hash=link.pushed_hash).update(etag=etag)
            continue
        try:
            with transaction.atomic():
                counts[conflicts.apply_our_event(link=link, event=event)] += 1
        except Exception:  # one bad event must not stop the calendar's sync
            logger.exception(
                "Applying Google event %s to appointment %s failed", event_id, link.appointment_id
            )
            counts["failed"] += 1


# --- One calendar -----------------------------------------------------------------------------------


def _block_watermark() -> int:
    """Every busy block created after this call has a larger primary key (mark-and-sweep)."""
    return BusyBlock.objects.aggregate(top=Max("pk"))["top"] or 0


def _read_pages(session: client.GoogleSession, calendar: GoogleCalendar, token: str, counts: Counter) -> str:
    """Read pages until the sync token; returns the new token."""
    low, high = sync_window()
    pages = session.iter_event_pages(
        calendar.calendar_id,
        sync_token=token or None,
        time_min=None if token else low,
        time_max=None if token else high,
        page_size=PAGE_SIZE,
    )
    for page in pages:
        counts["pages"] += 1
        counts.update(process_page(calendar, page.items))
        if page.next_sync_token:
            return page.next_sync_token
    return ""


def sync_calendar(
    session: client.GoogleSession,
    calendar: GoogleCalendar,
    *,
    full: bool = False,
    deferred: list[GoogleCalendar] | None = None,
) -> Counter:
    """Pull changes of one readable calendar and store the new sync token.

    Incremental with a stored token; otherwise (or when Google answers 410) a full sync over
    ``sync_window()`` that rebuilds the calendar's busy time by mark-and-sweep: blocks created
    before it started and not seen again are deleted at the end. An incremental pull sweeps only
    the free/busy snapshots taken at booking time (when the calendar has any: a partial index
    finds them), so its cost follows what changed, never the calendar's size. Appointments are
    only touched through ``conflicts.apply_our_event``, which ignores echoes. Raises
    ``client.GoogleError``. An idle calendar costs one UPDATE (token, time, queued flag); with
    ``deferred`` (a list the caller writes with ``_store_bookkeeping``) not even that: the caller
    writes the bookkeeping of all its calendars in one statement.
    """
    counts: Counter = Counter()
    started = timezone.now()
    token = "" if full else calendar.sync_token
    sweep = not token or calendar.has_busy_snapshots
    watermark = _block_watermark() if sweep else 0
    try:
        new_token = _read_pages(session, calendar, token, counts)
    except client.SyncTokenInvalid:
        logger.info("Google expired the sync token of calendar %s: full sync", calendar.pk)
        GoogleCalendar.objects.filter(pk=calendar.pk).update(sync_token="")
        counts["full_resync"] += 1
        token, sweep = "", True
        watermark = _block_watermark()
        new_token = _read_pages(session, calendar, "", counts)
    done = {
        "sync_token": new_token,
        "last_synced_at": timezone.now(),
        # A notification heard while this pull read keeps its flag (and its queued pull).
        "pull_queued_at": Case(
            When(pull_queued_at__lte=started, then=Value(None)),
            default=F("pull_queued_at"),
            output_field=DateTimeField(),
        ),
    }
    calendar.sync_token = new_token
    calendar.last_synced_at = done["last_synced_at"]
    if not sweep and deferred is not None:
        calendar.pull_queued_at = done["pull_queued_at"]
        deferred.append(calendar)
        return counts
    if sweep:
        stale = BusyBlock.objects.filter(calendar=calendar, pk__lte=watermark)
        if token:
            stale = stale.filter(event_id="")  # free/busy snapshots taken at booking time are superseded
        with transaction.atomic():
            swept = stale.delete()[0]
            counts["swept"] += swept
            if swept:
                done["busy_version"] = F("busy_version") + 1
            if token:
                done["has_busy_snapshots"] = False
            GoogleCalendar.objects.filter(pk=calendar.pk).update(**done)
    else:
        GoogleCalendar.objects.filter(pk=calendar.pk).update(**done)
    return counts


def _as_expression(value):
    return value if hasattr(value, "resolve_expression") else Value(value)


def _store_bookkeeping(calendars: list[GoogleCalendar]) -> None:
    """Write the new tokens, sync times and queued flags ``sync_calendar`` deferred: one UPDATE."""
    if not calendars:
        return
    by_pk = {calendar.pk: calendar for calendar in calendars}
    GoogleCalendar.objects.filter(pk__in=by_pk).update(  # one statement: no transaction needed
        **{
            field: Case(
                *(When(pk=pk, then=_as_expression(getattr(c, field))) for pk, c in by_pk.items()),
                output_field=output,
            )
            for field, output in (
                ("sync_token", TextField()),
                ("last_synced_at", DateTimeField()),
                ("pull_queued_at", DateTimeField()),
            )
        }
    )
    for calendar in calendars:
        calendar.pull_queued_at = None


def _replace_free_busy(calendar: GoogleCalendar, spans: list[tuple[datetime, datetime]]) -> int:
    with transaction.atomic():
        BusyBlock.objects.filter(calendar=calendar).delete()
        BusyBlock.objects.bulk_create(
            [BusyBlock(calendar=calendar, event_id="", start=s, end=e) for s, e in spans if e > s],
            batch_size=WRITE_CHUNK,
        )
        BusyBlock.mark_changed(calendar.pk, busy_refreshed_at=timezone.now())
    return len(spans)


def refresh_free_busy(session: client.GoogleSession, calendars: list[GoogleCalendar]) -> Counter:
    """Replace the busy time of free/busy-only calendars with what ``freeBusy`` says over the window."""
    counts: Counter = Counter()
    if not calendars:
        return counts
    low, high = sync_window()
    answer = session.free_busy([c.calendar_id for c in calendars], low, high)
    for calendar in calendars:
        spans = answer.get(calendar.calendar_id, [])
        if isinstance(spans, client.GoogleError):
            logger.warning("Free/busy of calendar %s unavailable: %s", calendar.pk, spans)
            counts["calendar_errors"] += 1
            continue
        counts["free_busy"] += _replace_free_busy(calendar, spans)
    return counts


def _free_busy_due(calendar: GoogleCalendar, now: datetime) -> bool:
    gap = timedelta(minutes=settings.GOOGLE_POLL_MINUTES) / 2
    return calendar.busy_refreshed_at is None or calendar.busy_refreshed_at < now - gap


def _pull_events(
    session: client.GoogleSession,
    calendar: GoogleCalendar,
    counts: Counter,
    *,
    full: bool = False,
    deferred: list[GoogleCalendar] | None = None,
) -> None:
    """Sync one calendar's events; errors of that calendar alone are logged, the connection's are raised.

    ``sync_calendar`` clears ``pull_queued_at`` with the new token, unless a notification set it
    after the pull began (that one's own pull is queued and reads what this one may have missed).
    """
    try:
        counts.update(sync_calendar(session, calendar, full=full, deferred=deferred))
    except ERRORS_FOR_THE_CONNECTION:
        raise
    except client.GoogleError as error:
        logger.warning("Could not read calendar %s: %s", calendar.pk, error)
        counts["calendar_errors"] += 1


# --- Entry points (tasks call these) -------------------------------------------------------------------


def _with_session(
    connection: GoogleConnection, read: Callable[[client.GoogleSession, Counter], None]
) -> dict:
    """Run ``read(session, counts)`` and record the connection's success or failure. Returns the counts."""
    counts: Counter = Counter()
    try:
        read(services.open_session(connection), counts)
    except client.GoogleError as error:
        services.connection_record_failure(connection=connection, error=error)
        counts["failed"] += 1
        counts["error"] = str(error)
        return dict(counts)
    services.connection_record_success(connection=connection)
    return dict(counts)


def pull_one_calendar(calendar_pk: int) -> dict:
    """Incremental pull of one calendar (what a push notification triggers). Safe to run twice."""
    GoogleCalendar.objects.filter(pk=calendar_pk).update(pull_queued_at=None)
    calendar = GoogleCalendar.objects.select_related("connection").filter(pk=calendar_pk).first()
    why = services.connection_unusable_reason(calendar.connection if calendar else None)
    if why:
        return {"skipped": why}
    if not calendar.is_selected:
        stop_channels_for(calendar)
        return {"skipped": "not selected"}

    def read(session: client.GoogleSession, counts: Counter) -> None:
        if calendar.can_list_events:
            _pull_events(session, calendar, counts)
        else:
            counts.update(refresh_free_busy(session, [calendar]))

    return _with_session(calendar.connection, read)


def pull_account(connection_id: int, *, ensure_channels: bool = False, full: bool = False) -> dict:
    """Pull every selected calendar of a connection (free/busy-only ones when due).

    Stops channels left on calendars that are no longer selected; with ``ensure_channels`` and
    a ``PUBLIC_BASE_URL``, opens missing push channels. Records success or failure on the connection.
    """
    # One query for the connection, its calendars and when their channels expire (an idle poll
    # costs 3 queries in all).
    calendars = list(
        GoogleCalendar.objects.select_related("connection")
        .annotate(channel_expires=live_channel_expiry())
        .filter(connection_id=connection_id)
    )
    if calendars:
        connection = calendars[0].connection
        for calendar in calendars:
            calendar.connection = connection
    else:
        connection = GoogleConnection.objects.filter(pk=connection_id).first()
    why = services.connection_unusable_reason(connection)
    if why:
        return {"skipped": why}
    for calendar in calendars:
        if not calendar.is_selected:
            stop_channels_for(calendar, connection=connection)
    selected = [c for c in calendars if c.is_selected]
    now = timezone.now()

    def read(session: client.GoogleSession, counts: Counter) -> None:
        deferred: list[GoogleCalendar] = []  # idle calendars' bookkeeping, written in one statement
        try:
            for calendar in selected:
                if calendar.can_list_events:
                    _pull_events(session, calendar, counts, full=full, deferred=deferred)
        finally:
            _store_bookkeeping(deferred)
        due = [c for c in selected if not c.can_list_events and (full or _free_busy_due(c, now))]
        counts.update(refresh_free_busy(session, due))
        for calendar in selected:
            if renew_channel_when_due(session, calendar):
                counts["channels_renewed"] += 1
        if ensure_channels:
            for calendar in selected:
                counts["channels_opened"] += bool(ensure_channel(session, calendar))

    return _with_session(connection, read)


# --- Scheduling ------------------------------------------------------------------------------------------


def _connections_to_pull():
    now = timezone.now()
    return (
        GoogleConnection.objects.filter(state=ConnState.ACTIVE)
        .filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
        .values_list("pk", flat=True)
    )


POLL_TICK_SECONDS = 60  # the poll schedule's period: each tick enqueues one slice of the interval
# How long after its planned minute a run sends its first pull. django-q2's scheduler looks for
# due schedules every 30 s, so a run starts up to ~30 s late; sending each pull this long after its
# slot makes every run's sends line up with the previous run's, whatever each run's lateness.
POLL_PACE_DELAY_SECONDS = 30


def poll_slot(connection_id: int, interval_seconds: int) -> int:
    """The connection's fixed second within the poll interval (a multiplicative hash: spread evenly)."""
    return (connection_id * 2654435761) % 2**32 % interval_seconds


DAY_SECONDS = 24 * 3600


def daily_full_pull(connection_id: int, tick: int, interval_seconds: int) -> bool:
    """Whether the connection's poll in the interval holding ``tick`` is its full pull of the day.

    Each connection has its own interval of the day (a second hash, independent of its poll
    slot), so the daily reconcile of 10,000 connections is ~35 full pulls per 5-minute interval,
    not 10,000 at once.
    """
    turns = max(1, DAY_SECONDS // interval_seconds)
    return (tick // interval_seconds) % turns == (connection_id * 2246822519) % 2**32 % turns


def poll_due(
    now: datetime | None = None, *, pace: bool = False, sleep: Callable[[float], object] = time.sleep
) -> int:
    """Every minute: enqueue the pulls of the connections whose slot falls in this minute.

    Each connection is polled once per ``GOOGLE_POLL_MINUTES``, at its own fixed offset, so the
    polls of 10,000 connections spread evenly over the interval instead of arriving together
    (no thundering herd; docs/SCALING.md). Once a day a connection's poll is a full pull that
    also heals its push channels (``daily_full_pull``: the daily reconcile, spread over the day).
    ``now`` is the run's planned time (the schedule passes
    it: planned times are exactly a minute apart, so successive runs tile the interval however
    late each starts). With ``pace`` each pull is enqueued at its own moment,
    ``POLL_PACE_DELAY_SECONDS`` after the planned time plus its slot's offset in the minute (the
    connections of one second spread over that second), not the minute's slice at once: a burst
    of 2,000 pulls every minute would idle the workers for most of the minute and queue every
    push behind it. A run that starts later than the delay sends what is overdue at once and
    paces the rest. The paced run keeps one worker for about a minute, mostly asleep. Returns
    how many were enqueued.
    """
    interval = max(settings.GOOGLE_POLL_MINUTES * 60, POLL_TICK_SECONDS)
    planned = (now or timezone.now()).timestamp()
    tick = int(planned) // POLL_TICK_SECONDS * POLL_TICK_SECONDS
    low = tick % interval
    by_second: dict[int, list[int]] = {}
    for pk in _connections_to_pull():
        slot = poll_slot(pk, interval)
        if low <= slot < low + POLL_TICK_SECONDS:
            by_second.setdefault(slot - low, []).append(pk)
    sends = []
    for second, ids in by_second.items():
        for number, connection_id in enumerate(sorted(ids)):
            at = planned + POLL_PACE_DELAY_SECONDS + second + number / len(ids) if pace else 0.0
            full = daily_full_pull(connection_id, tick, interval)
            sends.append((at, partial(queue.send_pull, connection_id, full=full)))
    return queue.send_paced(sends, sleep=sleep)


def poll_all() -> int:
    """The safety net under push notifications: enqueue an incremental pull of every active connection.

    With a valid sync token and nothing changed, that costs one request per calendar.
    """
    ids = list(_connections_to_pull())
    for connection_id in ids:
        queue.send_pull(connection_id)
    return len(ids)


def reconcile_all() -> int:
    """A full pull of every active connection at once, healing channels (by hand, e.g. after an
    outage; the daily one is spread over the polls: ``daily_full_pull``)."""
    ids = list(_connections_to_pull())
    for connection_id in ids:
        queue.send_pull(connection_id, full=True)
    return len(ids)


def force_full_resync(calendar_pks: Iterable[int]) -> int:
    """Drop the sync tokens of these calendars and enqueue their pulls (Django admin action)."""
    pks = list(calendar_pks)
    GoogleCalendar.objects.filter(pk__in=pks).update(sync_token="", busy_refreshed_at=None)
    with transaction.atomic():
        for pk in pks:
            queue.enqueue_pull(pk)
    return len(pks)
