"""Google → Copilot: the inbound half of the sync engine.

Every selected calendar is read with ``events.list`` (singleEvents) and a sync token, page by
page, in bounded memory. What is read becomes one of two things:

* **Our events** (tagged by ``mapping.tags_for``): the staff member's own copy drives the
  appointment through the book's services (``source="google"``), unless it is an echo of our own
  write; see ``apply_our_event`` for the conflict policy.
* **Everything else** becomes ``BusyBlock`` rows of that calendar, which the book reads through
  ``integrations.busy.GoogleBusySource``. Nothing is ever written to Google from here.

Free/busy-only conflict calendars are read with ``freeBusy`` instead. Push notification channels
(``channels.py``) make changes arrive within seconds; polling (``poll_all``) is the safety net and
``reconcile_all`` the daily full pass.
"""

from __future__ import annotations

import functools
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from calendars.limits import NOTES_MAX_LENGTH
from calendars.models import Appointment, AppointmentChange
from calendars.services import appointment_cancel, appointment_update
from copilot.accounts.models import Practice

from .. import queue, services
from ..models import BusyBlock, EventLink, GoogleCalendar, GoogleConnection
from . import client, mapping
from .channels import ensure_channel, stop_channels_for

logger = logging.getLogger(__name__)
ConnState = GoogleConnection.State
GOOGLE = AppointmentChange.Source.GOOGLE

PAGE_SIZE = 1000
WRITE_CHUNK = 500  # ids per IN (...) clause: SQLite allows 999 parameters
MAX_EVENT_ID = 1024
ERRORS_FOR_THE_CONNECTION = (client.Retryable, client.NeedsReconnect, client.MissingPermission)


class MalformedEvent(ValueError):
    """An event we cannot make sense of; it is logged and skipped."""


# --- Reading one event (pure) ---------------------------------------------------------------------


def sync_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The stretch of time we keep busy time for: lookback days behind, horizon days ahead."""
    now = now or timezone.now()
    return (
        now - timedelta(days=settings.GOOGLE_SYNC_LOOKBACK_DAYS),
        now + timedelta(days=settings.GOOGLE_SYNC_HORIZON_DAYS),
    )


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError, TypeError) as exc:  # ZoneInfoNotFoundError is a KeyError
        raise MalformedEvent(f"unknown time zone {name[:64]!r}") from exc


def calendar_zone(calendar: GoogleCalendar) -> ZoneInfo:
    """The zone all-day events of ``calendar`` live in (UTC when Google did not say)."""
    try:
        return _zone(calendar.time_zone or "UTC")
    except MalformedEvent:
        return ZoneInfo("UTC")


def _moment(value: object, zone: ZoneInfo, which: str) -> datetime:
    if not isinstance(value, dict):
        raise MalformedEvent(f"missing {which}")
    zone_name = value.get("timeZone")
    if zone_name is not None:
        if not isinstance(zone_name, str):
            raise MalformedEvent(f"bad {which} time zone")
        _zone(zone_name)  # an unknown zone makes the whole event suspect
    try:
        if isinstance(value.get("dateTime"), str):
            moment = datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
            if moment.tzinfo is None:
                if not zone_name:
                    raise MalformedEvent(f"{which} has no offset and no time zone")
                moment = moment.replace(tzinfo=_zone(zone_name))
            return moment.astimezone(UTC)
        if isinstance(value.get("date"), str):
            day = date.fromisoformat(value["date"])
            return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
    except (ValueError, TypeError, OverflowError) as exc:
        raise MalformedEvent(f"bad {which} time") from exc
    raise MalformedEvent(f"missing {which}")


def event_bounds(event: dict, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of ``event`` as aware UTC datetimes; all-day dates start at midnight in ``zone``.

    Raises ``MalformedEvent`` for missing or unreadable times and empty ranges.
    """
    start = _moment(event.get("start"), zone, "start")
    end = _moment(event.get("end"), zone, "end")
    if end <= start:
        raise MalformedEvent("end is not after start")
    return start, end


def _declined_by_owner(event: dict) -> bool:
    attendees = event.get("attendees")
    if not isinstance(attendees, list):
        return False
    return any(
        isinstance(a, dict) and a.get("self") is True and a.get("responseStatus") == "declined"
        for a in attendees
    )


def blocks_time(event: dict) -> bool:
    """Whether a live event makes its owner busy.

    Free, self-declined, working-location and birthday events do not (birthdays synced from
    Google Contacts are not always transparent).
    """
    if event.get("transparency") == "transparent":
        return False
    if event.get("eventType") in ("workingLocation", "birthday"):
        return False
    return not _declined_by_owner(event)


def _safe_tags(event: dict) -> dict | None:
    try:
        tags = mapping.our_tags(event)
    except (AttributeError, TypeError):
        return None
    return tags if isinstance(tags, dict) else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, str) and value.isdigit() and len(value) < 18:
        return int(value)
    return None


def _event_id(event: object) -> str:
    if not isinstance(event, dict):
        raise MalformedEvent("not an object")
    event_id = event.get("id")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= MAX_EVENT_ID:
        raise MalformedEvent("missing or oversized id")
    if not (event_id.isascii() and event_id.isprintable()):
        raise MalformedEvent("unusable id")
    return event_id


def clean_text(value: object, limit: int) -> str:
    """Text from Google as the database takes it: a string, no NUL, valid UTF-8, at most ``limit``."""
    if not isinstance(value, str):
        return ""
    text = value.replace("\x00", "").strip()[:limit]
    return text.encode("utf-8", "replace").decode("utf-8")


def _summary(event: dict) -> tuple[str, bool]:
    private = event.get("visibility") in ("private", "confidential")
    return ("" if private else clean_text(event.get("summary"), 300)), private


# --- One page of events.list ------------------------------------------------------------------------


def process_page(
    calendar: GoogleCalendar, items: Iterable[object], *, now: datetime | None = None
) -> Counter:
    """Apply one page of ``events.list`` items for ``calendar`` to the database.

    Busy time is replaced per event id (delete + insert in one transaction, so nothing is ever
    duplicated); our own events go to ``apply_our_event``. Malformed events are logged and skipped;
    this function does not raise for anything Google (or a fuzzer) sends. Returns counts.
    """
    counts: Counter = Counter()
    low, high = sync_window(now)
    zone = calendar_zone(calendar)
    touched: list[str] = []  # event ids whose blocks are replaced
    removed_series: list[str] = []  # cancelled ids: their expanded instances go too
    blocks: list[tuple[BusyBlock, int | None]] = []  # (block, appointment id it stands for)
    ours: list[tuple[str, dict]] = []  # (event id, event) to hand to apply_our_event
    for event in items:
        try:
            event_id = _event_id(event)
            if event.get("status") == "cancelled":
                touched.append(event_id)
                if "_" not in event_id:  # a series (instance ids carry "_<start>")
                    removed_series.append(event_id)
                ours.append((event_id, event))  # tombstones carry no tags: matched by event id
                counts["deleted"] += 1
                continue
            tags = _safe_tags(event)
            if tags is not None:
                ours.append((event_id, event))
            touched.append(event_id)
            if not blocks_time(event):
                counts["free"] += 1
                continue
            start, end = event_bounds(event, zone)
            if end <= low or start >= high:
                counts["outside_window"] += 1
                continue
            summary, private = _summary(event)
            appointment_id = _int_or_none(tags.get(mapping.TAG_APPOINTMENT)) if tags else None
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
    _write_blocks(calendar, touched, removed_series, blocks, counts)
    if ours:
        _apply_ours(calendar, ours, counts)
    return counts


def _write_blocks(
    calendar: GoogleCalendar,
    touched: list[str],
    removed_series: list[str],
    blocks: list[tuple[BusyBlock, int | None]],
    counts: Counter,
) -> None:
    tagged = {appointment_id for _, appointment_id in blocks if appointment_id is not None}
    practice_of = (
        dict(Appointment.objects.filter(pk__in=tagged).values_list("pk", "practice_id")) if tagged else {}
    )
    rows = []
    for block, appointment_id in blocks:
        if appointment_id is not None:
            if appointment_id not in practice_of:
                counts["gone_appointment"] += 1  # ours, for an appointment that no longer exists
                continue
            block.practice_tag = str(practice_of[appointment_id])
            block.summary = ""  # a practice's appointment title is a patient's name: never kept as busy time
        rows.append(block)
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
    counts["busy"] += len(rows)


def _apply_ours(calendar: GoogleCalendar, ours: list[tuple[str, dict]], counts: Counter) -> None:
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
        if _is_echo(link, event):
            counts["echo"] += 1
            etag = clean_text(event.get("etag"), 255)
            if etag and etag != link.etag:
                EventLink.objects.filter(pk=link.pk, pushed_hash=link.pushed_hash).update(etag=etag)
            continue
        try:
            with transaction.atomic():
                counts[apply_our_event(link=link, event=event)] += 1
        except Exception:  # one bad event must not stop the calendar's sync
            logger.exception(
                "Applying Google event %s to appointment %s failed", event_id, link.appointment_id
            )
            counts["failed"] += 1


# --- Our events: the conflict policy -----------------------------------------------------------------


def safe_fingerprint(event: dict) -> str:
    """``mapping.fingerprint``, or "" for an event too broken to fingerprint (never an echo then)."""
    try:
        return mapping.fingerprint(event)
    except (AttributeError, TypeError, ValueError, KeyError, OverflowError):
        return ""


def _is_echo(link: EventLink, event: dict) -> bool:
    if event.get("status") == "cancelled" or not link.pushed_hash:
        return False
    return safe_fingerprint(event) == link.pushed_hash


def _updated(event: dict) -> datetime | None:
    """Google's ``updated`` stamp, or None when it is missing or unreadable (then Google counts as newer)."""
    try:
        updated = client.parse_datetime(event["updated"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return updated if updated.tzinfo is not None else None


def _google_is_newer(event: dict, appointment: Appointment) -> bool:
    updated = _updated(event)
    return updated is None or updated > appointment.updated


def _older_than_our_last_write(link: EventLink, event: dict) -> bool:
    """A stale read: the copy predates our last successful write (which would have got a 412 otherwise)."""
    updated = _updated(event)
    return bool(
        link.last_pushed_at and updated and event.get("etag") != link.etag and updated < link.last_pushed_at
    )


def _record(appointment: Appointment, action: str, summary: str) -> None:
    AppointmentChange.objects.create(
        appointment=appointment, actor=None, source=GOOGLE, action=action, summary=summary[:500]
    )


def changes_from_event(event: dict, appointment: Appointment) -> dict:
    """The appointment fields a Google copy of it says should change (for ``appointment_update``)."""
    practice = appointment.practice
    hidden = practice.external_title_privacy == Practice.TitlePrivacy.BUSY
    changes: dict = {}
    try:
        start, end = event_bounds(event, practice.zone)
    except MalformedEvent as exc:
        logger.warning("Ignoring the time of Google event %.80r: %s", event.get("id"), exc)
    else:
        if (start, end) != (appointment.start, appointment.end):
            changes.update(start=start, end=end)
    if not hidden:
        title = clean_text(event.get("summary"), 200)
        ours = title == mapping.PRIVATE_TITLE or title.startswith(mapping.CANCELLED_PREFIX)
        if title and not ours and title != appointment.title:
            changes["title"] = title
    location = clean_text(event.get("location"), 300)
    if location != appointment.location:
        changes["location"] = location
    if not hidden:  # with hidden titles the description carries no notes, only our link
        # Read at most 20,000 characters: anything that long is over the notes limit and refused whole.
        notes = mapping.notes_from_description(clean_text(event.get("description"), 20_000))
        if len(notes) > NOTES_MAX_LENGTH:  # never cut: keep the portal's notes (logged without content)
            logger.warning(
                "Not applying the description of Google event %.80r to appointment %s: %d characters "
                "of notes, the limit is %d",
                event.get("id"),
                appointment.pk,
                len(notes),
                NOTES_MAX_LENGTH,
            )
        elif notes != appointment.notes:
            changes["notes"] = notes
    return changes


def _remember(link: EventLink, event: dict, *, deleted: bool = False) -> None:
    """Store what Google has now, so the push the change triggers finds nothing to write."""
    if deleted:
        link.event_id, link.etag, link.pushed_hash = "", "", ""
    else:
        link.etag = clean_text(event.get("etag"), 255)
        link.pushed_hash = safe_fingerprint(event)
    link.save(update_fields=["event_id", "etag", "pushed_hash", "updated"])


@transaction.atomic
def apply_our_event(*, link: EventLink, event: dict) -> str:
    """Bring the appointment behind ``link`` in line with Google's copy ``event``. Returns what happened.

    Only the staff member's own copy drives the appointment. An echo of our own write changes
    nothing. When both sides changed since the last sync (the link still waits for a push),
    the newer change wins by timestamp: Google's ``updated`` against the appointment's; a
    Google change that loses is recorded in the history and the push overwrites it. An
    assignee's edited copy is restored by the push; a deleted one is forgotten.

    Outcomes: ``echo``, ``stale``, ``inactive``, ``applied``, ``unchanged``, ``cancelled``,
    ``google_lost``, ``restore_assignee_copy``, ``assignee_copy_deleted``, ``gone``.
    """
    appointment_id = EventLink.objects.filter(pk=link.pk).values_list("appointment_id", flat=True).first()
    if appointment_id is None:
        return "gone"
    # Lock in the booking services' order (the appointment, then its links) and only those rows:
    # a joined FOR UPDATE would also lock the practice and make every booking there wait.
    list(
        Appointment.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk=appointment_id)
        .values_list("pk")
    )
    link = (
        EventLink.objects.select_for_update(of=("self",), no_key=True)
        .select_related("appointment__practice")
        .filter(pk=link.pk)
        .first()
    )
    if link is None:
        return "gone"
    appointment = link.appointment
    deleted = event.get("status") == "cancelled"
    if not deleted and _is_echo(link, event):
        _remember(link, event)
        return "echo"
    if _older_than_our_last_write(link, event):
        return "stale"
    if link.member_id != appointment.staff_id:
        return _apply_assignee_copy(link, event, deleted)
    conflict = link.needs_push
    if conflict and not _google_is_newer(event, appointment):
        return _google_loses(link, event, appointment, deleted)
    if deleted:
        _remember(link, event, deleted=True)  # cleared first: the push must not delete it again
        if not appointment.is_active:
            return "unchanged"
        if conflict:
            _record(
                appointment, "conflict", "A newer deletion in Google replaced a change made in the portal"
            )
        appointment_cancel(appointment=appointment, actor=None, source=GOOGLE, reason="deleted in Google")
        return "cancelled"
    _remember(link, event)
    if not appointment.is_active:
        return "inactive"  # the push deletes or marks it; edits of a cancelled appointment are moot
    changes = changes_from_event(event, appointment)
    if not changes:
        return "unchanged"
    if conflict:
        _record(appointment, "conflict", "A newer change in Google replaced a change made in the portal")
    appointment_update(appointment=appointment, actor=None, source=GOOGLE, **changes)
    return "applied"


def _google_loses(link: EventLink, event: dict, appointment: Appointment, deleted: bool) -> str:
    if deleted:
        _remember(link, event, deleted=True)  # gone in Google: the push writes it anew
        summary = "A deletion in Google was overridden by a newer change in the portal"
    else:
        _remember(link, event)  # what Google shows now: the push sees the difference and overwrites it
        summary = "A change in Google was overridden by a newer change in the portal"
    EventLink.objects.filter(pk=link.pk).update(needs_push=True)
    if appointment.is_active or not deleted:
        _record(appointment, "conflict", summary)
    return "google_lost"


def _apply_assignee_copy(link: EventLink, event: dict, deleted: bool) -> str:
    _remember(link, event, deleted=deleted)
    if deleted:
        return "assignee_copy_deleted"
    # The appointment is the staff member's: the push puts the assignee's copy back.
    EventLink.objects.filter(pk=link.pk).update(needs_push=True)
    return "restore_assignee_copy"


# --- One calendar -----------------------------------------------------------------------------------


def _block_watermark() -> int:
    """Every busy block created after this call has a larger primary key (mark-and-sweep)."""
    return BusyBlock.objects.aggregate(top=Max("pk"))["top"] or 0


def _list(session: client.GoogleSession, calendar: GoogleCalendar, token: str, counts: Counter) -> str:
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


def sync_calendar(session: client.GoogleSession, calendar: GoogleCalendar, *, full: bool = False) -> Counter:
    """Pull changes of one readable calendar and store the new sync token.

    Incremental with a stored token; otherwise (or when Google answers 410) a full sync over
    ``sync_window()`` that rebuilds the calendar's busy time by mark-and-sweep: blocks created
    before it started and not seen again are deleted at the end. Appointments are only touched
    through ``apply_our_event``, which ignores echoes. Raises ``client.GoogleError``.
    """
    counts: Counter = Counter()
    token = "" if full else calendar.sync_token
    watermark = _block_watermark()
    try:
        new_token = _list(session, calendar, token, counts)
    except client.SyncTokenInvalid:
        logger.info("Google expired the sync token of calendar %s: full sync", calendar.pk)
        GoogleCalendar.objects.filter(pk=calendar.pk).update(sync_token="")
        counts["full_resync"] += 1
        token = ""
        watermark = _block_watermark()
        new_token = _list(session, calendar, "", counts)
    stale = BusyBlock.objects.filter(calendar=calendar, pk__lte=watermark)
    if token:
        stale = stale.filter(event_id="")  # free/busy snapshots taken at booking time are superseded
    counts["swept"] += stale.delete()[0]
    calendar.sync_token = new_token
    calendar.last_synced_at = timezone.now()
    GoogleCalendar.objects.filter(pk=calendar.pk).update(
        sync_token=new_token, last_synced_at=calendar.last_synced_at
    )
    return counts


def _replace_free_busy(calendar: GoogleCalendar, spans: list[tuple[datetime, datetime]]) -> int:
    with transaction.atomic():
        BusyBlock.objects.filter(calendar=calendar).delete()
        BusyBlock.objects.bulk_create(
            [BusyBlock(calendar=calendar, event_id="", start=s, end=e) for s, e in spans if e > s],
            batch_size=WRITE_CHUNK,
        )
        GoogleCalendar.objects.filter(pk=calendar.pk).update(busy_refreshed_at=timezone.now())
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


def _pull_one(
    session: client.GoogleSession, calendar: GoogleCalendar, counts: Counter, *, full=False
) -> None:
    """Sync one calendar; errors of that calendar alone are logged, the connection's are raised."""
    GoogleCalendar.objects.filter(pk=calendar.pk).update(pull_queued_at=None)
    try:
        counts.update(sync_calendar(session, calendar, full=full))
    except ERRORS_FOR_THE_CONNECTION:
        raise
    except client.GoogleError as error:
        logger.warning("Could not read calendar %s: %s", calendar.pk, error)
        counts["calendar_errors"] += 1


# --- Entry points (tasks call these) -------------------------------------------------------------------


def _run(connection: GoogleConnection, work) -> dict:
    """Run ``work(session, counts)`` and record the connection's success or failure."""
    counts: Counter = Counter()
    try:
        work(services.open_session(connection), counts)
    except client.GoogleError as error:
        services.connection_record_failure(connection=connection, error=error)
        counts["failed"] += 1
        counts["error"] = str(error)
        return dict(counts)
    services.connection_record_success(connection=connection)
    return dict(counts)


def pull_calendar(calendar_pk: int) -> dict:
    """Incremental pull of one calendar (what a push notification triggers). Safe to run twice."""
    GoogleCalendar.objects.filter(pk=calendar_pk).update(pull_queued_at=None)
    calendar = GoogleCalendar.objects.select_related("connection").filter(pk=calendar_pk).first()
    why = services.connection_unusable_reason(calendar.connection if calendar else None)
    if why:
        return {"skipped": why}
    if not calendar.is_selected:
        stop_channels_for(calendar)
        return {"skipped": "not selected"}

    def work(session, counts):
        if calendar.can_list_events:
            _pull_one(session, calendar, counts)
        else:
            counts.update(refresh_free_busy(session, [calendar]))

    return _run(calendar.connection, work)


def pull_connection(connection_id: int, ensure_channels: bool = False, *, full: bool = False) -> dict:
    """Pull every selected calendar of a connection (free/busy-only ones when due).

    Stops channels left on calendars that are no longer selected; with ``ensure_channels`` and
    a ``PUBLIC_BASE_URL``, opens missing push channels. Records success or failure on the connection.
    """
    connection = GoogleConnection.objects.filter(pk=connection_id).first()
    why = services.connection_unusable_reason(connection)
    if why:
        return {"skipped": why}
    calendars = list(connection.calendars.all())
    for calendar in calendars:
        if not calendar.is_selected:
            stop_channels_for(calendar, connection=connection)
    selected = [c for c in calendars if c.is_selected]
    now = timezone.now()

    def work(session, counts):
        for calendar in selected:
            if calendar.can_list_events:
                _pull_one(session, calendar, counts, full=full)
        due = [c for c in selected if not c.can_list_events and (full or _free_busy_due(c, now))]
        counts.update(refresh_free_busy(session, due))
        if ensure_channels:
            for calendar in selected:
                counts["channels_opened"] += bool(ensure_channel(session, calendar))

    return _run(connection, work)


def _connections_to_pull():
    now = timezone.now()
    return (
        GoogleConnection.objects.filter(state=ConnState.ACTIVE)
        .filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
        .values_list("pk", flat=True)
    )


def poll_all() -> int:
    """The safety net under push notifications: enqueue an incremental pull of every active connection.

    With a valid sync token and nothing changed, that costs one request per calendar.
    """
    ids = list(_connections_to_pull())
    for connection_id in ids:
        queue.send_pull(connection_id)
    return len(ids)


def reconcile_all() -> int:
    """Daily: a full pull of every active connection (catches anything missed), healing channels."""
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
