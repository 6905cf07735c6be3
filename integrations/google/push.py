"""Appointments → Google: the durable, state-based outbox.

A booking service marks ``EventLink.needs_push`` in its own transaction (through the
``on_appointment_changed`` hook) and a task is enqueued on commit. The worker claims the
connection, then reconciles Google to each appointment's *current* state: several edits
collapse into one write, a create followed by a cancel writes nothing, and nothing is
replayed. Event ids are derived from what they stand for, so a retry after a crash gets
409 and continues as an update instead of writing a duplicate.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from calendars.models import Appointment
from copilot.accounts.models import Membership, Practice

from .. import queue, services
from ..models import EventLink, GoogleCalendar, GoogleConnection
from . import client, mapping

logger = logging.getLogger(__name__)
LinkState = EventLink.State
ConnState = GoogleConnection.State
LEASE = timedelta(minutes=5)
ROUND_SIZE = 500
MAX_ROUNDS = 12


# --- The outbox hook -------------------------------------------------------------------------------


def on_appointment_changed(
    appointment: Appointment, *, source: str, previous_staff_id: int | None = None
) -> None:
    """Mark every calendar copy of ``appointment`` as needing a push (inside the booking transaction)."""
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
    _route_to_connections(user_ids)


def _route_to_connections(user_ids: set[int]) -> None:
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


# --- Claiming a connection ----------------------------------------------------------------------------


def _claim(connection_id: int) -> GoogleConnection | None:
    """Take the connection's push lease, or None when another worker holds it.

    The row lock skips locked rows, so many workers on many machines share the queue;
    the lease (not a long transaction) covers the Google calls themselves.
    """
    now = timezone.now()
    with transaction.atomic():
        connection = (
            GoogleConnection.objects.select_for_update(skip_locked=True, no_key=True)
            .filter(pk=connection_id)
            .filter(Q(push_lease_until__isnull=True) | Q(push_lease_until__lt=now))
            .first()
        )
        if connection is None:
            return None
        connection.push_lease_until = now + LEASE
        connection.save(update_fields=["push_lease_until"])
    return connection


def _release(connection_id: int) -> None:
    GoogleConnection.objects.filter(pk=connection_id).update(push_lease_until=None)


def _due_links(connection: GoogleConnection):
    return EventLink.objects.filter(member__user_id=connection.user_id, needs_push=True)


def push_connection(connection_id: int) -> dict:
    """Push the connection's outbox until it is empty, Google refuses, or another worker has it.

    Returns counts of what was done (inserted, updated, deleted, unchanged, failed, ...).
    """
    counts: Counter = Counter()
    for _ in range(MAX_ROUNDS):
        connection = _claim(connection_id)
        if connection is None:
            counts["skipped_busy"] += 1
            break
        try:
            progressed = _push_claimed(connection, counts, relocate=False)
        finally:
            _release(connection_id)
        # A change committed while we held the lease had its own task skipped: look again.
        if not progressed or not _due_links(connection).exists():
            break
    return dict(counts)


# --- Planning and running --------------------------------------------------------------------------


@dataclass
class Work:
    """One link being reconciled in this run."""

    link: EventLink
    body: dict | None  # what Google should show; None: no event
    fingerprint: str
    version: int
    target: GoogleCalendar | None
    upcoming: bool
    connection_id: int
    op: client.EventOp | None = None
    calendar: GoogleCalendar | None = None  # the calendar ``op`` runs against
    cleanup: list[tuple[GoogleCalendar, str]] = field(default_factory=list)
    after_412: bool = False
    done: bool = False
    settled: bool = False  # finished and waiting for ``_flush`` to write it


def _desired_body(link: EventLink, base_url: str) -> dict | None:
    appointment = link.appointment
    involved = link.member_id == appointment.staff_id or link.member_id in {
        m.pk for m in appointment.assignees.all()
    }
    if not involved:
        return None
    url = mapping.portal_url_for(appointment, base_url)
    if appointment.is_active:
        return mapping.event_body(appointment, link.member, portal_url=url)
    if appointment.practice.external_cancel_behaviour == Practice.CancelBehaviour.MARK:
        return mapping.event_body(appointment, link.member, portal_url=url, cancelled_marker=True)
    return None


def _plan(work: Work, *, relocate: bool) -> None:
    """Choose the next operation for ``work`` from its link's current state (or mark it done)."""
    link, target = work.link, work.target
    # An event in a calendar of another (older) connection cannot be reached with this one.
    has_event = (
        bool(link.event_id)
        and link.calendar is not None
        and link.calendar.connection_id == work.connection_id
    )
    if work.body is None:
        if has_event:
            work.op = client.EventOp("delete", link.calendar.calendar_id, link.event_id)
            work.calendar = link.calendar
        else:
            work.done = True
        return
    body = dict(work.body)
    if has_event and relocate and work.upcoming and target and link.calendar_id != target.pk:
        if link.calendar.connection_id == target.connection_id:
            work.op = client.EventOp(
                "move", link.calendar.calendar_id, link.event_id, destination=target.calendar_id
            )
            work.calendar = link.calendar
            return
        work.cleanup.append((link.calendar, link.event_id))
        link.event_id, link.calendar, has_event = "", None, False
    if has_event:
        if link.pushed_hash == work.fingerprint:
            work.done = True
            return
        work.op = client.EventOp(
            "update", link.calendar.calendar_id, link.event_id, body=body, etag=link.etag
        )
        work.calendar = link.calendar
        return
    if target is None:
        work.done = True  # nowhere to write: stays waiting
        return
    event_id = mapping.event_id_for(
        appointment_id=link.appointment_id,
        member_id=link.member_id,
        calendar_id=target.calendar_id,
        generation=link.generation,
    )
    work.op = client.EventOp("insert", target.calendar_id, event_id, body={**body, "id": event_id})
    work.calendar = target


def _record_event(work: Work, event: dict, calendar: GoogleCalendar) -> None:
    link = work.link
    link.event_id = event.get("id", link.event_id)
    link.etag = event.get("etag", "")
    link.calendar = calendar
    link.pushed_hash = mapping.fingerprint(event)


def _finish(work: Work, counts: Counter, outcome: str) -> None:
    """Mark ``work`` synced in memory; ``_flush`` writes a round's finished links together."""
    work.done = True
    work.settled = True
    counts[outcome] += 1
    link = work.link
    link.state = LinkState.SYNCED
    link.last_error = ""
    if outcome != "unchanged":
        # Only a real write moves this mark: the pull side treats Google edits older than our
        # last write as stale reads, and a no-op push has not seen (or overwritten) anything.
        link.last_pushed_at = timezone.now()


_SETTLED_FIELDS = [
    "event_id",
    "etag",
    "calendar",
    "pushed_hash",
    "generation",
    "state",
    "last_error",
    "last_pushed_at",
]


def _flush(works: list[Work]) -> None:
    """Write every settled link of a round with one prepared statement (not two queries per link)."""
    settled = [w for w in works if w.settled]
    if not settled:
        return
    fields = [EventLink._meta.get_field(name) for name in _SETTLED_FIELDS]
    quote = connection.ops.quote_name
    link_table, appointment_table = quote(EventLink._meta.db_table), quote(Appointment._meta.db_table)
    # One statement per link, so each row is updated once in the transaction (a second UPDATE of
    # a row would make PostgreSQL re-check its foreign keys at commit, taking KEY SHARE locks on
    # the appointment that a booking may hold). ``needs_push`` is cleared only if the appointment
    # is still at the version that was pushed: an edit made meanwhile is pushed by the next round.
    sql = (
        f"UPDATE {link_table} SET "
        + ", ".join(f"{quote(f.column)} = %s" for f in fields)
        + f", {quote('needs_push')} = CASE WHEN (SELECT {quote('version')} FROM {appointment_table}"
        + f" WHERE {quote('id')} = {link_table}.{quote('appointment_id')}) = %s"
        + f" THEN %s ELSE {quote('needs_push')} END WHERE {quote('id')} = %s"
    )
    rows = [
        [f.get_db_prep_save(getattr(w.link, f.attname), connection) for f in fields]
        + [w.version, False, w.link.pk]
        for w in settled
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)
    for work in settled:
        work.settled = False


def _fail(work: Work, counts: Counter, error: client.GoogleError) -> None:
    work.done = True
    counts["failed"] += 1
    link = work.link
    link.state = LinkState.FAILED
    link.last_error = str(error)[:2000]
    link.attempts += 1
    # Not retried, unless the appointment changed meanwhile (then the next round tries the new state).
    changed_since = ~Exists(Appointment.objects.filter(pk=OuterRef("appointment_id"), version=work.version))
    EventLink.objects.filter(pk=link.pk).update(
        state=link.state,
        last_error=link.last_error,
        attempts=link.attempts,
        event_id=link.event_id,
        etag=link.etag,
        calendar=link.calendar,
        generation=link.generation,
        needs_push=changed_since,
    )


class _StopConnection(Exception):
    def __init__(self, error: client.GoogleError):
        self.error = error


def _handle(work: Work, result: dict | client.GoogleError, counts: Counter) -> None:
    """Apply one Google answer to ``work``: finish it, or set up the follow-up operation."""
    op, link = work.op, work.link
    work.op = None
    if isinstance(result, (client.Retryable, client.NeedsReconnect, client.MissingPermission)):
        raise _StopConnection(result)
    if op.kind == "insert":
        if isinstance(result, client.Duplicate):
            work.op = client.EventOp("get", op.calendar_id, op.event_id)  # ours from an earlier try?
            return
        if isinstance(result, client.GoogleError):
            return _fail(work, counts, result)
        _record_event(work, result, work.calendar)
        return _finish(work, counts, "inserted")
    if op.kind == "get":
        return _after_get(work, result, counts)
    if op.kind == "update":
        if isinstance(result, client.PreconditionFailed):
            work.op = client.EventOp("get", op.calendar_id, op.event_id)
            work.after_412 = True
            return
        if isinstance(result, client.NotFound):
            link.event_id, link.etag, link.pushed_hash = "", "", ""
            link.generation += 1  # the old id was deleted in Google and cannot be reused
            return
        if isinstance(result, client.GoogleError):
            return _fail(work, counts, result)
        _record_event(work, result, work.calendar)
        return _finish(work, counts, "updated")
    if op.kind == "delete":
        if isinstance(result, client.GoogleError) and not isinstance(result, client.NotFound):
            return _fail(work, counts, result)
        link.event_id, link.etag, link.pushed_hash = "", "", ""
        return _finish(work, counts, "deleted")
    if op.kind == "move":
        if isinstance(result, client.GoogleError):
            # Moving is not possible (for example no write access to the old calendar): copy, then delete.
            work.cleanup.append((link.calendar, link.event_id))
            link.event_id, link.calendar = "", None
            return
        _record_event(work, result, work.target)
        counts["moved"] += 1
        return


def _after_get(work: Work, result: dict | client.GoogleError, counts: Counter) -> None:
    link = work.link
    after_412, work.after_412 = work.after_412, False
    if after_412 and isinstance(result, dict) and mapping.our_tags(result) is not None:
        # Both sides changed: the pull side's conflict policy decides (the newer change wins) and
        # leaves the link due if ours won; the next round reloads it and writes with the new etag.
        from . import pull

        counts["conflict_" + pull.apply_our_event(link=link, event=result)] += 1
        work.done = True
        return
    if isinstance(result, client.NotFound) or (
        isinstance(result, dict) and result.get("status") == "cancelled"
    ):
        link.event_id, link.etag, link.pushed_hash = "", "", ""
        link.generation += 1
        return
    if isinstance(result, client.GoogleError):
        return _fail(work, counts, result)
    tags = mapping.our_tags(result) or {}
    if tags.get(mapping.TAG_APPOINTMENT) != str(link.appointment_id):
        return _fail(
            work, counts, client.BadRequest("An event with our id exists but is not this appointment's.")
        )
    _record_event(work, result, work.calendar)
    link.pushed_hash = mapping.fingerprint(result)  # adopt: update only if it differs


def _run_round(session: client.GoogleSession, works: list[Work], counts: Counter) -> None:
    pending = [w for w in works if w.op is not None]
    if not pending:
        return
    try:
        if len(pending) == 1:
            results = [session.run(pending[0].op)]
        else:
            results = session.run_batch([w.op for w in pending])
    except client.GoogleError as error:
        if len(pending) > 1:  # the whole batch failed (network, dead grant): nothing was done
            for work in pending:
                work.op = None
            raise _StopConnection(error) from error
        results = [error]
    counts["requests"] += 1 if len(pending) == 1 else -(-len(pending) // settings.GOOGLE_BATCH_SIZE)
    stop: client.GoogleError | None = None
    for work, result in zip(pending, results, strict=True):
        try:
            _handle(work, result, counts)
        except _StopConnection as exc:
            work.op = None
            work.done = True  # stays needs_push; picked up after backoff or reconnect
            stop = stop or exc.error
    if stop is not None:
        raise _StopConnection(stop)


def _cleanup(session: client.GoogleSession, works: list[Work]) -> None:
    """Delete the old copies of events that were copied to a new calendar instead of moved."""
    for work in works:
        for calendar, event_id in work.cleanup:
            if not event_id or calendar.connection_id != work.link.calendar.connection_id:
                continue
            try:
                session.run(client.EventOp("delete", calendar.calendar_id, event_id))
            except client.NotFound:
                pass
            except client.GoogleError as error:
                logger.warning("Could not delete the old copy %s: %s", event_id, error)


def _works(connection: GoogleConnection, links, *, relocate: bool) -> list[Work]:
    target = connection.calendars.filter(is_linked=True).first()
    base_url = settings.PUBLIC_BASE_URL
    now = timezone.now()
    works = []
    for link in links:
        body = _desired_body(link, base_url)
        works.append(
            Work(
                link=link,
                body=body,
                fingerprint=mapping.fingerprint(body) if body else "",
                version=link.appointment.version,
                target=target,
                upcoming=link.appointment.end >= now,
                connection_id=connection.pk,
            )
        )
    return works


def _load_links(connection: GoogleConnection):
    return list(
        _due_links(connection)
        .select_related("appointment__practice", "appointment__staff__user", "member__user", "calendar")
        .prefetch_related("appointment__assignees__user")
        .order_by("appointment__start")[:ROUND_SIZE]
    )


def _push_claimed(connection: GoogleConnection, counts: Counter, *, relocate: bool) -> bool:
    """Reconcile a round of due links. Returns True when anything was written or settled."""
    connection.refresh_from_db()
    if connection.state != ConnState.ACTIVE:
        _due_links(connection).update(state=LinkState.WAITING)
        counts["waiting"] += _due_links(connection).count()
        return False
    if services.connection_is_backing_off(connection):
        counts["backing_off"] += 1
        return False
    links = _load_links(connection)
    if not links:
        return False
    works = _works(connection, links, relocate=relocate)
    session = services.open_session(connection)
    try:
        for _ in range(6):  # insert → 409 → get → update is the longest chain
            for work in works:
                if not work.done and work.op is None:
                    _plan(work, relocate=relocate)
                    if work.done:
                        _finish(work, counts, "unchanged")
            if not any(w.op for w in works):
                break
            try:
                _run_round(session, works, counts)
            finally:
                _flush(works)  # what Google accepted is recorded even if the round stopped
        _flush(works)
        _cleanup(session, [w for w in works if w.cleanup and w.link.calendar is not None])
    except _StopConnection as stop:
        services.connection_record_failure(connection=connection, error=stop.error)
        if isinstance(stop.error, (client.NeedsReconnect, client.MissingPermission)):
            _due_links(connection).update(state=LinkState.WAITING)
        return any(w.done for w in works)
    services.connection_record_success(connection=connection)
    return True


# --- Resync and catch-up ------------------------------------------------------------------------------


def _mark_upcoming(connection: GoogleConnection) -> int:
    """Make sure every upcoming appointment of the user has a link, and mark them all for a push."""
    now = timezone.now()
    memberships = list(Membership.objects.filter(user_id=connection.user_id).values_list("pk", flat=True))
    upcoming = Appointment.objects.filter(end__gte=now).filter(
        Q(staff_id__in=memberships) | Q(assignees__in=memberships)
    )
    pairs = set()
    for appointment_id, staff_id in upcoming.values_list("pk", "staff_id").distinct():
        if staff_id in memberships:
            pairs.add((appointment_id, staff_id))
    for appointment_id, member_id in Appointment.assignees.through.objects.filter(
        appointment__in=upcoming, membership_id__in=memberships
    ).values_list("appointment_id", "membership_id"):
        pairs.add((appointment_id, member_id))
    EventLink.objects.bulk_create(
        [EventLink(appointment_id=a, member_id=m) for a, m in pairs], ignore_conflicts=True, batch_size=500
    )
    return EventLink.objects.filter(member_id__in=memberships, appointment__end__gte=now).update(
        needs_push=True, state=LinkState.PENDING
    )


def _adopt_tagged(connection: GoogleConnection, session: client.GoogleSession) -> int:
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
    unlinked = _due_links(connection).filter(Q(event_id="") | ~Q(calendar__connection=connection))
    for link in unlinked.select_related("calendar"):
        event = by_key.get((str(link.appointment_id), str(link.member_id)))
        if event is None:
            continue
        link.event_id, link.etag, link.calendar = event["id"], event.get("etag", ""), target
        link.pushed_hash = mapping.fingerprint(event)
        link.save(update_fields=["event_id", "etag", "calendar", "pushed_hash"])
        adopted += 1
    return adopted


def resync_connection(connection_id: int, *, switched_from_calendar_pk: int | None = None) -> dict:
    """Write every upcoming appointment into the linked calendar: adopt, move, or insert — in batches."""
    counts: Counter = Counter()
    connection = _claim(connection_id)
    if connection is None:
        return {"skipped_busy": 1}
    try:
        if connection.state != ConnState.ACTIVE:
            return {"waiting": 1}
        counts["marked"] = _mark_upcoming(connection)
        try:
            counts["adopted"] = _adopt_tagged(connection, services.open_session(connection))
        except client.GoogleError as error:
            services.connection_record_failure(connection=connection, error=error)
            return dict(counts)
        for _ in range(MAX_ROUNDS):
            if not _push_claimed(connection, counts, relocate=True):
                break
            if not _due_links(connection).exists():
                break
    finally:
        _release(connection_id)
    return dict(counts)


def drain_outboxes() -> int:
    """Enqueue a push for every active connection with due links whose backoff has passed."""
    now = timezone.now()
    ids = set(
        GoogleConnection.objects.filter(state=ConnState.ACTIVE)
        .filter(Q(retry_after__isnull=True) | Q(retry_after__lte=now))
        .filter(user__memberships__event_links__needs_push=True)
        .values_list("pk", flat=True)
    )
    for connection_id in ids:
        queue.send_push(connection_id)
    return len(ids)


def retry_failed(link_ids: list[int]) -> int:
    """Put failed links back in the outbox (Django admin action)."""
    links = EventLink.objects.filter(pk__in=link_ids, state=LinkState.FAILED)
    user_ids = set(links.values_list("member__user_id", flat=True))
    count = links.update(needs_push=True, state=LinkState.PENDING, last_error="")
    with transaction.atomic():
        _route_to_connections(user_ids)
    return count


def preview(connection: GoogleConnection) -> list[tuple[EventLink, str]]:
    """What a push would do to each due link now, without calling Google (``sync_google --dry-run``)."""
    works = _works(connection, _load_links(connection), relocate=False)
    plan = []
    for work in works:
        _plan(work, relocate=False)
        plan.append((work.link, work.op.kind if work.op else "nothing"))
    return plan
