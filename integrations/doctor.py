"""What ``google_doctor`` reports about a connection: everything a person needs to fix it."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count
from django.utils import timezone

from . import services
from .google import client
from .models import GoogleConnection, WatchChannel
from .selectors import connection_backlog


@dataclass
class Diagnosis:
    connection: GoogleConnection
    lines: list[str] = field(default_factory=list)
    needs_person: bool = False


def _check_token(connection: GoogleConnection, try_refresh: bool) -> str:
    """Try a refresh (recording a failure on the connection); say how it went."""
    if not connection.refresh_token:
        return "  token: no refresh token stored"
    if not try_refresh:
        return "  token: refresh not tried"
    try:
        services.open_session(connection).refresh()
    except client.GoogleError as error:
        services.connection_record_failure(connection=connection, error=error)
        connection.refresh_from_db()
        return f"  token: refresh FAILED: {error}"
    return "  token: refresh works now"


def diagnose(connection: GoogleConnection, *, try_refresh: bool = True) -> Diagnosis:
    """Describe ``connection``; ``needs_person`` is True when it cannot sync without someone acting."""
    report = Diagnosis(connection)
    say = report.lines.append
    say(f"{connection.google_email} (user {connection.user.email}), connection #{connection.pk}")
    if connection.state == GoogleConnection.State.UNLINKED:
        say("  state: unlinked")
        return report
    token_line = _check_token(connection, try_refresh)
    say(f"  state: {connection.state}  since {connection.state_changed_at:%Y-%m-%d %H:%M} UTC")
    missing = services.missing_scopes(connection)
    say(f"  scopes granted: {connection.granted_scopes or '-'}")
    say(f"  scopes missing: {', '.join(missing) if missing else 'none'}")
    expiry = connection.token_expiry
    say(
        f"  access token expires: {expiry:%Y-%m-%d %H:%M} UTC" if expiry else "  access token expiry: unknown"
    )
    say(token_line)
    busy = dict(connection.calendars.annotate(n=Count("busy_blocks")).values_list("pk", "n"))
    for calendar in connection.calendars.all():
        if not calendar.is_selected:
            continue
        role = "linked" if calendar.is_linked else "conflict"
        sync = "sync token held" if calendar.sync_token else "no sync token"
        say(
            f"  {role} calendar: {calendar.summary} [{calendar.calendar_id}] access={calendar.access_role}, "
            f"{sync}, busy blocks={busy.get(calendar.pk, 0)}, last pull={calendar.last_synced_at or 'never'}"
        )
    for channel in WatchChannel.objects.filter(calendar__connection=connection, stopped_at__isnull=True):
        left = channel.expiration - timezone.now() if channel.expiration else None
        say(f"  channel {channel.channel_id} on {channel.calendar.summary}: expires in {left or 'unknown'}")
    say(f"  queued changes: {connection_backlog(connection=connection)}")
    say(f"  last successful sync: {connection.last_sync_at or 'never'}")
    if connection.last_error:
        say(f"  last error: {connection.last_error}")
    report.needs_person = connection.state in {
        GoogleConnection.State.MISSING_PERMISSIONS,
        GoogleConnection.State.NEEDS_RECONNECT,
        GoogleConnection.State.SETUP,
    }
    if report.needs_person:
        say(f"  NEEDS A PERSON: {connection.get_state_display()}")
    return report
