"""Fixtures for integration tests against the run's Google emulator, over real HTTP.

``google`` resets the emulator and offers its control surface; ``connect`` gives a staff
member a working Google connection the way the OAuth callback would (through the
emulator's token endpoint, skipping only the browser).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from copilot.accounts.models import Membership
from integrations.models import GoogleConnection
from integrations.services import (
    connection_choose_calendars,
    connection_from_oauth,
    connection_refresh_calendars,
)
from tests import plugin

ALL_SCOPES = list(settings.GOOGLE_REQUIRED_SCOPES)


class Google:
    """The emulator's control surface (``/_emulator/…``) and API access as its users."""

    def __init__(self, url: str):
        self.url = url

    def _post(self, path: str, payload: dict | None = None) -> dict:
        response = requests.post(f"{self.url}{path}", json=payload or {}, timeout=10)
        response.raise_for_status()
        return response.json() if response.content else {}

    def reset(self) -> None:
        self._post("/_emulator/reset")

    def user(self, email: str, name: str = "", time_zone: str = "America/New_York") -> dict:
        return self._post(
            "/_emulator/users",
            {"email": email, "name": name or email.split("@")[0].title(), "timeZone": time_zone},
        )

    def calendar(self, owner: str, summary: str, time_zone: str = "America/New_York", acl=()) -> str:
        answer = self._post(
            "/_emulator/calendars",
            {"owner": owner, "summary": summary, "timeZone": time_zone, "acl": list(acl)},
        )
        return answer["id"]

    def tokens(self, email: str, scopes=None) -> dict:
        return self._post(
            "/_emulator/tokens",
            {"email": email, "client_id": settings.GOOGLE_CLIENT_ID, "scopes": list(scopes or ALL_SCOPES)},
        )

    def revoke(self, email: str) -> None:
        self._post("/_emulator/revoke", {"email": email})

    def faults(self, **config) -> None:
        self._post("/_emulator/faults", config)

    def clear_faults(self) -> None:
        requests.delete(f"{self.url}/_emulator/faults", timeout=10).raise_for_status()

    def expire_sync_tokens(self) -> None:
        self._post("/_emulator/expire-sync-tokens")

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_emulator/stats", timeout=10).json()

    def reset_stats(self) -> None:
        self._post("/_emulator/stats/reset")

    def api_requests(self) -> int:
        """How many Calendar API requests (batch parts counted singly) reached the emulator."""
        stats = self.stats()
        total = 0
        for route, statuses in stats.get("requests", {}).items():
            if "/calendar/v3/" in route or "/batch" in route:
                total += sum(statuses.values())
        return total

    def service(self, email: str, scopes=None):
        """The Calendar API as ``email`` (a person working "in Google")."""
        answer = self.tokens(email, scopes)
        credentials = Credentials(answer["access_token"])
        return build(
            "calendar",
            "v3",
            credentials=credentials,
            static_discovery=True,
            cache_discovery=False,
            client_options={"api_endpoint": f"{self.url}/calendar/v3/"},
        )


@pytest.fixture
def google() -> Google:
    emulator = plugin.emulator()
    if emulator is None:
        pytest.skip("The Google emulator package is not available.")
    fixture = Google(emulator.url)
    fixture.reset()
    fixture.clear_faults()
    yield fixture
    fixture.clear_faults()


def connect_member(
    google: Google,
    member: Membership,
    *,
    scopes=None,
    linked: str | bool | None = None,
    conflicts: tuple[str, ...] = (),
    create_google_user: bool = True,
) -> GoogleConnection:
    """Connect ``member``'s Google account (same email) as the OAuth callback would, then pick calendars."""
    email = member.user.email
    if create_google_user:
        google.user(email, member.display_name)
    answer = google.tokens(email, scopes)
    claims = jwt.decode(answer["id_token"], options={"verify_signature": False})
    social_account, _ = SocialAccount.objects.get_or_create(
        provider="google", uid=claims["sub"], defaults={"user": member.user, "extra_data": claims}
    )
    connection = connection_from_oauth(user=member.user, social_account=social_account, token_response=answer)
    if linked is False:
        return connection
    if not connection.calendars.exists():  # loaded at connect already when the commit ran
        connection_refresh_calendars(connection=connection)
    connection_choose_calendars(
        connection=connection, linked_calendar_id=linked or email, conflict_calendar_ids=list(conflicts)
    )
    connection.refresh_from_db()
    return connection


@pytest.fixture
def connect(google) -> Callable[..., GoogleConnection]:
    return lambda member, **kw: connect_member(google, member, **kw)


@pytest.fixture
def bob_client(client, bob, google):
    """Bob, signed in, with a Google account of the same address in the emulator."""
    google.user(bob.user.email, "Bob")
    client.force_login(bob.user)
    return client


@pytest.fixture
def bob_consented(bob_client, bob) -> GoogleConnection:
    """Bob has connected his Google account through allauth's flow: allauth knows its uid."""
    from .oauth_flow import connect_through_consent

    connect_through_consent(bob_client, email=bob.user.email)
    return GoogleConnection.objects.get(user=bob.user)


@pytest.fixture
def bob_connected(bob, connect, django_capture_on_commit_callbacks) -> GoogleConnection:
    """Bob is connected and the first sync ran (its push and pull, on commit): his data is fresh."""
    with django_capture_on_commit_callbacks(execute=True):
        return connect(bob)


def add_event(google, email: str, calendar_id: str, start: datetime, end: datetime, **body) -> dict:
    """``email`` adds an event ("Errand", unless ``body`` says otherwise) to ``calendar_id`` in Google."""
    body = {
        "summary": "Errand",
        "start": {"dateTime": start.isoformat()},
        "end": {"dateTime": end.isoformat()},
        **body,
    }
    return google.service(email).events().insert(calendarId=calendar_id, body=body).execute()
