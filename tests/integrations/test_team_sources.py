"""What the integrations app tells the team views: busy time and connection states, for many at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from copilot.accounts.member_status import member_statuses
from integrations.busy import GoogleBusySource
from integrations.models import BusyBlock, GoogleConnection
from tests.conftest import make_member, slot
from tests.integrations.google.test_busy import make_calendar, make_connection

pytestmark = pytest.mark.django_db


def test_busy_time_of_many_members_equals_asking_one_by_one(bob, dora, alice, practice_b):
    start, end = slot(bob, 2, 9)
    for member, summary in ((bob, "Lunch"), (dora, "School run")):
        calendar = make_calendar(make_connection(member), f"{member.pk}", "Personal", is_conflict=True)
        BusyBlock.objects.create(calendar=calendar, event_id="e", start=start, end=end, summary=summary)
        BusyBlock.objects.create(
            calendar=calendar, event_id="p", start=start, end=end, summary="x", is_private=True
        )
        BusyBlock.objects.create(
            calendar=calendar,
            event_id="o",
            start=start,
            end=end,
            summary="Ours",
            practice_tag=str(member.practice_id),
        )
        BusyBlock.objects.create(
            calendar=calendar,
            event_id="b",
            start=start,
            end=end,
            summary="At B",
            practice_tag=str(practice_b.pk),
        )
    source = GoogleBusySource()
    together = source.intervals_for_members(members=[alice, bob, dora], start=start, end=end)
    for member in (alice, bob, dora):
        alone = source.intervals(member=member, start=start, end=end)
        assert sorted(together[member.pk], key=repr) == sorted(alone, key=repr)
    assert sorted(i.label for i in together[bob.pk]) == ["Busy", "Busy", "Lunch"]


def test_busy_time_of_many_members_takes_two_queries_whatever_their_number(
    practice_a, bob, django_assert_num_queries
):
    start, end = slot(bob, 2, 9)
    members = [make_member(practice_a, f"s{n}@a.test") for n in range(20)]
    for member in members:
        calendar = make_calendar(make_connection(member), f"{member.pk}", "Personal", is_conflict=True)
        BusyBlock.objects.create(calendar=calendar, event_id="e", start=start, end=end, summary="Gym")
    with django_assert_num_queries(2):
        found = GoogleBusySource().intervals_for_members(
            members=members, start=start, end=end + timedelta(hours=1)
        )
    assert all(len(found[m.pk]) == 1 for m in members)


def test_connection_states_reach_the_book_for_everyone_in_two_queries(
    practice_a, alice, bob, dora, django_assert_num_queries
):
    make_connection(bob, GoogleConnection.State.NEEDS_RECONNECT, last_error="Google no longer accepts it.")
    make_connection(dora)
    with django_assert_num_queries(2):
        statuses = member_statuses(practice=practice_a, members=[alice, bob, dora])
    [bobs] = statuses[bob.pk]
    assert bobs.needs_attention and bobs.label == "Google: Needs reconnect"
    assert bobs.url == "/calendars/settings/connections/"
    assert "Google no longer accepts it." in bobs.detail
    assert [s.label for s in statuses[dora.pk]] == ["Google: Active"]
    assert [s.label for s in statuses[alice.pk]] == ["No Google"]
