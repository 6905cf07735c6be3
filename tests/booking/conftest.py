"""An online-bookable Practice A: a check-up that alice and bob offer, at a frozen Monday 07:00."""

from __future__ import annotations

import pytest
from freezegun import freeze_time

from calendars.models import AppointmentType
from tests.conftest import local
from tests.integrations.google.conftest import connect, google  # noqa: F401  (fixtures)

# Monday 4 March 2030, 07:00 in New York: with two hours' notice the first time is 09:00.
NOW = (2030, 3, 4, 7)


@pytest.fixture
def now(practice_a):
    with freeze_time(local(practice_a, *NOW)) as frozen:
        yield frozen


@pytest.fixture
def online(practice_a):
    practice_a.online_booking_enabled = True
    practice_a.save()
    return practice_a


@pytest.fixture
def checkup(online, alice, bob):
    kind = AppointmentType.objects.create(
        practice=online,
        name="Check-up",
        duration_minutes=30,
        buffer_after_minutes=15,
        bookable_online=True,
        min_notice_minutes=120,
        horizon_days=14,
        location="Room 2",
    )
    kind.staff.set([alice, bob])
    return kind
