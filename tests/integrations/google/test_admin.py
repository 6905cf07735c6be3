"""Django admin for connections and the outbox: what superusers see and the repairs they can make."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from copilot.accounts.models import User
from integrations.models import EventLink, GoogleConnection

from .test_push import slot

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
