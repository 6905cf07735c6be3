"""Django admin for connections and the outbox: what superusers see and the repairs they can make."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from copilot.accounts.models import User
from integrations.models import EventLink, GoogleConnection
from tests.conftest import slot

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    client.force_login(User.objects.create_superuser(email="root@copilot.test", password="x"))
    return client


def test_connections_show_their_state_and_never_their_tokens(root, bob, connect):
    connection = connect(bob)
    assert root.get("/admin/integrations/googleconnection/").status_code == 200
    page = root.get(f"/admin/integrations/googleconnection/{connection.pk}/change/").content.decode()
    assert bob.user.email in page and "Missing scopes" in page and "Waiting changes" in page
    assert connection.access_token not in page and connection.refresh_token not in page


def test_recheck_scopes_action_finds_a_revoked_grant(root, bob, connect, google):
    connection = connect(bob)
    google.revoke(bob.user.email)
    GoogleConnection.objects.filter(pk=connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1)
    )
    root.post(
        "/admin/integrations/googleconnection/",
        {"action": "recheck_scopes", "_selected_action": [connection.pk], "index": 0},
    )
    assert GoogleConnection.objects.get(pk=connection.pk).state == GoogleConnection.State.NEEDS_RECONNECT


def test_disconnect_action_unlinks(root, bob, connect):
    connection = connect(bob)
    root.post(
        "/admin/integrations/googleconnection/",
        {"action": "disconnect", "_selected_action": [connection.pk], "index": 0},
    )
    connection.refresh_from_db()
    assert connection.state == GoogleConnection.State.UNLINKED and not connection.refresh_token


def test_retry_failed_pushes_action_puts_them_back_in_the_outbox(
    root, bob, connect, book, google, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        connect(bob)
        start, end = slot(bob, 1, 10)
        appointment = book(bob, start, end, title="Crown")
    link = EventLink.objects.get(appointment=appointment)
    EventLink.objects.filter(pk=link.pk).update(state="failed", last_error="Google answered 400", event_id="")
    assert root.get("/admin/integrations/eventlink/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        root.post(
            "/admin/integrations/eventlink/",
            {"action": "retry_failed", "_selected_action": [link.pk], "index": 0},
        )
    link.refresh_from_db()
    assert (link.state, link.needs_push) == (EventLink.State.SYNCED, False)
    assert link.event_id, "pushed again: the event was adopted or rewritten"


# --- readable in the practice's zone, whole errors, Sync now, each copy's state (issue 13) ----------


def test_appointments_read_in_the_practices_zone_with_utc_beside(root, bob, book):
    from tests.conftest import local

    book(bob, local(bob.practice, 2026, 11, 23, 15), local(bob.practice, 2026, 11, 23, 16), title="Crown")
    page = root.get("/admin/calendars/appointment/").content.decode()
    assert "Mon 23 Nov 15:00–16:00 (America/New_York)" in page
    assert "2026-11-23 20:00 UTC" in page  # both zones, labelled: 15:00 New York never reads "8 p.m."


def test_the_appointment_list_shows_each_calendar_copys_state_in_one_query(
    root, bob, dora, connect, book, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    with django_capture_on_commit_callbacks(execute=True):
        connect(bob)
        crown = book(bob, *slot(bob, 1, 9), title="Crown", assignees=[dora])
    page = root.get("/admin/calendars/appointment/").content.decode()
    assert "Google (Bob): Synced" in page
    assert "Waiting for a connection: Dora has not connected Google Calendar" in page
    detail = root.get(f"/admin/calendars/appointment/{crown.pk}/change/").content.decode()
    assert "Google (Bob): Synced" in detail
    with CaptureQueriesContext(db) as one:
        root.get("/admin/calendars/appointment/")
    for hour in range(10, 17):
        book(bob, *slot(bob, 1, hour), title=f"Check-up {hour}", assignees=[dora])
    with django_assert_num_queries(len(one)):
        page = root.get("/admin/calendars/appointment/").content.decode()
    assert page.count("Dora has not connected Google Calendar") == 8


def test_connection_state_and_errors_are_shown_whole(root, bob, connect):
    connection = connect(bob)
    error = "Google answered 400 Bad Request: " + "the event's recurrence rule is not valid; " * 4 + "end."
    GoogleConnection.objects.filter(pk=connection.pk).update(state="missing_permissions", last_error=error)
    page = root.get("/admin/integrations/googleconnection/").content.decode()
    assert "Missing permissions" in page
    assert "the event&#x27;s recurrence rule is not valid; " * 4 + "end." in page


def test_sync_now_action_drops_the_backoff_and_pushes_what_waits(
    root, bob, dora, connect, book, django_capture_on_commit_callbacks
):
    connection = connect(bob)
    broken = connect(dora)
    GoogleConnection.objects.filter(pk=broken.pk).update(state="needs_reconnect")
    with django_capture_on_commit_callbacks(execute=False):
        book(bob, *slot(bob, 1, 10), title="Crown")
    GoogleConnection.objects.filter(pk=connection.pk).update(retry_after=timezone.now() + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        page = root.post(
            "/admin/integrations/googleconnection/",
            {"action": "sync_now", "_selected_action": [connection.pk, broken.pk], "index": 0},
            follow=True,
        ).content.decode()
    assert "Syncing 1 connection(s) now." in page
    assert "1 connection(s) cannot sync until their person reconnects" in page
    assert GoogleConnection.objects.get(pk=connection.pk).retry_after is None
    assert not EventLink.objects.filter(member__user=bob.user, needs_push=True).exists()
