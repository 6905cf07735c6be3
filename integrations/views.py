"""Settings → Integrations."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from copilot.accounts.access import current_membership


def settings_integrations(request: HttpRequest) -> HttpResponse:
    """The integrations page: one card per calendar provider (Google Calendar for now)."""
    actor = current_membership(request)
    return render(request, "integrations/settings_integrations.html", {"actor": actor, "section": "settings"})
