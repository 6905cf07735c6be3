"""rotate_token_keys: every token re-encrypted under the newest key; the old key removed; sync still works."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from integrations.google import pull
from integrations.models import EventLink, GoogleConnection, WatchChannel
from tests.conftest import local

pytestmark = pytest.mark.django_db

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def stored(connection) -> tuple[str, str]:
    """The ciphertexts as the database holds them."""
    return (
        GoogleConnection.objects.annotate(
            a=Cast("access_token", TextField()), r=Cast("refresh_token", TextField())
        )
        .values_list("a", "r")
        .get(pk=connection.pk)
    )


def test_rotation_rewrites_every_token_so_the_old_key_can_go_and_sync_goes_on(
    settings, bob, google, connect, book, django_capture_on_commit_callbacks
):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    connection = connect(bob)
    calendar = connection.calendars.get(is_linked=True)
    WatchChannel.objects.create(
        calendar=calendar, channel_id="c1", token="channel-secret", expiration=timezone.now()
    )
    before = stored(connection)

    settings.TOKEN_ENCRYPTION_KEYS = [NEW, OLD]
    out = io.StringIO()
    call_command("rotate_token_keys", stdout=out)
    assert "Re-encrypted 3 value(s)" in out.getvalue()
    assert "older keys can be removed" in out.getvalue()
    after = stored(connection)
    assert after[0] != before[0] and after[1] != before[1]
    assert all(value.startswith("fernet:") for value in after)

    settings.TOKEN_ENCRYPTION_KEYS = [NEW]  # the old key is gone
    connection = GoogleConnection.objects.get(pk=connection.pk)
    assert connection.access_token and connection.refresh_token
    assert WatchChannel.objects.get(channel_id="c1").token == "channel-secret"
    # Sync still works: a refresh (the token expired), a push and a pull against Google.
    GoogleConnection.objects.filter(pk=connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1)
    )
    day = timezone.now().astimezone(bob.practice.zone).date() + timedelta(days=2)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(
            bob,
            local(bob.practice, day.year, day.month, day.day, 9),
            local(bob.practice, day.year, day.month, day.day, 10),
        )
    link = EventLink.objects.get(appointment=appointment)
    assert (link.state, link.needs_push) == (EventLink.State.SYNCED, False)
    pull.pull_account(connection.pk)
    connection.refresh_from_db()
    assert connection.state == GoogleConnection.State.ACTIVE and not connection.last_error
    assert stored(connection)[0] != after[0], "the refreshed token was stored under the new key"


def test_without_rotation_removing_the_old_key_loses_the_connection(settings, bob, google, connect):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD]
    connection = connect(bob)
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(ValueError, match="No configured TOKEN_ENCRYPTION_KEYS key"):
        GoogleConnection.objects.get(pk=connection.pk)


def test_rotation_refuses_without_keys_and_reports_values_it_cannot_open(settings, bob, google, connect):
    settings.TOKEN_ENCRYPTION_KEYS = []
    with pytest.raises(CommandError, match="Set TOKEN_ENCRYPTION_KEYS"):
        call_command("rotate_token_keys", stdout=io.StringIO())
    connect(bob)  # encrypted under the key derived from SECRET_KEY
    settings.TOKEN_ENCRYPTION_KEYS = [NEW]
    with pytest.raises(CommandError, match="2 value\\(s\\) are not under the newest key"):
        call_command("rotate_token_keys", stdout=io.StringIO())
    out = io.StringIO()
    call_command("rotate_token_keys", "--from-secret-key", stdout=out)  # moving off the derived key
    assert "Re-encrypted 2 value(s)" in out.getvalue()
    assert GoogleConnection.objects.get(user=bob.user).refresh_token
