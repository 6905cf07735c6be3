"""Appointments → Google: push a connection's due links, reconciling Google to each appointment's
current state (several edits make one write; a create then a cancel writes nothing).

1. Claim the connection: a row lock that skips locked rows, then a short lease, renewed while
   the Google calls run (``LeaseKeeper``).
2. Plan each due link: insert, update, move or delete, or nothing when Google already shows it.
3. Run the round (batched) and read each answer; a 409 or 412 reads the event before going on.
4. Record what Google accepted, one statement per link, even when the round stopped halfway.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection as db
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from calendars.models import Appointment
from calendars.services import appointments_hold_versions
from copilot.accounts.models import Practice

from .. import services
from ..models import EventLink, GoogleCalendar, GoogleConnection
from . import client, conflicts, mapping
from .events import updated_at

logger = logging.getLogger(__name__)
LinkState = EventLink.State
ConnState = GoogleConnection.State
LEASE = timedelta(seconds=30)  # a worker killed mid-push holds its connection up this long at most
ROUND_SIZE = 500
MAX_ROUNDS = 12  # per push task (a resync runs until done)
MAX_STEPS = 6  # insert → 409 → get → update is the longest chain
STOPS_THE_CONNECTION = (client.Retryable, client.NeedsReconnect, client.MissingPermission)
SYNCED = {"inserted", "updated", "deleted", "unchanged"}


# --- 1. Claiming a connection -----------------------------------------------------------------------


def claim(connection_id: int) -> GoogleConnection | None:
    """Take the connection's push lease, or None when another worker holds it.

    The row lock skips locked rows, so many workers on many machines share the queue;
    the lease (not a long transaction) covers the Google calls themselves. It is short (``LEASE``)
    and renewed by ``LeaseKeeper`` while the push runs, so a worker killed mid-push holds the
    connection up for at most ``LEASE``.
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


def release(connection_id: int, *, until: datetime | None = None) -> None:
    """Give the lease back (only the one that ends at ``until``, when given: never another worker's)."""
    leases = GoogleConnection.objects.filter(pk=connection_id)
    if until is not None:
        leases = leases.filter(push_lease_until=until)
    leases.update(push_lease_until=None)


class LeaseKeeper:
    """Renews a claimed connection's lease every ``LEASE / 3`` from a thread, until stopped.

    The lease is renewed only while it is still the one this worker set (compared by value), so a
    worker whose lease was lost (it stalled past ``LEASE``) never extends another worker's.
    """

    def __init__(self, connection: GoogleConnection) -> None:
        self.connection_id = connection.pk
        self.until = connection.push_lease_until
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{connection.pk}", daemon=True)

    def renew(self) -> bool:
        """Push the lease's end ``LEASE`` ahead; False when this worker no longer holds it."""
        until = timezone.now() + LEASE
        held = GoogleConnection.objects.filter(pk=self.connection_id, push_lease_until=self.until).update(
            push_lease_until=until
        )
        if held:
            self.until = until
        return bool(held)

    def _run(self) -> None:
        try:
            while not self._stop.wait(LEASE.total_seconds() / 3):
                if not self.renew():
                    logger.warning("Lost the push lease of connection %s", self.connection_id)
                    return
        except Exception:  # the push goes on; at worst its lease runs out
            logger.exception("Renewing the push lease of connection %s failed", self.connection_id)
        finally:
            db.close()  # this thread's own database connection

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        release(self.connection_id, until=self.until)


def due_links(connection: GoogleConnection):
    return EventLink.objects.filter(member__user_id=connection.user_id, needs_push=True)


def push_due_links(connection_id: int) -> dict:
    """Push the connection's outbox until it is empty, Google refuses, or another worker has it.

    Returns counts of what was done (inserted, updated, deleted, unchanged, failed, ...).
    """
    counts: Counter = Counter()
    for _ in range(MAX_ROUNDS):
        connection = claim(connection_id)
        if connection is None:
            counts["skipped_busy"] += 1
            break
        with LeaseKeeper(connection):
            progressed = push_round(connection, counts, relocate=False)
        # A change committed while we held the lease had its own task skipped: look again.
        if not progressed or not due_links(connection).exists():
            break
    return dict(counts)


# --- 2. Planning ------------------------------------------------------------------------------------


class Read(enum.Enum):
    """Why a push reads its event before going on."""

    DUPLICATE = "an insert got 409: is the event ours, from an earlier try?"
    CONFLICT = "an update got 412: the event changed in Google since our last write"


@dataclass
class LinkPush:
    """One link being reconciled with Google in this round."""

    link: EventLink
    body: dict | None  # what Google should show; None: no event
    fingerprint: str
    version: int  # the appointment's version this push writes
    target: GoogleCalendar | None  # the connection's linked calendar
    upcoming: bool
    connection_id: int
    op: client.EventOp | None = None  # the next request
    calendar: GoogleCalendar | None = None  # the calendar ``op`` runs against
    reading: Read | None = None  # set when ``op`` reads the event
    written_at: datetime | None = None  # Google's ``updated`` of the event as we last wrote or read it
    cleanup: list[tuple[GoogleCalendar, str]] = field(default_factory=list)
    outcome: str = ""  # once finished: inserted, updated, deleted, unchanged, failed, stopped, conflict

    @property
    def finished(self) -> bool:
        return bool(self.outcome)


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


def link_pushes(connection: GoogleConnection, links) -> list[LinkPush]:
    target = connection.calendars.filter(is_linked=True).first()
    base_url = settings.PUBLIC_BASE_URL
    now = timezone.now()
    pushes = []
    for link in links:
        body = _desired_body(link, base_url)
        pushes.append(
            LinkPush(
                link=link,
                body=body,
                fingerprint=mapping.fingerprint(body) if body else "",
                version=link.appointment.version,
                target=target,
                upcoming=link.appointment.end >= now,
                connection_id=connection.pk,
            )
        )
    return pushes


def load_due_links(connection: GoogleConnection) -> list[EventLink]:
    return list(
        due_links(connection)
        .select_related(
            "appointment__practice",
            "appointment__staff__user",
            "appointment__appointment_type",
            "member__user",
            "calendar",
        )
        .prefetch_related("appointment__assignees__user")
        .order_by("appointment__start")[:ROUND_SIZE]
    )


def plan(push: LinkPush, *, relocate: bool) -> None:
    """Set ``push.op`` to the request its link needs now; leave it None when Google already agrees."""
    link, target = push.link, push.target
    # An event in a calendar of another (older) connection cannot be reached with this one.
    has_event = (
        bool(link.event_id)
        and link.calendar is not None
        and link.calendar.connection_id == push.connection_id
    )
    if push.body is None:
        if has_event:
            push.op = client.EventOp("delete", link.calendar.calendar_id, link.event_id)
            push.calendar = link.calendar
        return
    if has_event and relocate and push.upcoming and target and link.calendar_id != target.pk:
        if link.calendar.connection_id == target.connection_id:
            push.op = client.EventOp(
                "move", link.calendar.calendar_id, link.event_id, destination=target.calendar_id
            )
            push.calendar = link.calendar
            return
        push.cleanup.append((link.calendar, link.event_id))
        link.event_id, link.calendar, has_event = "", None, False
    if has_event:
        if link.pushed_hash != push.fingerprint:
            push.op = client.EventOp(
                "update", link.calendar.calendar_id, link.event_id, body=dict(push.body), etag=link.etag
            )
            push.calendar = link.calendar
        return
    if target is None:
        return  # nowhere to write
    event_id = mapping.event_id_for(
        appointment_id=link.appointment_id,
        member_id=link.member_id,
        calendar_id=target.calendar_id,
        generation=link.generation,
    )
    push.op = client.EventOp("insert", target.calendar_id, event_id, body={**push.body, "id": event_id})
    push.calendar = target


# --- 3. Running a round and reading the answers ---------------------------------------------------------


def _forget_event(push: LinkPush, *, next_generation: bool) -> None:
    link = push.link
    link.event_id, link.etag, link.pushed_hash = "", "", ""
    push.written_at = None
    if next_generation:
        link.generation += 1  # the old id was deleted in Google and cannot be reused


def _adopt_answer(push: LinkPush, event: dict, calendar: GoogleCalendar | None) -> None:
    link = push.link
    link.event_id = event.get("id", link.event_id)
    link.etag = event.get("etag", "")
    link.calendar = calendar
    link.pushed_hash = mapping.fingerprint(event)
    push.written_at = updated_at(event)


def _succeed(push: LinkPush, counts: Counter, outcome: str) -> None:
    """Mark ``push`` synced in memory; ``record_synced`` writes a round's synced links together."""
    push.outcome = outcome
    counts[outcome] += 1
    link = push.link
    link.state = LinkState.SYNCED
    link.last_error = ""
    if outcome != "unchanged":
        # Only a real write moves this mark: the pull side treats Google edits older than our
        # last write as stale reads, and a no-op push has not seen (or overwritten) anything.
        # Google's own stamp of our write, not our clock after the answer: a Google edit made
        # between the two (a busy worker handles answers late) is newer, not a stale read.
        # A delete has no stamp: our clock then.
        link.last_pushed_at = push.written_at or timezone.now()


def _fail(push: LinkPush, counts: Counter, error: client.GoogleError) -> None:
    """Google refused this link for good: record why, now. Not retried unless the appointment changes."""
    push.outcome = "failed"
    counts["failed"] += 1
    link = push.link
    link.state = LinkState.FAILED
    link.last_error = str(error)[:2000]
    link.attempts += 1
    changed_since = ~Exists(Appointment.objects.filter(pk=OuterRef("appointment_id"), version=push.version))
    with transaction.atomic():
        # As in ``record_synced``: a booking that changed the appointment while Google answered must
        # be seen, or the comparison reads the old version and clears the booking's mark.
        appointments_hold_versions(appointment_ids=[link.appointment_id])
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


def _read_first(push: LinkPush, op: client.EventOp, why: Read) -> None:
    push.op, push.reading = client.EventOp("get", op.calendar_id, op.event_id), why


def _after_insert(push: LinkPush, op: client.EventOp, answer, counts: Counter) -> None:
    if isinstance(answer, client.Duplicate):
        _read_first(push, op, Read.DUPLICATE)
    elif isinstance(answer, client.GoogleError):
        _fail(push, counts, answer)
    else:
        _adopt_answer(push, answer, push.calendar)
        _succeed(push, counts, "inserted")


def _after_update(push: LinkPush, op: client.EventOp, answer, counts: Counter) -> None:
    if isinstance(answer, client.PreconditionFailed):
        _read_first(push, op, Read.CONFLICT)
    elif isinstance(answer, client.NotFound):
        _forget_event(push, next_generation=True)  # planned again: an insert
    elif isinstance(answer, client.GoogleError):
        _fail(push, counts, answer)
    else:
        _adopt_answer(push, answer, push.calendar)
        _succeed(push, counts, "updated")


def _after_delete(push: LinkPush, op: client.EventOp, answer, counts: Counter) -> None:
    if isinstance(answer, client.GoogleError) and not isinstance(answer, client.NotFound):
        _fail(push, counts, answer)
    else:
        _forget_event(push, next_generation=False)
        _succeed(push, counts, "deleted")


def _after_move(push: LinkPush, op: client.EventOp, answer, counts: Counter) -> None:
    link = push.link
    if isinstance(answer, client.GoogleError):
        # Moving is not possible (for example no write access to the old calendar): copy, then delete.
        push.cleanup.append((link.calendar, link.event_id))
        link.event_id, link.calendar = "", None
    else:
        _adopt_answer(push, answer, push.target)
        counts["moved"] += 1


def _after_read(push: LinkPush, op: client.EventOp, answer, counts: Counter) -> None:
    link, reading = push.link, push.reading
    push.reading = None
    if reading is Read.CONFLICT and isinstance(answer, dict) and mapping.our_tags(answer) is not None:
        # Both sides changed: the newer change wins. If ours did, the link stays due and the next
        # round reloads it and writes with the new etag.
        outcome = conflicts.apply_our_event(link=link, event=answer)
        push.outcome = "conflict"
        counts["conflict_" + outcome] += 1
    elif isinstance(answer, client.NotFound) or (
        isinstance(answer, dict) and answer.get("status") == "cancelled"
    ):
        _forget_event(push, next_generation=True)
    elif isinstance(answer, client.GoogleError):
        _fail(push, counts, answer)
    elif (mapping.our_tags(answer) or {}).get(mapping.TAG_APPOINTMENT) != str(link.appointment_id):
        _fail(push, counts, client.BadRequest("An event with our id exists but is not this appointment's."))
    else:
        _adopt_answer(push, answer, push.calendar)  # ours: planned again, updated only if it differs


AFTER = {
    "insert": _after_insert,
    "update": _after_update,
    "delete": _after_delete,
    "move": _after_move,
    "get": _after_read,
}


def run_round(
    session: client.GoogleSession, running: list[LinkPush], counts: Counter
) -> client.GoogleError | None:
    """Send the planned requests (batched when several) and read each answer.

    Returns the error that stops the whole connection (network, dead grant, missing permission,
    rate limit); the links it hit stay due for after the backoff or the reconnect.
    """
    try:
        if len(running) == 1:
            answers = [session.run(running[0].op)]
        else:
            answers = session.run_batch([p.op for p in running])
    except client.GoogleError as error:
        if len(running) > 1:  # the whole batch failed: nothing was done
            for push in running:
                push.op = None
            return error
        answers = [error]
    counts["requests"] += 1 if len(running) == 1 else -(-len(running) // settings.GOOGLE_BATCH_SIZE)
    stop: client.GoogleError | None = None
    for push, answer in zip(running, answers, strict=True):
        op, push.op = push.op, None
        if isinstance(answer, STOPS_THE_CONNECTION):
            push.outcome = "stopped"  # stays due
            stop = stop or answer
            continue
        AFTER[op.kind](push, op, answer, counts)
    return stop


# --- 4. Recording -----------------------------------------------------------------------------------


_SYNCED_FIELDS = [
    "event_id",
    "etag",
    "calendar",
    "pushed_hash",
    "generation",
    "state",
    "last_error",
    "last_pushed_at",
]


def record_synced(pushes: list[LinkPush]) -> None:
    """Write synced links with one prepared statement (not two queries per link)."""
    if not pushes:
        return
    fields = [EventLink._meta.get_field(name) for name in _SYNCED_FIELDS]
    quote = db.ops.quote_name
    link_table, appointment_table = quote(EventLink._meta.db_table), quote(Appointment._meta.db_table)
    # The appointments' versions are held first (their bookings committed and seen), then one
    # statement per link, so each row is updated once in the transaction (a second UPDATE of
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
        [f.get_db_prep_save(getattr(p.link, f.attname), db) for f in fields] + [p.version, False, p.link.pk]
        for p in pushes
    ]
    with transaction.atomic():
        # A booking that changed one of these appointments while Google answered must be seen.
        appointments_hold_versions(appointment_ids=[p.link.appointment_id for p in pushes])
        with db.cursor() as cursor:
            cursor.executemany(sql, rows)


def _delete_old_copies(session: client.GoogleSession, pushes: list[LinkPush]) -> None:
    """Delete the old copies of events that were copied to a new calendar instead of moved."""
    for push in pushes:
        for calendar, event_id in push.cleanup:
            if not event_id or calendar.connection_id != push.link.calendar.connection_id:
                continue
            try:
                session.run(client.EventOp("delete", calendar.calendar_id, event_id))
            except client.NotFound:
                pass
            except client.GoogleError as error:
                logger.warning("Could not delete the old copy %s: %s", event_id, error)


def _reconcile(
    session: client.GoogleSession, pushes: list[LinkPush], counts: Counter, *, relocate: bool
) -> client.GoogleError | None:
    """Plan, run and record step by step until every link is finished; returns what stopped it."""
    for _ in range(MAX_STEPS):
        open_before = [p for p in pushes if not p.finished]
        for push in open_before:
            if push.op is None:
                plan(push, relocate=relocate)
                if push.op is None:
                    _succeed(push, counts, "unchanged")
        running = [p for p in pushes if p.op is not None]
        try:
            stop = run_round(session, running, counts) if running else None
        finally:  # what Google accepted is recorded even when the round stopped or raised
            record_synced([p for p in open_before if p.outcome in SYNCED])
        if stop is not None or not running:
            return stop
    return None


def push_round(connection: GoogleConnection, counts: Counter, *, relocate: bool) -> bool:
    """Reconcile a round of a claimed connection's due links. Returns True when anything was finished."""
    connection.refresh_from_db()
    if connection.state != ConnState.ACTIVE:
        due_links(connection).update(state=LinkState.WAITING)
        counts["waiting"] += due_links(connection).count()
        return False
    if services.connection_is_backing_off(connection):
        counts["backing_off"] += 1
        return False
    links = load_due_links(connection)
    if not links:
        return False
    pushes = link_pushes(connection, links)
    session = services.open_session(connection)
    stop = _reconcile(session, pushes, counts, relocate=relocate)
    if stop is not None:
        services.connection_record_failure(connection=connection, error=stop)
        if isinstance(stop, (client.NeedsReconnect, client.MissingPermission)):
            due_links(connection).update(state=LinkState.WAITING)
        return any(p.finished for p in pushes)
    _delete_old_copies(session, [p for p in pushes if p.cleanup and p.link.calendar is not None])
    services.connection_record_success(connection=connection)
    return True


def preview(connection: GoogleConnection) -> list[tuple[EventLink, str]]:
    """What a push would do to each due link now, without calling Google (``sync_google --dry-run``)."""
    pushes = link_pushes(connection, load_due_links(connection))
    for push in pushes:
        plan(push, relocate=False)
    return [(push.link, push.op.kind if push.op else "nothing") for push in pushes]
