"""The appointment book's booking rules, updates, cancellations and hooks."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from calendars import hooks
from calendars.models import Appointment, AppointmentChange, WorkingHours
from calendars.services import (
    BookingError,
    Overrides,
    appointment_book,
    appointment_cancel,
    appointment_lock,
    appointment_record_conflict,
    appointment_update,
    appointments_hold_versions,
    working_hours_set,
)
from tests.conftest import local, make_member

Source = AppointmentChange.Source

# Monday 23 November 2026; New York is on EST (UTC-5) then.
DAY = (2026, 11, 23)


def at(practice, hour: int, minute: int = 0, day: tuple[int, int, int] = DAY):
    return local(practice, *day, hour, minute)


def history(appointment: Appointment) -> list[tuple[str, str, str]]:
    return [
        (c.action, c.source, c.summary) for c in AppointmentChange.objects.filter(appointment=appointment)
    ]


@pytest.fixture
def hook_calls():
    """Record every ``appointment_changed`` call: what the listener sees of the appointment then."""
    calls = []

    def listener(appointment):
        latest = AppointmentChange.objects.filter(appointment_id=appointment.pk).order_by("-pk").first()
        calls.append(
            {
                "pk": appointment.pk,
                "status": appointment.status,
                "source": latest.source if latest else None,
                "staff_id": appointment.staff_id,
                "saved": Appointment.objects.filter(pk=appointment.pk).exists(),
            }
        )

    hooks.register_appointment_listener(listener)
    yield calls
    hooks._listeners.remove(listener)


# --- Booking rules -------------------------------------------------------------------------


def test_booking_stores_the_appointment_and_a_history_line(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 9, 30), title="Cleaning", location="Room 2")
    appointment.refresh_from_db()
    assert (appointment.title, appointment.location, appointment.status) == ("Cleaning", "Room 2", "booked")
    assert appointment.start == at(p, 9) and appointment.end == at(p, 9, 30)
    assert appointment.version == 1 and appointment.created_by == bob.user
    assert history(appointment) == [("booked", Source.PORTAL, "Booked Mon 23 Nov 09:00–09:30")]


@pytest.mark.parametrize("end_minute", [0, -30], ids=["end-equals-start", "end-before-start"])
def test_end_must_be_after_start(bob, book, end_minute):
    p = bob.practice
    start = at(p, 10)
    end = at(p, 9, 30) if end_minute else start
    with pytest.raises(BookingError) as info:
        book(bob, start, end)
    assert info.value.code == "end_before_start"
    assert "end must be after the start" in str(info.value)
    assert not Appointment.objects.exists()


def test_booking_outside_working_hours_is_refused(bob, book):
    p = bob.practice  # bob works 08:00–18:00
    with pytest.raises(BookingError) as info:
        book(bob, at(p, 17, 30), at(p, 18, 30))
    assert info.value.code == "outside_hours"
    assert "Mon 23 Nov 17:30–18:30 is outside Bob's working hours" in str(info.value)


def test_booking_at_the_edges_of_working_hours_is_allowed(bob, book):
    p = bob.practice
    book(bob, at(p, 8), at(p, 8, 30))
    book(bob, at(p, 17, 30), at(p, 18))
    assert Appointment.objects.count() == 2


def test_admin_override_books_outside_working_hours(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 19), at(p, 20), overrides=Overrides(outside_hours=True))
    assert appointment.pk and appointment.start == at(p, 19)


def test_staff_without_working_hours_can_be_booked_any_time(practice_a, book):
    member = make_member(practice_a, "nohours@a.test")
    appointment = book(member, at(practice_a, 22), at(practice_a, 23))
    assert appointment.pk


def test_overlap_is_refused_naming_the_conflict_in_the_practice_time_zone(bob, book):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10), title="Root canal")
    with pytest.raises(BookingError) as info:
        book(bob, at(p, 9, 30), at(p, 10, 30), title="Check-up")
    assert info.value.code == "overlap"
    # 09:00 New York is 14:00 UTC: the message speaks the practice's wall clock.
    assert info.value.messages == ["Bob already has “Root canal” Mon 23 Nov 09:00–10:00."]
    assert Appointment.objects.count() == 1


@pytest.mark.parametrize(
    "start,end",
    [((8, 30), (9, 30)), ((9, 15), (9, 45)), ((8, 0), (11, 0)), ((9, 0), (10, 0))],
    ids=["overlaps-start", "inside", "surrounds", "same-time"],
)
def test_every_kind_of_overlap_is_refused(bob, book, start, end):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10))
    with pytest.raises(BookingError):
        book(bob, at(p, *start), at(p, *end))


def test_back_to_back_appointments_do_not_overlap(bob, book):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10))
    book(bob, at(p, 8), at(p, 9))
    book(bob, at(p, 10), at(p, 11))
    assert Appointment.objects.count() == 3


def test_another_staff_member_can_be_booked_at_the_same_time(bob, dora, book):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10))
    assert book(dora, at(p, 9), at(p, 10)).pk


def test_a_cancelled_appointment_frees_its_slot(bob, book):
    p = bob.practice
    first = book(bob, at(p, 9), at(p, 10))
    appointment_cancel(appointment=first, actor=bob.user)
    second = book(bob, at(p, 9), at(p, 10))
    assert second.pk != first.pk and second.status == Appointment.Status.BOOKED


def test_busy_time_from_another_calendar_refuses_the_booking(bob, book, busy_source):
    p = bob.practice
    busy_source.add(bob, at(p, 12), at(p, 13), source="Personal")
    with pytest.raises(BookingError) as info:
        book(bob, at(p, 12, 30), at(p, 13, 30))
    assert info.value.code == "busy"
    assert info.value.messages == ["Busy in “Personal” Mon 23 Nov 12:00–13:00."]
    assert not Appointment.objects.exists()


def test_admin_confirmation_books_over_busy_time(bob, book, busy_source):
    p = bob.practice
    busy_source.add(bob, at(p, 12), at(p, 13))
    appointment = book(bob, at(p, 12), at(p, 12, 30), overrides=Overrides(busy_time=True))
    assert appointment.pk


def test_busy_time_of_someone_else_does_not_block(bob, dora, book, busy_source):
    p = bob.practice
    busy_source.add(dora, at(p, 12), at(p, 13))
    assert book(bob, at(p, 12), at(p, 12, 30)).pk


def test_busy_time_override_does_not_allow_double_booking(bob, book, busy_source):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10))
    with pytest.raises(BookingError) as info:
        book(bob, at(p, 9), at(p, 10), overrides=Overrides(busy_time=True, outside_hours=True))
    assert info.value.code == "overlap"


def test_freshness_warnings_are_returned_with_the_booking(bob, busy_source):
    p = bob.practice
    busy_source.warning = "Could not check Bob's Google calendar just now; busy time may be out of date."
    result = appointment_book(
        practice=p, staff=bob, start=at(p, 9), end=at(p, 10), title="Check-up", created_by=bob.user
    )
    assert result.appointment.pk
    assert result.warnings == [busy_source.warning]
    assert busy_source.fresh_calls == [(bob.pk, at(p, 9), at(p, 10))]


def test_no_warnings_when_busy_time_is_fresh(bob, busy_source):
    p = bob.practice
    result = appointment_book(
        practice=p, staff=bob, start=at(p, 9), end=at(p, 10), title="Check-up", created_by=bob.user
    )
    assert result.warnings == []


def test_staff_of_another_practice_cannot_be_booked(practice_a, charlie):
    with pytest.raises(BookingError) as info:
        appointment_book(
            practice=practice_a,
            staff=charlie,
            start=at(practice_a, 9),
            end=at(practice_a, 10),
            title="Check-up",
            created_by=charlie.user,
        )
    assert info.value.code == "staff"
    assert not Appointment.objects.exists()


def test_inactive_staff_cannot_be_booked(bob, book):
    bob.is_active = False
    bob.save()
    with pytest.raises(BookingError) as info:
        book(bob, at(bob.practice, 9), at(bob.practice, 10))
    assert info.value.code == "staff"


def test_assignees_are_saved(bob, dora, alice, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10), assignees=[dora, alice])
    assert set(appointment.assignees.all()) == {dora, alice}


def test_assignees_must_be_staff_of_the_practice(bob, charlie, book):
    p = bob.practice
    with pytest.raises(BookingError) as info:
        book(bob, at(p, 9), at(p, 10), assignees=[charlie])
    assert info.value.code == "assignees"
    assert not Appointment.objects.exists()


# --- Updates ---------------------------------------------------------------------------------


def test_moving_to_free_time_saves_bumps_the_version_and_records_history(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    result = appointment_update(appointment=appointment, actor=bob.user, start=at(p, 11), end=at(p, 12))
    appointment.refresh_from_db()
    assert (appointment.start, appointment.end, appointment.version) == (at(p, 11), at(p, 12), 2)
    assert result.appointment.version == 2
    assert history(appointment)[0] == ("changed", Source.PORTAL, "Moved to Mon 23 Nov 11:00–12:00")


def test_each_change_increments_the_version(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    appointment_update(appointment=appointment, actor=bob.user, title="Filling")
    appointment_update(appointment=appointment, actor=bob.user, notes="Upper left molar")
    appointment.refresh_from_db()
    assert appointment.version == 3
    assert [h[2] for h in history(appointment)] == [
        "Notes changed",
        "Title changed",
        "Booked Mon 23 Nov 09:00–10:00",
    ]


def test_moving_onto_another_appointment_is_refused_and_changes_nothing(bob, book):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10), title="Crown fitting")
    other = book(bob, at(p, 11), at(p, 12))
    with pytest.raises(BookingError) as info:
        appointment_update(appointment=other, actor=bob.user, start=at(p, 9, 30), end=at(p, 10, 30))
    assert info.value.messages == ["Bob already has “Crown fitting” Mon 23 Nov 09:00–10:00."]
    other.refresh_from_db()
    assert (other.start, other.version) == (at(p, 11), 1)
    assert len(history(other)) == 1


def test_moving_outside_working_hours_is_refused_unless_overridden(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    with pytest.raises(BookingError) as info:
        appointment_update(appointment=appointment, actor=bob.user, start=at(p, 19), end=at(p, 20))
    assert info.value.code == "outside_hours"
    appointment_update(
        appointment=appointment,
        actor=bob.user,
        start=at(p, 19),
        end=at(p, 20),
        overrides=Overrides(outside_hours=True),
    )
    appointment.refresh_from_db()
    assert appointment.start == at(p, 19)


def test_reassigning_to_a_busy_colleague_is_refused(bob, dora, book):
    p = bob.practice
    book(dora, at(p, 9), at(p, 10), title="Extraction")
    appointment = book(bob, at(p, 9), at(p, 10))
    with pytest.raises(BookingError) as info:
        appointment_update(appointment=appointment, actor=bob.user, staff=dora)
    assert "Dora already has “Extraction”" in str(info.value)


def test_a_change_made_in_google_is_accepted_and_flagged_when_it_conflicts(bob, book):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10))
    moved = book(bob, at(p, 11), at(p, 12))
    result = appointment_update(
        appointment=moved, actor=None, source=Source.GOOGLE, start=at(p, 9, 30), end=at(p, 10, 30)
    )
    moved.refresh_from_db()
    assert moved.start == at(p, 9, 30) and moved.has_conflict
    assert result.appointment.has_conflict
    assert history(moved)[0] == ("changed", Source.GOOGLE, "Moved to Mon 23 Nov 09:30–10:30")


def test_a_change_made_in_google_onto_busy_time_is_flagged(bob, book, busy_source):
    p = bob.practice
    busy_source.add(bob, at(p, 15), at(p, 16))
    appointment = book(bob, at(p, 9), at(p, 10))
    appointment_update(
        appointment=appointment, actor=None, source=Source.GOOGLE, start=at(p, 15), end=at(p, 16)
    )
    appointment.refresh_from_db()
    assert appointment.has_conflict


def test_a_change_made_in_google_outside_working_hours_is_accepted_without_a_flag(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    appointment_update(
        appointment=appointment, actor=None, source=Source.GOOGLE, start=at(p, 21), end=at(p, 22)
    )
    appointment.refresh_from_db()
    assert appointment.start == at(p, 21) and not appointment.has_conflict


def test_moving_a_flagged_appointment_to_free_time_in_the_portal_clears_the_flag(bob, book):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10))
    moved = book(bob, at(p, 11), at(p, 12))
    appointment_update(appointment=moved, actor=None, source=Source.GOOGLE, start=at(p, 9), end=at(p, 10))
    appointment_update(appointment=moved, actor=bob.user, start=at(p, 14), end=at(p, 15))
    moved.refresh_from_db()
    assert not moved.has_conflict


def test_saving_without_changes_writes_no_history_and_keeps_the_version(bob, dora, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10), title="Check-up", assignees=[dora])
    result = appointment_update(
        appointment=appointment,
        actor=bob.user,
        title="Check-up",
        start=at(p, 9),
        end=at(p, 10),
        staff=bob,
        assignees=[dora],
    )
    appointment.refresh_from_db()
    assert appointment.version == 1 and result.appointment.version == 1
    assert len(history(appointment)) == 1


def test_the_same_instant_in_another_zone_is_not_a_change(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    appointment_update(
        appointment=appointment,
        actor=bob.user,
        start=at(p, 9).astimezone(ZoneInfo("Europe/Berlin")),
    )
    appointment.refresh_from_db()
    assert appointment.version == 1


def test_changing_assignees_is_recorded(bob, dora, alice, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10), assignees=[dora])
    appointment_update(appointment=appointment, actor=alice.user, assignees=[alice])
    appointment.refresh_from_db()
    assert list(appointment.assignees.all()) == [alice]
    assert appointment.version == 2
    assert history(appointment)[0][2] == "Assignees changed"


def test_updating_assignees_from_another_practice_is_refused(bob, charlie, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    with pytest.raises(BookingError):
        appointment_update(appointment=appointment, actor=bob.user, assignees=[charlie])
    assert not appointment.assignees.exists()


def test_unknown_fields_cannot_be_updated(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    with pytest.raises(TypeError, match="status"):
        appointment_update(appointment=appointment, actor=bob.user, status="cancelled")


# --- Cancelling --------------------------------------------------------------------------------


def test_cancel_changes_the_status_and_records_why(bob, alice, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    cancelled = appointment_cancel(appointment=appointment, actor=alice.user, reason="Patient called in sick")
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.CANCELLED == cancelled.status
    assert appointment.version == 2
    assert history(appointment)[0] == ("cancelled", Source.PORTAL, "Cancelled: Patient called in sick")
    assert AppointmentChange.objects.filter(appointment=appointment).first().actor == alice.user


def test_cancelling_twice_changes_nothing_more(bob, book, hook_calls):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    appointment_cancel(appointment=appointment, actor=bob.user)
    appointment_cancel(appointment=appointment, actor=bob.user, source=Source.GOOGLE)
    appointment.refresh_from_db()
    assert appointment.version == 2
    assert [h[0] for h in history(appointment)] == ["cancelled", "booked"]
    assert [c["status"] for c in hook_calls] == ["booked", "cancelled"]


def test_a_cancel_from_google_is_recorded_as_such_and_clears_the_flag(bob, book):
    p = bob.practice
    book(bob, at(p, 9), at(p, 10))
    moved = book(bob, at(p, 11), at(p, 12))
    appointment_update(appointment=moved, actor=None, source=Source.GOOGLE, start=at(p, 9), end=at(p, 10))
    appointment_cancel(appointment=moved, actor=None, source=Source.GOOGLE)
    moved.refresh_from_db()
    assert moved.status == Appointment.Status.CANCELLED and not moved.has_conflict
    assert history(moved)[0] == ("cancelled", Source.GOOGLE, "Cancelled")


# --- Hooks -------------------------------------------------------------------------------------


def test_listeners_hear_of_bookings_updates_and_cancels_after_their_history_line(bob, dora, book, hook_calls):
    """Where a change came from is in the history, already written when listeners hear of it."""
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    appointment_update(appointment=appointment, actor=None, source=Source.GOOGLE, title="Filling")
    appointment_update(appointment=appointment, actor=bob.user, staff=dora)
    appointment_cancel(appointment=appointment, actor=bob.user)
    assert [(c["pk"], c["source"], c["staff_id"]) for c in hook_calls] == [
        (appointment.pk, Source.PORTAL, bob.pk),
        (appointment.pk, Source.GOOGLE, bob.pk),
        (appointment.pk, Source.PORTAL, dora.pk),
        (appointment.pk, Source.PORTAL, dora.pk),
    ]
    assert all(c["saved"] for c in hook_calls)


def test_a_listener_runs_inside_the_transaction_so_its_failure_undoes_the_booking(bob, book):
    p = bob.practice

    def failing_listener(appointment, **kwargs):
        assert connection.in_atomic_block
        raise RuntimeError("outbox unavailable")

    hooks.register_appointment_listener(failing_listener)
    try:
        with pytest.raises(RuntimeError, match="outbox unavailable"):
            book(bob, at(p, 9), at(p, 10))
    finally:
        hooks._listeners.remove(failing_listener)
    assert not Appointment.objects.exists()
    assert not AppointmentChange.objects.exists()


def test_no_listener_call_when_an_update_changes_nothing(bob, book, hook_calls):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10), title="Check-up")
    appointment_update(appointment=appointment, actor=bob.user, title="Check-up")
    assert len(hook_calls) == 1


def test_a_refused_booking_calls_no_listener(bob, book, hook_calls):
    p = bob.practice
    with pytest.raises(BookingError):
        book(bob, at(p, 20), at(p, 21))
    assert hook_calls == []


# --- Working hours -------------------------------------------------------------------------------


def test_working_hours_set_replaces_the_week(bob):
    working_hours_set(
        member=bob, intervals=[(0, time(8), time(12)), (0, time(13), time(17)), (2, time(9), time(15))]
    )
    rows = list(WorkingHours.objects.filter(member=bob).values_list("weekday", "start_time", "end_time"))
    assert rows == [(0, time(8), time(12)), (0, time(13), time(17)), (2, time(9), time(15))]


def test_working_hours_set_refuses_an_interval_that_ends_before_it_starts_and_keeps_the_old_week(bob):
    before = WorkingHours.objects.filter(member=bob).count()
    with pytest.raises(ValidationError):
        working_hours_set(member=bob, intervals=[(0, time(8), time(12)), (1, time(14), time(9))])
    assert WorkingHours.objects.filter(member=bob).count() == before == 7


def test_new_working_hours_apply_to_the_next_booking(bob, book):
    p = bob.practice
    book(bob, at(p, 9), at(p, 9, 30))  # reads (and remembers) the old week of 08:00–18:00
    working_hours_set(member=bob, intervals=[(0, time(13), time(17))])
    with pytest.raises(BookingError) as info:
        book(bob, at(p, 10), at(p, 10, 30))
    assert info.value.code == "outside_hours"
    assert book(bob, at(p, 14), at(p, 14, 30)).pk


# --- Changes from outside (the Google sync) ---------------------------------------------------------


def test_a_conflict_note_goes_into_the_history_with_its_source(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))

    appointment_record_conflict(appointment=appointment, source=Source.GOOGLE, summary="Google's change lost")

    assert ("conflict", Source.GOOGLE, "Google's change lost") in history(appointment)
    assert len(history(appointment)) == 2


def test_locking_an_appointment_needs_a_transaction_and_says_whether_it_exists(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    with transaction.atomic():
        assert appointment_lock(appointment_id=appointment.pk) is True
        assert appointment_lock(appointment_id=appointment.pk + 1000) is False


@pytest.mark.django_db(transaction=True)
def test_locking_an_appointment_outside_a_transaction_is_refused(bob, book):
    p = bob.practice
    appointment = book(bob, at(p, 9), at(p, 10))
    with pytest.raises(transaction.TransactionManagementError):
        appointment_lock(appointment_id=appointment.pk)


@pytest.mark.django_db(transaction=True)
def test_holding_versions_outside_a_transaction_is_refused():
    with pytest.raises(transaction.TransactionManagementError):
        appointments_hold_versions(appointment_ids=[1])
