"""Interleavings the chaos test found, replayed one step at a time (no threads, no faults).

Each test is the smallest deterministic sequence behind a disagreement the chaos test saw.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from calendars.services import appointment_update
from integrations.google import client, conflicts, mapping, pull, push
from integrations.models import EventLink
from tests.helpers import wait_until

from .conftest import connect_member, tagged_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked(google, staff, book, django_capture_on_commit_callbacks):
    """One connected staff member with one appointment 2 days ahead, pushed to Google."""
    [member] = staff(1)
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect_member(google, member)
    start = datetime.now(member.practice.zone).replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(member, start, start + timedelta(hours=1), title="Crown")
    [[event]] = tagged_events(google, member.user.email).values()
    events = google.service(member.user.email).events()
    return member, connection, appointment, event, events


def test_a_google_edit_made_before_a_no_op_push_is_not_lost(booked, django_capture_on_commit_callbacks):
    """A push that writes nothing does not move ``last_pushed_at``, so the edit is not a stale read."""
    member, connection, appointment, event, events = booked
    email, start = member.user.email, appointment.start
    # 1. Someone moves the event in Google; the worker pulls it, the move reaches the appointment,
    #    and the push that change enqueues is still waiting for the worker.
    later = {
        "start": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "end": {"dateTime": (start + timedelta(hours=2)).isoformat()},
    }
    events.patch(calendarId=email, eventId=event["id"], body=later).execute()
    with django_capture_on_commit_callbacks(execute=False):
        assert pull.pull_account(connection.pk).get("applied") == 1
    # 2. They rename it in Google.
    events.patch(calendarId=email, eventId=event["id"], body={"summary": "Crown fitting"}).execute()
    # 3. The worker runs the waiting push: the appointment equals the moved event, nothing to write.
    assert push.push_due_links(connection.pk).get("unchanged") == 1
    assert EventLink.objects.get(appointment=appointment).needs_push is False
    # 4. The next pull must bring the rename over.
    with django_capture_on_commit_callbacks(execute=True):
        pull.pull_account(connection.pk)

    appointment.refresh_from_db()
    assert (appointment.title, appointment.start) == ("Crown fitting", start + timedelta(hours=1))


def test_without_the_race_a_rename_in_google_reaches_the_appointment(
    booked, django_capture_on_commit_callbacks
):
    """The control for the replay above: the same steps, with the push before the rename."""
    member, connection, appointment, event, events = booked
    email, start = member.user.email, appointment.start
    later = {
        "start": {"dateTime": (start + timedelta(hours=1)).isoformat()},
        "end": {"dateTime": (start + timedelta(hours=2)).isoformat()},
    }
    events.patch(calendarId=email, eventId=event["id"], body=later).execute()
    with django_capture_on_commit_callbacks(execute=True):
        assert pull.pull_account(connection.pk).get("applied") == 1
    events.patch(calendarId=email, eventId=event["id"], body={"summary": "Crown fitting"}).execute()
    with django_capture_on_commit_callbacks(execute=True):
        pull.pull_account(connection.pk)

    appointment.refresh_from_db()
    assert (appointment.title, appointment.start) == ("Crown fitting", start + timedelta(hours=1))


def test_a_google_edit_made_just_after_our_write_is_not_taken_for_a_stale_read(
    google, booked, django_capture_on_commit_callbacks, monkeypatch
):
    """The pull drops a Google copy older than our last write as a stale read: "older" must be by
    Google's clock. Our clock read when the answer was handled can be later than an edit someone
    made right after Google accepted our write (a busy machine handles answers late)."""
    member, connection, appointment, event, events = booked
    email, moved = member.user.email, appointment.start + timedelta(hours=1)
    # 1. A portal user moves the appointment; its push waits for the worker.
    with django_capture_on_commit_callbacks(execute=False):
        appointment_update(
            appointment=appointment, actor=member.user, start=moved, end=moved + timedelta(hours=1)
        )
    # 2. The worker writes the move. Google has accepted it, and before the worker handles the answer
    #    someone renames the event in Google.
    real_after_update = push.AFTER["update"]

    def handled_late(pushed, op, answer, counts):
        if isinstance(answer, dict):
            events.patch(calendarId=email, eventId=event["id"], body={"summary": "Crown fitting"}).execute()
        return real_after_update(pushed, op, answer, counts)

    monkeypatch.setitem(push.AFTER, "update", handled_late)
    assert push.push_due_links(connection.pk).get("updated") == 1
    monkeypatch.setitem(push.AFTER, "update", real_after_update)
    # 3. The next pull must bring the rename over: it is newer than the move Google accepted.
    with django_capture_on_commit_callbacks(execute=True):
        pull.pull_account(connection.pk)

    appointment.refresh_from_db()
    assert (appointment.title, appointment.start) == ("Crown fitting", moved)
    [[copy]] = tagged_events(google, email).values()
    assert copy["summary"] == "Crown fitting"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_booking_does_not_wait_for_a_google_change_being_applied(google, staff, book, monkeypatch):
    """Applying a Google change locks only the appointment and its link, never the practice row."""
    from django.db import connection as db_connection
    from django.db import transaction

    alice, bob = staff(2)
    connect_member(google, alice)
    start = datetime.now(alice.practice.zone).replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=2)
    appointment = book(alice, start, start + timedelta(hours=1), title="Crown")  # pushed on commit
    [[event]] = tagged_events(google, alice.user.email).values()
    link = EventLink.objects.get(appointment=appointment)
    inside, release = threading.Event(), threading.Event()
    real_update = conflicts.appointment_update

    def slow_update(**kwargs):  # the Google change is being applied, inside apply_our_event's transaction
        inside.set()
        release.wait(timeout=30)
        return real_update(**kwargs)

    monkeypatch.setattr(conflicts, "appointment_update", slow_update)
    renamed = {**event, "summary": "Crown fitting", "updated": "2999-01-01T00:00:00.000Z", "etag": '"new"'}

    worker = _thread(lambda: conflicts.apply_our_event(link=link, event=renamed))
    try:
        assert inside.wait(timeout=30)
        # Meanwhile someone books bob, another staff member of the practice, at another time.
        with transaction.atomic():
            with db_connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            book(bob, start + timedelta(days=1), start + timedelta(days=1, hours=1), title="Filling")
    finally:
        release.set()
        worker.join(timeout=30)


@pytest.fixture
def crown(google, staff, book):
    """One connected staff member with an appointment "Crown" 2 days ahead, pushed on a real commit."""
    [member] = staff(1)
    connection = connect_member(google, member)
    start = datetime.now(member.practice.zone).replace(hour=10, minute=0, second=0, microsecond=0)
    start += timedelta(days=2)
    appointment = book(member, start, start + timedelta(hours=1), title="Crown")  # pushed on commit
    return member, connection, appointment


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_committed_while_its_link_is_being_recorded_is_pushed(google, crown, monkeypatch):
    """A portal edit that marks the link while the push of the previous edit records it is not lost.

    The chaos test's interleaving, one step at a time (PostgreSQL, two connections): the record
    step's ``UPDATE`` that clears ``needs_push`` when the appointment is still at the pushed version
    waited for the edit's row lock on the link, then compared with the version its own snapshot
    had (from before the edit committed) and cleared the edit's mark.
    """
    step = _PausedStep(push, "record_synced", when=lambda pushes: bool(pushes))
    _rename_while_the_move_is_recorded(google, crown, step, monkeypatch)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_edit_committed_while_a_refused_push_is_recorded_is_pushed(google, crown, monkeypatch):
    """The failure step compares the appointment's version like the record step: the same race.

    Google refuses the push of a move for good (400); while the push records the refusal (``_fail``:
    not retried unless the appointment changed), a portal user renames the appointment. The rename
    must be pushed, not left behind a "failed" link whose mark the refusal cleared.
    """
    moved = crown[2].start + timedelta(hours=1)
    real_body = mapping.event_body

    def refused_when_moved_as_crown(appointment, *args, **kwargs):  # Google answers 400 to this state only
        body = real_body(appointment, *args, **kwargs)
        if appointment.title == "Crown" and appointment.start == moved:
            body.pop("end")
        return body

    monkeypatch.setattr(mapping, "event_body", refused_when_moved_as_crown)
    step = _PausedStep(push, "_fail", when=lambda pushed, counts, error: isinstance(error, client.BadRequest))
    _rename_while_the_move_is_recorded(google, crown, step, monkeypatch)
    assert EventLink.objects.get(appointment=crown[2]).state == EventLink.State.SYNCED


def _rename_while_the_move_is_recorded(google, crown, step: _PausedStep, monkeypatch) -> None:
    """The replays' interleaving, then the check that the rename reached Google.

    1. A portal user moves the appointment; its push (inline on commit, as in chaos) has Google's
       answer and is about to record it (``step``).
    2. Another portal user renames it: the edit marks the link (and holds its rows) ...
    3. ... while the push records the move, and must wait for the rename to commit.
    4. The rename commits; its own push finds the connection busy and leaves it to that push.
    5. The rename must still be due, or in Google already (the busy push looked again).
    """
    member, connection, appointment = crown
    moved = appointment.start + timedelta(hours=1)

    def move() -> None:
        appointment_update(
            appointment=appointment, actor=member.user, start=moved, end=moved + timedelta(hours=1)
        )

    step.install(monkeypatch)
    step.replay(
        move, lambda: appointment_update(appointment=appointment, actor=member.user, title="Crown fitting")
    )

    link = EventLink.objects.get(appointment=appointment)
    push.push_due_links(connection.pk)
    [[event]] = tagged_events(google, member.user.email).values()
    assert event["summary"] == "Crown fitting", f"the rename was lost: link {link.needs_push=} {link.state=}"
    assert datetime.fromisoformat(event["start"]["dateTime"]) == moved


class _PausedStep:
    """Pause a push step (``module.name``) in a worker thread, run an edit in the main thread meanwhile.

    ``replay(work, edit)`` runs ``work`` in a thread of its own with its own database connection; when
    the step is about to run there (and ``when(*args)`` holds), the thread waits; the main thread runs
    ``edit`` in a transaction, lets the step go and checks, before committing, that the step waits for
    a lock of the edit's (pg_locks); then the edit commits and the thread finishes.
    """

    def __init__(self, module, name: str, *, when):
        self.module, self.name, self.when = module, name, when
        self.real = getattr(module, name)
        self.ready, self.go, self.done = threading.Event(), threading.Event(), threading.Event()
        self.backend: list[int] = []

    def install(self, monkeypatch) -> None:
        monkeypatch.setattr(self.module, self.name, self._paused)

    def _paused(self, *args, **kwargs):
        from django.db import connection as db_connection

        in_worker = threading.current_thread() is not threading.main_thread()
        if in_worker and not self.ready.is_set() and self.when(*args, **kwargs):
            with db_connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.backend.append(cursor.fetchone()[0])
            self.ready.set()
            assert self.go.wait(timeout=30)
        return self.real(*args, **kwargs)

    def replay(self, work, edit) -> None:
        from django.db import connection as db_connection
        from django.db import transaction

        def run() -> None:
            try:
                work()
            finally:
                self.done.set()

        worker = _thread(run)
        try:
            assert self.ready.wait(timeout=30), f"{self.name} was never reached"
            with transaction.atomic():
                edit()
                self.go.set()
                with db_connection.cursor() as cursor:
                    wait_until(
                        lambda: _waits_for_a_lock(cursor, self.backend[0]) or self.done.is_set(), timeout=30
                    )
                assert not self.done.is_set(), f"{self.name} wrote the link without waiting for the edit"
        finally:
            self.go.set()
            worker.join(timeout=60)
        assert not worker.is_alive()


def _waits_for_a_lock(cursor, pid: int) -> bool:
    cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND NOT granted)", [pid])
    return cursor.fetchone()[0]


def _thread(work) -> threading.Thread:
    """Run ``work`` in a started daemon thread with its own database connection, closed at the end."""
    from django.db import connection as db_connection

    def run() -> None:
        try:
            work()
        finally:
            db_connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
