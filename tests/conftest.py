"""Named people make tenancy readable: alice runs Practice A, bob and dora work there,
charlie runs Practice B and must see nothing of A's."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone

from calendars.models import WorkingHours
from calendars.services import appointment_book
from copilot.accounts.models import Membership, Practice, User

PASSWORD = "correct-horse-battery"
NEW_YORK = "America/New_York"


def make_member(
    practice: Practice, email: str, role: str = Membership.Role.STAFF, first_name: str = ""
) -> Membership:
    user = User.objects.create_user(
        email=email, password=PASSWORD, first_name=first_name or email.split("@")[0].title()
    )
    # Email verification is mandatory: fixture people have proven their address.
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=True)
    return Membership.objects.create(user=user, practice=practice, role=role)


def give_office_hours(member: Membership, start: time = time(8), end: time = time(18)) -> None:
    WorkingHours.objects.bulk_create(
        WorkingHours(member=member, weekday=day, start_time=start, end_time=end) for day in range(7)
    )


def local(practice: Practice, *args: int) -> datetime:
    """An aware datetime on the practice's wall clock."""
    return datetime(*args, tzinfo=practice.zone)


def slot(member: Membership, days: int, hour: int, minutes: int = 60) -> tuple[datetime, datetime]:
    """``minutes`` from ``hour`` o'clock ``days`` from today, on the member's practice wall clock."""
    zone = member.practice.zone
    day = timezone.now().astimezone(zone).date() + timedelta(days=days)
    start = datetime.combine(day, time(hour), tzinfo=zone)
    return start, start + timedelta(minutes=minutes)


# The fixture practices show full titles in Google (what the sync tests compare); new practices
# start on "type only" (tests/integrations/google/test_title_privacy.py).
FULL_TITLES = Practice.TitlePrivacy.FULL


@pytest.fixture
def practice_a(db) -> Practice:
    return Practice.objects.create(
        name="Practice A", slug="practice-a", time_zone=NEW_YORK, external_title_privacy=FULL_TITLES
    )


@pytest.fixture
def practice_b(db) -> Practice:
    return Practice.objects.create(
        name="Practice B", slug="practice-b", time_zone="Europe/Berlin", external_title_privacy=FULL_TITLES
    )


@pytest.fixture
def alice(practice_a) -> Membership:
    """Practice A's admin."""
    member = make_member(practice_a, "alice@a.test", Membership.Role.ADMIN, "Alice")
    give_office_hours(member)
    return member


@pytest.fixture
def bob(practice_a) -> Membership:
    """Staff at Practice A."""
    member = make_member(practice_a, "bob@a.test", first_name="Bob")
    give_office_hours(member)
    return member


@pytest.fixture
def dora(practice_a) -> Membership:
    """More staff at Practice A."""
    member = make_member(practice_a, "dora@a.test", first_name="Dora")
    give_office_hours(member)
    return member


@pytest.fixture
def charlie(practice_b) -> Membership:
    """Practice B's admin: must never see Practice A's data."""
    member = make_member(practice_b, "charlie@b.test", Membership.Role.ADMIN, "Charlie")
    give_office_hours(member)
    return member


@pytest.fixture
def book():
    """Book through the real service: ``book(member, start, end, title=...)``."""

    def _book(member: Membership, start: datetime, end: datetime, title: str = "Check-up", **kw):
        return appointment_book(
            practice=member.practice,
            staff=member,
            start=start,
            end=end,
            title=title,
            created_by=kw.pop("created_by", member.user),
            **kw,
        ).appointment

    return _book


def login(client, member: Membership):
    client.force_login(member.user)
    return client


# --- PostgreSQL-only tests and a fake busy-time source ------------------------------------


def pytest_collection_modifyitems(config, items):
    """Skip ``@pytest.mark.postgres`` tests unless the run's database is PostgreSQL."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    skip = pytest.mark.skip(
        reason=f"needs PostgreSQL (this run uses {engine}); set DATABASE_URL=postgres://… to run it"
    )
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


class FakeBusySource:
    """A ``calendars.busy.BusySource`` fed by the test: ``add(member, start, end, source=..., label=...)``;
    ``warning`` (words) makes ``ensure_fresh`` answer with a ``FreshnessWarning``."""

    def __init__(self) -> None:
        self.blocks: list[tuple[int, object]] = []
        self.warning: str | None = None
        self.fresh_calls: list[tuple[int, datetime, datetime]] = []

    def add(
        self, member: Membership, start: datetime, end: datetime, source: str = "Personal", label: str = ""
    ) -> None:
        """``label`` is the event's title its owner may see; without one, the interval's default ("Busy")."""
        from calendars.busy import BusyInterval

        interval = BusyInterval(start=start, end=end, source=source, **({"label": label} if label else {}))
        self.blocks.append((member.pk, interval))

    def intervals(self, *, member, start, end):
        return [b for pk, b in self.blocks if pk == member.pk and b.overlaps(start, end)]

    def ensure_fresh(self, *, member, start, end):
        from calendars.busy import FreshnessWarning

        self.fresh_calls.append((member.pk, start, end))
        return FreshnessWarning(self.warning) if self.warning else None


@pytest.fixture
def busy_source():
    """A registered fake busy source, removed again after the test."""
    from calendars import busy

    source = FakeBusySource()
    busy.register_busy_source(source)
    yield source
    busy._sources.remove(source)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hashing with the production hasher costs about a second per fixture person."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache(request):
    """Each test starts with empty caches (database ids can repeat between tests on SQLite), the
    book's rendered pages (calendars.page_cache) included.

    The shared "default" cache is a database table, so it is only there for tests with a database.
    """
    from django.core.cache import caches

    from calendars.page_cache import ACTORS, PAGES

    uses_db = bool(
        {"db", "transactional_db", "live_server"} & set(request.fixturenames)
        or request.node.get_closest_marker("django_db")
    )
    if uses_db:
        request.getfixturevalue("_django_db_helper")  # the test database is set up first

    def clear():
        caches["local"].clear()
        PAGES.clear()
        ACTORS.clear()
        if uses_db:
            caches["default"].clear()

    clear()
    yield
    clear()
