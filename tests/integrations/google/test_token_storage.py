"""Google tokens are never stored in plaintext, not even for a request (issue 10, point 5).

After every flow the database is scanned as ``pg_dump`` would show it, for every token the
emulator issued.
"""

from __future__ import annotations

import json

import pytest
import requests
from allauth.socialaccount.models import SocialApp, SocialToken
from django.contrib import admin
from django.contrib.sessions.models import Session
from django.db import connection as db
from django.test import Client, override_settings
from django.urls import reverse

from copilot.accounts.models import User
from integrations.models import GoogleConnection
from tests.conftest import login

from .oauth_flow import HOST, STOCK_ALLAUTH, connect_through_consent, try_google_sign_in

pytestmark = pytest.mark.django_db


def issued_tokens(google) -> set[str]:
    """Every access and refresh token the emulator has issued since the test began."""
    data = requests.get(f"{google.url}/_emulator/state", timeout=10).json()["data"]
    return set(data["access_tokens"]) | set(data["refresh_tokens"])


def plaintext_tokens_in_database(tokens: set[str]) -> list[str]:
    """A pg_dump-style scan: every column of every row of every table, and decoded sessions."""
    found = []
    with db.cursor() as cursor:
        for table in db.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {db.ops.quote_name(table)}")
            for row in cursor.fetchall():
                text = " ".join(
                    bytes(v).decode("latin-1") if isinstance(v, bytes | memoryview) else str(v) for v in row
                )
                found += [f"{table}: {token[:12]}…" for token in tokens if token in text]
    for session in Session.objects.all():
        text = json.dumps(session.get_decoded(), default=str)
        found += [f"session {session.pk[:6]}…: {token[:12]}…" for token in tokens if token in text]
    return found


def assert_no_plaintext_token(google) -> None:
    tokens = issued_tokens(google)
    assert tokens, "the emulator issued tokens in this test"
    assert SocialToken.objects.count() == 0
    assert plaintext_tokens_in_database(tokens) == []


def test_no_plaintext_token_after_a_connect_a_refused_connect_and_a_reconnect(bob_client, bob, dora, google):
    connect_through_consent(bob_client, email=bob.user.email)
    connection = GoogleConnection.objects.get(user=bob.user)
    assert connection.access_token in issued_tokens(google), "our encrypted columns hold the issued token"
    assert_no_plaintext_token(google)

    # Dora consents with bob's Google account: allauth refuses (it is connected to bob).
    dora_client = login(Client(), dora)
    response = connect_through_consent(dora_client, email=bob.user.email)
    assert response.status_code == 302 and response["Location"] == reverse("integrations:connections")
    assert not GoogleConnection.objects.filter(user=dora.user).exists()
    assert_no_plaintext_token(google)

    before = connection.refresh_token
    connect_through_consent(bob_client, email=bob.user.email)
    connection.refresh_from_db()
    assert connection.refresh_token != before, "the reconnect's tokens are ours"
    assert GoogleConnection.objects.filter(user=bob.user).count() == 1
    assert_no_plaintext_token(google)


def test_no_plaintext_token_after_a_refused_sign_in(bob_consented, bob, google):
    with override_settings(ROOT_URLCONF=STOCK_ALLAUTH):
        try_google_sign_in(Client(), google, email=bob.user.email, process="login")
    assert_no_plaintext_token(google)


def test_a_reconnect_without_a_new_refresh_token_keeps_the_old_one(bob_consented, bob, google):
    from integrations.services import connection_from_oauth

    old_refresh = bob_consented.refresh_token
    answer = google.tokens(bob.user.email)
    answer.pop("refresh_token")
    connection = connection_from_oauth(
        user=bob.user, social_account=bob_consented.social_account, token_response=answer
    )
    connection.refresh_from_db()
    assert connection.refresh_token == old_refresh
    assert connection.access_token == answer["access_token"]


def test_django_admin_has_no_token_pages(client, bob_consented):
    client.force_login(User.objects.create_superuser(email="root@copilot.test", password="x"))
    assert SocialToken not in admin.site._registry
    assert SocialApp not in admin.site._registry, "the client secret comes from the environment"
    assert client.get("/admin/socialaccount/socialtoken/", HTTP_HOST=HOST).status_code == 404
    index = client.get("/admin/", HTTP_HOST=HOST).content.decode()
    assert "socialtoken" not in index.lower()


def test_the_migration_deletes_plaintext_tokens_stored_before(bob_consented):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("integrations.migrations.0004_delete_plaintext_social_tokens")
    SocialToken.objects.create(account=bob_consented.social_account, token="ya29.old", token_secret="1//old")
    migration.delete_plaintext_tokens(apps, None)
    assert not SocialToken.objects.exists()
    assert plaintext_tokens_in_database({"ya29.old", "1//old"}) == []
    bob_consented.refresh_from_db()
    assert bob_consented.refresh_token, "our encrypted copy is untouched"
