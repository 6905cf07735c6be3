"""Twenty receptionists post the same slot over HTTP at once: one booking, nineteen conflict messages.

Real HTTP against the live server (one thread per request, one database connection each), each
client with its own logged-in session and CSRF token, all released by a barrier.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import requests
from django.test import Client
from django.utils import timezone

from calendars.models import Appointment
from copilot.accounts.models import Membership
from tests.conftest import make_member

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CLIENTS = 20
NEW = "/calendars/appointments/new/"
CONFLICT = re.compile(r"already has “Patient \d+”|That time was just booked by someone else")


def _session(live_server, member: Membership) -> tuple[requests.Session, str]:
    """A browser-like session for ``member``: the session cookie, then the form's CSRF token."""
    client = Client()
    client.force_login(member.user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    page = session.get(live_server.url + NEW, timeout=30)
    page.raise_for_status()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    return session, token


def test_twenty_clients_booking_one_slot_get_one_appointment(live_server, practice, staff):
    [bob] = staff(1)
    desks = [
        make_member(practice, f"desk{n:02d}@faults.test", Membership.Role.ADMIN, f"Desk{n:02d}")
        for n in range(CLIENTS)
    ]
    sessions = [_session(live_server, desk) for desk in desks]
    day = timezone.now().astimezone(practice.zone).date() + timedelta(days=3)
    barrier = threading.Barrier(CLIENTS)
    answers: list[tuple[int, requests.Response | Exception]] = []
    lock = threading.Lock()

    def post(number: int, session: requests.Session, token: str) -> None:
        form = {
            "csrfmiddlewaretoken": token,
            "staff": str(bob.pk),
            "title": f"Patient {number}",
            "date": day.isoformat(),
            "start_time": "10:00",
            "end_time": "11:00",
        }
        try:
            barrier.wait(timeout=60)
            answer = session.post(live_server.url + NEW, data=form, allow_redirects=False, timeout=60)
        except Exception as error:  # reported below
            answer = error
        with lock:
            answers.append((number, answer))

    threads = [
        threading.Thread(target=post, args=(n, session, token), daemon=True)
        for n, (session, token) in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung"

    failures = [(n, a) for n, a in answers if isinstance(a, Exception)]
    assert not failures, failures
    booked = [(n, a) for n, a in answers if a.status_code == 302]
    refused = [(n, a) for n, a in answers if a.status_code == 200]
    assert len(booked) == 1, [(n, a.status_code) for n, a in answers]
    assert len(refused) == CLIENTS - 1, [(n, a.status_code) for n, a in answers]
    for number, answer in refused:
        assert CONFLICT.search(answer.text), f"client {number} got no conflict message"
    [appointment] = Appointment.objects.filter(staff=bob)
    assert appointment.title == f"Patient {booked[0][0]}"
