"""Fault and load suites: a practice of connected staff, Google's view of it, and the checks
that Google and the portal agree.

These tests commit for real (``transaction=True``) because several threads or processes
share the database. They reuse the emulator control surface of the integration tests.
"""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pytest
import requests
from django.db import connection

from calendars.models import Appointment, AppointmentChange
from copilot.accounts.models import Membership, Practice
from integrations.google import mapping
from integrations.models import EventLink, GoogleConnection
from tests.conftest import FULL_TITLES, NEW_YORK, give_office_hours, make_member
from tests.integrations.google import conftest as google_conftest
from tests.integrations.google.conftest import Google, connect_member
from tests.ops import leaks

__all__ = ["Google", "connect_member"]

RETRY_STATUSES = {"500", "503", "429", "403"}


google = google_conftest.google  # the shared emulator fixture, reused here
no_secrets_in_logs = leaks.no_secrets_in_logs  # the log guard (tests/ops/leaks.py)


@pytest.fixture(autouse=True)
def _logs_hold_no_token_or_patient_name(no_secrets_in_logs):
    """Every fault scenario's log lines (DEBUG and up) are checked for tokens and appointment titles."""
    return no_secrets_in_logs


def scale() -> float:
    """``FAULTS_SCALE`` (default 1): shrinks the fault suites' volumes for a quick local run."""
    try:
        return max(float(os.environ.get("FAULTS_SCALE", "1")), 0.01)
    except ValueError:
        return 1.0


def on_sqlite() -> bool:
    return connection.vendor == "sqlite"


def db_turn():
    """A lock that threads take around database work on SQLite, a no-op elsewhere.

    pytest-django's SQLite test database lives in memory with a shared cache, where a second
    writer fails at once with "database table is locked" (the busy timeout does not apply).
    Production SQLite is a WAL file that serializes writers anyway; on SQLite these suites
    serialize database work and keep Google's side concurrent.
    """
    return threading.Lock() if on_sqlite() else _NoLock()


class _NoLock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def practice(db) -> Practice:
    # Full titles in Google: the fault suites compare titles on both sides (tests/conftest.py).
    # They also check that a deletion in Google cancels (the chaos test's newest-wins oracle);
    # put-back, new practices' default, is tested in tests/integrations/google/test_changes_inbox.py.
    return Practice.objects.create(
        name="Fault Practice",
        slug="fault-practice",
        time_zone=NEW_YORK,
        external_title_privacy=FULL_TITLES,
        google_deletion=Practice.GoogleDeletion.CANCEL,
    )


@pytest.fixture
def staff(practice) -> Callable[[int], list[Membership]]:
    """``staff(n)``: n staff members with office hours 08:00–18:00 every day."""

    def _staff(count: int) -> list[Membership]:
        members = []
        for number in range(count):
            member = make_member(practice, f"staff{number:02d}@faults.test", first_name=f"Staff{number:02d}")
            give_office_hours(member)
            members.append(member)
        return members

    return _staff


# --- What Google shows ------------------------------------------------------------------------------


def call_google(request, attempts: int = 25):
    """Run a Google API request as a person would under faults: try again at once when refused.

    Returns the answer; raises the last error when every attempt failed.
    """
    from googleapiclient.errors import HttpError

    for attempt in range(attempts):
        try:
            return request.execute()
        except HttpError as error:
            if error.resp.status not in (500, 503, 429, 403) or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def tagged_events(google: Google, email: str, service=None) -> dict[str, list[dict]]:
    """Live events of ``email``'s primary calendar that carry our tags, by appointment id."""
    service = service or google.service(email)
    found: dict[str, list[dict]] = defaultdict(list)
    page_token = None
    while True:
        answer = call_google(service.events().list(calendarId=email, maxResults=2500, pageToken=page_token))
        for event in answer.get("items", []):
            tags = mapping.our_tags(event)
            if tags and event.get("status") != "cancelled":
                found[tags[mapping.TAG_APPOINTMENT]].append(event)
        page_token = answer.get("nextPageToken")
        if not page_token:
            return found


def retry_requests(stats: dict) -> int:
    """Requests (batch parts included) that Google refused with 5xx, 429 or 403."""
    total = 0
    for table in (stats.get("requests", {}), stats.get("batch_parts", {})):
        for statuses in table.values():
            total += sum(n for status, n in statuses.items() if status in RETRY_STATUSES)
    return total


def faults_injected(google: Google) -> int:
    """How many failures the emulator injected since its fault plan was set."""
    return int(requests.get(f"{google.url}/_emulator/faults", timeout=10).json().get("injected", 0))


def _moment(value: dict) -> datetime:
    return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))


@dataclass
class Disagreement:
    """Everything on which Google and the portal disagree, in words."""

    problems: list[str] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.problems.append(text)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __str__(self) -> str:
        shown = "\n  ".join(self.problems[:30])
        more = f"\n  … and {len(self.problems) - 30} more" if len(self.problems) > 30 else ""
        return f"{len(self.problems)} disagreements between Google and the portal:\n  {shown}{more}"


def disagreements(google: Google, members: list[Membership]) -> Disagreement:
    """Everything on which Google and the portal disagree for ``members``' appointments.

    Every booked appointment has exactly one tagged event in its staff member's calendar with
    the same summary, start and end; cancelled ones have none; nothing is duplicated; no
    tagged event stands for an appointment we do not know; no link still waits or failed.
    """
    found = Disagreement()
    for member in members:
        email = member.user.email
        events = tagged_events(google, email)
        appointments = {str(a.pk): a for a in Appointment.objects.filter(staff=member)}
        for appointment_id in set(events) - set(appointments):
            found.add(f"{email}: event(s) for unknown appointment {appointment_id}")
        for appointment_id, appointment in appointments.items():
            copies = events.get(appointment_id, [])
            if appointment.status == Appointment.Status.CANCELLED:
                if copies:
                    link = EventLink.objects.filter(appointment=appointment, member=member).first()
                    found.add(
                        f"{email}: cancelled appointment {appointment_id} has {len(copies)} event(s)\n"
                        f"      history: {_history(appointment)}\n      link: {_link_state(link)}; "
                        f"events: {[_brief(e) for e in copies]}"
                    )
                continue
            if len(copies) != 1:
                found.add(f"{email}: booked appointment {appointment_id} has {len(copies)} events")
                continue
            event = copies[0]
            link = EventLink.objects.filter(appointment=appointment, member=member).first()
            differences = []
            if event.get("summary") != appointment.title:
                differences.append(f"title {appointment.title!r} but Google says {event.get('summary')!r}")
            if (_moment(event["start"]), _moment(event["end"])) != (appointment.start, appointment.end):
                differences.append(
                    f"time {appointment.start:%m-%d %H:%M}Z but Google says {event['start'].get('dateTime')}"
                )
            if differences:
                found.add(
                    f"{email}: appointment {appointment_id}: {'; '.join(differences)}\n"
                    f"      history: {_history(appointment)}\n      link: {_link_state(link)}; "
                    f"event: {_brief(event)}",
                )
            if link is None or link.event_id != event["id"]:
                found.add(f"{email}: appointment {appointment_id}'s link does not name event {event['id']}")
    leftover = EventLink.objects.filter(member__in=members).filter(needs_push=True)
    for link in leftover[:20]:
        found.add(f"link {link.pk} (appointment {link.appointment_id}) still needs a push ({link.state})")
    failed = EventLink.objects.filter(member__in=members, state=EventLink.State.FAILED)
    for link in failed[:20]:
        found.add(f"link {link.pk} (appointment {link.appointment_id}) failed: {link.last_error}")
    return found


def _history(appointment: Appointment) -> list[str]:
    return [
        f"{c.at:%H:%M:%S.%f} {c.source} {c.action}: {c.summary}"
        for c in AppointmentChange.objects.filter(appointment=appointment).order_by("pk")
    ]


def _link_state(link: EventLink | None) -> str:
    if link is None:
        return "none"
    return (
        f"{link.state} event={link.event_id[:12]} needs_push={link.needs_push} gen={link.generation} "
        f"pushed={link.last_pushed_at:%H:%M:%S.%f}"
        if link.last_pushed_at
        else "never pushed"
    )


def _brief(event: dict) -> str:
    return (
        f"{event['id'][:12]} {event.get('summary')!r} {event['start'].get('dateTime')} "
        f"updated={event.get('updated')}"
    )


def connections_of(members: list[Membership]) -> list[int]:
    return list(
        GoogleConnection.objects.filter(user__memberships__in=members)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def elapsed(since: float) -> float:
    return round(time.monotonic() - since, 2)
