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
    """What a person reads (``lines``) and what a script reads (``facts``, JSON-ready) about a connection."""

    connection: GoogleConnection
    lines: list[str] = field(default_factory=list)
    needs_person: bool = False
    facts: dict = field(default_factory=dict)


def _check_token(connection: GoogleConnection, try_refresh: bool) -> tuple[str, str]:
    """Try a refresh (recording a failure on the connection); return (outcome, a line saying how it went)."""
    if not connection.refresh_token:
        return "no_refresh_token", "  token: no refresh token stored"
    if not try_refresh:
        return "not_tried", "  token: refresh not tried"
    try:
        services.open_session(connection).refresh()
    except client.GoogleError as error:
        services.connection_record_failure(connection=connection, error=error)
        connection.refresh_from_db()
        return "failed", f"  token: refresh FAILED: {error}"
    return "works", "  token: refresh works now"


def _when(moment) -> str | None:
    return moment.isoformat() if moment else None


def diagnose(connection: GoogleConnection, *, try_refresh: bool = True) -> Diagnosis:
    """Describe ``connection``; ``needs_person`` is True when it cannot sync without someone acting."""
    report = Diagnosis(connection)
    say, facts = report.lines.append, report.facts
    say(f"{connection.google_email} (user {connection.user.email}), connection #{connection.pk}")
    facts.update(id=connection.pk, google_email=connection.google_email, user=connection.user.email)
    if connection.state == GoogleConnection.State.UNLINKED:
        say("  state: unlinked")
        facts.update(state=connection.state, needs_person=False)
        return report
    token_outcome, token_line = _check_token(connection, try_refresh)
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
    facts["calendars"] = []
    for calendar in connection.calendars.all():
        if not calendar.is_selected:
            continue
        role = "linked" if calendar.is_linked else "conflict"
        sync = "sync token held" if calendar.sync_token else "no sync token"
        say(
            f"  {role} calendar: {calendar.summary} [{calendar.calendar_id}] access={calendar.access_role}, "
            f"{sync}, busy blocks={busy.get(calendar.pk, 0)}, last pull={calendar.last_synced_at or 'never'}"
        )
        facts["calendars"].append(
            {
                "calendar_id": calendar.calendar_id,
                "role": role,
                "access_role": calendar.access_role,
                "sync_token_held": bool(calendar.sync_token),
                "busy_blocks": busy.get(calendar.pk, 0),
                "last_pull": _when(calendar.last_synced_at),
            }
        )
    facts["channels"] = []
    for channel in WatchChannel.objects.filter(calendar__connection=connection, stopped_at__isnull=True):
        left = channel.expiration - timezone.now() if channel.expiration else None
        say(f"  channel {channel.channel_id} on {channel.calendar.summary}: expires in {left or 'unknown'}")
        facts["channels"].append({"channel_id": channel.channel_id, "expires": _when(channel.expiration)})
    backlog = connection_backlog(connection=connection)
    say(f"  queued changes: {backlog}")
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
    facts.update(
        state=connection.state,
        state_since=_when(connection.state_changed_at),
        scopes_granted=sorted(connection.scopes),
        scopes_missing=sorted(missing),
        access_token_expires=_when(expiry),
        token_check=token_outcome,
        queued_changes=backlog,
        last_sync_at=_when(connection.last_sync_at),
        last_error=connection.last_error,
        needs_person=report.needs_person,
    )
    return report
