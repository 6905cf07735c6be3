"""What people see of Google sync in the portal: badges, the Team page, the resync progress, commands."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from calendars.models import Appointment
from integrations.models import EventLink, GoogleConnection
from tests.conftest import login, slot

pytestmark = pytest.mark.django_db


def test_an_appointment_shows_its_sync_state(client, bob, connect, book, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        connect(bob)
        start, end = slot(bob, 1, 10)
        appointment = book(bob, start, end)
    url = reverse("calendars:appointment_detail", args=[appointment.pk])
    assert "Google (Bob): Synced" in login(client, bob).get(url).content.decode()
    EventLink.objects.filter(appointment=appointment).update(
        state="failed", last_error="Google answered 400: bad"
    )
    html = client.get(url).content.decode()
    assert "Failed" in html and "Google answered 400: bad" in html


def test_an_appointment_of_someone_without_google_is_waiting(
    client, bob, book, django_capture_on_commit_callbacks
):
    start, end = slot(bob, 1, 10)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bob, start, end)
    html = (
        login(client, bob)
        .get(reverse("calendars:appointment_detail", args=[appointment.pk]))
        .content.decode()
    )
    assert "Waiting for a connection" in html


def test_admins_see_each_members_connection_state_on_the_team_page(client, alice, bob, dora, connect):
    connect(bob)
    connection = connect(dora)
    GoogleConnection.objects.filter(pk=connection.pk).update(
        state="needs_reconnect", last_error="Google no longer accepts this connection."
    )
    html = login(client, alice).get(reverse("accounts:team")).content.decode()
    assert "Active" in html and bob.user.email in html
    # The Team page draws the team views' badge (one partial): red, with the warning sign.
    assert "status-badge state-needs_reconnect needs-attention" in html
    assert "⚠ Google: Needs reconnect" in html
    assert "Dora should reconnect Google Calendar" in html


def test_the_connections_tab_shows_resync_progress_and_polls_while_syncing(
    client, bob, connect, book, django_capture_on_commit_callbacks
):
    connect(bob)
    with django_capture_on_commit_callbacks(execute=False):
        for hour in (9, 10, 11):
            start, end = slot(bob, 1, hour)
            book(bob, start, end)
    EventLink.objects.filter(pk=EventLink.objects.first().pk).update(needs_push=False)
    login(client, bob)
    html = client.get(reverse("integrations:connections"), HTTP_HX_REQUEST="true").content.decode()
    assert "1 of 3 appointments synced" in html
    assert 'hx-trigger="every 3s"' in html
    assert "<html" not in html, "htmx gets only the region"


def test_sync_google_dry_run_says_what_it_would_do_and_calls_nothing(
    bob, connect, book, google, capsys, django_capture_on_commit_callbacks
):
    connect(bob)
    with django_capture_on_commit_callbacks(execute=False):
        start, end = slot(bob, 1, 10)
        book(bob, start, end, title="Crown")
    google.reset_stats()
    call_command("sync_google", "--dry-run", "--user", bob.user.email)
    assert "would insert: Crown" in capsys.readouterr().out
    assert google.api_requests() == 0
    call_command("sync_google", "--user", bob.user.email)
    assert "inserted=1" in capsys.readouterr().out


def test_sync_now_drops_the_backoff_and_pushes_what_waits(
    client, bob, connect, book, google, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    connection = connect(bob)
    with django_capture_on_commit_callbacks(execute=False):
        start, end = slot(bob, 1, 10)
        book(bob, start, end, title="Crown")
    GoogleConnection.objects.filter(pk=connection.pk).update(retry_after=timezone.now() + timedelta(hours=1))
    login(client, bob)
    with django_capture_on_commit_callbacks(execute=True):
        page = client.post(reverse("integrations:sync_now", args=[connection.pk]), follow=True)
    assert "Syncing now" in page.content.decode()
    assert GoogleConnection.objects.get(pk=connection.pk).retry_after is None
    assert not EventLink.objects.filter(needs_push=True).exists()


def test_sync_now_refuses_while_the_connection_needs_a_person(client, bob, connect):
    connection = connect(bob)
    GoogleConnection.objects.filter(pk=connection.pk).update(state="needs_reconnect")
    page = login(client, bob).post(reverse("integrations:sync_now", args=[connection.pk]), follow=True)
    assert "cannot sync until the warning below is resolved" in page.content.decode()


def test_the_connections_tab_counts_waiting_and_synced_copies_the_same_way(
    client, bob, connect, book, django_capture_on_commit_callbacks
):
    connection = connect(bob)
    with django_capture_on_commit_callbacks(execute=False):
        synced_one, waiting_one = [book(bob, *slot(bob, 1, hour)) for hour in (9, 10)]
    EventLink.objects.filter(appointment=synced_one).update(needs_push=False, state="synced")
    # The waiting change is to an appointment that already happened: it was counted as waiting
    # but left out of "X of Y synced" (36 waiting beside "0 of 1 synced").
    year_ago = timedelta(days=365)
    Appointment.objects.filter(pk=waiting_one.pk).update(
        start=waiting_one.start - year_ago, end=waiting_one.end - year_ago
    )
    GoogleConnection.objects.filter(pk=connection.pk).update(last_sync_at=timezone.now())
    html = login(client, bob).get(reverse("integrations:connections")).content.decode()
    waiting = int(re.search(r'class="backlog">(\d+) changes? waiting', html).group(1))
    synced, total = map(int, re.search(r"(\d+) of (\d+) appointments synced", html).groups())
    assert (waiting, synced, total) == (1, 1, 2)
    assert '<dd class="last-sync">just now</dd>' in html, "never “0 minutes ago”"
