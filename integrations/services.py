"""State changes of Google connections: connect, choose calendars, failures, health, unlink.

The sync engine (``integrations/google/``) calls these to record what Google said; the portal's
views call them for what people do.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from copilot.accounts.models import User

from . import queue
from .google import client
from .models import BusyBlock, EventLink, GoogleCalendar, GoogleConnection, WatchChannel
from .selectors import connection_backlog

logger = logging.getLogger(__name__)
State = GoogleConnection.State

# What each required permission lets us do, in the words a person reads on the warning.
SCOPE_WORDS = {
    "openid": "Sign you in with Google",
    "https://www.googleapis.com/auth/userinfo.email": "See your Google email address",
    "https://www.googleapis.com/auth/userinfo.profile": "See your name",
    "https://www.googleapis.com/auth/calendar": "See and change the events in your Google calendars",
}


def required_scopes() -> set[str]:
    return client.normalize_scopes(settings.GOOGLE_REQUIRED_SCOPES)


def missing_scopes(connection: GoogleConnection) -> list[str]:
    """Required scopes the connection was not granted, in a stable order."""
    return sorted(required_scopes() - client.normalize_scopes(connection.granted_scopes))


def missing_scope_words(connection: GoogleConnection) -> list[str]:
    return [SCOPE_WORDS.get(scope, scope) for scope in missing_scopes(connection)]


def _set_state(connection: GoogleConnection, state: str) -> bool:
    """Set the state; returns True when it changed."""
    if connection.state == state:
        return False
    connection.state = state
    connection.state_changed_at = timezone.now()
    return True


def _state_after_grant(connection: GoogleConnection) -> str:
    if missing_scopes(connection):
        return State.MISSING_PERMISSIONS
    has_linked = connection.calendars.filter(is_linked=True).exists() if connection.pk else False
    return State.ACTIVE if has_linked else State.SETUP


# --- Connect -----------------------------------------------------------------------------------


@transaction.atomic
def connection_from_oauth(
    *, user: User, social_account: SocialAccount, token_response: dict
) -> GoogleConnection:
    """Record a completed Google consent for ``user``: tokens (encrypted), granted scopes, state.

    Reconnecting the same Google account revives its connection and triggers catch-up of
    everything that waited. ``token_response`` is Google's token response, straight from the
    callback: these encrypted columns are the only place its tokens are ever stored. A response
    without a refresh token (Google sends one only on some consents) keeps the one we have.
    """
    uid = social_account.uid
    email = (social_account.extra_data or {}).get("email", "") or ""
    connection = (
        GoogleConnection.objects.select_for_update(no_key=True)
        .filter(user=user, google_uid=uid)
        .exclude(state=State.UNLINKED)
        .first()
    )
    if connection is None:
        connection = GoogleConnection(user=user, google_uid=uid)
    was = connection.state if connection.pk else None
    connection.social_account = social_account
    connection.google_email = email or connection.google_email
    connection.access_token = token_response.get("access_token", "")
    connection.refresh_token = token_response.get("refresh_token") or connection.refresh_token
    expires_in = token_response.get("expires_in")
    connection.token_expiry = timezone.now() + timedelta(seconds=int(expires_in)) if expires_in else None
    connection.granted_scopes = " ".join(sorted(client.normalize_scopes(token_response.get("scope", ""))))
    connection.save()
    _set_state(connection, _state_after_grant(connection))
    connection.last_error = ""
    connection.failure_count = 0
    connection.retry_after = None
    connection.reconnect_email_sent_at = None
    connection.save()
    if was in {State.NEEDS_RECONNECT, State.MISSING_PERMISSIONS} and connection.state == State.ACTIVE:
        queue.enqueue_catch_up(connection.pk)
    if connection.state != State.MISSING_PERMISSIONS and not connection.calendars.exists():
        # The picker (where the callback sends her next) never calls Google on a GET: load the
        # calendar list now, once the connection is saved, so her first visit shows it.
        transaction.on_commit(lambda: _load_first_calendar_list(connection.pk))
    return connection


def _load_first_calendar_list(connection_id: int) -> None:
    """Read a new connection's calendar list; when Google fails, the picker offers to load it."""
    connection = GoogleConnection.objects.get(pk=connection_id)
    try:
        connection_refresh_calendars(connection=connection)
    except client.GoogleError as error:
        logger.warning("Calendar list of connection %s not loaded at connect: %s", connection_id, error)


def open_session(connection: GoogleConnection) -> client.GoogleSession:
    """A Google session with this connection's tokens; refreshed tokens are saved as they come."""
    tokens = client.Tokens(
        access_token=connection.access_token,
        refresh_token=connection.refresh_token,
        expiry=connection.token_expiry,
        scopes=connection.scopes,
    )
    return client.GoogleSession(
        tokens, on_refresh=lambda t: connection_store_tokens(connection=connection, tokens=t)
    )


def connection_store_tokens(*, connection: GoogleConnection, tokens: client.Tokens) -> None:
    """Persist a refreshed access token (and the scopes Google reported with it)."""
    connection.access_token = tokens.access_token
    connection.token_expiry = tokens.expiry
    fields = {"access_token": tokens.access_token, "token_expiry": tokens.expiry}
    if tokens.scopes:
        connection.granted_scopes = " ".join(sorted(tokens.scopes))
        fields["granted_scopes"] = connection.granted_scopes
    GoogleConnection.objects.filter(pk=connection.pk).update(**fields)


def connection_refresh_calendars(*, connection: GoogleConnection) -> list[GoogleCalendar]:
    """Read the account's calendar list from Google and store it, keeping the person's choices.

    Raises ``client.GoogleError`` (and records it on the connection) when Google refuses.
    """
    try:
        entries = open_session(connection).list_calendars()
    except client.GoogleError as error:
        connection_record_failure(connection=connection, error=error)
        raise
    seen = []
    with transaction.atomic():
        for entry in entries:
            calendar, _ = GoogleCalendar.objects.update_or_create(
                connection=connection,
                calendar_id=entry["id"],
                defaults={
                    "user": connection.user,
                    "summary": entry.get("summaryOverride") or entry.get("summary", ""),
                    "time_zone": entry.get("timeZone", ""),
                    "access_role": entry.get("accessRole", GoogleCalendar.AccessRole.FREE_BUSY_READER),
                    "is_primary": bool(entry.get("primary")),
                },
            )
            seen.append(calendar.pk)
        # Calendars no longer in the list cannot be read; keep a linked one for its links.
        connection.calendars.exclude(pk__in=seen).filter(is_linked=False).delete()
    return list(connection.calendars.all())


@transaction.atomic
def connection_choose_calendars(
    *, connection: GoogleConnection, linked_calendar_id: str, conflict_calendar_ids: list[str]
) -> GoogleConnection:
    """Save the person's linked calendar and conflict calendars and start syncing.

    The linked calendar must be writable; exactly one linked calendar per user, so a linked
    calendar of another connection of theirs is released. Switching the linked calendar
    resyncs upcoming appointments into the new one.
    """
    connection = GoogleConnection.objects.select_for_update(no_key=True).get(pk=connection.pk)
    calendars = {c.calendar_id: c for c in connection.calendars.all()}
    linked = calendars.get(linked_calendar_id)
    if linked is None:
        raise ValidationError({"linked": "Choose one of this account's calendars."})
    if not linked.is_writable:
        raise ValidationError(
            {"linked": f"“{linked}” is read-only for this account: appointments cannot be written there."}
        )
    unknown = set(conflict_calendar_ids) - set(calendars)
    if unknown:
        raise ValidationError({"conflicts": "Choose conflict calendars from this account's list."})
    GoogleCalendar.objects.filter(user=connection.user, is_linked=True).exclude(pk=linked.pk).update(
        is_linked=False
    )
    for calendar in calendars.values():
        calendar.is_linked = calendar.pk == linked.pk
        calendar.is_conflict = calendar.calendar_id in conflict_calendar_ids and not calendar.is_linked
        calendar.save(update_fields=["is_linked", "is_conflict"])
    BusyBlock.objects.filter(
        calendar__connection=connection, calendar__is_linked=False, calendar__is_conflict=False
    ).delete()
    connection.calendars.update(busy_version=F("busy_version") + 1)  # cached busy time is stale
    _set_state(connection, _state_after_grant(connection))
    connection.save()
    queue.enqueue_resync(connection.pk)
    return connection


# --- Failures and health ----------------------------------------------------------------------


def backoff_delay(failures: int) -> timedelta:
    """Exponential backoff with jitter: base·2^(n-1), capped, times 0.5–1.5."""
    base = settings.GOOGLE_BACKOFF_BASE_SECONDS
    seconds = min(base * (2 ** max(failures - 1, 0)), settings.GOOGLE_BACKOFF_MAX_SECONDS)
    return timedelta(seconds=seconds * random.uniform(0.5, 1.5))


def connection_record_failure(*, connection: GoogleConnection, error: client.GoogleError) -> None:
    """Record what Google said. Dead grants and missing scopes need a person; other errors back off."""
    with transaction.atomic():
        connection = GoogleConnection.objects.select_for_update(no_key=True).get(pk=connection.pk)
        now = timezone.now()
        connection.last_error = str(error)
        connection.last_error_at = now
        send_email = False
        if isinstance(error, client.NeedsReconnect):
            _set_state(connection, State.NEEDS_RECONNECT)
            connection.last_error = (
                "Google no longer accepts this connection (the access was revoked or expired). "
                "Reconnect to resume syncing; nothing waiting is lost."
            )
            send_email = connection.reconnect_email_sent_at is None
            if send_email:
                connection.reconnect_email_sent_at = now
        elif isinstance(error, client.MissingPermission):
            _set_state(connection, State.MISSING_PERMISSIONS)
            connection.last_error = (
                "Google says this connection lacks a permission it needs. Reconnect and allow access "
                "to your calendars; nothing waiting is lost."
            )
        elif isinstance(error, client.Retryable):
            connection.failure_count += 1
            connection.retry_after = now + backoff_delay(connection.failure_count)
        connection.save()
    if send_email:
        transaction.on_commit(lambda: _send_reconnect_email(connection))


def _send_reconnect_email(connection: GoogleConnection) -> None:
    waiting = connection_backlog(connection=connection)
    body = render_to_string(
        "integrations/email/reconnect.txt",
        {"connection": connection, "waiting": waiting, "base_url": settings.PUBLIC_BASE_URL},
    )
    send_mail("Reconnect your Google Calendar", body, None, [connection.user.email])


def connection_record_success(*, connection: GoogleConnection) -> None:
    GoogleConnection.objects.filter(pk=connection.pk).update(
        last_sync_at=timezone.now(), last_error="", failure_count=0, retry_after=None
    )


def connection_sync_now(*, connection: GoogleConnection) -> bool:
    """A person asked to sync now: drop any backoff and catch up. False when the state forbids it."""
    if connection.state != State.ACTIVE:
        return False
    GoogleConnection.objects.filter(pk=connection.pk).update(retry_after=None)
    queue.enqueue_catch_up(connection.pk)
    return True


def connection_is_backing_off(connection: GoogleConnection, now: datetime | None = None) -> bool:
    return connection.retry_after is not None and connection.retry_after > (now or timezone.now())


def connection_check_health(*, connection: GoogleConnection) -> GoogleConnection:
    """Refresh the token now and re-check the granted scopes; move the state to match."""
    if connection.state == State.UNLINKED:
        return connection
    try:
        tokens = open_session(connection).refresh()
    except client.GoogleError as error:
        connection_record_failure(connection=connection, error=error)
        connection.refresh_from_db()
        return connection
    connection.refresh_from_db()
    if tokens.scopes:
        connection.granted_scopes = " ".join(sorted(tokens.scopes))
    was = connection.state
    if was in {State.MISSING_PERMISSIONS, State.ACTIVE, State.SETUP}:
        _set_state(connection, _state_after_grant(connection))
    connection.save()
    if was == State.MISSING_PERMISSIONS and connection.state == State.ACTIVE:
        queue.enqueue_catch_up(connection.pk)
    return connection


# --- Unlink -----------------------------------------------------------------------------------


def connection_unlink(*, connection: GoogleConnection) -> GoogleConnection:
    """Stop syncing: stop channels, revoke at Google, forget tokens; keep appointments and events.

    Google calls are best effort (the person wants out even when Google is down).
    """
    if connection.state == State.UNLINKED:
        return connection
    channels = list(WatchChannel.objects.filter(calendar__connection=connection, stopped_at__isnull=True))
    if connection.access_token or connection.refresh_token:
        try:
            session = open_session(connection)
            for channel in channels:
                session.stop_channel(channel_id=channel.channel_id, resource_id=channel.resource_id)
        except client.GoogleError as error:
            logger.info("Stopping channels of connection %s failed: %s", connection.pk, error)
        try:
            client.revoke(connection.refresh_token or connection.access_token)
        except client.GoogleError as error:
            logger.info("Revoking connection %s failed: %s", connection.pk, error)
    with transaction.atomic():
        now = timezone.now()
        WatchChannel.objects.filter(pk__in=[c.pk for c in channels]).update(stopped_at=now)
        EventLink.objects.filter(calendar__connection=connection).update(
            state=EventLink.State.DETACHED, needs_push=False
        )
        BusyBlock.objects.filter(calendar__connection=connection).delete()
        connection.calendars.update(
            is_linked=False, is_conflict=False, sync_token="", busy_version=F("busy_version") + 1
        )
        social_account = connection.social_account
        connection.social_account = None
        connection.access_token = ""
        connection.refresh_token = ""
        connection.token_expiry = None
        connection.unlinked_at = now
        _set_state(connection, State.UNLINKED)
        connection.save()
        if social_account is not None:
            social_account.delete()
    return connection


def connection_unusable_reason(connection: GoogleConnection | None) -> str:
    """Why Google may not be called for ``connection`` now ("" when it may)."""
    if connection is None:
        return "gone"
    if not connection.can_call_google:
        return connection.state
    if connection_is_backing_off(connection):
        return "backing_off"
    return ""
