"""Two practices with data: alice's Practice A (bob works there, appointments with patient names,
a Google connection, a pending invitation) and charlie's Practice B, who must reach nothing of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from calendars.models import AppointmentChange, WorkingHours
from calendars.services import appointment_update
from copilot.accounts.models import Invitation, Membership, Practice, User
from copilot.accounts.services import invitation_token
from tests.conftest import FULL_TITLES, PASSWORD
from tests.integrations.google.conftest import connect, google  # noqa: F401  (fixtures)

# Practice B's rows get ids no row of Practice A can have, in every table: a request that names one
# of A's ids can then only ever mean A's object, never one of charlie's own by coincidence.
B_IDS_FROM = 10**6

A_TITLES = ("Filling: Lucia Romero", "Crown: Tomás Ibarra", "Check-up: Greta Holm")


@dataclass
class Scene:
    alice: Membership
    bob: Membership
    charlie: Membership
    titles: tuple[str, ...]


@pytest.fixture
def practice_b(db) -> Practice:
    return Practice.objects.create(
        pk=B_IDS_FROM,
        name="Practice B",
        slug="practice-b",
        time_zone="Europe/Berlin",
        external_title_privacy=FULL_TITLES,
    )


@pytest.fixture
def charlie(practice_b, alice, bob) -> Membership:
    """Practice B's admin, created after Practice A's people, every row of his with a far id."""
    user = User.objects.create_user(
        pk=B_IDS_FROM, email="charlie@b.test", password=PASSWORD, first_name="Charlie"
    )
    member = Membership.objects.create(
        pk=B_IDS_FROM, user=user, practice=practice_b, role=Membership.Role.ADMIN
    )
    WorkingHours.objects.bulk_create(
        WorkingHours(pk=B_IDS_FROM + day, member=member, weekday=day, start_time=time(8), end_time=time(18))
        for day in range(7)
    )
    return member


@pytest.fixture
def scene(alice, bob, charlie, book, connect) -> Scene:  # noqa: F811
    zone = alice.practice.zone
    day = timezone.now().astimezone(zone).date() + timedelta(days=2)
    for hour, (title, member) in enumerate(zip(A_TITLES, (alice, bob, bob), strict=True), start=9):
        start = datetime.combine(day, time(hour), tzinfo=zone)
        appointment = book(member, start, start + timedelta(minutes=30), title=title)
    # A change from Google: a line in Practice A's inbox (Changes from Google) to aim at.
    appointment_update(
        appointment=appointment, actor=None, source=AppointmentChange.Source.GOOGLE, location="Room 2"
    )
    connect(alice)
    Invitation.objects.create(practice=alice.practice, email="dora@elsewhere.test", invited_by=alice.user)
    return Scene(alice=alice, bob=bob, charlie=charlie, titles=A_TITLES)


def practice_a_ids() -> list[int]:
    """Every primary key in the database that is not one of Practice B's (all of A's rows)."""
    ids = set()
    for model in apps.get_models():
        if model._meta.pk.get_internal_type() in {"AutoField", "BigAutoField"}:
            ids.update(model.objects.filter(pk__lt=B_IDS_FROM).values_list("pk", flat=True))
    return sorted(ids)


# How Practice A's objects are named by URL parameters that are not ids: by parameter name, else by
# converter. A new kind of parameter gets an entry here (test_the_walk_covers_the_portals_object_urls
# insists), so the walk aims at real objects of Practice A rather than at values that name nothing.
def practice_a_values() -> dict[str, list[str]]:
    ids = practice_a_ids()
    return {
        # An invitation's emailed link: signed ids, valid and unexpired (every id of A's rows, so
        # A's invitations are among them).
        "token": [invitation_token(Invitation(pk=pk)) for pk in ids],
        # A practice's public address (a booking page, say) names the practice by its slug.
        "slug": list(Practice.objects.filter(pk__lt=B_IDS_FROM).values_list("slug", flat=True)),
    }
