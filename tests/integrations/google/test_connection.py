"""Connecting a Google account per user profile, through allauth and the emulator's consent page."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse
from django.utils import timezone

from calendars.models import Appointment
from integrations.google import client
from integrations.models import GoogleCalendar, GoogleConnection
from integrations.services import (
    connection_check_health,
    connection_from_oauth,
    connection_unlink,
    open_session,
)
from tests.conftest import login, slot

from .oauth_flow import CALENDAR, HOST, connect_through_consent, consent, finish, start_connect

pytestmark = pytest.mark.django_db
State = GoogleConnection.State


@pytest.fixture
def bob_client(client, bob, google):
    google.user(bob.user.email, "Bob")
    return login(client, bob)


def load_calendars(client, connection) -> None:
    """The picker's "Load calendars from Google" (a plain GET of the picker never calls Google)."""
    url = reverse("integrations:choose_calendars", args=[connection.pk])
    assert client.post(url, {"refresh": "1"}, HTTP_HOST=HOST)["Location"] == url


def test_full_consent_connects_and_lists_calendars_with_access_roles(
    bob_client, bob, google, django_capture_on_commit_callbacks
):
    email = bob.user.email
    google.user("owner@elsewhere.test")
    shared = {
        role: google.calendar("owner@elsewhere.test", f"Shared {role}", acl=[{"email": email, "role": role}])
        for role in ("freeBusyReader", "reader", "writer")
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = connect_through_consent(bob_client, email=email)
    connection = GoogleConnection.objects.get(user=bob.user)
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:choose_calendars", args=[connection.pk])
    assert connection.google_email == email
    assert connection.state == State.SETUP
    assert CALENDAR in connection.scopes
    # The calendar list was loaded at connect: the first visit of the picker shows it, and that
    # plain GET still never calls Google.
    google.reset_stats()
    page = bob_client.get(response["Location"], HTTP_HOST=HOST)
    assert google.api_requests() == 0
    html = page.content.decode()
    assert "Load calendars from Google" not in html
    roles = {c.calendar_id: c.access_role for c in GoogleCalendar.objects.filter(connection=connection)}
    assert roles == {email: "owner", **{cid: role for role, cid in shared.items()}}
    assert "primary" in html and shared["reader"] in html
    # Read-only calendars cannot be picked as the linked calendar, and say why.
    assert html.count("read-only: appointments cannot be written here") == 2


def test_when_google_fails_at_connect_the_picker_offers_to_load_the_list(
    bob_client, bob, google, django_capture_on_commit_callbacks
):
    google.user(bob.user.email, "Bob")
    authorize = start_connect(bob_client)
    callback = consent(authorize, email=bob.user.email)
    google.faults(rate=1.0, statuses=[503])
    with django_capture_on_commit_callbacks(execute=True):
        response = finish(bob_client, callback)
    google.clear_faults()
    connection = GoogleConnection.objects.get(user=bob.user)
    assert response["Location"] == reverse("integrations:choose_calendars", args=[connection.pk])
    picker = bob_client.get(response["Location"], HTTP_HOST=HOST).content.decode()
    assert "Load calendars from Google" in picker
    load_calendars(bob_client, connection)
    assert connection.calendars.filter(calendar_id=bob.user.email).exists()


def test_choosing_linked_and_conflict_calendars_activates_sync(bob_client, bob, google):
    email = bob.user.email
    personal = google.calendar(email, "Personal")
    connect_through_consent(bob_client, email=email)
    connection = GoogleConnection.objects.get(user=bob.user)
    url = reverse("integrations:choose_calendars", args=[connection.pk])
    load_calendars(bob_client, connection)
    response = bob_client.post(url, {"linked": email, "conflicts": [personal]}, HTTP_HOST=HOST, follow=True)
    assert "Synchronization is active" in response.content.decode()
    connection.refresh_from_db()
    assert connection.state == State.ACTIVE
    calendars = {c.calendar_id: (c.is_linked, c.is_conflict) for c in connection.calendars.all()}
    assert calendars == {email: (True, False), personal: (False, True)}
    page = bob_client.get(reverse("integrations:connections"), HTTP_HOST=HOST).content.decode()
    assert email in page and "Personal" in page and "Active" in page
    assert "Push notifications are off" in page, "without PUBLIC_BASE_URL the tab says sync polls"


def test_a_read_only_calendar_cannot_be_the_linked_calendar(bob_client, bob, google):
    google.user("owner@elsewhere.test")
    shared = google.calendar(
        "owner@elsewhere.test", "Team", acl=[{"email": bob.user.email, "role": "reader"}]
    )
    connect_through_consent(bob_client, email=bob.user.email)
    connection = GoogleConnection.objects.get(user=bob.user)
    url = reverse("integrations:choose_calendars", args=[connection.pk])
    load_calendars(bob_client, connection)
    response = bob_client.post(url, {"linked": shared}, HTTP_HOST=HOST)
    assert response.status_code == 200
    assert "appointments cannot be written there" in response.content.decode()
    assert not GoogleCalendar.objects.filter(is_linked=True).exists()


def test_tokens_are_encrypted_at_rest_and_allauths_plaintext_copy_is_gone(bob_client, bob):
    connect_through_consent(bob_client, email=bob.user.email)
    connection = GoogleConnection.objects.get(user=bob.user)
    assert connection.access_token and connection.refresh_token
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token, refresh_token FROM integrations_googleconnection")
        raw_access, raw_refresh = cursor.fetchone()
    assert raw_access.startswith("fernet:") and connection.access_token not in raw_access
    assert raw_refresh.startswith("fernet:") and connection.refresh_token not in raw_refresh
    assert not SocialToken.objects.exists()


def test_granular_consent_without_calendar_warns_and_reconnect_fixes_it(bob_client, bob, google):
    google.reset_stats()
    response = connect_through_consent(bob_client, email=bob.user.email, grant=[])
    connection = GoogleConnection.objects.get(user=bob.user)
    assert connection.state == State.MISSING_PERMISSIONS
    assert response["Location"] == reverse("integrations:connections"), "nothing to choose yet"
    picker = bob_client.get(reverse("integrations:choose_calendars", args=[connection.pk]), HTTP_HOST=HOST)
    assert picker.status_code == 302
    assert google.api_requests() == 0, "no Calendar API call that is bound to fail"
    for url in (reverse("integrations:connections"), reverse("integrations:settings_integrations")):
        html = bob_client.get(url, HTTP_HOST=HOST).content.decode()
        assert "is connected" not in html, "one state: a partial grant is not called connected"
        assert "Missing permissions" in html
        assert "See and change the events in your Google calendars" in html
        assert "Reconnect" in html
    response = connect_through_consent(bob_client, email=bob.user.email)
    connection.refresh_from_db()
    assert connection.state == State.SETUP, "all permissions granted now; next step is choosing calendars"
    assert CALENDAR in connection.scopes
    assert response["Location"].endswith(reverse("integrations:choose_calendars", args=[connection.pk]))
    assert GoogleConnection.objects.filter(user=bob.user).count() == 1


def test_revoked_in_google_means_needs_reconnect_one_email_and_warnings(
    bob_client, bob, google, connect, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        connection = connect(bob, create_google_user=False)
    google.revoke(bob.user.email)
    GoogleConnection.objects.filter(pk=connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        connection_check_health(connection=connection)
        connection_check_health(connection=GoogleConnection.objects.get(pk=connection.pk))
    connection.refresh_from_db()
    assert connection.state == State.NEEDS_RECONNECT
    assert len(mailoutbox) == 1 and "Reconnect" in mailoutbox[0].subject
    for url in (reverse("integrations:settings_integrations"), reverse("integrations:connections")):
        html = bob_client.get(url, HTTP_HOST=HOST).content.decode()
        assert "Google no longer accepts this connection" in html and "Reconnect" in html
    connect_through_consent(bob_client, email=bob.user.email)
    connection.refresh_from_db()
    assert connection.state == State.ACTIVE
    assert connection.reconnect_email_sent_at is None


def test_refreshed_access_tokens_are_persisted(bob, connect):
    connection = connect(bob)
    old = connection.access_token
    GoogleConnection.objects.filter(pk=connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=5)
    )
    connection.refresh_from_db()
    open_session(connection).list_calendars()
    connection.refresh_from_db()
    assert connection.access_token != old
    assert connection.token_expiry > timezone.now()


def test_unlink_revokes_keeps_appointments_and_leaves_google_events(
    bob_client, bob, google, connect, book, django_capture_on_commit_callbacks
):
    from .test_push import events_in, ours

    with django_capture_on_commit_callbacks(execute=True):
        connection = connect(bob, create_google_user=False)
        start, end = slot(bob, 1, 10)
        appointment = book(bob, start, end, title="Cleaning")
    refresh_token = connection.refresh_token
    response = bob_client.post(
        reverse("integrations:unlink", args=[connection.pk]), HTTP_HOST=HOST, follow=True
    )
    assert "has stopped" in response.content.decode()
    connection.refresh_from_db()
    assert connection.state == State.UNLINKED and not connection.refresh_token and not connection.access_token
    assert not SocialAccount.objects.filter(user=bob.user).exists()
    assert Appointment.objects.filter(pk=appointment.pk, status="booked").exists()
    assert [e["summary"] for e in ours(events_in(google, bob.user.email))] == ["Cleaning"]
    with pytest.raises(client.NeedsReconnect):
        client.GoogleSession(client.Tokens("", refresh_token, None)).refresh()
    assert GoogleConnection.objects.filter(pk=connection.pk).exists(), "kept for the audit trail"


def test_nobody_else_can_see_or_change_a_connection(client, bob, dora, alice, charlie, connect):
    connection = connect(bob)
    urls = [
        ("get", reverse("integrations:choose_calendars", args=[connection.pk])),
        ("post", reverse("integrations:sync_now", args=[connection.pk])),
        ("post", reverse("integrations:unlink", args=[connection.pk])),
    ]
    for member in (dora, alice, charlie):
        login(client, member)
        for method, url in urls:
            assert getattr(client, method)(url).status_code == 404, (member, url)
        assert bob.user.email not in client.get(reverse("integrations:connections")).content.decode()
    assert GoogleConnection.objects.get(pk=connection.pk).state == State.ACTIVE


def test_the_callback_rejects_a_replayed_or_foreign_state(bob_client, bob, client, dora, google):
    authorize = start_connect(bob_client)
    callback = consent(authorize, email=bob.user.email)
    assert finish(bob_client, callback).status_code == 302
    replay = finish(bob_client, callback)
    assert replay.status_code == 401
    assert GoogleConnection.objects.filter(user=bob.user).count() == 1
    # Another person's browser cannot complete bob's consent.
    other = login(type(client)(), dora)
    callback = consent(start_connect(bob_client), email=bob.user.email)
    assert finish(other, callback).status_code == 401
    assert not GoogleConnection.objects.filter(user=dora.user).exists()


def test_google_doctor_reports_and_fails_when_a_person_is_needed(bob, google, connect, capsys):
    connection = connect(bob)
    call_command("google_doctor")
    out = capsys.readouterr().out
    assert bob.user.email in out and "active" in out and "refresh works" in out
    google.revoke(bob.user.email)
    GoogleConnection.objects.filter(pk=connection.pk).update(
        token_expiry=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("google_doctor", "--user", bob.user.email)
    assert exit_info.value.code != 0
    out = capsys.readouterr().out
    assert "needs_reconnect" in out and "NEEDS A PERSON" in out


def test_a_403_insufficient_permissions_later_moves_the_connection_to_missing_permissions(
    bob, google, connect, book, django_capture_on_commit_callbacks
):
    from integrations.models import EventLink

    connection = connect(bob)
    # Google now honours only sign-in scopes for this grant (the person removed calendar access).
    narrow = google.tokens(bob.user.email, scopes=["openid", "email", "profile"])
    GoogleConnection.objects.filter(pk=connection.pk).update(
        access_token=narrow["access_token"], token_expiry=timezone.now() + timedelta(hours=1)
    )
    start, end = slot(bob, 1, 10)
    with django_capture_on_commit_callbacks(execute=True):
        appointment = book(bob, start, end)
    connection.refresh_from_db()
    assert connection.state == State.MISSING_PERMISSIONS
    link = EventLink.objects.get(appointment=appointment)
    assert link.needs_push and link.state == EventLink.State.WAITING, "nothing queued is dropped"


def test_one_linked_calendar_per_person_across_google_accounts(bob, google, connect):
    from integrations.services import connection_choose_calendars, connection_refresh_calendars

    from .conftest import connect_member

    work = connect(bob)
    again = connect_member(google, bob, linked=False, create_google_user=False)
    assert again.pk == work.pk, "the same Google account reconnects, it does not duplicate"
    # A second Google account of bob's (a personal one), connected as the OAuth callback would.
    google.user("bob.personal@elsewhere.test")
    answer = google.tokens("bob.personal@elsewhere.test")
    claims = jwt.decode(answer["id_token"], options={"verify_signature": False})
    account = SocialAccount.objects.create(
        user=bob.user, provider="google", uid=claims["sub"], extra_data=claims
    )
    second = connection_from_oauth(user=bob.user, social_account=account, token_response=answer)
    assert second.pk != work.pk and second.state == State.SETUP
    connection_refresh_calendars(connection=second)
    connection_choose_calendars(
        connection=second, linked_calendar_id="bob.personal@elsewhere.test", conflict_calendar_ids=[]
    )
    linked = GoogleCalendar.objects.filter(user=bob.user, is_linked=True)
    assert [c.calendar_id for c in linked] == ["bob.personal@elsewhere.test"]
    assert GoogleConnection.objects.filter(user=bob.user).exclude(state=State.UNLINKED).count() == 2


def test_unlink_stops_the_connections_push_channels(bob, google, connect, live_server, settings):
    from integrations.models import WatchChannel

    settings.PUBLIC_BASE_URL = live_server.url
    connection = connect(bob)
    from integrations.google import pull

    pull.pull_account(connection.pk, ensure_channels=True)
    assert WatchChannel.objects.filter(calendar__connection=connection, stopped_at__isnull=True).count() == 1
    connection_unlink(connection=connection)
    assert not WatchChannel.objects.filter(stopped_at__isnull=True).exists()
    in_google = requests.get(google.url + "/_emulator/channels", timeout=10).json()["items"]
    assert in_google and all(channel["stopped"] for channel in in_google), "stopped at Google too"
