"""Settings → Integrations, and Calendars → Calendar Settings → Connections.

A Google connection belongs to the signed-in person: every view resolves connections
through ``connection_for_user`` (404 for anyone else's, admins included).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from copilot.accounts.access import current_membership

from . import services
from .forms import CalendarChoiceForm
from .google import channels, client, oauth
from .models import GoogleConnection
from .selectors import connection_for_user, connection_sync_counts, connections_for_user
from .words import ago, changes_waiting, connection_health, words_for


def _connection_rows(user) -> list[dict]:
    rows = []
    for connection in connections_for_user(user=user):
        counts = connection_sync_counts(connection=connection)
        rows.append(
            {
                "connection": connection,
                "words": words_for(connection_health(connection)),
                "last_sync": ago(connection.last_sync_at),
                "waiting": changes_waiting(counts.waiting),
                "linked": next((c for c in connection.calendars.all() if c.is_linked), None),
                "conflicts": [c for c in connection.calendars.all() if c.is_conflict],
                "missing": services.missing_scope_words(connection),
                "backlog": counts.waiting,
                "synced": counts.synced,
                "total": counts.total,
                "reconnect_url": oauth.connect_url(login_hint=connection.google_email),
            }
        )
    return rows


def _context(request: HttpRequest, **extra) -> dict:
    rows = _connection_rows(request.user)
    return {
        "actor": current_membership(request),
        "rows": rows,
        "syncing": any(row["backlog"] for row in rows),
        "push_note": channels.push_notifications_note(),
        "connect_url": oauth.connect_url(),
        **extra,
    }


@require_safe
def settings_integrations(request: HttpRequest) -> HttpResponse:
    """Settings → Integrations: the Google Calendar card with the person's connection state."""
    return render(request, "integrations/settings_integrations.html", _context(request, section="settings"))


@require_safe
def connections(request: HttpRequest) -> HttpResponse:
    """Calendars → Calendar Settings → Connections (the status region polls itself with htmx)."""
    context = _context(request, tab="connections", section="calendars")
    if request.htmx:
        return render(request, "integrations/partials/connections.html", context)
    return render(request, "integrations/connections.html", context)


@require_safe
def add_connection(request: HttpRequest) -> HttpResponse:
    """+ Add New: the calendar providers one can connect (Google Calendar)."""
    return render(
        request, "integrations/add_connection.html", _context(request, tab="connections", section="calendars")
    )


@require_http_methods(["GET", "HEAD", "POST"])
def choose_calendars(request: HttpRequest, pk: int) -> HttpResponse:
    """Pick the linked calendar and the conflict calendars from the account's stored calendar list.

    A plain GET reads what is stored and never calls Google; "Refresh list" (a POST with
    ``refresh``) reads the live list from Google, stores it and comes back here.
    """
    actor = current_membership(request)
    connection = connection_for_user(user=request.user, pk=pk)
    if connection.state in {
        GoogleConnection.State.UNLINKED,
        GoogleConnection.State.MISSING_PERMISSIONS,
        GoogleConnection.State.NEEDS_RECONNECT,
    }:
        # Nothing to choose until Google accepts the connection: the tab shows why, with Reconnect.
        return redirect("integrations:connections")
    if request.method == "POST" and "refresh" in request.POST:
        return _refresh_calendar_list(request, connection)
    calendars = list(connection.calendars.all())
    form = CalendarChoiceForm(request.POST or None, calendars=calendars)
    if request.method == "POST" and form.is_valid():
        try:
            services.connection_choose_calendars(
                connection=connection,
                linked_calendar_id=form.cleaned_data["linked"],
                conflict_calendar_ids=form.cleaned_data["conflicts"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                f"Synchronization is active: appointments are written to your Google calendar "
                f"({connection.google_email}) and its busy time blocks booking.",
            )
            return redirect("integrations:connections")
    context = {
        "actor": actor,
        "connection": connection,
        "form": form,
        "calendars": calendars,
        "missing": services.missing_scope_words(connection),
        "words": words_for(connection_health(connection)),
        "reconnect_url": oauth.connect_url(login_hint=connection.google_email),
        "tab": "connections",
        "section": "calendars",
    }
    return render(request, "integrations/choose_calendars.html", context)


def _refresh_calendar_list(request: HttpRequest, connection: GoogleConnection) -> HttpResponse:
    """Read the live calendar list from Google into the store, then show the picker again."""
    try:
        services.connection_refresh_calendars(connection=connection)
    except client.GoogleError:
        connection.refresh_from_db()
        messages.error(
            request, connection.last_error or "Google did not answer; showing the calendars we knew."
        )
    else:
        messages.info(request, f"Calendar list of {connection.google_email} loaded from Google.")
    return redirect("integrations:choose_calendars", pk=connection.pk)


@require_POST
def sync_now(request: HttpRequest, pk: int) -> HttpResponse:
    current_membership(request)
    connection = connection_for_user(user=request.user, pk=pk)
    if services.connection_sync_now(connection=connection):
        messages.info(request, "Syncing now. The status below updates by itself.")
    else:
        messages.error(request, "This connection cannot sync until the warning below is resolved.")
    return redirect("integrations:connections")


@require_POST
def unlink(request: HttpRequest, pk: int) -> HttpResponse:
    current_membership(request)
    connection = connection_for_user(user=request.user, pk=pk)
    services.connection_unlink(connection=connection)
    messages.success(
        request,
        f"Sync with {connection.google_email} has stopped. Your appointments stay here, and the events "
        "already in Google stay there; they are no longer updated.",
    )
    return redirect("integrations:connections")
