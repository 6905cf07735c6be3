"""Participants are first-class: the owner and every assignee are checked, listed and shown."""

from __future__ import annotations

from datetime import date, time

import pytest

from calendars.models import Appointment, Participant
from calendars.selectors import (
    appointments_by_member,
    appointments_for_list,
    appointments_in_range,
    free_intervals,
)
from calendars.services import (
    BookingError,
    Overrides,
    Source,
    appointment_book,
    appointment_cancel,
    appointment_update,
    working_hours_set,
)
from tests.conftest import local, login

pytestmark = pytest.mark.django_db


def at(practice, hour, minute=0, day=23):
    return local(practice, 2026, 11, day, hour, minute)


def rows(appointment):
    return sorted(
        Participant.objects.filter(appointment=appointment).values_list("member_id", "is_owner", "active")
    )


def test_booking_writes_a_row_for_the_owner_and_each_assignee(bob, dora, alice, book):
    p = bob.practice
    appointment = book(bob, at(p, 10), at(p, 10, 30), title="Filling", assignees=[dora, alice])
    assert rows(appointment) == sorted(
        [(bob.pk, True, True), (dora.pk, False, True), (alice.pk, False, True)]
    )
    assert set(Participant.objects.values_list("start", "end")) == {(at(p, 10), at(p, 10, 30))}


def test_an_assignee_cannot_be_booked_twice_whoever_owns_the_appointments(bob, dora, alice, book):
    p = bob.practice
    book(bob, at(p, 10), at(p, 10, 30), title="Filling", assignees=[dora])
    with pytest.raises(BookingError) as info:
        book(alice, at(p, 10, 15), at(p, 11), title="Crown", assignees=[dora])
    assert info.value.code == "overlap"
    assert info.value.message_dict == {"assignees": ["Dora already has “Filling” Mon 23 Nov 10:00–10:30."]}
    assert Appointment.objects.count() == 1


def test_an_owner_who_is_an_assignee_elsewhere_cannot_be_booked_then(bob, dora, book):
    p = bob.practice
    book(bob, at(p, 10), at(p, 10, 30), title="Filling", assignees=[dora])
    with pytest.raises(BookingError) as info:
        book(dora, at(p, 10), at(p, 10, 30), title="Crown")
    assert info.value.message_dict == {"start": ["Dora already has “Filling” Mon 23 Nov 10:00–10:30."]}


def test_adding_an_assignee_who_is_taken_is_refused(bob, dora, alice, book):
    p = bob.practice
    book(dora, at(p, 10), at(p, 10, 30), title="Filling")
    appointment = book(bob, at(p, 10), at(p, 10, 30), title="Crown")
    with pytest.raises(BookingError) as info:
        appointment_update(appointment=appointment, actor=None, assignees=[alice, dora])
    assert info.value.message_dict == {"assignees": ["Dora already has “Filling” Mon 23 Nov 10:00–10:30."]}
    assert rows(appointment) == [(bob.pk, True, True)]


def test_moving_checks_the_assignees_too(bob, dora, book):
    p = bob.practice
    book(dora, at(p, 11), at(p, 12), title="Filling")
    appointment = book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    with pytest.raises(BookingError) as info:
        appointment_update(appointment=appointment, actor=None, start=at(p, 11), end=at(p, 11, 30))
    assert info.value.code == "overlap"
    assert "Dora already has “Filling”" in info.value.messages[0]
    appointment_update(appointment=appointment, actor=None, start=at(p, 12), end=at(p, 12, 30))
    assert set(Participant.objects.filter(appointment=appointment).values_list("start", flat=True)) == {
        at(p, 12)
    }


def test_reassigning_checks_the_new_owner(bob, dora, book):
    p = bob.practice
    book(dora, at(p, 10), at(p, 11), title="Filling")
    appointment = book(bob, at(p, 10), at(p, 10, 30), title="Crown")
    with pytest.raises(BookingError) as info:
        appointment_update(appointment=appointment, actor=None, staff=dora)
    assert info.value.message_dict == {"start": ["Dora already has “Filling” Mon 23 Nov 10:00–11:00."]}


def test_removing_an_assignee_frees_them(bob, dora, alice, book):
    p = bob.practice
    appointment = book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    appointment_update(appointment=appointment, actor=None, assignees=[])
    assert rows(appointment) == [(bob.pk, True, True)]
    book(alice, at(p, 10), at(p, 10, 30), title="Filling", assignees=[dora])


def test_an_assignee_outside_working_hours_is_refused_unless_an_admin_overrides(bob, dora, book):
    p = bob.practice
    working_hours_set(member=dora, intervals=[(0, time(13), time(17))])
    with pytest.raises(BookingError) as info:
        book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    assert info.value.message_dict == {
        "assignees": ["Mon 23 Nov 10:00–10:30 is outside Dora's working hours."]
    }
    book(bob, at(p, 10), at(p, 10, 30), assignees=[dora], overrides=Overrides(outside_hours=True))


def test_an_assignees_busy_time_refuses_the_booking(bob, dora, book, busy_source):
    p = bob.practice
    busy_source.add(dora, at(p, 10), at(p, 11), source="Personal")
    with pytest.raises(BookingError) as info:
        book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    assert info.value.code == "busy"
    assert info.value.message_dict == {"assignees": ["Dora: Busy in “Personal” Mon 23 Nov 10:00–11:00."]}
    book(bob, at(p, 10), at(p, 10, 30), assignees=[dora], overrides=Overrides(busy_time=True))


def test_busy_time_is_made_fresh_for_every_participant(bob, dora, book, busy_source):
    p = bob.practice
    busy_source.warning = "Could not check Google just now."
    result_warnings = []

    result = appointment_book(
        practice=p,
        staff=bob,
        start=at(p, 10),
        end=at(p, 10, 30),
        title="Crown",
        assignees=[dora],
        created_by=None,
    )
    result_warnings = result.warnings
    assert {pk for pk, _, _ in busy_source.fresh_calls} == {bob.pk, dora.pk}
    assert len(result_warnings) == 2


def test_cancelling_makes_every_row_inactive(bob, dora, book):
    p = bob.practice
    appointment = book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    appointment_cancel(appointment=appointment, actor=None)
    assert rows(appointment) == sorted([(bob.pk, True, False), (dora.pk, False, False)])
    book(dora, at(p, 10), at(p, 10, 30), title="Filling")


def test_a_google_move_onto_an_assignees_time_is_flagged_and_rows_follow(bob, dora, book):
    p = bob.practice
    book(dora, at(p, 11), at(p, 12), title="Filling")
    appointment = book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    moved = appointment_update(
        appointment=appointment, actor=None, source=Source.GOOGLE, start=at(p, 11), end=at(p, 11, 30)
    ).appointment
    assert moved.has_conflict
    assert rows(moved) == sorted([(bob.pk, True, False), (dora.pk, False, False)])
    assert set(Participant.objects.filter(appointment=moved).values_list("start", flat=True)) == {at(p, 11)}


def test_every_participant_sees_the_appointment_in_their_reads(bob, dora, alice, book):
    p = bob.practice
    appointment = book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    day_start, day_end = at(p, 0), at(p, 0, day=24)
    assert list(appointments_in_range(practice=p, start=day_start, end=day_end, staff=dora)) == [appointment]
    assert list(appointments_for_list(practice=p, staff=dora)) == [appointment]
    assert list(appointments_for_list(practice=p, staff=alice)) == []
    by_member = appointments_by_member(practice=p, members=[bob, dora, alice], start=day_start, end=day_end)
    assert by_member == {bob.pk: [appointment], dora.pk: [appointment], alice.pk: []}


def test_availability_subtracts_what_an_assignee_takes_part_in(bob, dora, book):
    p = bob.practice
    book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    free = free_intervals(member=dora, start_date=date(2026, 11, 23), end_date=date(2026, 11, 23))
    assert free == [(at(p, 8), at(p, 10)), (at(p, 10, 30), at(p, 18))]


def test_team_reads_cost_one_query_whatever_the_participants(
    bob, dora, alice, book, django_assert_num_queries
):
    p = bob.practice
    book(bob, at(p, 10), at(p, 10, 30), assignees=[dora, alice])
    book(dora, at(p, 11), at(p, 11, 30), assignees=[bob])
    with django_assert_num_queries(1):
        appointments_by_member(practice=p, members=[bob, dora, alice], start=at(p, 0), end=at(p, 0, day=24))


# --- what participants see -------------------------------------------------------------------


def test_an_assignee_sees_the_appointment_on_their_week_and_day_marked_with_the_owner(
    client, bob, dora, book
):
    p = bob.practice
    book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    login(client, dora)
    for span in ("week", "day"):
        html = client.get("/calendars/week/", {"staff": dora.pk, "date": "2026-11-23", "span": span}).content
        html = html.decode()
        assert "Crown" in html
        assert '<span class="appt-with">with Bob</span>' in html
        assert 'aria-label="Crown with Bob, 10:00–10:30' in html
    own = client.get("/calendars/week/", {"staff": bob.pk, "date": "2026-11-23"}).content.decode()
    assert "Crown" in own and "appt-with" not in own


def test_an_assignee_finds_the_appointment_in_the_list_filtered_to_them(client, alice, bob, dora, book):
    p = bob.practice
    book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    query = {"staff": dora.pk, "date_from": "2026-11-23", "date_to": "2026-11-24"}
    html = login(client, alice).get("/calendars/list/", query).content.decode()
    assert "Crown" in html
    assert "Bob, Dora" in html


def test_the_team_day_shows_the_appointment_in_each_participants_column(client, alice, bob, dora, book):
    p = bob.practice
    book(bob, at(p, 10), at(p, 10, 30), title="Crown", assignees=[dora])
    html = login(client, alice).get("/calendars/team/", {"date": "2026-11-23"}).content.decode()
    assert html.count('aria-label="Crown') == 2
    assert html.count('aria-label="Crown with Bob,') == 1
